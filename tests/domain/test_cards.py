"""Cards as the bot renders them: links that survive Markdown, and the limit measurement."""

from __future__ import annotations

import re

from bot.domain.cards.base import Card, CardField, Rendered, card_limit_problems, fits_one_message
from bot.domain.cards.crisis import (
    CRISIS_ACKNOWLEDGEMENT,
    HELPER_TITLE,
    NOT_A_CRISIS_SERVICE,
    crisis_card,
    crisis_cards,
    emergency_line,
)
from bot.domain.cards.library import technique_card
from bot.domain.content import ResourceRegion
from bot.storage.content_files import LoadReport


def test_a_doi_with_brackets_still_makes_one_markdown_link(shipped_report: LoadReport) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    (card,) = technique_card(catalog.techniques["worry-time"]).cards
    evidence = next(f.value for f in card.fields if f.name == "Evidence")
    links = re.findall(r"\[([^\]]+)\]\(([^)\s]+)\)", evidence)
    assert (
        "Borkovec, Wilkinson, Folensbee & Lerman 1983, Behaviour Research and Therapy",
        "https://doi.org/10.1016/0005-7967%2883%2990206-1",
    ) in links


def test_every_shipped_card_fits_discord(shipped_report: LoadReport) -> None:
    catalog = shipped_report.catalog
    assert catalog is not None
    for technique in catalog.techniques.values():
        assert card_limit_problems(technique_card(technique)) == [], technique.id


def test_limits_name_the_field_to_shorten() -> None:
    card = Card(title="t", fields=(CardField("Why it works", "x" * 1100, source="why_it_works"),))
    (problem,) = card_limit_problems(Rendered((card,)))
    assert problem.source == "why_it_works"
    assert "1100 characters" in problem.message and "shorten it by 76" in problem.message


def test_the_whole_card_total_is_measured() -> None:
    fields = tuple(CardField(f"f{i}", "y" * 1000, source=f"f{i}") for i in range(7))
    problems = card_limit_problems(Rendered((Card(title="t", fields=fields),)))
    assert any("whole card" in p.message for p in problems)


# -- the crisis blocks -----------------------------------------------------------------------


def _regions(shipped_report: LoadReport) -> list[ResourceRegion]:
    assert shipped_report.catalog is not None
    return list(shipped_report.catalog.regions.values())


def _text(rendered: Rendered) -> str:
    card = rendered.cards[0]
    return "\n".join([card.title, card.description, *(f"{f.name}\n{f.value}" for f in card.fields)])


def test_every_crisis_block_fits_discord_and_names_the_emergency_number(
    shipped_report: LoadReport,
) -> None:
    regions = _regions(shipped_report)
    international = next(r for r in regions if r.region == "INTL")
    for region in regions:
        for rendered in crisis_cards(region, international):
            assert card_limit_problems(rendered) == [], region.region
            assert fits_one_message(rendered)
            (card,) = rendered.cards
            # The lines come before anything else in the fields, the emergency number after.
            assert card.fields[0].name == f"Support lines · {region.name}"
            assert card.fields[0].value.startswith(f"**{region.entries[0].name}**")
            assert any(
                f.name == "In an emergency" and region.emergency in f.value for f in card.fields
            )
            text = _text(rendered).lower()
            for unsafe in ("committed", "successful", "failed attempt"):
                assert unsafe not in text


def test_the_helper_block_says_how_to_support_them_before_the_lines(
    shipped_report: LoadReport,
) -> None:
    gb = next(r for r in _regions(shipped_report) if r.region == "GB")
    (card,) = crisis_card(gb, someone_else=True).cards
    assert card.title == HELPER_TITLE
    steps = [
        "Stay with them",
        "Ask them directly",
        "Are you thinking about suicide?",
        "help them reach one of the lines",
        "If they are in immediate danger, call 999 or 112 now.",
    ]
    positions = [card.description.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "I'm a bot, not a crisis service" in card.description
    names = [f.name for f in card.fields]
    assert names == [
        "Support lines · United Kingdom",
        "In an emergency",
        "Look after yourself too",
    ]


def test_a_repeat_keeps_the_lines_and_the_number_and_drops_the_longer_text(
    shipped_report: LoadReport,
) -> None:
    regions = _regions(shipped_report)
    international = next(r for r in regions if r.region == "INTL")
    for region in regions:
        for someone_else in (False, True):
            (whole,) = crisis_card(region, international, someone_else=someone_else).cards
            (repeat,) = crisis_card(
                region, international, someone_else=someone_else, repeat=True
            ).cards
            assert repeat.title == whole.title
            assert repeat.text_length() < whole.text_length()
            assert [f for f in repeat.fields] == [
                f for f in whole.fields if f.name != "Look after yourself too"
            ]
            assert CRISIS_ACKNOWLEDGEMENT not in repeat.description
            assert NOT_A_CRISIS_SERVICE not in repeat.description


def test_the_emergency_line_names_the_regions_number(shipped_report: LoadReport) -> None:
    numbers = {r.region: emergency_line(r) for r in _regions(shipped_report)}
    assert numbers == {
        "AU": "If you are in immediate danger, call 000 now.",
        "CA": "If you are in immediate danger, call 911 now.",
        "GB": "If you are in immediate danger, call 999 or 112 now.",
        "IE": "If you are in immediate danger, call 112 or 999 now.",
        "INTL": "If you are in immediate danger, call your local emergency number now.",
        "US": "If you are in immediate danger, call 911 now.",
    }
