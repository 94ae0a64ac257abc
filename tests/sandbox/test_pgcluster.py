"""The throwaway PostgreSQL cluster: where no server can start, PostgreSQL tests are
skipped with the reason, except in CI, where they fail."""

from __future__ import annotations

import pytest

from bot.sandbox import pgcluster
from bot.sandbox.pgcluster import ClusterUnavailable, ThrowawayCluster
from tests.conftest import without_postgresql


def test_no_server_binaries_is_a_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgcluster, "find_bindir", lambda: None)
    with pytest.raises(ClusterUnavailable, match="initdb was not found"):
        ThrowawayCluster.start()


def test_outside_ci_the_tests_are_skipped_with_the_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="no server can be started here"):
        without_postgresql("initdb was not found", None)


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_in_ci_they_fail(ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        without_postgresql("initdb was not found", ci)


def test_the_cluster_listens_on_loopback_only(pg_cluster: ThrowawayCluster) -> None:
    assert pg_cluster.url().startswith(f"postgresql://peerlight@127.0.0.1:{pg_cluster.port}/")
    settings = (pg_cluster.root / "data" / "pg_hba.conf").read_text("utf-8")
    assert "0.0.0.0" not in settings and "::" not in settings
