"""How well the library covers each feeling: techniques per feeling and area.

A member who picks a feeling should have a real choice, so the content check asks for
every feeling in the vocabulary to be a main fit of at least `MIN_TECHNIQUES` techniques
written for members themselves, spread over at least `MIN_AREAS` areas. Cards for
supporters do not count: they are never offered to a member coping for themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.catalog import Catalog
from bot.domain.content import Area

MIN_TECHNIQUES = 3
MIN_AREAS = 2


@dataclass(frozen=True)
class FeelingCoverage:
    feeling: str
    label: str
    techniques: tuple[str, ...]  # ids, library order
    by_area: dict[Area, int]

    @property
    def areas(self) -> int:
        return sum(1 for count in self.by_area.values() if count)

    @property
    def gap(self) -> str | None:
        """What is missing, in words, or None when the feeling is covered."""
        count = len(self.techniques)
        if count < MIN_TECHNIQUES:
            listed = f" ({', '.join(self.techniques)})" if self.techniques else ""
            return (
                f"only {count} technique{'' if count == 1 else 's'} for members help mainly "
                f"with {self.feeling!r}{listed}; a feeling needs at least {MIN_TECHNIQUES}: "
                f"add {self.feeling} to the main feelings of another technique, or write one"
            )
        if self.areas < MIN_AREAS:
            only = next(area.value for area, n in self.by_area.items() if n)
            return (
                f"every technique for {self.feeling!r} is in the {only} area; a feeling needs "
                f"techniques in at least {MIN_AREAS} areas"
            )
        return None


def coverage(catalog: Catalog) -> list[FeelingCoverage]:
    """One row per feeling of the vocabulary, in its order."""
    rows = []
    for feeling in catalog.vocabulary.feelings:
        ids = catalog.techniques_for_feeling(feeling.id)
        by_area = dict.fromkeys(Area, 0)
        for technique_id in ids:
            for area in catalog.areas_of(technique_id):
                by_area[area] += 1
        rows.append(FeelingCoverage(feeling.id, feeling.label, ids, by_area))
    return rows


def coverage_table(rows: Sequence[FeelingCoverage]) -> str:
    """A plain-text table: feelings down, areas across, the total and what is missing."""
    areas = list(Area)
    header = ["feeling", *(a.value for a in areas), "total", ""]
    body = [
        [
            row.feeling,
            *(str(row.by_area[a]) for a in areas),
            str(len(row.techniques)),
            "" if row.gap is None else "too few",
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:-1], widths[1:-1], strict=True))
        return "  ".join((first, *rest, cells[-1])).rstrip()

    title = (
        f"coverage: techniques for members per main feeling and area "
        f"(each feeling needs {MIN_TECHNIQUES}+ in {MIN_AREAS}+ areas)"
    )
    return "\n".join([title, line(header), *(line(cells) for cells in body)])
