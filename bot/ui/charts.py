"""The mood chart for a check-in summary, as PNG bytes.

Drawn only from what a `Summary` shows, so the chart can never show more than the
summary does. With weekly cells: stacked bars a week, where a hidden count is simply not
drawn and a week with nothing it may show is marked instead of drawn; week totals are
never written on the chart (rule 8 in `bot.domain.checkins`). Without them (/summary's
windows are made of published weeks, which carry no split by week, `bot.domain.periods`):
one bar a mood for the whole window, each the count the summary shows, a hidden one
marked "hidden" instead of drawn.

Rendering is synchronous and uses its own `Figure` on an Agg canvas, never pyplot's
global figure manager, so callers can run it in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.domain.checkins import INSUFFICIENT_MESSAGE, MOOD_LABELS, MOODS, Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "HEIGHT_PX",
    "MOOD_COLOURS",
    "WIDTH_PX",
    "WITHHELD_LABEL",
    "WeeklyBar",
    "chart_note",
    "mood_bars",
    "render_weekly_moods",
    "weekly_bars",
]

WIDTH_PX = 800
HEIGHT_PX = 450
DPI = 100

# ColorBrewer PuOr, 5 classes: diverging around "Getting by", safe for the common kinds
# of colour blindness, and without the alarm of a red end for "Not OK".
MOOD_COLOURS: dict[int, str] = {
    1: "#e66101",
    2: "#fdb863",
    3: "#f7f7f7",
    4: "#b2abd2",
    5: "#5e3c99",
}
_EDGE = "#3a3a3a"
_MUTED = "#555555"
WITHHELD_LABEL = "hidden"


def chart_note(k: int, *, weekly: bool = True) -> str:
    left_out = f"Counts below {k}, and any count that would let one be worked out, are "
    if weekly:
        return left_out + "left out, so a bar is not a week's total."
    return left_out + "marked hidden instead of drawn."


@dataclass(frozen=True)
class WeeklyBar:
    """What the chart draws for one week: the shown counts, bottom (mood 1) up."""

    start: date
    segments: tuple[tuple[int, int], ...]
    withheld: bool

    @property
    def height(self) -> int:
        return sum(count for _, count in self.segments)


def weekly_bars(summary: Summary) -> tuple[WeeklyBar, ...]:
    """The drawing plan. A week is `withheld` when it has hidden counts and nothing to draw."""
    if not summary.enough:
        return ()
    bars = []
    for start, cells in summary.weekly:
        segments = tuple(
            (mood, value)
            for mood in MOODS
            if (value := cells[mood].value) is not None and value > 0
        )
        withheld = not segments and any(cells[mood].hidden for mood in MOODS)
        bars.append(WeeklyBar(start=start, segments=segments, withheld=withheld))
    return tuple(bars)


def mood_bars(summary: Summary) -> tuple[tuple[int, int | None], ...]:
    """The whole window's plan: each mood with the count the summary shows (None: hidden)."""
    if not summary.enough:
        return ()
    return tuple((mood, summary.distribution[mood].value) for mood in MOODS)


def _week_label(start: date) -> str:
    return f"{start.day} {start:%b}"


def render_weekly_moods(summary: Summary, *, title: str) -> bytes:
    """Stacked bars of check-ins per mood for each week of the summary, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.78, top=0.88, bottom=0.24)
    axes = figure.add_subplot()
    figure.suptitle(title, fontsize=13)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    bars = weekly_bars(summary)
    if not bars and summary.enough:
        _draw_moods(figure, axes, summary)
    elif not bars:
        message = INSUFFICIENT_MESSAGE
        axes.set_axis_off()
        axes.text(
            0.5, 0.5, message, ha="center", va="center", color=_MUTED, transform=axes.transAxes
        )
    else:
        positions = list(range(len(bars)))
        bottoms = [0] * len(bars)
        for mood in MOODS:
            heights = [dict(bar.segments).get(mood, 0) for bar in bars]
            axes.bar(
                positions,
                heights,
                bottom=bottoms,
                width=0.7,
                color=MOOD_COLOURS[mood],
                edgecolor=_EDGE,
                linewidth=0.6,
            )
            bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
        top = max(max(bottoms), summary.k)
        axes.set_ylim(0, top * 1.12)
        _mark_withheld(
            axes, [p for p, bar in zip(positions, bars, strict=True) if bar.withheld], top
        )
        crowded = len(bars) > 8
        axes.set_xticks(
            positions,
            labels=[_week_label(bar.start) for bar in bars],
            rotation=45 if crowded else 0,
            ha="right" if crowded else "center",
            fontsize=8 if crowded else 9,
        )
        axes.set_xlim(-0.6, len(bars) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("Week starting")
        axes.set_ylabel("Check-ins")
        # Reversed so the legend reads top to bottom in the same order as the stack.
        axes.legend(
            handles=[
                Patch(facecolor=MOOD_COLOURS[mood], edgecolor=_EDGE, label=MOOD_LABELS[mood])
                for mood in reversed(MOODS)
            ],
            title="Mood",
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            frameon=False,
        )
        figure.text(0.01, 0.015, chart_note(summary.k), fontsize=7.5, color=_MUTED)

    return _png(figure)


def _mark_withheld(axes: Axes, positions: list[int], top: float) -> None:
    """Write the hidden-count label up each bar at `positions`; a hidden count is never drawn."""
    for position in positions:
        axes.text(
            position,
            top * 0.03,
            WITHHELD_LABEL,
            ha="center",
            va="bottom",
            rotation=90,
            fontsize=8,
            color=_MUTED,
        )


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _draw_moods(figure: Figure, axes: Axes, summary: Summary) -> None:
    """One bar a mood over the whole window; a hidden count is marked, never drawn."""
    from matplotlib.ticker import MaxNLocator

    figure.subplots_adjust(right=0.95)
    plan = mood_bars(summary)
    positions = list(range(len(plan)))
    heights = [value or 0 for _, value in plan]
    axes.bar(
        positions,
        heights,
        width=0.7,
        color=[MOOD_COLOURS[mood] for mood, _ in plan],
        edgecolor=_EDGE,
        linewidth=0.6,
    )
    top = max(max(heights), summary.k)
    axes.set_ylim(0, top * 1.12)
    _mark_withheld(
        axes, [p for p, (_, value) in zip(positions, plan, strict=True) if value is None], top
    )
    axes.set_xticks(positions, labels=[MOOD_LABELS[mood] for mood, _ in plan], fontsize=9)
    axes.set_xlim(-0.6, len(plan) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("Mood")
    axes.set_ylabel("Check-ins")
    figure.text(0.01, 0.015, chart_note(summary.k, weekly=False), fontsize=7.5, color=_MUTED)
