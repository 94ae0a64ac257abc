"""`peerlight content preview`: any id, region or content file, exactly as the bot shows it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import content_preview
from bot.config import SHIPPED_CONTENT_DIR as CONTENT


def preview(item: str) -> tuple[int, str]:
    out = io.StringIO()
    return content_preview(item, CONTENT, stream=out), out.getvalue()


@pytest.mark.parametrize(
    ("item", "title"),
    [
        ("box-breathing", "┃ BOX BREATHING"),
        (str(CONTENT / "techniques" / "urge-surfing.yaml"), "┃ URGE SURFING"),
        ("first-birthday-without-mum", "┃ THE FIRST BIRTHDAY AFTER MY MUM DIED"),
        ("gb", "┃ SUPPORT LINES · UNITED KINGDOM"),
        ("uk", "┃ SUPPORT LINES · UNITED KINGDOM"),
        (str(CONTENT / "resources" / "us.yaml"), "┃ SUPPORT LINES · UNITED STATES"),
    ],
)
def test_previews_show_the_card(item: str, title: str) -> None:
    code, text = preview(item)
    assert code == 0
    assert title in text
    assert "Peer support, not a crisis service · /resources" in text


def test_a_region_shows_its_crisis_block_too() -> None:
    code, text = preview("GB")
    assert code == 0
    assert "┃ YOU DON'T HAVE TO GO THROUGH THIS ALONE" in text
    assert "116 123" in text
    assert "If you are in immediate danger, call 999 or 112 now." in text
    assert "┃ HELPING SOMEONE WHO MAY BE IN DANGER" in text
    assert "If they are in immediate danger, call 999 or 112 now." in text


def test_a_prompts_file_shows_every_prompt_in_it() -> None:
    path = CONTENT / "prompts" / "gratitude.yaml"
    code, text = preview(str(path))
    assert code == 0
    assert text.count("┃ GRATITUDE") == path.read_text("utf-8").count("\n  - id:")


def test_an_unknown_item_says_what_can_be_previewed(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = preview("no-such-thing")
    assert code == 2
    err = capsys.readouterr().err
    assert "nothing to preview for 'no-such-thing'" in err
    assert "AU, CA, GB, IE, INTL, US" in err


def test_a_file_from_another_folder_is_not_mistaken_for_an_id(tmp_path: Path) -> None:
    code, _ = preview(str(tmp_path / "stories" / "box-breathing.yaml"))
    assert code == 2
