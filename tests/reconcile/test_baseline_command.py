"""`pmsync baseline ...` end to end through the CLI, against a SQLite store."""

from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.model import SourceRef, WorkItem
from pmsync.store import Store


def item(uid: str, finish: str, cost: str) -> WorkItem:
    return WorkItem(
        source=SourceRef(system="msproject", instance="plan", external_id=uid),
        project="ERP",
        name=f"Task {uid}",
        start=date(2026, 11, 2),
        finish=date.fromisoformat(finish),
        cost=Decimal(cost),
    )


@pytest.fixture
def setup(tmp_path):
    config = tmp_path / "pmsync.yaml"
    config.write_text(
        f"store:\n  url: sqlite:///{tmp_path / 'pmsync.db'}\n"
        "projects:\n  - key: ERP\n    name: ERP upgrade\n  - key: WEB\n    name: Web portal\n"
    )
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store, store.writer("plan") as w:
        w.upsert([item("1", "2026-11-13", "1000"), item("2", "2026-11-20", "2000")])

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), "baseline", *args])
        return result.exit_code, result.output

    return run, tmp_path


def test_capture_approve_rebaseline_diff_and_list(setup):
    run, tmp_path = setup
    code, out = run("capture", "--project", "ERP")
    assert code == 0, out
    assert "captured baseline 1 of ERP: 2 items (not approved yet)" in out
    code, out = run("approve", "-p", "ERP", "1", "--by", "Steering committee", "--reason", "gate 2")
    assert code == 0, out
    assert "approved baseline 1 of ERP by Steering committee" in out

    code, out = run("approve", "-p", "ERP", "1", "--by", "Someone", "--reason", "edit")
    assert code == 1
    assert "approved baselines never change" in out

    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store, store.writer("plan") as w:
        w.upsert([item("2", "2026-11-27", "2600")])
    code, out = run(
        "rebaseline", "-p", "ERP", "--by", "CIO", "--reason", "vendor slip", "--change-request", "CR-7"
    )
    assert code == 0, out
    assert "re-baselined ERP: baseline 2 approved under CR-7 (replaces baseline 1)" in out

    code, out = run("diff", "-p", "ERP", "1", "2")
    assert code == 0, out
    assert "baseline 1 → 2: 0 added, 0 removed, 1 moved, 1 cost changed" in out
    assert "finish 2026-11-20 → 2026-11-27 (+5 working days); cost 2,000.00 → 2,600.00" in out

    code, out = run("list", "-p", "ERP", "--history")
    assert code == 0, out
    assert "2 *" in out and "CR-7" in out
    assert "rebaselined 2 replacing 1  by CIO; reason: vendor slip; change request CR-7" in out
    code, out = run("list", "-p", "ERP", "--json")
    assert code == 0 and '"item_count": 2' in out and '"plan_of_record": 2' in out


def test_project_must_be_named_and_configured(setup):
    run, _ = setup
    code, out = run("capture")
    assert code == 2 and "name the project with --project" in out and "ERP, WEB" in out
    code, out = run("list", "-p", "NOPE")
    assert code == 2 and "project 'NOPE' is not configured" in out
    code, out = run("list", "-p", "erp")
    assert code == 2 and "did you mean 'ERP'?" in out
    code, out = run("list", "-p", "WEB")
    assert code == 0 and "WEB has no baselines yet" in out


def test_the_approve_hint_after_capture_works_as_printed(setup):
    """The first approval needs no change request; approving over an approved baseline does, and the
    hint says so."""
    import shlex

    run, _ = setup
    for expected_cr in (False, True):
        code, out = run("capture", "--project", "ERP")
        assert code == 0, out
        hint = out.split("approve it with: ", 1)[1].strip()
        assert ("--change-request" in hint) is expected_cr
        args = shlex.split(hint.replace("NAME", "CIO").replace("WHY", "gate").replace("CR-...", "CR-9"))
        assert args[:3] == ["pmsync", "baseline", "approve"]
        code, out = run(*args[2:])
        assert code == 0, out
