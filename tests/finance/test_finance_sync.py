"""The issue's done-when, end to end through the sync engine and the store (SQLite and PostgreSQL):
month-by-month exports, including a correction of an earlier month and a malformed file, sync to the
right totals per project, fiscal period, category and vendor; history keeps the replaced lines."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from click.testing import CliRunner

from pmsync import clock
from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.model import CostLine
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import MONTHS, totals


def _config(tmp_path: Path, store_url: str) -> Path:
    config = {
        "store": {"url": store_url},
        "portfolio": {"name": "IT", "fiscal_year_start_month": 7},
        "projects": [
            {"key": "ERP", "name": "ERP upgrade", "links": {"finance_file": ["P-100"]}},
            {"key": "CRM", "name": "CRM", "links": {"finance": "P-101"}},
        ],
        "sources": [
            {
                "name": "finance",
                "type": "finance_file",
                "path": "exports/",
                "mapping": "finance-oracle-ebs.yaml",
            }
        ],
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "exports").mkdir()
    return path


def _copy(tmp_path: Path, *names: str) -> None:
    for name in names:
        shutil.copy(MONTHS / name, tmp_path / "exports" / name)


def _actuals(store: Store, **as_of: object) -> list[CostLine]:
    lines = store.iter_records(CostLine, source_name="finance", **as_of)  # type: ignore[arg-type]
    return [line for line in lines if line.kind == "actual"]


def test_month_by_month_exports_with_a_correction_and_a_malformed_file(
    tmp_path: Path, store_url: str
) -> None:
    config = load_config(_config(tmp_path, store_url))
    _copy(tmp_path, "pa-costs-2025-07.csv", "pa-costs-2025-08.csv")
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted, run.counts.deleted) == ("ok", 11, 0)
        assert totals(_actuals(store), "project", "period")[("ERP", date(2025, 7, 1))] == Decimal("20500")
        before_correction = clock.now()

        # September restates July for P-100; October is malformed
        _copy(tmp_path, "pa-costs-2025-09.csv", "pa-costs-2025-10.csv")
        [run] = sync_sources(config, store)
        assert run.status == "failed"
        assert run.error is not None
        assert "pa-costs-2025-10.csv: 2 bad row(s), file not loaded" in run.error
        assert "row 2, column 'Burdened Cost': value '12,34.00'" in run.error
        # July's labor line was restated with a new comment, the duplicate laptop line dropped
        assert (run.counts.inserted, run.counts.deleted) == (3, 2)

        actuals = _actuals(store)
        assert totals(actuals, "project") == {
            ("ERP",): Decimal("70000"),
            ("CRM",): Decimal("11100"),
            (None,): Decimal("750"),  # booked to P-999, which no project owns
        }
        assert totals(actuals, "project", "fiscal_year", "fiscal_period") == {
            ("ERP", 2026, 1): Decimal("16000"),
            ("ERP", 2026, 2): Decimal("13000"),
            ("ERP", 2026, 3): Decimal("41000"),
            ("CRM", 2026, 1): Decimal("7500"),
            ("CRM", 2026, 2): Decimal("3600"),
            (None, 2026, 1): Decimal("750"),
        }
        assert totals(actuals, "category") == {
            ("labor",): Decimal("36000"),
            ("hardware",): Decimal("4000"),
            ("software",): Decimal("33600"),
            ("services",): Decimal("7500"),
            ("travel",): Decimal("750"),
        }
        assert totals(actuals, "vendor") == {
            ("Agency Staff",): Decimal("36000"),
            ("Dell Technologies",): Decimal("4000"),
            ("Carahsoft Technology Corp",): Decimal("30000"),
            ("SHI International Corp",): Decimal("3600"),
            ("Accenture Federal Services",): Decimal("7500"),
            ("Concur Travel",): Decimal("750"),
        }
        everything = list(store.iter_records(CostLine, source_name="finance"))
        assert totals(everything, "project", "kind")[("ERP", "commitment")] == Decimal("30000")
        assert totals(everything, "project", "kind")[("ERP", "budget")] == Decimal("50000")
        # history keeps the lines the correction replaced
        then = totals(_actuals(store, as_of=before_correction), "project", "period")
        assert then[("ERP", date(2025, 7, 1))] == Decimal("20500")

        # the export is fixed: October loads, the rest is not read again
        (tmp_path / "exports" / "pa-costs-2025-10.csv").write_text(
            (MONTHS / "pa-costs-2025-10.csv")
            .read_text()
            .replace('"12,34.00"', '"12,340.00"')
            .replace("32-OCT-2025", "30-OCT-2025")
        )
        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted, run.counts.deleted) == ("ok", 3, 0)
        assert totals(_actuals(store), "fiscal_period")[(4,)] == Decimal("18340")

        [run] = sync_sources(config, store)
        assert run.status == "ok" and run.counts.changed == 0


def test_skipped_rows_are_listed_in_the_run_ledger(tmp_path: Path, store_url: str) -> None:
    path = _config(tmp_path, store_url)
    raw = yaml.safe_load(path.read_text())
    raw["sources"][0]["skip_bad_rows"] = True
    path.write_text(yaml.safe_dump(raw))
    _copy(tmp_path, "pa-costs-2025-10.csv")
    with Store.open(store_url) as store:
        [run] = sync_sources(load_config(path), store)
        assert (run.status, run.counts.inserted, run.skipped_count) == ("ok", 1, 2)
        assert run.skipped[0].where == "pa-costs-2025-10.csv row 2"
        assert "'12,34.00' is not an amount" in run.skipped[0].reason


def test_readme_flow_init_then_sync_twice(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    exports = tmp_path / "finance-exports"
    exports.mkdir()
    shutil.copy(MONTHS / "pa-costs-2025-07.csv", exports)
    first = runner.invoke(cli, ["sync"])
    assert first.exit_code == 0, first.output
    assert "8 inserted" in first.output
    second = runner.invoke(cli, ["sync"])
    assert second.exit_code == 0, second.output
    runs = runner.invoke(cli, ["runs"])
    assert runs.exit_code == 0 and "finance" in runs.output
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        lines = list(store.iter_records(CostLine))
        latest, earlier = store.sync_runs(limit=2)
    assert (earlier.counts.inserted, latest.status, latest.counts.changed) == (8, "ok", 0)
    assert totals(lines, "project")[("ERP",)] == Decimal("100500")  # the starter config links P-100


def test_a_reordered_reexport_changes_nothing(tmp_path: Path, store_url: str) -> None:
    config = load_config(_config(tmp_path, store_url))
    _copy(tmp_path, "pa-costs-2025-08.csv")
    path = tmp_path / "exports" / "pa-costs-2025-08.csv"
    with Store.open(store_url) as store:
        [first] = sync_sources(config, store)
        header, *rows = path.read_text().splitlines()
        path.write_text("\n".join([header, *reversed(rows)]) + "\n")  # same lines, another order
        [again] = sync_sources(config, store)
    assert first.counts.inserted == 3
    # every scope holds the same lines as before: none is re-stated, nothing is written
    assert (again.status, again.counts.changed, again.counts.unchanged) == ("ok", 0, 0)


def test_a_resync_after_one_corrected_line_restates_its_scope_only(tmp_path: Path, store_url: str) -> None:
    """A cumulative export with one corrected amount: the store ends exactly as a fresh load of the
    corrected file, and only the corrected line's scope (project x kind x month) was written."""
    from pmsync.sandbox.finance_gen import write_large_export

    config = load_config(_config(tmp_path, store_url))
    path = tmp_path / "exports" / "pa-costs-ytd.csv"
    write_large_export(path, 2_000, projects=4, months=6)
    text = path.read_text(encoding="utf-8").splitlines()
    first_line = next(i for i, line in enumerate(text) if line.startswith("P-1"))
    corrected = text[first_line].split(",")
    corrected[-1] = corrected[-1] + " (corrected)"  # the comment is part of a line's identity
    text[first_line] = ",".join(corrected)
    with Store.open(store_url) as store:
        [first] = sync_sources(config, store)
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
        [again] = sync_sources(config, store)
        stored = sorted((line.source.external_id, line.amount) for line in store.iter_records(CostLine))
    assert first.counts.inserted == 2_000
    scope_size = 2_000 // (4 * 6 * 3)  # lines spread over 4 projects x 6 months x 3 kinds, roughly
    counts = again.counts
    assert (again.status, counts.inserted, counts.deleted, counts.updated) == ("ok", 1, 1, 0)
    assert again.counts.unchanged < 3 * scope_size  # the lines of one scope, not the file's 2,000

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    fresh_config = load_config(_config(fresh_dir, f"sqlite:///{fresh_dir / 'fresh.db'}"))
    shutil.copy(path, fresh_dir / "exports" / path.name)
    with Store.open(f"sqlite:///{fresh_dir / 'fresh.db'}") as fresh:
        sync_sources(fresh_config, fresh)
        expected = sorted((line.source.external_id, line.amount) for line in fresh.iter_records(CostLine))
    assert stored == expected
