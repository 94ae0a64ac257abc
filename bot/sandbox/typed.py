"""What a member typed at the demo, checked against the commands the bot registered.

Discord's own client never lets a member send a command with an unknown option, a missing
required one or a value of the wrong kind: it checks them against the registered command
as they type. The demo does the same here, so every mistake gets one plain sentence, and
`option:?` shows what Discord would offer for that option (its choices, the channels,
true or false) when the bot itself offers no suggestions for it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

SUBCOMMAND, GROUP = 1, 2
STRING, INTEGER, BOOLEAN, CHANNEL, NUMBER = 3, 4, 5, 7, 10
TEXT_CHANNEL_TYPES = (0, 5)


class TypedError(ValueError):
    """A line the demo cannot send; the message is one plain sentence for the member."""


def words_list(items: Sequence[str], *, joiner: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`: a list as a sentence says it."""
    quoted = [str(item) for item in items]
    if not quoted:
        return "nothing"
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} {joiner} {quoted[-1]}"


def parse_line(line: str) -> tuple[list[str], dict[str, Any], str | None]:
    """`/schedule add time:9:00 days:"mon,wed"` → (["schedule", "add"], {...}, focused)."""
    try:
        tokens = shlex.split(line.strip()[1:])
    except ValueError:
        raise TypedError(
            'a quote is not closed: put the value between two quotes, like name:"box breathing"'
        ) from None
    words: list[str] = []
    options: dict[str, Any] = {}
    focused: str | None = None
    last: str | None = None  # the option being typed, which words without a name go on
    for token in tokens:
        name, sep, value = token.partition(":")
        if not sep:
            if last is not None:
                # As in Discord's box for a text option: "feeling:really anxious about
                # tomorrow" is one value, quotes or not.
                options[last] = f"{options[last]} {token}"
                continue
            if options:  # after "feeling:?", which asks for suggestions and ends there
                raise TypedError(
                    f"“{token}” needs an option name in front, like option:{token} "
                    "(or put a value with spaces between quotes)"
                )
            words.append(token)
            continue
        if not name:
            raise TypedError(f"“{token}” needs an option name before the colon, like feeling:calm")
        if name in options:
            raise TypedError(f"{name} is given twice; give each option once")
        if value.endswith("?"):
            if focused is not None:
                raise TypedError("ask for suggestions for one option at a time (one ?)")
            focused = name
            value = value[:-1]
        if value.startswith("#") and len(value) > 1:
            value = value[1:]  # channel:#general, as a member would write it
        options[name] = value
        last = None if name == focused else name
    if not words:
        raise TypedError("type a command after the slash, e.g. /about")
    return words, options, focused


@dataclass(frozen=True)
class TypedCommand:
    """A command line that passed every check Discord's client makes."""

    name: str
    options: dict[str, Any]
    focused: str | None
    definitions: tuple[JSON, ...]

    def definition(self, option: str) -> JSON:
        return next(d for d in self.definitions if d.get("name") == option)


def resolve(words: Sequence[str], registered: Sequence[JSON]) -> tuple[str, tuple[JSON, ...]]:
    """The full command name and the options its last word takes, or a TypedError."""
    by_name = {str(c.get("name")): c for c in registered if int(c.get("type", 1)) == 1}
    top = words[0].lower()
    if top not in by_name:
        known = words_list([f"/{n}" for n in sorted(by_name)])
        raise TypedError(f"there is no /{words[0]} command; try {known}")
    path = [top]
    definitions = list(by_name[top].get("options") or [])
    for word in words[1:]:
        subs = {str(o["name"]): o for o in definitions if o.get("type") in (SUBCOMMAND, GROUP)}
        if not subs:
            raise TypedError(f"/{' '.join(path)} takes no more words; give options as name:value")
        if word.lower() not in subs:
            raise TypedError(
                f"/{' '.join(path)} has no “{word}”; it has {words_list(sorted(subs))}"
            )
        path.append(word.lower())
        definitions = list(subs[word.lower()].get("options") or [])
    subs_left = [str(o["name"]) for o in definitions if o.get("type") in (SUBCOMMAND, GROUP)]
    if subs_left:
        name = " ".join(path)
        raise TypedError(
            f"/{name} needs one more word: {words_list(subs_left)} (e.g. /{name} {subs_left[0]})"
        )
    return " ".join(path), tuple(definitions)


def check(
    words: Sequence[str],
    options: Mapping[str, Any],
    focused: str | None,
    registered: Sequence[JSON],
    channels: Mapping[str, int],
) -> TypedCommand:
    """Check a parsed line as Discord's client would; values come back as the bot expects.

    `channels` maps each text channel's name to its type, for channel options.
    """
    name, definitions = resolve(words, registered)
    by_name = {str(d["name"]): d for d in definitions}
    for option in options:
        if option not in by_name:
            if not by_name:
                raise TypedError(f"/{name} takes no options; type just /{name}")
            raise TypedError(
                f"/{name} has no option “{option}”; its options are "
                f"{words_list(list(by_name), joiner='and')}"
            )
    converted: dict[str, Any] = {}
    for option, raw in options.items():
        definition = by_name[option]
        if option == focused:
            converted[option] = raw
            continue
        converted[option] = _value(name, definition, str(raw), channels)
    if focused is None:
        missing = [n for n, d in by_name.items() if d.get("required") and n not in options]
        if missing:
            first = by_name[missing[0]]
            raise TypedError(
                f"/{name} needs {words_list([f'{m}:' for m in missing], joiner='and')} "
                f"({missing[0]}: {first.get('description', '')}); "
                f"type {missing[0]}:? to see what fits"
            )
    return TypedCommand(name, converted, focused, definitions)


def _value(command: str, definition: JSON, raw: str, channels: Mapping[str, int]) -> Any:
    option = str(definition["name"])
    kind = int(definition["type"])
    choices = [c.get("value") for c in definition.get("choices") or []]
    if raw == "":
        raise TypedError(f"{option}: is empty; give a value after the colon, or {option}:?")
    value: Any = raw
    if kind == BOOLEAN:
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise TypedError(f"{option}: takes true or false, not “{raw}”")
        value = lowered == "true"
    elif kind in (INTEGER, NUMBER):
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if number != number or (kind == INTEGER and number != int(number)):
            shown = words_list([str(c) for c in choices]) if choices else "a whole number"
            raise TypedError(f"{option}: takes {shown}, not “{raw}”")
        value = int(number) if kind == INTEGER else number
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise TypedError(f"{option}: takes a number from {low} to {high}, not {raw}")
    elif kind == CHANNEL:
        allowed = definition.get("channel_types") or TEXT_CHANNEL_TYPES
        fitting = sorted(n for n, t in channels.items() if t in allowed)
        if raw not in fitting:
            listed = words_list([f"#{n}" for n in fitting])
            raise TypedError(f"{option}: there is no channel #{raw} to use here; try {listed}")
    elif kind == STRING:
        low, high = definition.get("min_length"), definition.get("max_length")
        if low is not None and len(raw) < int(low):
            raise TypedError(f"{option}: needs at least {low} characters")
        if high is not None and len(raw) > int(high):
            raise TypedError(f"{option}: takes at most {high} characters")
    else:
        raise TypedError(f"{option}: this kind of option cannot be typed in the demo")
    if choices and value not in choices:
        shown = words_list([str(c) for c in choices])
        raise TypedError(f"{option}: takes {shown}, not “{raw}”")
    return value


def local_suggestions(definition: JSON, channels: Mapping[str, int]) -> list[str] | None:
    """What Discord's client itself offers for an option, or None when the bot decides."""
    if definition.get("autocomplete"):
        return None
    kind = int(definition["type"])
    choices = definition.get("choices") or []
    if choices:
        return [f"{c.get('name')} → {definition['name']}:{c.get('value')}" for c in choices]
    if kind == BOOLEAN:
        return [f"{value} → {definition['name']}:{value}" for value in ("true", "false")]
    if kind == CHANNEL:
        allowed = definition.get("channel_types") or TEXT_CHANNEL_TYPES
        return [
            f"#{name} → {definition['name']}:#{name}"
            for name, kind_ in sorted(channels.items())
            if kind_ in allowed
        ]
    described = str(definition.get("description") or "any text")
    return [f"(type it yourself) {described}"]
