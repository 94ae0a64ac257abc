"""A throwaway PostgreSQL cluster for tests and benchmarks: made in a temporary folder,
listening on 127.0.0.1 at a free port, deleted when stopped.

The server binaries are the installed ones (`initdb` on PATH, or Debian's
/usr/lib/postgresql/<version>/bin; `.ci/run` installs the `postgresql` package where they
are missing). PostgreSQL refuses to run as root, so when this process is root the
cluster is made and run as an unprivileged system user (`postgres`, or `nobody`).
Connections from 127.0.0.1 are trusted, except for the role `secret_user`, which must give
its password (to test that a password reaches the server from the environment only).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ClusterUnavailable", "ThrowawayCluster", "find_bindir"]

START_TIMEOUT = 30.0
PASSWORD_ROLE = "secret_user"
SUPERUSER = "peerlight"
_SERVER_OPTIONS = (
    # Throwaway data: durability is not needed, speed is.
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
    "shared_buffers=32MB",
)


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as, or None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterUnavailable("running as root and no unprivileged user to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ThrowawayCluster:
    root: Path
    port: int = 0
    _server: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls) -> ThrowawayCluster:
        bindir = find_bindir()
        if bindir is None:
            raise ClusterUnavailable(
                "PostgreSQL's initdb was not found (install the `postgresql` package)"
            )
        user = _run_as()
        cluster = cls(Path(tempfile.mkdtemp(prefix="peerlight-pg-")))
        try:
            cluster._init(bindir, user)
            cluster._launch(bindir, user)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _as_user(self, user: pwd.struct_passwd | None) -> dict[str, object]:
        if user is None:
            return {}
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _init(self, bindir: Path, user: pwd.struct_passwd | None) -> None:
        if user is not None:
            os.chown(self.root, user.pw_uid, user.pw_gid)
        data = self.root / "data"
        result = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ],
            capture_output=True,
            check=False,
            cwd=self.root,
            **self._as_user(user),  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"initdb failed: {result.stderr.decode(errors='replace').strip()[-500:]}"
            )
        hba = data / "pg_hba.conf"
        hba.write_text(
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
            "local all all trust\n",
            "utf-8",
        )

    def _launch(self, bindir: Path, user: pwd.struct_passwd | None) -> None:
        for _ in range(3):
            self.port = _free_port()
            command = [str(bindir / "postgres"), "-D", str(self.root / "data")]
            command += ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}"]
            command += ["-c", f"unix_socket_directories={self.root}"]
            for option in _SERVER_OPTIONS:
                command += ["-c", option]
            log = (self.root / "server.log").open("ab")
            self._server = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                **self._as_user(user),  # type: ignore[call-overload]
            )
            log.close()
            if self._wait_ready():
                return
            self._halt()
        tail = (self.root / "server.log").read_text("utf-8", errors="replace")[-800:]
        raise ClusterUnavailable(f"PostgreSQL did not start: {tail.strip()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._server is not None
            if self._server.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                # Accepting connections is not yet ready for queries during recovery;
                # the postmaster writes "ready" into its log when it is.
                if b"ready to accept connections" in (self.root / "server.log").read_bytes():
                    return True
            time.sleep(0.05)
        return False

    def _halt(self) -> None:
        if self._server is None:
            return
        if self._server.poll() is None:
            self._server.terminate()  # SIGTERM: smart shutdown; SIGINT would be fast
            try:
                self._server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait(timeout=5)
        self._server = None

    def stop(self) -> None:
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(2)  # SIGINT: fast shutdown, clients disconnected
            try:
                self._server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait(timeout=5)
        self._server = None
        shutil.rmtree(self.root, ignore_errors=True)
