"""Terminal rendering used by the demo and `content preview`."""

from __future__ import annotations

from bot.ui.text import format_message, plain


def test_markdown_becomes_plain_text() -> None:
    assert plain("**Steps** `/cope` [A paper](https://doi.org/10.1/x%2899%29)") == (
        "Steps /cope A paper <https://doi.org/10.1/x%2899%29>"
    )
    assert plain("Content notes: ||grief||") == "Content notes: [hidden until clicked: grief]"


def test_discord_timestamps_are_shown_in_utc() -> None:
    assert plain("Loaded <t:1795933840:R>") == "Loaded Sun 29 Nov 2026, 06:30 UTC"


def test_a_message_lists_its_buttons_and_menus() -> None:
    message = {
        "flags": 64,
        "embeds": [{"title": "Hello", "description": "Body", "footer": {"text": "Foot"}}],
        "components": [
            {"type": 1, "components": [{"type": 2, "label": "Another one"}]},
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "placeholder": "Pick",
                        "max_values": 3,
                        "options": [{"value": "anxious", "label": "Anxious"}],
                    }
                ],
            },
        ],
    }
    text = format_message(message)
    assert "only you can see this" in text
    assert "┃ HELLO" in text and "— Foot" in text
    assert "[ Another one ]" in text
    assert "◆ Pick — choose up to 3: anxious (Anxious)" in text
