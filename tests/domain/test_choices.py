"""Names picked from a fixed list, read from what members type; the rest is their own words."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import parse_settings
from bot.domain.cards.library import WARNING_LABELS
from bot.domain.choices import (
    Choices,
    Parsed,
    content_warning_choices,
    region_choices,
    within_one_edit,
)
from bot.domain.content import ContentWarning
from bot.sandbox.harness import load_content

W = ContentWarning
WARNINGS = content_warning_choices(WARNING_LABELS)


@pytest.fixture(scope="module")
def regions() -> Choices[str]:
    catalog = load_content(parse_settings({}), today=dt.date.today()).catalog
    assert catalog is not None
    return region_choices(catalog.regions.values())


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("suicide, self harm", (W.SUICIDE, W.SELF_HARM)),
        ("Suicide/Self-Harm", (W.SUICIDE, W.SELF_HARM)),
        ("suicide; self-harm;", (W.SUICIDE, W.SELF_HARM)),
        ("suicide and relapse", (W.SUICIDE, W.RELAPSE)),
        ("suicide or relapse", (W.SUICIDE, W.RELAPSE)),
        ("self harm substance use", (W.SELF_HARM, W.SUBSTANCE_USE)),
        ("  SELF   HARM  ", (W.SELF_HARM,)),
        ("selfharm", (W.SELF_HARM,)),
        ("self.harm", (W.SELF_HARM,)),
        ("substance-use, eating", (W.SUBSTANCE_USE, W.EATING)),
        ("suicde", (W.SUICIDE,)),  # a letter dropped
        ("suiccide", (W.SUICIDE,)),  # one added
        ("siucide", (W.SUICIDE,)),  # two swapped
        ("self harn", (W.SELF_HARM,)),  # one changed
        ("trauma, trauma, TRAUMA", (W.TRAUMA,)),
        ("no stories about suicide please", (W.SUICIDE,)),
        ("drugs & alcohol", (W.SUBSTANCE_USE,)),
        ("", ()),
    ],
)
def test_content_notes_are_read_as_choices(typed: str, chosen: tuple[W, ...]) -> None:
    assert WARNINGS.parse(typed) == Parsed(chosen)


@pytest.mark.parametrize(
    ("typed", "chosen", "leftover"),
    [
        # From the first word that is not a name to the end of its part, as typed.
        ("suicide, I want to kill myself", (W.SUICIDE,), "I want to kill myself"),
        ("suicide I want to die", (W.SUICIDE,), "I want to die"),
        # A name inside a sentence is part of the sentence, not a choice.
        ("want to self harm", (), "want to self harm"),
        ("suicide, i want to self harm", (W.SUICIDE,), "i want to self harm"),
        ("suicide, spiders", (W.SUICIDE,), "spiders"),
        ("I am done", (), "I am done"),
        ("grief / my friend wants to end it", (W.GRIEF,), "my friend wants to end it"),
    ],
)
def test_what_names_nothing_is_left_over_as_typed(
    typed: str, chosen: tuple[W, ...], leftover: str
) -> None:
    parsed = WARNINGS.parse(typed)
    assert parsed.chosen == chosen
    assert parsed.leftover == leftover
    assert parsed.has_leftover


def test_each_part_of_a_list_leaves_its_own_words() -> None:
    parsed = WARNINGS.parse("spiders, suicide, I feel hopeless")
    assert parsed.chosen == (W.SUICIDE,)
    assert parsed.leftover_parts == ("spiders", "I feel hopeless")
    assert parsed.leftover == "spiders, I feel hopeless"


@pytest.mark.parametrize(
    ("typed", "region", "leftover"),
    [
        ("GB", "GB", ""),
        ("gb", "GB", ""),
        ("U.K.", "GB", ""),
        ("united kingdom", "GB", ""),
        ("Untied Kingdom", "GB", ""),
        ("Northern Ireland", "GB", ""),
        ("I'm in the UK", "GB", ""),
        ("Ireland", "IE", ""),
        ("irland", "IE", ""),
        ("USA", "US", ""),
        ("Canda", "CA", ""),
        ("australia", "AU", ""),
        ("UK i want to die", "GB", "i want to die"),
    ],
)
def test_regions_are_read_by_code_name_and_everyday_name(
    regions: Choices[str], typed: str, region: str, leftover: str
) -> None:
    parsed = regions.parse(typed)
    assert parsed.chosen[:1] == (region,)
    assert parsed.leftover == leftover


@pytest.mark.parametrize("typed", ["FR", "France", "NZ", "Atlantis", "hopeless", "uss"])
def test_a_place_without_lines_names_no_region(regions: Choices[str], typed: str) -> None:
    parsed = regions.parse(typed)
    assert parsed.chosen == ()
    assert parsed.leftover == typed


def test_a_typo_is_forgiven_only_in_longer_names_and_only_when_it_points_one_way() -> None:
    choices = Choices([("us", "US"), ("uk", "GB"), ("abcd", 1), ("abce", 2)])
    assert choices.parse("ux").chosen == ()  # two letters: exact only
    assert choices.parse("abcf").chosen == ()  # one typo from two names: neither
    assert choices.parse("abcde").chosen == ()  # "abcd" and "abce" are both one edit away
    assert choices.parse("abdc").chosen == (1,)  # a swap, only one name close


def test_a_name_for_two_choices_is_refused() -> None:
    with pytest.raises(ValueError, match="two different choices"):
        Choices([("self harm", 1), ("self-harm", 2)])
    with pytest.raises(ValueError, match="letters"):
        Choices([("--", 1)])


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("suicide", "suicide", True),
        ("suicde", "suicide", True),
        ("suicidee", "suicide", True),
        ("siucide", "suicide", True),
        ("suicjde", "suicide", True),
        ("sucdie", "suicide", False),
        ("suicidal", "suicide", False),
        ("", "a", True),
        ("ab", "ba", True),
        ("abc", "cba", False),
    ],
)
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
    assert within_one_edit(b, a) is close


_SEPARATORS = st.sampled_from([",", ", ", ";", " / ", " and ", " or ", " ", " & "])
_SPELLINGS = st.sampled_from([str.lower, str.upper, str.title])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(list(W)), min_size=1, max_size=4, unique=True),
    st.lists(_SEPARATORS, min_size=3, max_size=3),
    _SPELLINGS,
    st.booleans(),
)
def test_any_list_of_content_notes_reads_back_whole(
    warnings: list[W], separators: list[str], spelling: object, spaced: bool
) -> None:
    names = [WARNING_LABELS[w] if spaced else w.value for w in warnings]
    typed = names[0]
    for name, separator in zip(names[1:], separators, strict=False):
        typed += separator + name
    assert callable(spelling)
    parsed = WARNINGS.parse(spelling(typed))
    assert parsed.chosen == tuple(warnings)
    assert not parsed.has_leftover
