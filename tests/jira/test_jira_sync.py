"""End to end: sandbox Jira (Cloud and Data Center in one config) → sync engine → store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pmsync.config import PmsyncConfig, load_config
from pmsync.model import SourceRef, WorkItem
from pmsync.sandbox.faults import ServerError, Throttle
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_instances() -> Iterator[tuple[JiraSandbox, JiraSandbox]]:
    with (
        jira_sandbox(["ERP", "PORTAL"], 60, seed=5, anchor=ANCHOR) as cloud,
        jira_sandbox(["LEGACY"], 60, seed=6, anchor=ANCHOR, flavor="datacenter") as dc,
    ):
        yield cloud, dc


def write_config(tmp_path: Path, cloud: JiraSandbox, dc: JiraSandbox, store_url: str) -> PmsyncConfig:
    (tmp_path / "cloud-token").write_text(cloud.api_token + "\n")
    raw = {
        "store": {"url": store_url},
        "projects": [
            {"key": "erp", "name": "ERP upgrade", "links": {"jira": ["ERP", "LEGACY"]}},
            {"key": "portal", "name": "Citizen portal", "links": {"jira-cloud": "PORTAL"}},
        ],
        "sources": [
            {
                "name": "jira-cloud", "type": "jira", "url": cloud.url, "email": cloud.email,
                "api_token_file": "cloud-token", "projects": ["ERP", "PORTAL"], "page_size": 20,
                "deletion_scan_hours": 0,
            },
            {
                "name": "jira-dc", "type": "jira", "deployment": "datacenter", "url": dc.url,
                "pat": "${JIRA_DC_PAT}", "projects": ["LEGACY"], "page_size": 20,
            },
        ],
    }  # fmt: skip
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, env={"JIRA_DC_PAT": dc.pat})


def test_two_instances_sync_incrementally_into_one_store(
    tmp_path: Path, store: Store, two_instances: tuple[JiraSandbox, JiraSandbox]
) -> None:
    cloud, dc = two_instances
    config = write_config(tmp_path, cloud, dc, store.url)
    runs = sync_sources(config, store)
    assert [r.status for r in runs] == ["ok", "ok"], [r.error for r in runs]
    assert runs[0].counts.inserted == 120 and runs[1].counts.inserted == 60
    erp = {r.source.external_id for r in store.iter_records(WorkItem, project="erp")}
    assert "ERP-2" in erp and "LEGACY-2" in erp and "PORTAL-2" not in erp

    # Re-running changes nothing.
    again = sync_sources(config, store)
    assert [(r.counts.inserted, r.counts.updated, r.counts.deleted) for r in again] == [(0, 0, 0), (0, 0, 0)]

    # Changes, under throttling and a 503, are picked up exactly.
    touched = cloud.touch(4)
    cloud.delete(1, ["PORTAL-3"])
    cloud.server.faults.add(Throttle(retry_after=0), path="/rest/api/3/search/jql", times=1)
    cloud.server.faults.add(ServerError(503), path="/rest/api/3/search/jql", after=1, times=1)
    runs = sync_sources(config, store, ["jira-cloud"])
    assert runs[0].status == "ok", runs[0].error
    assert runs[0].counts.updated == len(touched) and runs[0].counts.deleted == 1
    assert store.get_record(WorkItem, _ref("jira-cloud", "PORTAL-3")) is None
    assert runs[0].cursor_after and runs[0].cursor_after["updated"] > runs[0].cursor_before["updated"]  # type: ignore[index]


def test_bad_credentials_fail_the_run_cleanly(
    tmp_path: Path, store: Store, two_instances: tuple[JiraSandbox, JiraSandbox]
) -> None:
    cloud, dc = two_instances
    config = write_config(tmp_path, cloud, dc, store.url)
    (tmp_path / "cloud-token").write_text("revoked-token-123\n")
    runs = sync_sources(config, store)
    assert runs[0].status == "failed" and "401" in (runs[0].error or "")
    assert "revoked-token-123" not in (runs[0].error or "")
    assert runs[1].status == "ok"  # the other instance still syncs
    assert store.cursor("jira-cloud") == {}


def _ref(source: str, key: str) -> SourceRef:
    return SourceRef(system="jira", instance=source, external_id=key)


def test_a_full_resync_marks_what_disappeared_as_deleted(
    tmp_path: Path, store: Store, two_instances: tuple[JiraSandbox, JiraSandbox]
) -> None:
    cloud, dc = two_instances
    write_config(tmp_path, cloud, dc, store.url)
    raw = yaml.safe_load((tmp_path / "pmsync.yaml").read_text())
    raw["sources"][0].update(projects=["ERP"], deletion_scan_hours=1000)
    (tmp_path / "pmsync.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "pmsync.yaml", env={"JIRA_DC_PAT": dc.pat})
    assert [r.status for r in sync_sources(config, store, ["jira-cloud"])] == ["ok"]
    cloud.delete(1, ["ERP-7"])
    cloud.move_out(1, ["ERP-8"])
    # Adding a project to the source changes its scope: the next sync re-reads everything, and that
    # full pass is the snapshot that finds ERP-7 and ERP-8 gone (no key-only scan is due).
    raw["sources"][0]["projects"] = ["PORTAL", "ERP"]
    (tmp_path / "pmsync.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "pmsync.yaml", env={"JIRA_DC_PAT": dc.pat})
    (run,) = sync_sources(config, store, ["jira-cloud"])
    assert run.status == "ok" and run.counts.deleted == 2 and run.counts.inserted == 60
    assert store.get_record(WorkItem, _ref("jira-cloud", "ERP-7")) is None
    assert store.get_record(WorkItem, _ref("jira-cloud", "ERP-9")) is not None
