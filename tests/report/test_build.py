"""Reports built from a real store (records written by the sync engine through the store writer),
with reconcile's real measures: every format read back, changes from history, exact rebuilds."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from pmsync import clock
from pmsync.config import PmsyncConfig
from pmsync.errors import ConfigError
from pmsync.report.build import build_report
from pmsync.report.model import Report
from pmsync.report.period import Period
from pmsync.report.settings import load_reports_config
from pmsync.report.writers import write_report
from pmsync.report.writers.json import schema_text
from pmsync.store import Store

from .htmlcheck import parse
from .scenario import HOSTILE_OWNER, HOSTILE_RISK, live_november, live_through

DEC_2 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOV_1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _real_clock_afterwards() -> Iterator[None]:
    yield
    clock.set_now(None)


@pytest.fixture(scope="module")
def november(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PmsyncConfig, Store, Report]]:
    root = tmp_path_factory.mktemp("portfolio")
    config, store = live_through(root, f"sqlite:///{root / 'pmsync.db'}")
    clock.set_now(DEC_2)
    report = build_report(store, config, Period.parse("2026-11"))
    clock.set_now(None)
    yield config, store, report
    store.close()


def test_every_format_is_written_and_reads_back(
    november: tuple[PmsyncConfig, Store, Report], tmp_path: Path
) -> None:
    _, _, report = november
    formats = ["html", "xlsx", "json"]
    pypdf = None
    try:
        import pypdf as reader
        import weasyprint  # noqa: F401
    except ImportError:  # the pdf extra is optional: the other formats are still checked
        pass
    else:
        pypdf = reader
        formats.append("pdf")
    paths = {p.suffix: p for p in write_report(report, tmp_path, formats)}

    page = parse(paths[".html"].read_text(encoding="utf-8"))
    assert page.find("script") == [] and HOSTILE_RISK in page.text
    project_headings = [h.text for h in page.find("h2") if "—" in h.text and "Committee" not in h.text]
    assert project_headings[0] == "ERP — ERP upgrade"  # red first

    wb = openpyxl.load_workbook(io.BytesIO(paths[".xlsx"].read_bytes()))
    risks = wb["Risks"]
    owners = {row[1].value: row[3] for row in risks.iter_rows(min_row=2)}
    assert owners[HOSTILE_RISK].value == HOSTILE_OWNER and owners[HOSTILE_RISK].quotePrefix
    evm = {c.value: i for i, c in enumerate(wb["EVM"][1])}
    erp_evm = next(r for r in wb["EVM"].iter_rows(min_row=2) if r[0].value == "ERP")
    assert isinstance(erp_evm[evm["BAC"]].value, int | float) and erp_evm[evm["BAC"]].value == 1_200_000
    assert isinstance(erp_evm[evm["Status date"]].value, datetime)

    data = json.loads(paths[".json"].read_text(encoding="utf-8"))
    assert [p["key"] for p in data["portfolio"]] == [r.key for r in report.portfolio]
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    jsonschema.validate(data, json.loads(schema_text()))

    if pypdf is not None:
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(paths[".pdf"]).pages)
        assert "ERP — ERP upgrade" in text and "Department of Examples" in text


def test_portfolio_rows_carry_reconcile_status_with_reasons(
    november: tuple[PmsyncConfig, Store, Report],
) -> None:
    _, _, report = november
    rows = {r.key: r for r in report.portfolio}
    assert report.portfolio[0].key == "ERP" and rows["ERP"].overall.status == "red"
    assert rows["ERP"].overall.explanation  # the reason, in words, from the governance rules
    assert rows["ERP"].needs_attention and not rows["HR"].needs_attention
    assert rows["ERP"].next_milestone is not None and rows["ERP"].next_milestone.name == "Go-live"
    assert rows["ERP"].budget == 1_200_000
    assert report.totals.projects == 3 and sum(report.totals.by_overall.values()) == 3


def test_changes_since_last_report_come_from_the_store_history(
    november: tuple[PmsyncConfig, Store, Report],
) -> None:
    _, _, report = november
    kinds = {(c.project, c.kind) for c in report.changes}
    assert ("ERP", "milestone_slipped") in kinds
    assert ("ERP", "new_risk") in kinds
    assert ("WEB", "rebaseline") in kinds
    assert ("HR", "new_project") in kinds
    slip = next(c for c in report.changes if c.kind == "milestone_slipped")
    assert (slip.before, slip.after) == ("2027-02-01", "2027-02-22")
    new_risks = [c for c in report.changes if c.kind == "new_risk"]
    assert [c.after for c in new_risks] == ["raid:register:R2"]  # R1 was already open in October
    rebaseline = next(c for c in report.changes if c.kind == "rebaseline")
    assert "CR-9" in rebaseline.text and (rebaseline.before, rebaseline.after) == ("1", "2")


def test_narrative_comes_from_the_file_or_the_source_and_is_never_invented(
    november: tuple[PmsyncConfig, Store, Report],
) -> None:
    _, _, report = november
    summary = {p.key: p.summary for p in report.projects}
    assert summary["ERP"].narrative and summary["ERP"].narrative.startswith("Build is 70 % complete.")
    assert summary["ERP"].narrative_source == "narrative_file narratives/ERP-2026-11.md"
    assert summary["WEB"].narrative == "Beta launched to staff; public launch on track."
    assert summary["WEB"].narrative_source == "source msproject:web-plan:project"
    assert summary["HR"].narrative is None and summary["HR"].text == "No narrative provided."


def test_raid_log_lists_open_items_with_owners_and_flags_overdue_actions(
    november: tuple[PmsyncConfig, Store, Report],
) -> None:
    _, _, report = november
    erp = next(p for p in report.projects if p.key == "ERP")
    assert [r.title for r in erp.risks] == [HOSTILE_RISK, "Data migration quality"]  # by score
    assert erp.risks[1].owner == "Ann Lee" and erp.risks[1].due is not None
    assert [a.overdue for a in erp.actions] == [True]
    assert [d.title for d in erp.decisions] == ["Adopt vendor SaaS"]


def test_freshness_flags_a_source_not_synced_within_the_limit(
    november: tuple[PmsyncConfig, Store, Report],
) -> None:
    config, store, report = november
    erp = next(p for p in report.projects if p.key == "ERP")
    assert {f.source for f in erp.freshness} == {"schedule", "finance", "raid"}
    assert not any(f.stale for f in erp.freshness)  # 40-day limit in the scenario
    strict = load_reports_config(config).model_copy(update={"stale_after_hours": 24.0})
    clock.set_now(DEC_2)
    again = build_report(store, config, Period.parse("2026-11"), projects=["WEB"], settings=strict)
    web = again.projects[0]
    # synced 2026-11-20, report closes 2026-11-30: ten days is stale under a 24-hour limit
    assert {f.source for f in web.freshness} == {"schedule", "finance"}
    assert all(f.stale and "10 days" in f.note for f in web.freshness)
    assert again.meta.stale_sources == ["finance", "schedule"] and report.meta.stale_sources == []
    assert again.meta.scope == "projects" and [r.key for r in again.portfolio] == ["WEB"]


def test_unknown_project_is_a_clear_error(november: tuple[PmsyncConfig, Store, Report]) -> None:
    config, store, _ = november
    with pytest.raises(ConfigError, match="unknown project NOPE") as info:
        build_report(store, config, Period.parse("2026-11"), projects=["NOPE"])
    assert "ERP, HR, WEB" in str(info.value)


def test_a_past_report_rebuilds_byte_for_byte_after_newer_data_arrived(
    tmp_path: Path, store_url: str
) -> None:
    # on SQLite and on PostgreSQL (the shared store_url fixture)
    config, store = live_through(tmp_path, store_url, last_month=10)
    with store:
        clock.set_now(NOV_1)  # October's report, built on the first of November
        built = build_report(store, config, Period.parse("2026-10"))
        first = write_report(built, tmp_path / "then", ["html", "xlsx", "json"])
        live_november(tmp_path, config, store)
        clock.set_now(DEC_2)
        # --as-of the moment the first report states it read the store at: the same bytes
        october = build_report(store, config, Period.parse("2026-10"), as_of=built.meta.store.as_of)
        again = write_report(october, tmp_path / "now", ["html", "xlsx", "json"])
        # built again without --as-of, with November's data known: October's state is unchanged
        later = build_report(store, config, Period.parse("2026-10"))
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert later.meta.store.as_of > built.meta.store.as_of
    assert later.meta.status_date == built.meta.status_date == date(2026, 10, 31)
    # October's actuals posted on 10-31 arrived with November's export: valid in October, they are in
    # the October report built after them (and were not in the one built before)
    actual = {r.key: r.actual for r in built.portfolio}
    assert {r.key: r.actual for r in later.portfolio} == {
        "ERP": actual["ERP"] + 260_000,  # type: ignore[operator]
        "WEB": actual["WEB"] + 12_000,  # type: ignore[operator]
        "HR": actual["HR"],
    }
    assert [r.title for r in next(p for p in later.projects if p.key == "ERP").risks] == [
        "Data migration quality"
    ]
    erp = next(p for p in october.projects if p.key == "ERP")
    assert [r.title for r in erp.risks] == ["Data migration quality"]  # R2 came later
    assert erp.summary.text == "No narrative provided."  # no narratives/ERP-2026-10.md
    assert erp.summary.narrative_source == "narrative_file narratives/ERP-2026-10.md was not found"
