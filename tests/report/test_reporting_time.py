"""Reporting time, as a new user meets it: the first sync happens in December, the committee wants
November (and, backfilled, September).

The suite's clock is pinned to 2026-12-04 (``tests/conftest.py``), the sandbox Jira lives on the
same clock, and the finance exports run from July to December: so the store learns everything on
2026-12-04, and a report for November must describe November 30 from the sources' own history — Jira's
changelog and the finance lines' posting dates — not the empty store of November 30.

The expected figures are computed here independently: statuses at the cut-off from the raw
changelog read through the real ``jira`` client, actuals from the cost lines' posting dates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jira import JIRA

from pmsync import clock
from pmsync.cli import cli
from pmsync.model import CostLine, WorkItem
from pmsync.sandbox.finance_gen import write_monthly_exports
from pmsync.sandbox.jira import JiraSandbox
from pmsync.store import Store

TODAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@dataclass
class FirstSync:
    root: Path
    config: Path
    jira: JiraSandbox


@pytest.fixture(scope="module")
def first_sync(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstSync]:
    clock.set_now(TODAY, ticking=True)
    root = tmp_path_factory.mktemp("december")
    sandbox = JiraSandbox(projects=[("ERP", "ERP modernisation")], issues_per_project=80, seed=11)
    with sandbox:
        # December's own changes: new issues, and issues moving on in their workflow
        sandbox.create("ERP", 3)
        sandbox.touch(12)
        write_monthly_exports(
            root / "finance", projects=("P-100",), fy_start=date(2026, 7, 1), months=6, lines_per_month=20
        )
        config = {
            "portfolio": {"name": "Agency", "currency": "USD", "fiscal_year_start_month": 7},
            "reporting": {"time_zone": "America/Los_Angeles"},
            "projects": [
                {
                    "key": "ERP",
                    "name": "ERP modernisation",
                    "approved_budget": 2_000_000,
                    "links": {"jira": ["ERP"], "finance": ["P-100"]},
                }
            ],
            "sources": [
                {"name": "jira", "type": "jira", **sandbox.source_settings(page_size=50)},
                {"name": "finance", "type": "finance_file", "path": "finance",
                 "mapping": "finance-oracle-ebs.yaml"},
            ],
            "reports": {"out_dir": "reports", "formats": ["json"]},
            "publish": {"targets": [{"name": "committee", "type": "folder", "path": "published"}]},
        }  # fmt: skip
        path = root / "pmsync.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        runner = CliRunner()
        for command in (
            ["sync"],
            ["baseline", "capture", "--project", "ERP"],
            [
                "baseline",
                "approve",
                "1",
                "--project",
                "ERP",
                "--by",
                "Steering committee",
                "--reason",
                "Gate 2",
            ],
        ):
            result = runner.invoke(cli, ["--config", str(path), *command])
            assert result.exit_code == 0, result.output
        yield FirstSync(root, path, sandbox)
    clock.set_now(None)


def report(setup: FirstSync, *args: str) -> tuple[int, str, dict[str, Any] | None]:
    out = setup.root / "out" / "-".join(args).replace("/", "_")
    result = CliRunner().invoke(
        cli, ["--config", str(setup.config), "report", "--format", "json", "--out", str(out), *args]
    )
    files = sorted(out.glob("report-*.json")) if out.exists() else []
    data = json.loads(files[0].read_text()) if files else None
    return result.exit_code, result.output, data


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))


def jira_state_at(sandbox: JiraSandbox, cutoff: datetime) -> dict[str, str]:
    """Each issue that existed at ``cutoff`` → its status then, from the raw changelog."""
    client = JIRA(server=sandbox.url, basic_auth=(sandbox.email, sandbox.api_token))
    found: dict[str, str] = {}
    for issue in client.search_issues(
        "project = ERP", maxResults=False, expand="changelog", json_result=False
    ):
        raw = issue.raw
        if _moment(raw["fields"]["created"]) > cutoff:
            continue
        moves = sorted(
            (_moment(h["created"]), item)
            for h in raw["changelog"]["histories"]
            for item in h["items"]
            if item["field"] == "status"
        )
        status = raw["fields"]["status"]["name"]
        before = [item["toString"] for at, item in moves if at <= cutoff]
        after = [item["fromString"] for at, item in moves if at > cutoff]
        found[raw["key"]] = before[-1] if before else (after[0] if after else status)
    return found


def expected_leaves(setup: FirstSync, cutoff: datetime) -> tuple[int, int, int]:
    """(work items, leaf items, done leaf items) at ``cutoff``, independently of the report."""
    statuses = jira_state_at(setup.jira, cutoff)
    with Store.open(f"sqlite:///{setup.root / 'pmsync.db'}") as store:
        items = {w.source.external_id: w for w in store.iter_records(WorkItem, project="ERP")}
        category = {w.status: w.status_category for w in items.values()}
    there = {k: w for k, w in items.items() if k in statuses}
    parents = {w.parent for w in there.values() if w.parent}
    leaves = [k for k in there if k not in parents]
    done = [k for k in leaves if category.get(statuses[k]) == "done"]
    return len(there), len(leaves), len(done)


def expected_actuals(setup: FirstSync, through: date) -> Decimal:
    with Store.open(f"sqlite:///{setup.root / 'pmsync.db'}") as store:
        return sum(
            (
                line.amount
                for line in store.iter_records(CostLine, project="ERP")
                if line.kind == "actual" and (line.posting_date or line.period or date.max) <= through
            ),
            Decimal(0),
        )


def project_of(data: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in data["projects"] if p["key"] == "ERP")


def test_a_first_sync_in_december_gives_a_complete_november_report(first_sync: FirstSync) -> None:
    code, output, data = report(first_sync, "--period", "2026-11")
    assert code == 0, output
    assert data is not None
    meta = data["meta"]
    assert meta["status_date"] == "2026-11-30" and meta["time_zone"] == "America/Los_Angeles"
    # the end of November 30 in Los Angeles (UTC-8) is 08:00 UTC on December 1
    assert meta["store"]["valid_at"].startswith("2026-12-01T07:59:59")
    assert meta["gaps"] == [], meta["gaps"]
    cutoff = _moment(meta["store"]["valid_at"])
    items, leaves, done = expected_leaves(first_sync, cutoff)
    now_items, _, _ = expected_leaves(first_sync, TODAY + timedelta(days=1))
    assert 0 < items < now_items  # some issues were created in December: not in November's picture
    erp = project_of(data)
    measures = erp["measures"]
    assert measures["scope"]["current_items"] == items
    assert measures["schedule"]["percent_complete"] == pytest.approx(done / leaves * 100)
    assert Decimal(measures["cost"]["actual_to_date"]) == expected_actuals(first_sync, date(2026, 11, 30))
    # the plan of record was approved on the day of the first sync, after the status date: used, and said
    assert measures["rag"]["overall"]["status"] != "grey"
    assert any("approved on 2026-12-04, after the status date 2026-11-30" in n for n in measures["notes"])
    assert expected_actuals(first_sync, date(2026, 12, 31)) > expected_actuals(first_sync, date(2026, 11, 30))


def test_without_a_period_the_closed_month_is_reported_and_the_choice_explained(
    first_sync: FirstSync,
) -> None:
    code, output, data = report(first_sync)
    assert code == 0, output
    assert data is not None and data["meta"]["period"] == "2026-11"
    assert "reporting 2026-11: 2026-11 closed on 2026-11-30" in output
    assert "close window until 2026-12-14" in output  # 10 working days after November 30


def test_september_is_backfilled_from_the_sources_history(first_sync: FirstSync) -> None:
    code, output, data = report(first_sync, "--period", "2026-09")
    assert code == 0, output
    assert data is not None and data["meta"]["gaps"] == []
    cutoff = _moment(data["meta"]["store"]["valid_at"])
    items, leaves, done = expected_leaves(first_sync, cutoff)
    november, _, _ = expected_leaves(first_sync, cutoff + timedelta(days=61))
    assert 0 < items < november
    measures = project_of(data)["measures"]
    assert measures["scope"]["current_items"] == items
    assert measures["schedule"]["percent_complete"] == pytest.approx(done / leaves * 100)
    assert Decimal(measures["cost"]["actual_to_date"]) == expected_actuals(first_sync, date(2026, 9, 30))


def test_a_report_before_any_data_existed_says_so_and_is_not_published(first_sync: FirstSync) -> None:
    code, output, data = report(first_sync, "--period", "2026-01", "--publish")
    assert code == 6, output
    assert data is not None
    # Jira has nothing yet; finance has only the fiscal year's budget (a plan, in force as last read)
    assert [(g["project"], g["source"]) for g in data["meta"]["gaps"]] == [("ERP", "jira")]
    assert "not published" in output and "--allow-incomplete" in output
    assert not (first_sync.root / "published").exists()
    code, output, _ = report(first_sync, "--period", "2026-01", "--publish", "--allow-incomplete")
    assert code == 0, output
    assert any((first_sync.root / "published").rglob("report-2026-01.json"))


def test_as_of_the_stated_moment_rebuilds_the_same_bytes(first_sync: FirstSync) -> None:
    _, _, data = report(first_sync, "--period", "2026-11")
    assert data is not None
    moment = data["meta"]["store"]["as_of"]
    code, output, again = report(first_sync, "--period", "2026-11", "--as-of", moment)
    assert code == 0, output
    assert again == data


def test_an_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump({"projects": [{"key": "X", "name": "X"}]}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "report", "--period", "2026-11"])
    assert result.exit_code == 1
    assert "run `pmsync sync` first" in result.output
