"""An empty or partial answer never deletes: the deletion guard, ``--allow-deletions``, and recovery
with ``--full-refresh`` and ``pmsync state``. Jira and finance exports through the real clients."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.model import WorkItem
from pmsync.sandbox.faults import Status
from pmsync.sandbox.finance_gen import month_lines, write_export
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import jira_source, load, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SEARCH = "/rest/api/3/search/jql"
#: what a misbehaving proxy (or a service account that lost its permission) answers: well-formed, empty
EMPTY_ANSWER = Status(200, {"issues": [], "isLast": True})


@pytest.fixture
def jira() -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP"], 40, seed=11, anchor=ANCHOR) as sandbox:
        yield sandbox


def _config_path(folder: Path, store_url: str, jira: JiraSandbox) -> Path:
    return write_yaml(folder, store_url, jira_source(jira, deletion_scan_hours=0))


def _cli(path: Path, jira: JiraSandbox, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(path), *args], env={"JIRA_TOKEN": jira.api_token}, input=stdin
    )


def _live(store: Store) -> int:
    return store.count_live("jira")


def test_an_empty_answer_to_the_deletion_scan_deletes_nothing(
    tmp_path: Path, store_url: str, jira: JiraSandbox
) -> None:
    config = load(_config_path(tmp_path, store_url, jira), jira)
    with Store.open(store_url) as store:
        [first] = sync_sources(config, store)
        assert first.status == "ok" and first.counts.inserted == 40
        scan_before = store.cursor("jira")["last_scan"]

        jira.server.faults.add(EMPTY_ANSWER, path=SEARCH, times=-1)
        [run] = sync_sources(config, store)
        assert jira.server.faults.served() >= 2  # the changed pass and the key-only scan met it
        assert run.status == "failed" and run.counts.deleted == 0
        error = run.error or ""
        # Jira's own envelope guard (an empty scan of a project that had issues) or the store's guard
        # (40 of its 40 live records) refuses it first; either way it names what and how to allow it
        assert "'jira'" in error and "--allow-deletions" in error
        assert ("refused to delete" in error and "40 of its 40 live records" in error) or (
            "the deletion scan found no issues in project ERP" in error
        )
        assert _live(store) == 40
        assert store.cursor("jira")["last_scan"] == scan_before  # the scan is still due: asked again

        # The proxy heals: the next run scans, finds every issue, and deletes nothing.
        jira.server.faults.clear()
        [healed] = sync_sources(config, store)
        assert healed.status == "ok" and healed.counts.deleted == 0 and _live(store) == 40


def test_a_scan_that_loses_a_large_share_is_refused_until_allowed_once(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    path = _config_path(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", jira)
    assert _cli(path, jira, "sync").exit_code == 0
    jira.delete(1, ["ERP-5"])  # one issue of forty: an ordinary deletion, under the floor
    ordinary = _cli(path, jira, "sync")
    assert ordinary.exit_code == 0 and "1 deleted" in ordinary.output

    gone = jira.delete(12)  # 12 of 39 (31 %): more than the 10 % a run may delete
    refused = _cli(path, jira, "sync")
    assert refused.exit_code == 1
    assert (
        "refused to delete: scope 'project:ERP' would lose 12 of its 39 live records (31 %)" in refused.output
    )
    again = _cli(path, jira, "sync")  # still refused: nothing was deleted and the scan is still due
    assert again.exit_code == 1 and "refused to delete" in again.output

    allowed = _cli(path, jira, "sync", "--allow-deletions")
    assert allowed.exit_code == 0, allowed.output
    assert "12 deleted" in allowed.output
    assert (
        "note: deletions allowed by --allow-deletions: scope 'project:ERP' lost 12 of its 39"
        in allowed.output
    )
    ledger = json.loads(_cli(path, jira, "runs", "--json").output)
    assert ledger[0]["status"] == "ok" and ledger[0]["counts"]["deleted"] == 12
    assert any("allowed by --allow-deletions" in n for n in ledger[0]["notes"])
    assert ledger[1]["status"] == "failed" and "refused to delete" in ledger[1]["error"]
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        live = {r.source.external_id for r in store.iter_records(WorkItem)}
        store_live = store.count_live("jira")
    assert live.isdisjoint(gone) and store_live == 27

    # --allow-deletions was for that one run: the next mass deletion is refused again.
    jira.delete(27)
    refused_again = _cli(path, jira, "sync").output
    assert (
        "would lose 27 of its 27" in refused_again
        or "the deletion scan found no issues in project ERP" in refused_again
    )


def test_full_refresh_restores_what_a_wrongly_allowed_deletion_removed(
    tmp_path: Path, store_url: str, jira: JiraSandbox
) -> None:
    path = _config_path(tmp_path, store_url, jira)
    assert _cli(path, jira, "sync").exit_code == 0
    jira.server.faults.add(EMPTY_ANSWER, path=SEARCH, times=-1)
    assert _cli(path, jira, "sync", "--allow-deletions").exit_code == 0  # the user allowed the disaster
    jira.server.faults.clear()
    incremental = _cli(path, jira, "sync")
    assert "no changes" in incremental.output  # an incremental sync cannot see what it lost
    with Store.open(store_url) as store:
        assert _live(store) == 0

    refreshed = _cli(path, jira, "sync", "--full-refresh", "--source", "jira")
    assert refreshed.exit_code == 0, refreshed.output
    assert "40 updated" in refreshed.output and "note: full refresh" in refreshed.output
    with Store.open(store_url) as store:
        assert _live(store) == 40
        # History keeps the deleted interval: as of the moment after the bad run, nothing was live.
        runs = store.sync_runs()
        bad = next(r for r in runs if r.counts.deleted == 40)
        assert bad.finished_at is not None
        assert list(store.iter_records(WorkItem, as_of=bad.finished_at)) == []
        assert len(list(store.iter_records(WorkItem, as_of=runs[0].finished_at))) == 36  # + 4 RAID items


def test_state_show_and_reset_forget_only_the_cursor(tmp_path: Path, jira: JiraSandbox) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    path = _config_path(tmp_path, url, jira)
    assert _cli(path, jira, "state", "show").output.startswith("jira (jira): no cursor")
    assert _cli(path, jira, "sync").exit_code == 0
    shown = _cli(path, jira, "state", "show", "--source", "jira")
    assert shown.exit_code == 0 and "cursor committed by run 1" in shown.output
    assert "40 live records" in shown.output and '"last_scan"' in shown.output

    declined = _cli(path, jira, "state", "reset", "--source", "jira", stdin="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    unattended = _cli(path, jira, "state", "reset", "--source", "jira", stdin="")  # cron: no answer
    assert unattended.exit_code == 1
    with Store.open(url) as store:
        assert store.cursor("jira") != {}

    reset = _cli(path, jira, "state", "reset", "--source", "jira", "--yes")
    assert reset.exit_code == 0 and "40 records kept" in reset.output
    with Store.open(url) as store:
        assert store.cursor("jira") == {} and _live(store) == 40
    as_json = json.loads(_cli(path, jira, "state", "show", "--json").output)
    assert as_json == [
        {
            "source": "jira",
            "type": "jira",
            "cursor": None,
            "run_id": None,
            "updated_at": None,
            "live_records": 40,
        }
    ]
    # The next sync reads everything again and finds nothing changed.
    reread = _cli(path, jira, "sync")
    assert (
        reread.exit_code == 0
        and "no changes (0 inserted, 0 updated, 0 deleted, 40 unchanged" in reread.output
    )
    assert _cli(path, jira, "state", "reset", "--source", "nope", "--yes").exit_code == 3


def _finance_config(folder: Path) -> Path:
    return write_yaml(
        folder,
        f"sqlite:///{folder / 'pmsync.db'}",
        {"name": "finance", "type": "finance_file", "path": "exports", "mapping": "finance-oracle-ebs.yaml"},
    )


def test_an_export_emptied_to_its_header_deletes_nothing(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    lines = list(month_lines(["P-100"], date(2026, 10, 1), 30, random.Random(4)))
    export = exports / "pa-costs-2026-10.csv"
    write_export(export, iter(lines))
    path = _finance_config(tmp_path)
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(path), "sync"])
    assert first.exit_code == 0 and "30 inserted" in first.output

    text = export.read_text(encoding="utf-8").splitlines()
    header = text[: next(i for i, line in enumerate(text) if line.startswith("Project Number")) + 1]
    export.write_text("\n".join(header) + "\n", encoding="utf-8")  # the job wrote the header, then failed
    emptied = runner.invoke(cli, ["--config", str(path), "sync"])
    assert emptied.exit_code == 1
    assert "refused to delete" in emptied.output and "P-100" in emptied.output
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        assert store.count_live("finance") == 30
        files: dict[str, Any] = store.cursor("finance")["files"]
        assert files["pa-costs-2026-10.csv"]["scopes"]  # the cursor still says the file holds its lines


def test_a_stream_of_deleted_markers_is_guarded_like_a_snapshot(tmp_path: Path, store_url: str) -> None:
    connector = {"name": "plan", "type": "core.pmsync_testconnector:CountingConnector", "count": 20}
    path = write_yaml(tmp_path, store_url, connector)
    with Store.open(store_url) as store:
        [first] = sync_sources(load_config(path), store)
        assert first.status == "ok" and store.count_live("plan") == 20
        # The source now reports half its items deleted, one Deleted marker each.
        path = write_yaml(tmp_path, store_url, {**connector, "deleted": list(range(10))})
        [run] = sync_sources(load_config(path), store)
        assert run.status == "failed" and "scope 'all' would lose 10 of its 20 live records" in (
            run.error or ""
        )
        assert store.count_live("plan") == 20
        [allowed] = sync_sources(load_config(path), store, allow_deletions=True)
        assert allowed.status == "ok" and allowed.counts.deleted == 10 and store.count_live("plan") == 10
        assert allowed.notes == [
            "deletions allowed by --allow-deletions: scope 'all' lost 10 of its 20 live records (50 %)"
        ]


def test_a_reread_from_no_cursor_reconciles_finance_lines_the_export_dropped(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    lines = list(month_lines(["P-100"], date(2026, 10, 1), 30, random.Random(4)))
    write_export(exports / "pa-costs-2026-10.csv", iter(lines))
    path = _finance_config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(path), "sync"]).exit_code == 0
    assert (
        runner.invoke(
            cli, ["--config", str(path), "state", "reset", "--source", "finance", "--yes"]
        ).exit_code
        == 0
    )
    write_export(exports / "pa-costs-2026-10.csv", iter(lines[:-1]))  # the export drops one line
    reread = runner.invoke(cli, ["--config", str(path), "sync"])
    assert reread.exit_code == 0 and "1 deleted" in reread.output and "29 unchanged" in reread.output
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        assert store.count_live("finance") == 29

    write_export(exports / "pa-costs-2026-10.csv", iter(lines))  # and restores it
    refreshed = runner.invoke(cli, ["--config", str(path), "sync", "--full-refresh"])
    assert refreshed.exit_code == 0 and "1 updated" in refreshed.output and "29 unchanged" in refreshed.output


def test_a_source_can_have_its_own_deletion_guard(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    connector = {"name": "plan", "type": "core.pmsync_testconnector:CountingConnector", "count": 20}
    with Store.open(url) as store:
        assert sync_sources(load_config(write_yaml(tmp_path, url, connector)), store)[0].status == "ok"
        half = {**connector, "omit": list(range(10))}
        strict = load_config(write_yaml(tmp_path, url, half, sync={"deletion_guard": {"max_share": 0.2}}))
        assert "refused to delete" in (sync_sources(strict, store)[0].error or "")
        loose = {**half, "deletion_guard": {"max_share": 0.6}}  # this source churns by design
        [run] = sync_sources(load_config(write_yaml(tmp_path, url, loose)), store)
        assert run.status == "ok" and run.counts.deleted == 10 and run.notes == []
