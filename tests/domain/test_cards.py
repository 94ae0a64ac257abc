"""Cards as the bot renders them: links that survive Markdown, and the limit measurement."""

from __future__ import annotations

import re

from bot.domain.cards import Card, CardField, Rendered, card_limit_problems, technique_card
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
