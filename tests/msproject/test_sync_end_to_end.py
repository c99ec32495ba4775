"""Schedules synced into the store through pmsync.yaml and the sync engine (SQLite and PostgreSQL):
the first run inserts everything, an unchanged folder writes nothing, an edited file updates and
sweeps only itself, a removed file is deleted, and a schedule advanced by the generator updates
progress while its baseline stays put."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pmsync.config import load_config
from pmsync.model import Baseline, BaselineItem, Project, WorkItem
from pmsync.sandbox.mspdi_gen import ScheduleSpec, advance, write_schedule
from pmsync.store import Store
from pmsync.sync import sync_sources

from .conftest import DATA


def _config(tmp_path: Path, store_url: str) -> Path:
    config = {
        "store": {"url": store_url},
        "projects": [
            {"key": "CMS", "name": "Case management", "links": {"msproject": ["case-management.xml"]}},
            {"key": "ERP", "name": "ERP modernisation", "links": {"schedules": "erp"}},
        ],
        "sources": [{"name": "schedules", "type": "msproject", "path": "schedules/"}],
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "schedules").mkdir()
    return path


def _work(store: Store, project: str) -> dict[str, WorkItem]:
    return {w.name: w for w in store.iter_records(WorkItem, project=project)}


def test_schedules_sync_into_the_store(tmp_path: Path, store_url: str) -> None:
    config = load_config(_config(tmp_path, store_url))
    folder = tmp_path / "schedules"
    shutil.copy(DATA / "case-management.xml", folder)
    shutil.copy(DATA / "printer-refresh.xml", folder)
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        assert run.counts.inserted == 32 + 6  # project, work items, baselines, baseline items of both files
        cms = _work(store, "CMS")
        assert len(cms) == 13
        assert cms["Go live"].kind == "milestone" and cms["Go live"].links == {"jira": "CMR-14"}
        assert [p.key for p in store.iter_records(Project, source_name="schedules")] == [
            "CMS",
            "printer-refresh",
        ]
        assert {b.number for b in store.iter_records(Baseline, project="CMS")} == {0, 1}

        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted, run.counts.updated, run.counts.deleted) == ("ok", 0, 0, 0)

        # an edited schedule: a task renamed, another removed; only that file is swept
        text = (folder / "case-management.xml").read_text(encoding="utf-8")
        start = text.index("\t\t<Task>\n\t\t\t<UID>12</UID>")
        end = text.index("\t\t</Task>\n", start) + len("\t\t</Task>\n")
        text = (text[:start] + text[end:]).replace(
            "<Name>Data migration</Name>", "<Name>Data migration (wave 1)</Name>"
        )
        (folder / "case-management.xml").write_text(text, encoding="utf-8")
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        cms = _work(store, "CMS")
        assert "Lessons learned" not in cms and "Data migration (wave 1)" in cms
        assert run.counts.deleted == 2  # the task and its baseline item
        assert len(list(store.iter_records(WorkItem, project="printer-refresh"))) == 5

        (folder / "printer-refresh.xml").unlink()
        # a whole schedule gone is refused by the deletion guard (an unmounted share looks the same)
        [run] = sync_sources(config, store)
        assert run.status == "failed" and "refused to delete" in (run.error or "")
        [run] = sync_sources(config, store, allow_deletions=True)
        assert run.counts.deleted == 6
        assert list(store.iter_records(Project, project="printer-refresh")) == []


def test_an_advancing_schedule_updates_progress_and_keeps_its_baseline(
    tmp_path: Path, store_url: str
) -> None:
    config = load_config(_config(tmp_path, store_url))
    spec = ScheduleSpec(tasks=120, seed=4, title="ERP modernisation")
    path = tmp_path / "schedules" / "erp.xml"
    write_schedule(spec, path)
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        baseline_before = {b.item: b for b in store.iter_records(BaselineItem, project="ERP")}
        assert len(baseline_before) == 121
        assert all(w.percent_complete == 0 for w in _work(store, "ERP").values())

        write_schedule(advance(spec, 6), path)
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        assert run.counts.updated > 10 and run.counts.deleted == 0
        work = _work(store, "ERP")
        assert any(w.status_category == "done" for w in work.values())
        assert {b.item: b for b in store.iter_records(BaselineItem, project="ERP")} == baseline_before
