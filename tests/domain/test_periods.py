"""Which /summary windows a server is offered, from how long check-ins are kept."""

from __future__ import annotations

from bot.domain.periods import default_window, previous_window_kept, summary_windows, window_label


def test_summary_windows_follow_retention() -> None:
    assert summary_windows(90) == (7, 30, 90)
    assert summary_windows(365) == (7, 30, 90)
    assert summary_windows(60) == (7, 30, 49)
    assert summary_windows(30) == (7, 21)
    assert summary_windows(13) == (7,)
    assert summary_windows(12) == ()
    # The weeks before a window are compared only when kept on any day of the week.
    assert previous_window_kept(7, 20) and previous_window_kept(30, 62)
    assert not previous_window_kept(7, 19) and not previous_window_kept(90, 90)


def test_the_default_window_is_thirty_days_when_offered_else_the_longest() -> None:
    assert default_window((7, 30, 90)) == 30
    assert default_window((7, 21)) == 21
    assert default_window(()) == 7


def test_a_window_is_named_by_its_completed_weeks() -> None:
    assert window_label(7) == "The last completed week"
    assert window_label(90) == "The last 12 completed weeks"
