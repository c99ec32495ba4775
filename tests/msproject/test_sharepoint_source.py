"""Schedules read from a SharePoint document library: pmsync.yaml → msal sign-in → Graph over https
(sandbox CA) → the sandbox SharePoint → the sync engine → the store. Only changed files are
downloaded (QuickXorHash in the cursor); a file removed from the library has its records swept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pmsync.connectors.msproject import mpxj_problem
from pmsync.connectors.msproject.sharepoint_source import PERMISSION_HINT

from pmsync.config import PmsyncConfig, build_connector, load_config
from pmsync.connector import CheckResult
from pmsync.microsoft.auth import forget_token_providers
from pmsync.model import Baseline, Project, WorkItem
from pmsync.sandbox.faults import Throttle, Truncate
from pmsync.sandbox.graph_sharepoint import DOWNLOAD_PREFIX, SharePointState, seed_demo
from pmsync.sandbox.graph_sharepoint_state import Drive, DriveItem
from pmsync.sandbox.microsoft import MicrosoftSandbox, microsoft_sandbox
from pmsync.sandbox.mspdi_gen import ScheduleSpec, advance, write_schedule
from pmsync.store import Store
from pmsync.sync import sync_sources

SITE_URL = "https://contoso.sharepoint.com/sites/PMO"
ERP = ScheduleSpec(tasks=40, seed=3, title="ERP Modernisation", baselines=(0, 1))
INFRA = ScheduleSpec(tasks=25, seed=5, title="Data centre exit", jira_project="DCX", finance_code="P-200")


class Library:
    """The sandbox's PMO "Documents" library with a "Schedules" folder, and ways to change it."""

    def __init__(self, ms: MicrosoftSandbox, workdir: Path) -> None:
        self.ms = ms
        self.state: SharePointState = ms.graph_state.sharepoint
        self.workdir = workdir
        site = seed_demo(self.state, status_list=False)
        with self.state.lock:
            self.drive: Drive = next(d for d in self.state.drives.values() if d.site_id == site.id)
            root = self.state.items[self.drive.root_id]
            self.folder: DriveItem = self.state.new_folder(self.drive, root, "Schedules")

    def put(self, name: str, spec: ScheduleSpec) -> DriveItem:
        path = write_schedule(spec, self.workdir / name)
        with self.state.lock:
            item, _ = self.state.write_file(self.drive, self.folder, name, path.read_bytes())
        return item

    def put_bytes(self, name: str, content: bytes) -> DriveItem:
        with self.state.lock:
            item, _ = self.state.write_file(self.drive, self.folder, name, content)
        return item

    def remove(self, name: str) -> None:
        with self.state.lock:
            item = self.state.child_named(self.folder.id, name)
            assert item is not None
            del self.state.items[item.id]

    def downloads(self) -> list[str]:
        """The item paths whose ``/content`` was asked for, in order."""
        return [p for m, p in self.ms.graph.faults.requests if m == "GET" and p.endswith("/content")]

    def downloads_path(self) -> str:
        """Where ``/content`` redirects to: the file's pre-authenticated download URL."""
        return DOWNLOAD_PREFIX

    def children_path(self) -> str:
        return f"/v1.0/drives/{self.drive.id}/items/{self.folder.id}/children"


@pytest.fixture(autouse=True)
def _fresh_token_providers() -> Iterator[None]:
    forget_token_providers()
    yield
    forget_token_providers()


@pytest.fixture
def ms(tmp_path: Path) -> Iterator[MicrosoftSandbox]:
    with microsoft_sandbox(tmp_path / "sandbox", seed=False) as sandbox:
        yield sandbox


@pytest.fixture
def library(ms: MicrosoftSandbox, tmp_path: Path) -> Library:
    (tmp_path / "generated").mkdir()
    return Library(ms, tmp_path / "generated")


def write_config(ms: MicrosoftSandbox, tmp_path: Path, **sharepoint: Any) -> PmsyncConfig:
    settings = ms.settings()
    secret = settings.pop("client_secret")
    block = {
        **settings,
        "client_secret": "${PMSYNC_TEST_GRAPH_SECRET}",
        "site_url": SITE_URL,
        "library": "Documents",
        "folder": "Schedules",
        **sharepoint,
    }
    config = {
        "projects": [{"key": "ERP", "name": "ERP modernisation", "links": {"msproject": ["erp.xml"]}}],
        "sources": [{"name": "schedules", "type": "msproject", "sharepoint": block}],
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return load_config(path, env={"PMSYNC_TEST_GRAPH_SECRET": secret})


def work(store: Store, project: str) -> dict[str, WorkItem]:
    return {w.source.external_id: w for w in store.iter_records(WorkItem, project=project)}


def test_library_syncs_and_only_changed_files_are_downloaded(
    ms: MicrosoftSandbox, library: Library, tmp_path: Path, store: Store
) -> None:
    library.put("erp.xml", ERP)
    infra = library.put("Data Centre Exit.xml", INFRA)
    library.put_bytes("minutes.docx", b"not a schedule")  # other documents in the folder are ignored
    config = write_config(ms, tmp_path)

    [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    assert len(library.downloads()) == 2
    assert {p.key for p in store.iter_records(Project, source_name="schedules")} == {
        "ERP",
        "Data-Centre-Exit",
    }
    erp = work(store, "ERP")
    assert len(erp) == ERP.tasks + 1  # every row of the schedule plus the project summary task
    assert {b.number for b in store.iter_records(Baseline, project="ERP")} == {0, 1}
    first_inserted = run.counts.inserted

    # nothing changed in the library: the listing alone shows it, no file is downloaded
    before = len(library.downloads())
    [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    assert (run.counts.inserted, run.counts.updated, run.counts.deleted) == (0, 0, 0)
    assert len(library.downloads()) == before

    # a new version of one schedule (four weeks of progress): only that file is downloaded and read
    library.put("Data Centre Exit.xml", advance(INFRA, 4))
    [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    new = library.downloads()[before:]
    assert len(new) == 1 and infra.id in new[0]
    assert run.counts.updated > 0 and run.counts.inserted == 0
    done = [
        w for w in store.iter_records(WorkItem, project="Data-Centre-Exit") if (w.percent_complete or 0) > 0
    ]
    assert done, "the advanced schedule's progress reached the store"
    assert work(store, "ERP") == erp  # the other file's records are untouched

    # a schedule deleted from the library: its records are swept, nothing is downloaded
    before = len(library.downloads())
    library.remove("erp.xml")
    # emptying a scope is refused by the deletion guard until the user allows it once
    [run] = sync_sources(config, store)
    assert run.status == "failed" and "refused to delete" in (run.error or "")
    [run] = sync_sources(config, store, allow_deletions=True)
    assert run.status == "ok", run.error
    assert len(library.downloads()) == before
    assert list(store.iter_records(Project, project="ERP")) == []
    assert work(store, "ERP") == {}
    assert run.counts.deleted == len(erp) + 1 + 2 + 2 * len(erp)  # items, project, 2 baselines, their items
    assert first_inserted > 0


def extract(config: PmsyncConfig) -> list[Any]:
    return list(build_connector(config, config.source("schedules")).extract({}))


def doctor(config: PmsyncConfig) -> dict[str, CheckResult]:
    return {c.name: c for c in build_connector(config, config.source("schedules")).check()}


def test_a_throttled_listing_is_waited_out(ms: MicrosoftSandbox, library: Library, tmp_path: Path) -> None:
    library.put("erp.xml", ERP)
    rule = ms.graph.faults.add(Throttle(retry_after=0), method="GET", path_prefix=library.children_path())
    items = extract(write_config(ms, tmp_path))
    assert rule.served == 1
    assert sum(isinstance(i, WorkItem) for i in items) == ERP.tasks + 1


def test_a_download_cut_off_midway_starts_the_file_again(
    ms: MicrosoftSandbox, library: Library, tmp_path: Path
) -> None:
    library.put("erp.xml", ERP)
    throttled = ms.graph.faults.add(
        Throttle(retry_after=0), method="GET", path_prefix=library.downloads_path()
    )
    cut = ms.graph.faults.add(Truncate(keep=5000), method="GET", path_prefix=library.downloads_path())
    items = extract(write_config(ms, tmp_path))
    assert (throttled.served, cut.served) == (1, 1)
    # the whole schedule, not the first 5000 bytes of it nor those bytes twice
    assert sum(isinstance(i, WorkItem) for i in items) == ERP.tasks + 1


def test_missing_permission_names_it(ms: MicrosoftSandbox, library: Library, tmp_path: Path) -> None:
    library.put("erp.xml", ERP)
    for roles in ms.identity_state.apps[ms.credentials.client_id].roles.values():
        roles.discard("Sites.ReadWrite.All")
    config = write_config(ms, tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}")
    with store:
        [run] = sync_sources(config, store)
    assert run.status == "failed"
    assert run.error is not None and PERMISSION_HINT in run.error
    assert not library.downloads()

    permission = doctor(config)["permission"]
    assert permission.status == "fail" and "Sites.Read.All" in permission.detail


def test_doctor_finds_site_library_folder_and_files(
    ms: MicrosoftSandbox, library: Library, tmp_path: Path
) -> None:
    library.put("erp.xml", ERP)
    library.put("infra.xml", INFRA)
    checks = doctor(write_config(ms, tmp_path))
    assert checks["sign-in"].status == "ok"
    assert checks["sharepoint"].status == "ok"
    assert checks["files"].status == "ok" and "2 schedule file(s)" in checks["files"].detail
    assert "mpxj" not in checks  # XML only: no Java needed

    library.put_bytes("legacy.mpp", b"an .mpp needs MPXJ")
    checks = doctor(write_config(ms, tmp_path))
    assert "3 schedule file(s)" in checks["files"].detail
    assert checks["mpxj"].status == ("fail" if mpxj_problem() else "ok")

    checks = doctor(write_config(ms, tmp_path, folder="Plans"))
    assert checks["sharepoint"].status == "fail"
    assert "no folder 'Plans'" in checks["sharepoint"].detail

    checks = doctor(write_config(ms, tmp_path, library="Reports"))
    assert "no document library named 'Reports'" in checks["sharepoint"].detail
    assert "Documents" in checks["sharepoint"].fix
