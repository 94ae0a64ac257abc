"""The `peerlight` command: run, status, setup, sync, demo, content and crisis (see --help).

Exit codes: 0 ok, 1 content or validation failures, 2 bad usage or configuration,
3 Discord could not be reached within the give-up time, 141 the output pipe was closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from bot.config import (
    ConfigError,
    LoadedSettings,
    Settings,
    load_settings,
    read_token,
    with_shards,
)
from bot.logs import configure_logging
from bot.services import Services, utc_now
from bot.storage.content_files import (
    ContentLibrary,
    LoadReport,
    StaleDates,
    coverage_problems,
    load_library,
    load_relevance,
)
from bot.storage.database import DatabaseError
from bot.storage.engines import open_database

if TYPE_CHECKING:
    from bot.app import PeerlightBot
    from bot.domain.cards.base import Rendered
    from bot.domain.catalog import Catalog

log = logging.getLogger("bot")

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for any tool whose reader left

NO_TOKEN = (
    "peerlight: no Discord token. Create a bot at https://discord.com/developers/applications "
    "(New Application → Bot → Reset Token), then put the token in the environment variable "
    "{env}, e.g. `export {env}=...`, and run `peerlight run` again.\n"
    "To try Peerlight without Discord or a token, run `peerlight demo`."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peerlight",
        description="Peerlight: peer support for Discord communities.",
    )
    parser.add_argument(
        "--config", type=Path, help="settings file (default: ./config.yaml if present)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot on Discord (token from the environment)")
    run.add_argument(
        "--give-up-after",
        type=float,
        metavar="SECONDS",
        help="exit with code 3 after this long without a connection to Discord "
        "(default: discord.give_up_after_seconds, else keep trying)",
    )
    run.add_argument(
        "--shards",
        metavar="RANGE",
        help="run only these of the bot's shards, e.g. 0-3 (default: discord.shards, "
        "else all of them)",
    )
    run.add_argument(
        "--shard-count",
        type=int,
        metavar="N",
        help="how many shards the bot runs across all its processes "
        "(default: discord.shard_count, else not sharded)",
    )
    status = sub.add_parser(
        "status",
        help="ask a running `peerlight run` how its shards and its database are (health.port)",
    )
    status.add_argument(
        "--port", type=int, help="the health endpoint's port (default: health.port)"
    )
    setup = sub.add_parser(
        "setup",
        help="check the token, print the invite link, list servers and missing permissions",
    )
    setup.add_argument(
        "--write",
        type=Path,
        metavar="PATH",
        help="write a commented config file there (never the token); on a terminal it asks",
    )
    sync = sub.add_parser("sync", help="register the slash commands with Discord now")
    sync.add_argument(
        "--guild", type=int, help="only this server (instant); default: as configured"
    )
    demo = sub.add_parser(
        "demo", help="try Peerlight in this terminal against a local Discord stand-in"
    )
    demo.add_argument(
        "--content-dir", type=Path, help="content to load (default: the shipped content)"
    )
    demo.add_argument(
        "--community",
        action="store_true",
        help="start with a simulated month of check-ins from 40 members, so /summary shows one",
    )

    content = sub.add_parser("content", help="check, preview and describe the content library")
    content_sub = content.add_subparsers(dest="content_command", metavar="ACTION")
    check = content_sub.add_parser("check", help="validate every content file; exit 1 on any error")
    check.add_argument(
        "directory", nargs="?", type=Path, help="content folder (default: as configured)"
    )
    check.add_argument("--format", choices=("text", "github"), default="text")
    check.add_argument(
        "--stale-dates",
        choices=[mode.value for mode in StaleDates],
        default=StaleDates.WARN.value,
        help=(
            "a support line last verified a year ago or more: a warning (default; pull "
            "requests and CI) or an error (the scheduled check)"
        ),
    )
    preview = content_sub.add_parser("preview", help="print an item's cards as the bot shows them")
    preview.add_argument("item", help="an id (box-breathing) or a file path")
    preview.add_argument("--content-dir", type=Path, help="content folder (default: as configured)")
    evaluate = content_sub.add_parser(
        "eval", help="score /cope's first card against the relevance set in relevance/"
    )
    evaluate.add_argument(
        "directory", nargs="?", type=Path, help="content folder (default: as configured)"
    )
    evaluate.add_argument(
        "--floor",
        type=_floor,
        action="append",
        default=[],
        metavar="SPLIT.MEASURE=SHARE",
        help=(
            "exit 1 when a figure is below this, e.g. tuned.first=0.9 or "
            "holdout.understood=0.9 (measures: first, understood); may be repeated"
        ),
    )
    content_sub.add_parser(
        "stats",
        help='what members said of each technique ("This helped" / "Not for me"), as published',
    )
    schema = content_sub.add_parser("schema", help="write a JSON Schema per content kind")
    schema.add_argument(
        "--out", type=Path, default=None, help="folder to write to (default: ./schemas)"
    )
    crisis = sub.add_parser("crisis", help="measure and trace the crisis rules")
    crisis_sub = crisis.add_subparsers(dest="crisis_command", metavar="ACTION")
    evaluate = crisis_sub.add_parser(
        "eval", help="score the rules against the labelled corpus; exit 1 below the floors"
    )
    evaluate.add_argument("--corpus", type=Path, help="corpus folder (default: in the content)")
    explain = crisis_sub.add_parser("explain", help="show how a message is read and judged")
    explain.add_argument("text", help="the message, in quotes")
    train = crisis_sub.add_parser(
        "train", help="train the model beside the rules on the tuned corpus and write it"
    )
    train.add_argument("--language", default="en", help="the rule file's language (default: en)")
    for command in (evaluate, explain, train):
        command.add_argument(
            "--content-dir", type=Path, help="content folder (default: as configured)"
        )
    db = sub.add_parser("db", help="move the database to another engine")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    migrate = db_sub.add_parser(
        "migrate-to",
        help="copy the SQLite database into an empty PostgreSQL database (stop the bot first)",
    )
    migrate.add_argument("url", help="postgresql://user@host:port/name (password from the env)")
    migrate.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="the SQLite file (default: `database` from the settings)",
    )
    # --config is accepted before or after the command word.
    for command in (run, status, sync, demo, check, preview, evaluate, explain, train, migrate):
        command.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `peerlight` command; returns the exit code (see README, "Exit codes")."""
    _tolerant_streams()
    try:
        return _dispatch(argv)
    except BrokenPipeError:
        # The reader went away (`peerlight content preview gb | head`): stop quietly, as
        # other command-line tools do, and keep the interpreter from complaining on exit.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE


def _tolerant_streams() -> None:
    """Whatever the terminal's encoding, print what it can show and replace the rest."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (
        args.command is None
        or (args.command == "content" and args.content_command is None)
        or (args.command == "crisis" and args.crisis_command is None)
        or (args.command == "db" and args.db_command is None)
    ):
        parser.print_help()
        return EXIT_USAGE
    if args.command == "content" and args.content_command == "schema":
        return content_schema(args.out or Path.cwd() / "schemas")
    try:
        loaded = load_settings(getattr(args, "config", None))
        if args.command == "run":
            sharded = with_shards(loaded.settings, args.shards, args.shard_count)
            loaded = LoadedSettings(sharded, loaded.source)
    except ConfigError as exc:
        for line in exc.lines():
            print(f"peerlight: {line}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "content":
        if args.content_command == "check":
            return content_check(
                args.directory or loaded.settings.content_path,
                args.format,
                stale_dates=StaleDates(args.stale_dates),
            )
        if args.content_command == "stats":
            return asyncio.run(content_stats(loaded.settings))
        if args.content_command == "eval":
            return content_eval(
                args.directory or loaded.settings.content_path, floors=dict(args.floor)
            )
        return content_preview(args.item, args.content_dir or loaded.settings.content_path)
    if args.command == "db":
        from bot.cli_db import migrate_to

        return asyncio.run(migrate_to(loaded.settings, args.url, args.source))
    if args.command == "crisis":
        from bot.cli_crisis import crisis_eval, crisis_explain, crisis_train

        content_dir = args.content_dir or loaded.settings.content_path
        if args.crisis_command == "eval":
            return crisis_eval(content_dir, args.corpus)
        if args.crisis_command == "train":
            return crisis_train(content_dir, args.language)
        return crisis_explain(args.text, content_dir)
    if args.command == "status":
        from bot.cli_status import status

        return status(args.port if args.port is not None else loaded.settings.health.port)
    if args.command == "demo":
        from bot.sandbox.console import run_demo

        return run_demo(loaded.settings, content_dir=args.content_dir, community=args.community)
    token = read_token(loaded.settings)
    if token is None:
        print(NO_TOKEN.format(env=loaded.settings.discord.token_env), file=sys.stderr)
        return EXIT_USAGE
    if args.command == "sync":
        return asyncio.run(sync_commands(loaded, token, args.guild))
    if args.command == "setup":
        return _setup(loaded.settings, token, args.write)
    give_up = args.give_up_after
    if give_up is not None and give_up <= 0:
        print("peerlight: --give-up-after takes a number of seconds above 0", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(run_bot(loaded.settings, token, give_up))


# -- content ----------------------------------------------------------------------------


def _today() -> dt.date:
    return utc_now().date()


def content_check(
    directory: Path,
    output: str,
    stream: TextIO = sys.stdout,
    *,
    stale_dates: StaleDates = StaleDates.WARN,
) -> int:
    from bot.domain.coverage import coverage, coverage_table

    report = load_library(directory, today=_today(), revision=None, stale_dates=stale_dates)
    problems = list(report.problems)
    if report.catalog is not None:
        rows = coverage(report.catalog)
        print(coverage_table(rows), file=stream)
        gaps = coverage_problems(directory, rows)
        problems = sorted([*problems, *gaps])
        report.problems = problems
    for problem in problems:
        print(problem.format_github() if output == "github" else problem.format(), file=stream)
    print(report.summary(), file=stream)
    return EXIT_CONTENT if report.errors else EXIT_OK


async def content_stats(settings: Settings, stream: TextIO = sys.stdout) -> int:
    """Per-technique vote totals over the last completed weeks, all servers together, from
    the published (noisy, suppressed) weekly counts only (SAFETY.md §4)."""
    from bot.domain.periods import completed_weeks
    from bot.domain.votes import across_servers
    from bot.storage.votes import VoteStore, window_weeks

    path = settings.database_path
    if settings.database_url is None and not path.exists():
        print(
            f"peerlight: there is no database at {path} yet: votes appear once the bot has "
            "run with this configuration (set `database` to point at another file)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    report = await asyncio.to_thread(load_content_or_report, settings)
    if report.catalog is None:
        _print_content_errors(report)
        return EXIT_CONTENT
    retention = settings.privacy.retention_days
    weeks = window_weeks(retention)
    mondays = completed_weeks(_today(), weeks) if weeks else []
    try:
        async with open_database(settings) as database:
            published = await VoteStore(database).published_by_server(mondays)
    except DatabaseError as exc:
        print(f"peerlight: {exc}", file=sys.stderr)
        return EXIT_USAGE
    catalog = report.catalog
    k = settings.privacy.min_group_size
    votes = across_servers(published, sorted(catalog.techniques), k)
    print(
        _stats_table(votes, {t.id: t.title for t in catalog.techniques.values()}, mondays, k),
        file=stream,
    )
    return EXIT_OK


def _stats_table(
    votes: Mapping[str, Any], titles: Mapping[str, str], mondays: list[dt.date], k: int
) -> str:
    if mondays:
        span = f"{mondays[0]} to {mondays[-1] + dt.timedelta(days=6)} (UTC)"
        weeks = len(mondays)
        head = f"Votes on technique cards, the last {weeks} completed weeks, {span}, all servers"
    else:
        head = "Votes on technique cards: check-ins are kept too briefly to cover a completed week"
    width = max(len(title) for title in titles.values())
    lines = [head, "", f"{'technique':<{width}}  {'helped':>6}  {'not for me':>10}  {'servers':>7}"]
    ranked = sorted(votes, key=lambda t: (-votes[t].helped, titles[t]))
    for technique_id in ranked:
        v = votes[technique_id]
        lines.append(
            f"{titles[technique_id]:<{width}}  {v.helped:>6}  {v.not_for_me:>10}  {v.servers:>7}"
        )
    lines += [
        "",
        f"Each server's weekly counts carry noise; in each server, counts from 1 to {k - 1} are "
        "hidden and not added here.",
    ]
    return "\n".join(lines)


_MEASURES = ("first", "understood")


def _floor(text: str) -> tuple[tuple[str, str], float]:
    name, _, share = text.partition("=")
    split, _, measure = name.partition(".")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if split not in ("tuned", "holdout") or measure not in _MEASURES or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write SPLIT.MEASURE=SHARE, e.g. tuned.first=0.9 "
            "(split tuned or holdout, measure first or understood, share from 0 to 1)"
        )
    return (split, measure), value


def content_eval(
    directory: Path,
    stream: TextIO = sys.stdout,
    *,
    floors: dict[tuple[str, str], float] | None = None,
) -> int:
    """Per split: the share of cases whose first card a specialist accepts, beside a
    random pick among matching techniques, and the share whose text is understood; then
    the same per file. The tuned split's failures are listed; the holdout's only counted,
    file by file, with how many of a holdout file's cases repeat a tuned case word for
    word and the figures on the rest."""
    from bot.domain.evaluation import SEEDS, SplitResult, evaluate_files, repeats
    from bot.domain.relevance import Split

    report = load_library(directory, today=_today(), revision=None)
    if report.catalog is None:
        _print_content_errors(report)
        return EXIT_CONTENT
    sets, problems = load_relevance(directory, report.catalog)
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    if problems:
        return EXIT_CONTENT
    evaluated = {split: evaluate_files(report.catalog, sets[split]) for split in Split}
    results = [evaluated[split][0] for split in Split]
    print(
        f"/cope's first card against the relevance set (each case drawn {SEEDS} times: "
        "ties are broken at random)",
        file=stream,
    )
    width = max(8, *(len(name) + 2 for split in Split for name in sets[split]))

    def row(name: str, result: SplitResult) -> str:
        return (
            f"{name:<{width}} {len(result.cases):>5}  {result.first_acceptable:>21.1%}  "
            f"{result.random_pick:>11.1%}  {result.understood:>10.1%}"
        )

    print(
        f"{'split':<{width}} {'cases':>5}  {'first card acceptable':>21}  {'random pick':>11}  "
        f"{'understood':>10}",
        file=stream,
    )
    for result in results:
        print(row(result.split.value, result), file=stream)
    print("per file:", file=stream)
    for split in Split:
        for name, file_result in evaluated[split][1].items():
            print(row(f"  {name}", file_result), file=stream)
    print("goals: first card acceptable >= 90%, understood >= 95%", file=stream)
    tuned_sets = sets[Split.TUNED].values()
    for name, file_result in evaluated[Split.HOLDOUT][1].items():
        repeated = repeats(file_result, tuned_sets)
        if not repeated.cases:
            continue
        repeated_ids = {id(c) for c in repeated.cases}
        unseen = SplitResult(
            Split.HOLDOUT, tuple(c for c in file_result.cases if id(c) not in repeated_ids)
        )
        print(
            f"{name}: {len(repeated.cases)} of its {len(file_result.cases)} cases repeat a "
            f"tuned case word for word; on the other {len(unseen.cases)}: first card "
            f"acceptable {unseen.first_acceptable:.1%}, understood {unseen.understood:.1%}",
            file=stream,
        )
    for result in results:
        failures = result.failures
        if result.split is Split.HOLDOUT:
            not_understood = sum(1 for c in failures if not c.understood)
            per_file = ", ".join(
                f"{name} {len(file_result.failures)}"
                for name, file_result in evaluated[Split.HOLDOUT][1].items()
            )
            print(
                f"holdout: {len(failures)} of {len(result.cases)} cases not perfect "
                f"({not_understood} not understood; by file: {per_file}); the holdout is "
                "only scored, never listed",
                file=stream,
            )
            continue
        print(f"tuned: {len(failures)} of {len(result.cases)} cases not perfect", file=stream)
        for case_result in failures:
            case = case_result.case
            options = "".join(
                f" [{key} {value}]"
                for key, value in (("area", case.area), ("for", case.audience.value))
                if value and value != "self"
            )
            firsts = ", ".join(
                f"{t} {case_result.first.count(t)}/{SEEDS}"
                for t in dict.fromkeys(case_result.first)
            )
            print(
                f"  {case.text!r}{options}: read {list(case_result.read)}, "
                f"expected {list(case.feelings)}; first cards {firsts or 'none'}; "
                f"accepted {', '.join(case.accept)}",
                file=stream,
            )
    floors = floors or {}
    below = [
        f"{result.split.value}.{measure} {value:.1%} < {floor:.1%}"
        for result in results
        for measure, value in (
            ("first", result.first_acceptable),
            ("understood", result.understood),
        )
        if value < (floor := floors.get((result.split.value, measure), 0.0))
    ]
    for line in below:
        print(f"below the floor: {line}", file=stream)
    return EXIT_CONTENT if below else EXIT_OK


def _previews(catalog: Catalog, item: str) -> list[Rendered] | None:
    """What `content preview` shows for an id, a region code or a content file."""
    from bot.domain.cards.crisis import crisis_cards, resources_card
    from bot.domain.cards.library import story_card, technique_card
    from bot.domain.cards.schedule import prompt_card

    path = Path(item)
    folder = path.parent.name if item.endswith((".yaml", ".yml")) else ""
    key = path.stem if folder else item
    intl = catalog.regions.get("INTL")
    region = catalog.regions.get(key.upper()) or catalog.regions.get(
        {"UK": "GB"}.get(key.upper(), "")
    )
    if folder == "prompts" and path.is_file():
        ids = [
            p.get("id") for p in (yaml.safe_load(path.read_text("utf-8")) or {}).get("prompts", [])
        ]
        return [prompt_card(catalog.prompts[i]) for i in ids if i in catalog.prompts] or None
    if region is not None and folder in ("", "resources"):
        # Every way a member meets these lines: /resources, and each crisis block.
        return [resources_card(region, intl), *crisis_cards(region, intl)]
    if key in catalog.techniques and folder in ("", "techniques"):
        return [technique_card(catalog.techniques[key])]
    if key in catalog.stories and folder in ("", "stories"):
        return [story_card(catalog.stories[key])]
    if key in catalog.prompts and not folder:
        return [prompt_card(catalog.prompts[key])]
    return None


def content_preview(item: str, directory: Path, stream: TextIO = sys.stdout) -> int:
    from bot.ui.embeds import to_embeds
    from bot.ui.text import format_message

    report = load_library(directory, today=_today(), revision=None)
    if report.catalog is None:
        for problem in report.errors:
            print(problem.format(), file=sys.stderr)
        print(
            f"peerlight: the content has errors; fix them first ({report.summary()})",
            file=sys.stderr,
        )
        return EXIT_CONTENT
    catalog = report.catalog
    previews = _previews(catalog, item)
    if previews is None:
        key = Path(item).stem
        close = [hit.key for hit in catalog.technique_index.search(key, limit=3)]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        print(
            f"peerlight: nothing to preview for {item!r}: give a technique, story or prompt "
            f"id, a region code ({', '.join(sorted(catalog.regions))}) or a content file.{hint}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for rendered in previews:
        message = {
            "content": rendered.content,
            "embeds": [embed.to_dict() for embed in to_embeds(rendered)],
            "flags": 64,
        }
        print(format_message(message), file=stream)
    return EXIT_OK


def content_schema(out: Path) -> int:
    from pydantic import BaseModel

    from bot.domain.content import PromptFile, ResourceRegion, Story, Technique, Vocabulary
    from bot.domain.crisis import CrisisRules
    from bot.domain.relevance import RelevanceSet

    kinds: dict[str, type[BaseModel]] = {
        "technique": Technique,
        "story": Story,
        "prompts": PromptFile,
        "resources": ResourceRegion,
        "vocabulary": Vocabulary,
        "crisis_rules": CrisisRules,
        "relevance": RelevanceSet,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, model in kinds.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://peerlight.invalid/schemas/{name}.schema.json"
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(path)
    return EXIT_OK


# -- the bot -----------------------------------------------------------------------------


def load_content_or_report(settings: Settings) -> LoadReport:
    return load_library(settings.content_path, today=_today())


@contextlib.asynccontextmanager
async def open_services(settings: Settings, report: LoadReport) -> AsyncIterator[Services]:
    async with open_database(settings) as database:
        content = ContentLibrary(settings.content_path, report, utc_now(), hold=True)
        services = Services(settings=settings, database=database, content=content)
        try:
            yield services
        finally:
            await services.aclose()


def _print_content_errors(report: LoadReport) -> None:
    for problem in report.errors:
        print(problem.format(), file=sys.stderr)
    print(
        f"peerlight: the content library has errors and was not loaded ({report.summary()})",
        file=sys.stderr,
    )


class _Stop(Exception):
    """Start-up cannot go on; `code` is the exit code, the message was already printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _settings_problems(settings: Settings, report: LoadReport) -> list[str]:
    """Settings that are well-formed but name something the content does not have."""
    assert report.catalog is not None
    region = settings.crisis.default_region
    if region not in report.catalog.regions:
        known = ", ".join(sorted(report.catalog.regions))
        return [
            f"crisis.default_region: there are no support lines for {region} in "
            f"{settings.content_path / 'resources'}; use one of {known}"
        ]
    return []


@contextlib.asynccontextmanager
async def _bot_for(
    settings: Settings, *, sync_on_start: bool, background: bool
) -> AsyncIterator[PeerlightBot]:
    """Logging, content, settings that depend on it, the database and the bot, in order.

    Raises `_Stop` with the exit code where start-up cannot go on.
    """
    from bot.app import make_bot

    configure_logging(settings.log_level)
    report = await asyncio.to_thread(load_content_or_report, settings)
    if report.catalog is None:
        _print_content_errors(report)
        raise _Stop(EXIT_CONTENT)
    problems = _settings_problems(settings, report)
    if problems:
        for line in problems:
            print(f"peerlight: {line}", file=sys.stderr)
        raise _Stop(EXIT_USAGE)
    if settings.discord.api_base or settings.discord.gateway_url:
        from bot.discord_host import connect_client_to

        connect_client_to(settings.discord.api_base or "", settings.discord.gateway_url or "")
    try:
        async with open_services(settings, report) as services:
            bot = make_bot(services, sync_on_start=sync_on_start, background=background)
            async with bot:
                yield bot
    except DatabaseError as exc:
        print(f"peerlight: {exc}", file=sys.stderr)
        raise _Stop(EXIT_USAGE) from None


def _bad_token(settings: Settings) -> int:
    print(
        "peerlight: Discord did not accept the token; reset it in the developer portal "
        f"(Bot → Reset Token) and update {settings.discord.token_env}",
        file=sys.stderr,
    )
    return EXIT_USAGE


async def run_bot(settings: Settings, token: str, give_up_after: float | None = None) -> int:
    import discord

    from bot.reconnect import EXIT_UNREACHABLE, OneLineReconnects, Status, Watchdog, log_in

    give_up = give_up_after if give_up_after is not None else settings.discord.give_up_after_seconds
    try:
        async with _bot_for(settings, sync_on_start=True, background=True) as bot:
            logging.getLogger("discord.client").addFilter(OneLineReconnects())
            loop = asyncio.get_running_loop()
            stopping = asyncio.Event()

            closing: list[asyncio.Task[None]] = []

            def request_stop() -> None:
                stopping.set()
                closing.append(asyncio.ensure_future(bot.close()))

            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, request_stop)
            status = Status()
            watchdog = Watchdog(bot, give_up, status) if give_up is not None else None
            watching = asyncio.create_task(watchdog.run()) if watchdog is not None else None
            try:
                if not await log_in(bot, token, give_up, status, stopping):
                    return EXIT_OK if stopping.is_set() else EXIT_UNREACHABLE
                await bot.connect(reconnect=True)
            except discord.LoginFailure:
                return _bad_token(settings)
            finally:
                if watching is not None:
                    watching.cancel()
            if watchdog is not None and watchdog.gave_up:
                return EXIT_UNREACHABLE
    except _Stop as stop:
        return stop.code
    log.info("Peerlight stopped")
    return EXIT_OK


def _setup(settings: Settings, token: str, write: Path | None) -> int:
    from bot.cli_setup import on_a_terminal, run_setup

    report = load_content_or_report(settings)
    regions = sorted(report.catalog.regions) if report.catalog is not None else ["INTL"]
    ask = input if on_a_terminal() else None
    return asyncio.run(run_setup(settings, token, write=write, ask=ask, regions=regions))


async def sync_commands(loaded: LoadedSettings, token: str, guild: int | None) -> int:
    import discord

    settings = loaded.settings
    try:
        async with _bot_for(settings, sync_on_start=False, background=False) as bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                return _bad_token(settings)
            done = await bot.sync_commands(force=True, only=guild)
    except _Stop as stop:
        return stop.code
    for where in done:
        print(f"synced slash commands {where}")
    return EXIT_OK
