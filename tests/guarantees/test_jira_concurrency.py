"""Several Jira requests in flight: the same store as one at a time, rate limits honoured by every
worker, and a failing worker fails the run cleanly (issue 25, point 2)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.errors import ConfigError
from pmsync.sandbox.faults import Status
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import clean_dump, dump, jira_source, load, synced, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP", "PORTAL"], 150, seed=5, anchor=ANCHOR, flavor=request.param) as sandbox:
        yield sandbox


def _sync_twice(
    folder: Path, sandbox: JiraSandbox, concurrency: int, touched: list[str]
) -> dict[str, object]:
    """A full sync, then (after ``touched`` changed) an incremental one; the store's dump."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'pmsync.db'}"
    config = load(write_yaml(folder, url, jira_source(sandbox, concurrency=concurrency)), sandbox)
    store = Store.open(url)
    try:
        [full] = sync_sources(config, store)
        assert full.status == "ok", full.error
        if touched:
            sandbox.touch(len(touched), touched)
        [incremental] = sync_sources(config, store)
        assert incremental.status == "ok", incremental.error
        return dump(store)
    finally:
        store.close()


def test_a_concurrent_sync_leaves_the_same_store_as_a_serial_one(jira: JiraSandbox, tmp_path: Path) -> None:
    serial = _sync_twice(tmp_path / "serial", jira, 1, [])
    concurrent = _sync_twice(tmp_path / "concurrent", jira, 8, ["ERP-3", "PORTAL-77", "ERP-140"])
    # the serial store then sees the same three changes
    serial_after = _sync_twice(tmp_path / "serial-again", jira, 1, [])
    assert concurrent["records"] == serial_after["records"]
    assert concurrent["cursors"] == serial_after["cursors"]
    assert serial["records"] != serial_after["records"]  # the changes were real, and read by both
    assert len(concurrent["records"]) == 300


def test_a_retry_after_pauses_every_worker_not_only_the_one_that_got_it(tmp_path: Path) -> None:
    with jira_sandbox(["ERP", "PORTAL"], 300, seed=5, anchor=ANCHOR) as jira:
        jira.app.latency = 0.02  # requests overlap, as against a distant site
        jira.app.timeline = timeline = []
        jira.app.throttle(2, after=6)  # the 7th request: 429, Retry-After: 2
        run, _ = synced(tmp_path, jira, jira_source(jira, concurrency=6))
        assert run.counts.inserted == 600
    [refused] = [t for t, _, _, status in timeline if status == 429]
    # Requests already on their way when the 429 was sent may still arrive just after it; any
    # request sent later waits for the pause. Without the shared pause the five other workers go
    # on asking throughout.
    during = [path for t, _, path, _ in timeline if refused + 0.5 < t < refused + 1.9]
    assert during == []
    assert any(t >= refused + 1.9 for t, _, _, _ in timeline)  # ...and the run went on after it


def test_a_failing_worker_fails_the_run_cleanly_and_a_rerun_converges(
    jira: JiraSandbox, tmp_path: Path
) -> None:
    path = "/rest/api/3/issue/bulkfetch" if jira.flavor.cloud else "/rest/api/2/search"
    refused = {"errorMessages": ["Field 'customfield_99999' does not exist."], "errors": {}}
    jira.server.faults.add(Status(400, refused), path=path, after=4, times=1)
    source = jira_source(jira, concurrency=8)
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = load(write_yaml(tmp_path, url, source), jira)
    store = Store.open(url)
    try:
        [failed] = sync_sources(config, store)
        assert failed.status == "failed"
        assert failed.error is not None and "customfield_99999" in failed.error
        assert "bulkfetch" in failed.error if jira.flavor.cloud else "search" in failed.error
        # no worker is left behind, waiting or still fetching
        assert not [t for t in threading.enumerate() if t.name.startswith("jira-fetch") and t.is_alive()]
        [rerun] = sync_sources(config, store)
        assert rerun.status == "ok", rerun.error
        after = dump(store)
    finally:
        store.close()
    clean = clean_dump(tmp_path / "clean", jira, jira_source(jira, concurrency=8))
    assert after["records"] == clean["records"]


@pytest.mark.parametrize("value", [0, 33])
def test_concurrency_out_of_range_is_a_clear_config_error(value: int, tmp_path: Path) -> None:
    source = {
        "name": "jira", "type": "jira", "url": "https://agency.atlassian.net", "email": "pm@agency.example",
        "api_token": "${JIRA_TOKEN}", "projects": ["ERP"], "concurrency": value,
    }  # fmt: skip
    path = write_yaml(tmp_path, "sqlite:///pmsync.db", source)
    with pytest.raises(ConfigError, match="concurrency") as caught:
        load_config(path, env={"JIRA_TOKEN": "ATATT3xFfGF0-sandbox-token"})
    assert "32" in str(caught.value) if value == 33 else "1" in str(caught.value)


def test_near_the_rate_limit_one_request_at_a_time(tmp_path: Path) -> None:
    with jira_sandbox(["ERP", "PORTAL"], 150, seed=5, anchor=ANCHOR) as jira:
        jira.app.rate_limit = 1000
        jira.app.spend(900)  # under 20 % of the hour's budget left: X-RateLimit-NearLimit: true
        jira.app.latency = 0.05
        jira.app.timeline = timeline = []
        run, _ = synced(tmp_path, jira, jira_source(jira, concurrency=8))
        assert run.counts.inserted == 300
    arrivals = sorted(t for t, _, path, _ in timeline if path.endswith("/issue/bulkfetch"))
    assert len(arrivals) == 30
    # each request was sent only after the answer to the one before (which takes the latency)
    assert min(b - a for a, b in zip(arrivals, arrivals[1:], strict=False)) >= 0.045
