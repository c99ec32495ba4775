"""Messages a user can act on: a long Retry-After is logged and capped, a refused connection fails in
seconds naming host and port, and a wrong base path says so. Real clients against the sandboxes."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.http import MAX_RETRY_AFTER, retrying
from pmsync.microsoft.auth import MicrosoftAppSettings, token_provider
from pmsync.microsoft.graph import ODataClient
from pmsync.sandbox.faults import Throttle
from pmsync.sandbox.jira import jira_sandbox
from pmsync.sandbox.microsoft import microsoft_sandbox

from .helpers import jira_source, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("asked", "waited", "level"), [(100_000, MAX_RETRY_AFTER, "WARNING"), (30, 30, "INFO")]
)
def test_a_long_retry_after_is_logged_and_capped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, asked: float, waited: float, level: str
) -> None:
    waits: list[float] = []
    with microsoft_sandbox(tmp_path) as ms:
        settings = MicrosoftAppSettings.model_validate(ms.settings())
        client = ODataClient(
            base_url=settings.graph_base(),
            scope=settings.graph_scope(),
            tokens=token_provider(settings, source="planner"),
            source="planner",
            policy=lambda: retrying(sleep=waits.append),
        )
        plan = next(iter(ms.graph_state.planner.plans))
        ms.graph.faults.add(Throttle(retry_after=asked), path=f"/v1.0/planner/plans/{plan}/tasks", times=1)
        with caplog.at_level(logging.INFO, logger="pmsync.http"):
            tasks = list(client.items(f"planner/plans/{plan}/tasks"))
    assert tasks and ms.graph.faults.served() == 1
    assert waits == [waited]
    [record] = [r for r in caplog.records if r.name == "pmsync.http"]
    assert record.levelname == level and f"{waited:.0f} s" in record.getMessage()
    if asked > MAX_RETRY_AFTER:
        assert f"asked to wait {asked} s" in record.getMessage()


def test_a_refused_jira_connection_fails_in_seconds_naming_host_and_port(tmp_path: Path) -> None:
    port = _closed_port()
    with jira_sandbox(["ERP"], 5, seed=1, anchor=ANCHOR) as jira:
        source = {**jira_source(jira), "url": f"http://127.0.0.1:{port}", "api_token": "t"}
    config = write_yaml(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", source)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"])
    took = time.monotonic() - started
    assert result.exit_code == 1 and took < 5  # was 18.6 s of retries
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in result.output
    assert "HTTPConnectionPool" not in result.output and "Max retries" not in result.output


def test_a_refused_dataverse_connection_fails_in_seconds_naming_host_and_port(tmp_path: Path) -> None:
    with microsoft_sandbox(tmp_path) as ms:
        keys = ms.settings()
        source = {"name": "pfw", "type": "dataverse", **keys, "environment_url": ms.dataverse_url}
        config = write_yaml(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", source)
        port = int(ms.dataverse_url.rsplit(":", 1)[1].strip("/"))
        ms.dataverse.stop()  # signed in fine, but the environment's server is down
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["--config", str(config), "sync"])
        took = time.monotonic() - started
    assert result.exit_code == 1 and took < 5
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in result.output


def test_a_wrong_base_path_hints_at_the_rest_prefix(tmp_path: Path) -> None:
    with jira_sandbox(["ERP"], 5, seed=1, anchor=ANCHOR) as jira:
        source = {**jira_source(jira), "url": jira.url + "/jira/rest/api/3"}
        config = write_yaml(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", source)
        result = CliRunner().invoke(
            cli, ["--config", str(config), "sync"], env={"JIRA_TOKEN": jira.api_token}
        )
    assert result.exit_code == 1
    assert "HTTP 404" in result.output and "nothing answers at this path" in result.output
    assert "pmsync adds the REST prefix itself, e.g. /rest/api/3/ for Jira" in result.output


def test_an_unknown_record_is_not_taken_for_a_wrong_base_path(tmp_path: Path) -> None:
    with jira_sandbox(["ERP"], 5, seed=1, anchor=ANCHOR) as jira:
        source = {**jira_source(jira), "projects": ["NOPE"]}
        config = write_yaml(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", source)
        result = CliRunner().invoke(
            cli, ["--config", str(config), "sync"], env={"JIRA_TOKEN": jira.api_token}
        )
    assert result.exit_code == 1 and "NOPE" in result.output
    assert "nothing answers at this path" not in result.output
