"""Messages as plain terminal text: used by `peerlight demo` and `peerlight content preview`.

Works on the JSON Discord receives (message content, embeds, components), so what is
printed is exactly what the bot sent.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_SPOILER = re.compile(r"\|\|(.+?)\|\|", re.DOTALL)
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_CODE_BLOCK = re.compile(r"```[a-z]*\n?(.*?)```", re.DOTALL)
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")


def _timestamp(match: re.Match[str]) -> str:
    # Discord shows <t:…> in the reader's own time zone; a terminal shows UTC.
    moment = dt.datetime.fromtimestamp(int(match.group(1)), dt.UTC)
    # Written as the bot writes dates elsewhere: "Fri 6 Mar 2026".
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} UTC"


def plain(text: str) -> str:
    text = _TIMESTAMP.sub(_timestamp, text)
    text = _LINK.sub(r"\1 <\2>", text)
    text = _SPOILER.sub(r"[hidden until clicked: \1]", text)
    text = _BOLD.sub(r"\1", text)
    text = _CODE_BLOCK.sub(r"\1", text)
    return _CODE.sub(r"\1", text)


def _width() -> int:
    return max(50, min(100, shutil.get_terminal_size((88, 20)).columns))


def _wrap(text: str, indent: str = "  ") -> list[str]:
    width = _width()
    lines: list[str] = []
    for paragraph in plain(text).split("\n"):
        if not paragraph.strip():
            lines.append("")
            continue
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                # a URL or an id broken at a hyphen no longer works when copied
                break_on_hyphens=False,
                break_long_words=False,
                initial_indent=indent,
                # continuation lines of a numbered step line up under its text
                subsequent_indent=indent + "   "
                if paragraph.lstrip()[:2].rstrip(".").isdigit()
                else indent,
            )
            or [indent]
        )
    return lines


def wrapped(text: str, indent: str = "  ") -> str:
    """Plain text for the terminal: markdown removed, wrapped to its width, indented."""
    return "\n".join(_wrap(text, indent))


def format_embed(embed: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    author = (embed.get("author") or {}).get("name")
    if author:
        lines.append(f"  {author}")
    if embed.get("title"):
        lines.append(f"  ┃ {plain(str(embed['title'])).upper()}")
    if embed.get("description"):
        lines.extend(_wrap(str(embed["description"])))
    for field in embed.get("fields") or []:
        lines.append("")
        lines.append(f"  ▸ {plain(str(field.get('name', '')))}")
        lines.extend(_wrap(str(field.get("value", "")), indent="    "))
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        lines.append("")
        lines.append(f"  — {plain(str(footer))}")
    image = (embed.get("image") or {}).get("url")
    if image:
        lines.append(f"  [image: {image}]")
    return lines


def format_components(components: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for row in components:
        buttons: list[str] = []
        for item in row.get("components") or []:
            kind = item.get("type")
            if kind == 2:
                emoji = (item.get("emoji") or {}).get("name") or ""
                label = f"{emoji} {item.get('label') or ''}".strip()
                buttons.append(f"[ {label} ]" + ("" if not item.get("disabled") else " (off)"))
            elif kind in (3, 5, 6, 7, 8):
                placeholder = item.get("placeholder") or "Choose"
                options = [
                    f"{o.get('value')}"
                    + (f" ({o.get('label')})" if o.get("label") != o.get("value") else "")
                    for o in item.get("options") or []
                ]
                limit = f"up to {item.get('max_values', 1)}"
                lines.extend(
                    textwrap.wrap(
                        f"◆ {placeholder} — choose {limit}: " + ", ".join(options),
                        width=_width(),
                        initial_indent="  ",
                        subsequent_indent="    ",
                        break_on_hyphens=False,
                        break_long_words=False,
                    )
                )
        if buttons:
            lines.append("  " + "  ".join(buttons))
    return lines


def format_message(
    message: Mapping[str, Any],
    *,
    ephemeral: bool | None = None,
    label: str = "",
    updated: bool = False,
) -> str:
    """A message as the member would read it, with buttons and menus listed at the end.

    `label` replaces the header's "posted in the channel" (e.g. "posted in #general");
    `updated` marks an edit of a message shown before.
    """
    flags = int(message.get("flags") or 0)
    private = ephemeral if ephemeral is not None else bool(flags & 64)
    rule = "─" * min(_width(), 72)
    header = "only you can see this" if private else (label or "posted in the channel")
    if updated:
        header = f"(updated) {header}"
    lines = [f"┌ {header} {rule[len(header) + 3 :]}".rstrip()]
    content = message.get("content")
    if content:
        lines.extend(_wrap(str(content)))
    for embed in message.get("embeds") or []:
        if len(lines) > 1:
            lines.append("")
        lines.extend(format_embed(embed))
    attachments = message.get("attachments") or []
    for attachment in attachments:
        name = attachment.get("filename") or attachment.get("name")
        lines.append(f"  [attachment: {name}]")
    components = format_components(message.get("components") or [])
    if components:
        lines.append("")
        lines.extend(components)
    lines.append("└" + rule[1:])
    return "\n".join(lines)
