"""`peerlight status`: what a running `peerlight run` says about itself on its health
endpoint (`health.port`), as a few lines for a person.

Exit codes: 0 every shard ready and the database answers; 1 something is down, or no
process answers on the port; 2 no port configured.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.error
import urllib.request
from typing import Any, TextIO

from bot.config import HEALTH_HOST as HOST

EXIT_OK, EXIT_DOWN, EXIT_USAGE = 0, 1, 2
# Above the database's busy timeout, which a locked database's answer waits out.
TIMEOUT = 10.0


def fetch(port: int, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The health report; OSError when nothing answers on the port."""
    url = f"http://{HOST}:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()  # 503: unhealthy, and the report says why
    report = json.loads(body)
    if not isinstance(report, dict):
        raise ValueError("the health endpoint answered something other than a report")
    return report


def _ago(moment: str | None, now: dt.datetime) -> str:
    if moment is None:
        return "none yet"
    seconds = max(0, int((now - dt.datetime.fromisoformat(moment)).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def describe(report: dict[str, Any]) -> list[str]:
    now = dt.datetime.fromisoformat(str(report["now"]))
    count = report["shard_count"]
    lines = [
        f"Peerlight, process {report['pid']}, running since {_ago(report['started'], now)}: "
        + ("healthy" if report["healthy"] else "NOT healthy")
    ]
    for shard in report["shards"]:
        latency = shard.get("latency_ms")
        shown = f", latency {latency:g} ms" if latency is not None else ""
        lines.append(
            f"shard {shard['id']} of {count}: {shard['state']} (since "
            f"{_ago(shard['since'], now)}), last heartbeat "
            f"{_ago(shard['last_heartbeat'], now)}{shown}"
        )
    database = report["database"]
    if database["answers"]:
        lines.append(f"database: answers ({database['ms']:g} ms)")
    else:
        lines.append(f"database: does NOT answer ({database['detail']})")
    return lines


def status(port: int | None, stream: TextIO = sys.stdout) -> int:
    if port is None:
        print(
            "peerlight: no health port: set health.port in the config of `peerlight run` "
            "(e.g. 8790) and pass the same config, or give --port",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        report = fetch(port)
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        print(
            f"peerlight: nothing answers on {HOST}:{port} ({reason}); is `peerlight run` "
            "running with health.port set to this port?",
            file=sys.stderr,
        )
        return EXIT_DOWN
    for line in describe(report):
        print(line, file=stream)
    return EXIT_OK if report["healthy"] else EXIT_DOWN
