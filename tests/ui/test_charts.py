"""The weekly mood chart: a real PNG of the planned size that draws only what the summary shows."""

from __future__ import annotations

import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checkins import MOODS, Summary, WindowData, summarise
from bot.ui.charts import (
    HEIGHT_PX,
    MOOD_COLOURS,
    WIDTH_PX,
    mood_bars,
    render_weekly_moods,
    weekly_bars,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = date(2024, 1, 1)


def _summary(rows: list[dict[int, int]], k: int = 10) -> Summary:
    weeks = [(MONDAY + timedelta(weeks=i), row) for i, row in enumerate(rows)]
    moods = {mood: sum(row.get(mood, 0) for row in rows) for mood in MOODS}
    return summarise(WindowData(days=7 * len(rows), moods=moods, weekly=weeks), k)


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


MIXED_WEEKS = [
    {1: 2, 2: 12, 3: 25, 4: 18, 5: 11},
    {1: 0, 2: 15, 3: 14, 4: 22, 5: 4},
    {1: 3, 2: 10, 3: 30, 4: 16, 5: 13},
    {2: 2, 3: 3},
]


def test_a_summary_with_data_renders_a_png_of_the_planned_size() -> None:
    png = render_weekly_moods(_summary(MIXED_WEEKS), title="Check-ins, last 30 days")
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 1024
    assert _size(png) == (WIDTH_PX, HEIGHT_PX) == (800, 450)


def test_a_summary_without_enough_check_ins_still_renders() -> None:
    summary = _summary([{3: 2, 4: 1}])
    assert not summary.enough
    png = render_weekly_moods(summary, title="Check-ins, last 7 days")
    assert _size(png) == (WIDTH_PX, HEIGHT_PX)


def test_a_summary_without_weeks_still_renders() -> None:
    summary = summarise(WindowData(days=7, moods={3: 20, 4: 30}), 10)
    assert _size(render_weekly_moods(summary, title="Check-ins")) == (WIDTH_PX, HEIGHT_PX)


def test_a_window_of_published_weeks_draws_its_moods_with_hidden_ones_marked() -> None:
    # /summary's windows are made of published weeks: no split by week, so the chart is
    # one bar a mood, the counts the summary shows.
    summary = summarise(WindowData(days=28, moods={1: 3, 2: 40, 3: 80, 4: 60, 5: 12}), 10)
    assert summary.enough and summary.weekly == ()
    plan = mood_bars(summary)
    assert plan == tuple((mood, summary.distribution[mood].value) for mood in MOODS)
    assert plan[0] == (1, None)  # hidden: marked, not drawn
    assert sum(1 for _, value in plan if value is None) >= 2
    png = render_weekly_moods(summary, title="Check-ins by mood")
    assert _size(png) == (WIDTH_PX, HEIGHT_PX)
    # The bars follow the counts: another distribution draws another picture.
    other = summarise(WindowData(days=28, moods={1: 0, 2: 90, 3: 20, 4: 20, 5: 60}), 10)
    assert render_weekly_moods(other, title="Check-ins by mood") != png
    assert mood_bars(_summary([{3: 2, 4: 1}])) == ()


def test_many_weeks_render_at_the_same_size() -> None:
    rows = [{1: 1 + i % 4, 2: 10 + i, 3: 20, 4: 15 + i % 3, 5: 9 + i % 5} for i in range(14)]
    png = render_weekly_moods(_summary(rows), title="Check-ins, last 90 days")
    assert _size(png) == (WIDTH_PX, HEIGHT_PX)


def test_the_chart_is_the_same_when_drawn_from_two_threads_at_once() -> None:
    summary = _summary(MIXED_WEEKS)
    expected = render_weekly_moods(summary, title="Together")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: render_weekly_moods(summary, title="Together"), range(4)))
    assert results == [expected] * 4


def test_the_last_small_week_is_drawn_as_withheld() -> None:
    bars = weekly_bars(_summary(MIXED_WEEKS))
    assert [bar.withheld for bar in bars] == [False, False, False, True]
    assert bars[-1].segments == ()


@settings(max_examples=150)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {mood: st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 40)) for mood in MOODS}
        ),
        min_size=1,
        max_size=8,
    ),
    k=st.integers(5, 12),
)
def test_the_chart_draws_only_counts_the_summary_shows(rows: list[dict[int, int]], k: int) -> None:
    summary = _summary(rows, k)
    bars = weekly_bars(summary)
    if not summary.enough:
        assert bars == ()
        return
    assert [bar.start for bar in bars] == [start for start, _ in summary.weekly]
    for bar, (_, cells) in zip(bars, summary.weekly, strict=True):
        shown = {mood: cell.value for mood, cell in cells.items() if cell.value}
        assert dict(bar.segments) == shown
        assert [mood for mood, _ in bar.segments] == sorted(shown)
        assert all(count >= k for _, count in bar.segments)
        assert bar.withheld == (not shown and any(cell.hidden for cell in cells.values()))


def test_every_mood_has_its_own_colour() -> None:
    assert sorted(MOOD_COLOURS) == list(MOODS)
    assert len(set(MOOD_COLOURS.values())) == len(MOODS)


def test_importing_loads_neither_matplotlib_nor_discord_and_drawing_avoids_pyplot() -> None:
    code = (
        "import sys\n"
        "import bot.ui.charts as charts\n"
        "from bot.domain.checkins import WindowData, summarise\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded at import'\n"
        "summary = summarise(WindowData(days=7, moods={3: 20}), 10)\n"
        "png = charts.render_weekly_moods(summary, title='t')\n"
        "assert png.startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot loaded'\n"
        "assert not [m for m in sys.modules if m == 'discord' or m.startswith('discord.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
