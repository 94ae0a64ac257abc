"""Every HTTP request the bot makes, recorded before it is answered, with fault injection
(`bot/sandbox/faults.py`) applied first; the recorded requests are what tests assert on.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from bot.sandbox.common import (
    _CALLBACK_PATH,
    _MESSAGE_CREATE,
    _MESSAGE_EDIT,
    API_PREFIX,
    _ApiError,
    _Call,
)
from bot.sandbox.faults import Faults
from bot.sandbox.payloads import (
    JSON,
    FormError,
)

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

_log = logging.getLogger(__name__)


@dataclass
class RecordedFile:
    field: str
    filename: str | None
    data: bytes
    content_type: str | None = None

    @property
    def name(self) -> str | None:
        return self.filename


@dataclass
class RecordedRequest:
    """One HTTP request the sandbox received. `path` is relative to ``/api/v10``."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    time: float
    authorized: bool
    status: int = 0  # 0 while the sandbox is still answering it
    injected: bool = False

    @property
    def done(self) -> bool:
        return self.status != 0


def _ping_problem(record: RecordedRequest) -> str | None:
    """Why a message body could ping someone, for a sandbox that refuses that."""
    body = record.json
    if not isinstance(body, dict):
        return None
    if _CALLBACK_PATH.search(record.path):
        if body.get("type") not in (4, 7):
            return None
        data = body.get("data")
        body = data if isinstance(data, dict) else {}
        required = True
    elif record.method == "POST" and _MESSAGE_CREATE.search(record.path):
        required = True
    elif record.method == "PATCH" and _MESSAGE_EDIT.search(record.path):
        required = False
    else:
        return None
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return (
            "allowed_mentions is missing: Discord would let this message ping" if required else None
        )
    if (
        not isinstance(allowed, dict)
        or allowed.get("parse")
        or allowed.get("users")
        or allowed.get("roles")
        or allowed.get("replied_user")
    ):
        return f"allowed_mentions {allowed!r} lets this message ping"
    return None


def _method_matches(wanted: str, actual: str) -> bool:
    return wanted == "*" or wanted.upper() == actual.upper()


def _json_response(status: int, payload: Any, headers: Mapping[str, str]) -> web.Response:
    if status == 204 or payload is None:
        return web.Response(status=204, headers=dict(headers))
    # Exactly "application/json": discord.py compares the header verbatim, and aiohttp's
    # json_response would append "; charset=utf-8".
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """The JSON body (payload_json for multipart) and any uploaded files."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            raw = bytes(await part.read(decode=False))
            if part.name == "payload_json":
                payload = json.loads(raw)
            else:
                files.append(
                    RecordedFile(
                        field=part.name or "",
                        filename=part.filename,
                        data=raw,
                        content_type=part.headers.get("Content-Type"),
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []


class Recorder:
    """Every HTTP request the bot makes, recorded before it is answered, with fault injection"""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.faults = Faults()

    def requests_matching(
        self, method: str, path_pattern: str, *, after: int = 0
    ) -> list[RecordedRequest]:
        pattern = re.compile(path_pattern)
        return [
            r
            for r in self.requests[after:]
            if _method_matches(method, r.method) and pattern.search(r.path)
        ]

    async def wait_for_request(
        self, method: str, path_pattern: str, *, timeout: float = 5, after: int = 0
    ) -> RecordedRequest:
        """The first answered request from index `after` on whose path matches (re.search)."""
        pattern = re.compile(path_pattern)

        def probe() -> RecordedRequest | None:
            for record in self.requests[after:]:
                if (
                    record.done
                    and _method_matches(method, record.method)
                    and pattern.search(record.path)
                ):
                    return record
            return None

        return await self.world.changes.wait_for(
            probe, timeout, f"a request {method} {path_pattern}"
        )

    def inject_failure(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int | None = 500,
        delay: float = 0.0,
        times: int | None = 1,
        body: JSON | None = None,
    ) -> None:
        """The next `times` matching requests wait `delay` seconds, then fail with `status`
        (with status 0 or None they are only delayed). Method "*" matches any method.
        See `bot.sandbox.faults` for latency on every request and stalls."""
        self.faults.add(method, path_pattern, status=status, delay=delay, times=times, body=body)

    def clear_failures(self) -> None:
        self.faults.clear()

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        attachment = self.world.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(
            body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
            path = path[len(API_PREFIX) :] or "/"
        body_error = False
        try:
            body, files = await _read_body(request)
        except ValueError:
            body, files, body_error = None, [], True
        authorization = request.headers.get("Authorization")
        record = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            time=time.monotonic(),
            authorized=authorization == f"Bot {self.sandbox.token}",
        )
        self.requests.append(record)
        self.world.changes.notify()
        try:
            status, reply, headers = await self._answer(request, record, body_error)
        except BaseException:
            record.status = 500
            self.world.changes.notify()
            raise
        record.status = status
        self.world.changes.notify()
        return _json_response(status, reply, headers)

    async def _answer(
        self, request: web.Request, record: RecordedRequest, body_error: bool
    ) -> tuple[int, Any, dict[str, str]]:
        injected = await self.faults.apply(record.method, record.path)
        if injected is not None:
            record.injected = True
            return injected
        if not request.path.startswith(API_PREFIX + "/"):
            self.unhandled.append(record)
            return 404, {"message": "404: Not Found", "code": 0}, {}
        if self.sandbox.refuse_pings:
            problem = _ping_problem(record)
            if problem is not None:
                return 400, FormError([], message=problem).body(), {}
        for route in self.sandbox.routes.routes:
            match = route.pattern.fullmatch(record.path)
            if match is None or route.method != record.method:
                continue
            if route.auth and not record.authorized:
                return 401, {"message": "401: Unauthorized", "code": 0}, {}
            if body_error:
                return (
                    400,
                    {"message": "The request body contains invalid JSON.", "code": 50109},
                    {},
                )
            try:
                status, reply = await route.handler(_Call(request, record, match.groupdict()))
            except _ApiError as error:
                return error.status, error.body, {}
            except FormError as error:
                return 400, error.body(), {}
            return status, reply, {}
        self.unhandled.append(record)
        return 404, {"message": "404: Not Found", "code": 0}, {}
