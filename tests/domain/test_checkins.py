"""Check-in summaries: small-cell and second-cell suppression, and what a summary may show.

The guarantee under test (rule 3 in bot.domain.checkins): a reader who knows a line's
total, its shown counts and that every hidden count is at least 1 can never pin a hidden
count to one value, and the hidden counts together never form a group of 1 to k-1.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date, timedelta
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checkins import (
    HIDDEN_LABEL,
    INSUFFICIENT_MESSAGE,
    MOOD_LABELS,
    MOODS,
    TOP_FEELINGS,
    Cell,
    MoodCounts,
    Summary,
    WindowData,
    summarise,
    suppress_small_cells,
    suppression_note,
)

K = TypeVar("K", bound=Hashable)

MONDAY = date(2024, 1, 1)
FEELINGS = ("anxious", "stressed", "overwhelmed", "low", "lonely", "angry", "numb", "restless")

counts_0_200 = st.integers(min_value=0, max_value=200)
group_sizes = st.integers(min_value=5, max_value=20)
# Small counts and zeros are where suppression happens, so draw them often.
small_biased = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 40))


def _fillable(amount: int, cells: int) -> bool:
    """Can `cells` whole numbers, each at least 1, add up to `amount`?"""
    return amount == 0 if cells == 0 else amount >= cells


def reader_candidates(published: Mapping[K, Cell], total: int) -> dict[K, set[int]]:
    """Every value a reader cannot rule out for each hidden count, from the published line
    and its total alone, knowing only that a hidden count is a whole number of at least 1."""
    hidden = [key for key, cell in published.items() if cell.value is None]
    remainder = total - sum(cell.value for cell in published.values() if cell.value is not None)
    return {
        key: {v for v in range(1, remainder + 1) if _fillable(remainder - v, len(hidden) - 1)}
        for key in hidden
    }


def assert_line_is_protected(counts: Mapping[K, int], cells: Mapping[K, Cell], k: int) -> None:
    assert list(cells) == list(counts)
    for key, cell in cells.items():
        if cell.value is not None:
            assert cell.value == counts[key]
            assert cell.value == 0 or cell.value >= k
        else:
            assert counts[key] > 0, "zeros are always shown"
    hidden = [key for key, cell in cells.items() if cell.value is None]
    if not hidden:
        return
    total = sum(counts.values())
    remainder = total - sum(cell.value for cell in cells.values() if cell.value is not None)
    assert len(hidden) != 1, "a lone hidden count is the total minus the shown ones"
    candidates = reader_candidates(cells, total)
    for key in hidden:
        assert counts[key] in candidates[key]
        assert len(candidates[key]) >= 2, f"{key!r} can be worked out from the total"
    assert remainder >= k, "the hidden counts together must not be a small group"


def is_unprotectable(counts: Mapping[K, int], k: int) -> bool:
    non_zero = [count for count in counts.values() if count]
    return sum(non_zero) < k or all(count == 1 for count in non_zero)


# --- suppress_small_cells -------------------------------------------------------------


@given(
    counts=st.fixed_dictionaries({mood: counts_0_200 for mood in MOODS}),
    k=group_sizes,
)
def test_a_mood_line_never_shows_a_small_count_or_lets_a_hidden_one_be_worked_out(
    counts: dict[int, int], k: int
) -> None:
    cells = suppress_small_cells(counts, k)
    if is_unprotectable(counts, k):
        assert all(cell.value is None for key, cell in cells.items() if counts[key])
        return
    assert_line_is_protected(counts, cells, k)


@given(
    counts=st.fixed_dictionaries({mood: small_biased for mood in MOODS}),
    k=group_sizes,
)
def test_small_counts_heavy_lines_are_protected_too(counts: dict[int, int], k: int) -> None:
    cells = suppress_small_cells(counts, k)
    if is_unprotectable(counts, k):
        assert all(cell.value is None for key, cell in cells.items() if counts[key])
        return
    assert_line_is_protected(counts, cells, k)


@given(
    counts=st.lists(small_biased, min_size=1, max_size=15).map(
        lambda values: dict(enumerate(values))
    ),
    k=group_sizes,
)
def test_longer_lines_such_as_one_mood_across_many_weeks_are_protected(
    counts: dict[int, int], k: int
) -> None:
    cells = suppress_small_cells(counts, k)
    if is_unprotectable(counts, k):
        assert all(cell.value is None for key, cell in cells.items() if counts[key])
        return
    assert_line_is_protected(counts, cells, k)


def _hidden(cells: Mapping[int, Cell]) -> set[int]:
    return {key for key, cell in cells.items() if cell.value is None}


def test_a_lone_small_count_takes_the_smallest_shown_count_with_it() -> None:
    cells = suppress_small_cells({1: 1, 2: 0, 3: 0, 4: 10, 5: 30}, 10)
    assert _hidden(cells) == {1, 4}
    assert cells[5] == Cell(30) and cells[2] == Cell(0)


def test_ties_for_the_second_count_go_to_the_earlier_key() -> None:
    assert _hidden(suppress_small_cells({1: 2, 2: 0, 3: 15, 4: 15, 5: 15}, 10)) == {1, 3}


def test_small_counts_that_already_hide_each_other_need_no_second_count() -> None:
    assert _hidden(suppress_small_cells({1: 3, 2: 6, 3: 12, 4: 12, 5: 8}, 10)) == {1, 2, 5}
    assert _hidden(suppress_small_cells({1: 9, 2: 9, 3: 30, 4: 0, 5: 0}, 10)) == {1, 2}


def test_small_counts_adding_up_to_a_small_group_take_a_larger_count_with_them() -> None:
    # 2 + 3 hidden beside a total of 45 would say "5 people were at moods 1-2".
    assert _hidden(suppress_small_cells({1: 2, 2: 3, 3: 0, 4: 20, 5: 20}, 10)) == {1, 2, 4}


def test_hidden_ones_that_could_only_be_ones_take_another_count_with_them() -> None:
    counts = dict(enumerate([1] * 6 + [0, 12]))
    cells = suppress_small_cells(counts, 5)
    assert _hidden(cells) == set(range(6)) | {7}


def test_nothing_to_hide_hides_nothing() -> None:
    assert _hidden(suppress_small_cells({1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, 10)) == set()
    assert _hidden(suppress_small_cells({1: 10, 2: 0, 3: 11, 4: 50, 5: 10}, 10)) == set()


def test_keys_of_any_kind_keep_their_order() -> None:
    cells = suppress_small_cells({"b": 40, "a": 4, "c": 12}, 10)
    assert list(cells) == ["b", "a", "c"]
    assert {key for key, cell in cells.items() if cell.hidden} == {"a", "c"}


@pytest.mark.parametrize("k", [0, 1, 4])
def test_a_group_size_below_five_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        suppress_small_cells({1: 3}, k)
    with pytest.raises(ValueError, match="at least 5"):
        summarise(WindowData(days=7, moods={3: 50}), k)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        suppress_small_cells({1: -1, 2: 20}, 10)


# --- Cell -----------------------------------------------------------------------------


def test_a_cell_renders_its_count_or_one_label_for_every_hidden_count() -> None:
    assert Cell(12).render(10) == "12"
    assert Cell(0).render(10) == "0"
    assert Cell(None).render(10) == HIDDEN_LABEL == "hidden"
    assert Cell(None).render(20) == Cell(None).render(5)
    assert "fewer than 10" in suppression_note(10)


def test_mood_labels_are_the_five_agreed_words() -> None:
    assert MOOD_LABELS == {
        1: "Not OK",
        2: "Struggling",
        3: "Getting by",
        4: "Okay",
        5: "Doing well",
    }


def test_mood_counts_fill_missing_moods_and_total_them() -> None:
    counts = MoodCounts({2: 3, 5: 4})
    assert dict(counts.counts) == {1: 0, 2: 3, 3: 0, 4: 0, 5: 4}
    assert counts.total == 7
    with pytest.raises(ValueError, match="1 to 5"):
        MoodCounts({6: 1})


# --- WindowData -----------------------------------------------------------------------


def test_window_data_refuses_counts_that_do_not_fit_together() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        WindowData(days=7, moods={0: 4})
    with pytest.raises(ValueError, match="negative"):
        WindowData(days=7, moods={1: 4}, feelings={"low": -2})
    with pytest.raises(ValueError, match="Monday"):
        WindowData(days=7, moods={1: 4}, weekly=[(date(2024, 1, 2), {1: 4})])
    with pytest.raises(ValueError, match="only once"):
        WindowData(days=7, moods={1: 4}, weekly=[(MONDAY, {1: 2}), (MONDAY, {1: 2})])
    with pytest.raises(ValueError, match="add up"):
        WindowData(days=7, moods={1: 4}, weekly=[(MONDAY, {1: 3})])


def test_weeks_are_put_in_date_order() -> None:
    later = MONDAY + timedelta(weeks=1)
    data = WindowData(days=14, moods={4: 30}, weekly=[(later, {4: 10}), (MONDAY, {4: 20})])
    assert [start for start, _ in data.weekly] == [MONDAY, later]


# --- summarise ------------------------------------------------------------------------


def assert_has_no_numbers(summary: Summary) -> None:
    assert summary.enough is False
    assert summary.message == INSUFFICIENT_MESSAGE
    assert summary.total is None
    assert summary.distribution == {}
    assert summary.mean is None
    assert summary.previous_mean is None
    assert summary.change is None
    assert summary.top_feelings == ()
    assert summary.weekly == ()


def test_four_check_ins_are_not_enough_for_a_summary() -> None:
    data = WindowData(
        days=7,
        moods={1: 1, 3: 2, 5: 1},
        feelings={"low": 4},
        weekly=[(MONDAY, {1: 1, 3: 2, 5: 1})],
        previous_moods={3: 40},
    )
    assert_has_no_numbers(summarise(data, 10))


@given(
    moods=st.fixed_dictionaries({mood: st.integers(0, 4) for mood in MOODS}),
    k=group_sizes,
    feelings=st.dictionaries(st.sampled_from(FEELINGS), counts_0_200),
    previous=st.fixed_dictionaries({mood: counts_0_200 for mood in MOODS}),
)
def test_a_window_below_k_shows_no_numbers_at_all(
    moods: dict[int, int], k: int, feelings: dict[str, int], previous: dict[int, int]
) -> None:
    data = WindowData(days=30, moods=moods, feelings=feelings, previous_moods=previous)
    summary = summarise(data, k)
    if sum(moods.values()) < k:
        assert_has_no_numbers(summary)
    else:
        assert summary.enough or is_unprotectable(moods, k)


def test_forty_check_ins_with_small_moods_hide_them_and_withhold_the_mean() -> None:
    data = WindowData(
        days=7,
        moods={1: 2, 2: 6, 3: 12, 4: 14, 5: 6},
        feelings={"anxious": 15, "low": 12, "lonely": 3, "angry": 1, "numb": 10},
        previous_moods={1: 0, 2: 10, 3: 20, 4: 10, 5: 0},
    )
    summary = summarise(data, 10)
    assert summary.enough and summary.total == 40
    assert {mood: cell.value for mood, cell in summary.distribution.items()} == {
        1: None,
        2: None,
        3: 12,
        4: 14,
        5: None,
    }
    assert summary.mean is None
    assert summary.previous_mean == pytest.approx(3.0)
    assert summary.change is None
    assert summary.top_feelings == (("anxious", 15), ("low", 12), ("numb", 10))
    names = {name for name, _ in summary.top_feelings}
    assert "lonely" not in names and "angry" not in names


def test_forty_check_ins_with_no_small_mood_show_the_mean_and_the_change() -> None:
    data = WindowData(
        days=7,
        moods={1: 0, 2: 10, 3: 10, 4: 10, 5: 10},
        feelings={"anxious": 15, "low": 4},
        previous_moods={1: 0, 2: 10, 3: 20, 4: 10, 5: 0},
    )
    summary = summarise(data, 10)
    assert summary.total == 40
    assert all(cell.value is not None for cell in summary.distribution.values())
    assert summary.mean == pytest.approx(3.5)
    assert summary.previous_mean == pytest.approx(3.0)
    assert summary.change == pytest.approx(0.5)
    assert summary.top_feelings == (("anxious", 15),)


def test_the_mean_beside_hidden_counts_would_give_them_away() -> None:
    # Why rule 5 exists: total 12, moods 1 and 3 hidden, everything else 0.
    summary = summarise(WindowData(days=7, moods={1: 3, 3: 9}), 10)
    assert _hidden(summary.distribution) == {1, 3}
    assert summary.total == 12
    solutions = [(low, 12 - low) for low in range(1, 12) if low * 1 + (12 - low) * 3 == 30]
    assert solutions == [(3, 9)], "a mean of 2.5 would leave one possibility"
    assert summary.mean is None


@pytest.mark.parametrize(
    "previous",
    [
        {3: 9},  # fewer than k check-ins before
        {1: 3, 3: 20, 4: 20},  # a count that would be hidden
        {},  # nothing at all
    ],
)
def test_no_comparison_when_the_previous_window_could_not_show_its_own_mean(
    previous: dict[int, int],
) -> None:
    summary = summarise(WindowData(days=7, moods={3: 20, 4: 20}, previous_moods=previous), 10)
    assert summary.mean == pytest.approx(3.5)
    assert summary.previous_mean is None
    assert summary.change is None


def test_top_feelings_are_the_five_largest_shown_ones_ties_by_name() -> None:
    feelings = {
        "numb": 30,
        "low": 30,
        "anxious": 50,
        "angry": 10,
        "lonely": 11,
        "stressed": 12,
        "restless": 9,
    }
    summary = summarise(WindowData(days=30, moods={3: 60}, feelings=feelings), 10)
    assert summary.top_feelings == (
        ("anxious", 50),
        ("low", 30),
        ("numb", 30),
        ("stressed", 12),
        ("lonely", 11),
    )
    assert len(summary.top_feelings) == TOP_FEELINGS


def test_one_check_in_at_each_mood_with_k_five_cannot_be_shown_safely() -> None:
    # Five hidden counts adding up to five can only be five ones.
    assert_has_no_numbers(summarise(WindowData(days=7, moods=dict.fromkeys(MOODS, 1)), 5))


def test_a_summary_needs_at_least_seven_days() -> None:
    with pytest.raises(ValueError, match="7 days"):
        summarise(WindowData(days=6, moods={3: 50}), 10)


# --- weekly ---------------------------------------------------------------------------


def _weeks(*rows: Mapping[int, int]) -> list[tuple[date, Mapping[int, int]]]:
    return [(MONDAY + timedelta(weeks=i), row) for i, row in enumerate(rows)]


def _window(weeks: list[tuple[date, Mapping[int, int]]], **kwargs: object) -> WindowData:
    moods = {mood: sum(row.get(mood, 0) for _, row in weeks) for mood in MOODS}
    return WindowData(days=7 * len(weeks), moods=moods, weekly=weeks, **kwargs)  # type: ignore[arg-type]


def _weekly_values(summary: Summary) -> list[dict[int, int | None]]:
    return [{mood: cell.value for mood, cell in cells.items()} for _, cells in summary.weekly]


def test_a_small_week_cannot_be_read_off_the_window_counts() -> None:
    # Suppressing each week on its own would show week 1 in full and hide week 2 (3
    # check-ins), and then week 2 = window - week 1 for every mood.
    weeks = _weeks({3: 12, 4: 12, 5: 16}, {4: 3})
    summary = summarise(_window(weeks), 10)
    assert summary.distribution[4] == Cell(15)
    first, second = _weekly_values(summary)
    assert first[4] is None and second[4] is None
    assert first[3] == 12 and first[5] == 16


def test_a_mood_hidden_in_the_window_is_hidden_in_every_week_zeros_too() -> None:
    weeks = _weeks({1: 3, 3: 20, 4: 20}, {3: 20, 4: 20})
    summary = summarise(_window(weeks), 10)
    assert summary.distribution[1].value is None
    assert [row[1] for row in _weekly_values(summary)] == [None, None]


def test_one_check_in_a_week_at_a_mood_hides_that_mood_in_the_window() -> None:
    # Ten hidden weekly ones adding up to the window's 10 could only be ones.
    weeks = _weeks(*({2: 1, 4: 20} for _ in range(10)))
    summary = summarise(_window(weeks), 10)
    assert summary.total == 210
    assert summary.distribution[2].value is None
    assert summary.distribution[4].value is None  # hidden too, so mood 2 can't be worked out
    assert all(row[2] is None for row in _weekly_values(summary))


def test_a_single_mood_that_cannot_be_split_by_week_leaves_nothing_to_show() -> None:
    # Hiding the mood in the window would leave it the only hidden count.
    weeks = _weeks(*({3: 1} for _ in range(10)))
    assert_has_no_numbers(summarise(_window(weeks), 10))


def test_weeks_are_optional() -> None:
    summary = summarise(WindowData(days=7, moods={3: 20}), 10)
    assert summary.enough and summary.weekly == ()


@st.composite
def windows(draw: st.DrawFn) -> WindowData:
    weeks = _weeks(
        *(
            draw(st.fixed_dictionaries({mood: small_biased for mood in MOODS}))
            for _ in range(draw(st.integers(1, 8)))
        )
    )
    return _window(
        weeks,
        feelings=draw(st.dictionaries(st.sampled_from(FEELINGS), small_biased)),
        previous_moods=draw(st.fixed_dictionaries({mood: small_biased for mood in MOODS})),
    )


@settings(max_examples=300)
@given(data=windows(), k=st.integers(5, 12))
def test_every_summary_keeps_the_rule(data: WindowData, k: int) -> None:
    summary = summarise(data, k)
    if not summary.enough:
        assert_has_no_numbers(summary)
        return

    assert summary.total == sum(data.moods.values())
    assert_line_is_protected(data.moods, summary.distribution, k)

    nothing_hidden = not _hidden(summary.distribution)
    assert (summary.mean is not None) is nothing_hidden
    if summary.mean is not None:
        assert summary.mean == pytest.approx(MoodCounts(data.moods).mean)

    shown_names = [name for name, _ in summary.top_feelings]
    assert len(shown_names) <= TOP_FEELINGS
    for name, count in summary.top_feelings:
        assert count == data.feelings[name] and count >= k
    ranked = sorted(
        ((name, count) for name, count in data.feelings.items() if count >= k),
        key=lambda feeling: (-feeling[1], feeling[0]),
    )
    assert list(summary.top_feelings) == ranked[:TOP_FEELINGS]

    assert [start for start, _ in summary.weekly] == [start for start, _ in data.weekly]
    for mood in MOODS:
        column = {start: counts[mood] for start, counts in data.weekly}
        published = {start: cells[mood] for start, cells in summary.weekly}
        window_cell = summary.distribution[mood]
        if window_cell.value is None:
            assert all(cell.value is None for cell in published.values())
        else:
            # The window's count is this line's public total.
            assert sum(column.values()) == window_cell.value
            assert_line_is_protected(column, published, k)
