"""Implausible and unstorable values: refused at sync with the file, row and column, the same on
SQLite and PostgreSQL; a value already stored never crashes reconcile or the report.

Policy (docs/guarantees.md, "Implausible values"): amounts beyond ±10^15 (``max_abs_amount``),
posting dates and periods outside 1900-2199, digits other than 0-9, NUL characters, a negative
approved budget, a mapped column named twice and a CSV mixing UTF-8 and Windows-1252 are errors.
"""

from __future__ import annotations

import csv
import dataclasses
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pmsync.cli import cli
from pmsync.model import CostLine
from pmsync.sandbox.finance_gen import ExportLine, month_lines, write_export
from pmsync.sandbox.jira import jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import jira_source, load, write_yaml

BAD = 4  # the index of the line made bad; with 3 title rows and the header, it is on row 9
BAD_ROW = 9
ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _lines(project: str, count: int = 10, seed: int = 4) -> list[ExportLine]:
    return list(month_lines([project], date(2026, 10, 1), count, random.Random(seed)))


def _setup(folder: Path, store_url: str | None = None, **source: Any) -> Path:
    (folder / "exports").mkdir()
    write_export(folder / "exports" / "b-good.csv", iter(_lines("P-101", seed=5)))
    block = {
        "name": "finance",
        "type": "finance_file",
        "path": "exports",
        "mapping": "finance-oracle-ebs.yaml",
    }
    projects = [
        {"key": "ERP", "name": "ERP upgrade", "links": {"finance": ["P-100"]}},
        {"key": "CRM", "name": "CRM", "links": {"finance": ["P-101"]}},
    ]
    return write_yaml(
        folder, store_url or f"sqlite:///{folder / 'pmsync.db'}", {**block, **source}, projects=projects
    )


def _sync(config: Path) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "sync"])


def _live(config: Path, store_url: str | None = None) -> int:
    with Store.open(store_url or f"sqlite:///{config.parent / 'pmsync.db'}") as store:
        return store.count_live("finance")


def _export_with(folder: Path, **bad: Any) -> Path:
    lines = _lines("P-100")
    lines[BAD] = dataclasses.replace(lines[BAD], **bad)
    path = folder / "exports" / "a-costs.csv"
    write_export(path, iter(lines))
    return path


def test_an_amount_beyond_the_bound_is_refused_naming_file_row_and_column(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    _export_with(tmp_path, amount=Decimal(10) ** 30)
    result = _sync(config)
    assert result.exit_code == 1
    assert f"a-costs.csv row {BAD_ROW}, column 'Burdened Cost'" in result.output
    assert "beyond the plausible bound of ±1,000,000,000,000,000" in result.output
    assert _live(config) == 10  # the good file only


def test_a_huge_amount_already_stored_does_not_break_reconcile_or_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMSYNC_NOW", "2026-11-20T09:00:00+00:00")  # synced before the period closed
    config = _setup(tmp_path, max_abs_amount="1e40")  # a store filled before the bound, or by a raised one
    _export_with(tmp_path, amount=Decimal(10) ** 30)
    assert _sync(config).exit_code == 0 and _live(config) == 20
    monkeypatch.setenv("PMSYNC_NOW", "2026-12-03T09:00:00+00:00")
    out = tmp_path / "reports"
    args = ["report", "--period", "2026-11", "--format", "html,json,xlsx", "--out", str(out)]
    made = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert made.exit_code == 0, made.output
    assert "Traceback" not in made.output and "InvalidOperation" not in made.output
    html = (out / "report-2026-11.html").read_text(encoding="utf-8")
    assert "ERP upgrade" in html and "CRM" in html  # every project's section was written
    report = (out / "report-2026-11.json").read_text(encoding="utf-8")
    assert "1000000000000000000000000" in report  # the huge actual cost is in the figures, rounded


def test_a_nul_in_a_comment_is_refused_alike_on_both_stores_naming_file_row_and_column(
    tmp_path: Path, store_url: str
) -> None:
    config = _setup(tmp_path, store_url)
    _export_with(tmp_path, comment="approved\x00by phone")
    result = _sync(config)
    assert result.exit_code == 1
    assert f"a-costs.csv row {BAD_ROW}, column 'Expenditure Comment'" in result.output
    assert "NUL character" in result.output
    assert _live(config, store_url) == 10  # the good file loaded on both stores


@pytest.mark.parametrize(
    ("summary", "words"),
    [
        # a NUL: PostgreSQL text cannot hold one and SQLite would cut the text at it
        ("Migrate\x00data", "field name contains a NUL character"),
        # text cut in the middle of an emoji carries an escaped unpaired surrogate ("\ud83d"): JSON
        # decoders read it, no store can hold it (it used to fail as a bare UnicodeEncodeError)
        ("Migrate \ud83d data", "field name holds half of a character"),
    ],
    ids=["nul", "half-a-character"],
)
def test_text_no_store_can_hold_from_any_connector_is_refused_alike_on_both_stores_naming_the_record(
    tmp_path: Path, store_url: str, summary: str, words: str
) -> None:
    with jira_sandbox(["ERP"], 30, seed=5, anchor=ANCHOR) as jira:
        jira.app.hooks.field_overrides["ERP-25"] = {"summary": summary}
        config = load(write_yaml(tmp_path, store_url, jira_source(jira)), jira)
        with Store.open(store_url) as store:
            [run] = sync_sources(config, store)
            assert run.status == "failed"
            assert f"'ERP-25': {words}" in (run.error or "")
            assert "UnicodeEncodeError" not in (run.error or "")
            assert 0 < store.count_live("jira") < 30  # the pages before it were kept, on both stores


@pytest.mark.parametrize(
    ("bad", "column", "words"),
    [
        ({"Expenditure Item Date": "04-OCT-0001"}, "Expenditure Item Date", "is in the year 1, outside"),
        ({"Expenditure Item Date": "04-OCT-9999"}, "Expenditure Item Date", "is in the year 9999"),
        ({"PA Period": "OCT-9999"}, "PA Period", "outside the plausible years"),
    ],
)  # fmt: skip
def test_implausible_dates_are_refused(tmp_path: Path, bad: dict[str, str], column: str, words: str) -> None:
    config = _setup(tmp_path)
    path = _export_with(tmp_path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[3]
    for name, value in bad.items():
        rows[BAD_ROW - 1][header.index(name)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = _sync(config)
    assert result.exit_code == 1 and f"row {BAD_ROW}, column {column!r}" in result.output
    assert words in result.output


def test_arabic_indic_digits_are_refused_not_read_silently(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    path = _export_with(tmp_path, amount=Decimal("1234.50"))
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    path.write_text(
        path.read_text(encoding="utf-8").replace('"1,234.50"', "1234.50".translate(arabic)), "utf-8"
    )
    result = _sync(config)
    assert result.exit_code == 1 and f"row {BAD_ROW}, column 'Burdened Cost'" in result.output
    assert "has digits other than 0-9" in result.output


def test_a_negative_approved_budget_is_a_config_error(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    text = config.read_text(encoding="utf-8").replace("name: CRM\n", "name: CRM\n  approved_budget: -50000\n")
    config.write_text(text, encoding="utf-8")
    result = _sync(config)
    assert result.exit_code == 3 and "projects[1].approved_budget" in result.output


def test_a_mapped_column_named_twice_is_an_error_not_a_guess(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    path = _export_with(tmp_path)
    rows = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, row in enumerate(rows) if row.startswith("Project Number"))
    rows[header] += ",Burdened Cost"
    rows[header + 1 :] = [row + ",0.00" for row in rows[header + 1 :]]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = _sync(config)
    assert result.exit_code == 1
    assert "the column 'Burdened Cost' appears 2 times in the header (columns 8 and 13)" in result.output


def test_a_utf8_export_with_one_windows_1252_line_is_an_error_not_mojibake(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    path = _export_with(tmp_path, supplier="Café Noir")
    data = (
        path.read_bytes()
        + "P-100,1.1,5110,Hardware,Actual,OCT-26,04-OCT-2026,10.00,USD,Zoë Ltd,,\n".encode("cp1252")
    )
    path.write_bytes(data)
    result = _sync(config)
    assert result.exit_code == 1
    assert "a-costs.csv: line 15 is not UTF-8, while the file's other accented text is" in result.output
    assert _live(config) == 10

    path.write_bytes(data.decode("utf-8", errors="replace").replace("\ufffd", "ë").encode("cp1252"))
    fixed = _sync(config)  # the same file, all Windows-1252: read as such, accents intact
    assert fixed.exit_code == 0, fixed.output
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        vendors = {line.vendor for line in store.iter_records(CostLine, project="ERP")}
    assert {"Café Noir", "Zoë Ltd"} <= vendors


MSPDI = Path(__file__).resolve().parents[1] / "msproject" / "data" / "printer-refresh.xml"


def _schedule(folder: Path, text: str) -> Path:
    (folder / "schedules").mkdir()
    (folder / "schedules" / "printers.xml").write_text(text, encoding="utf-8")
    return write_yaml(
        folder,
        f"sqlite:///{folder / 'pmsync.db'}",
        {"name": "schedules", "type": "msproject", "path": "schedules"},
    )


def _task_block(text: str, uid: int) -> tuple[int, int]:
    start = text.index(f"<Task>\n\t\t\t<UID>{uid}</UID>")
    return start, text.index("</Task>", start)


def test_a_percentage_outside_0_to_100_is_refused_not_clamped(tmp_path: Path) -> None:
    text = MSPDI.read_text(encoding="utf-8")
    start, end = _task_block(text, 1)
    block = text[start:end].replace(
        "<PercentComplete>0</PercentComplete>", "<PercentComplete>-40</PercentComplete>"
    )
    config = _schedule(tmp_path, text[:start] + block + text[end:])
    result = _sync(config)
    assert result.exit_code == 1
    assert (
        "printers.xml: task UID 1" in result.output
        and "PercentComplete -40 is outside 0..100" in result.output
    )


def test_a_finish_before_its_start_is_kept_and_noted_in_the_ledger(tmp_path: Path) -> None:
    text = MSPDI.read_text(encoding="utf-8")
    start, end = _task_block(text, 2)
    block = text[start:end].replace(
        "<Finish>2026-06-05T17:00:00</Finish>", "<Finish>2026-05-29T17:00:00</Finish>", 1
    )
    config = _schedule(tmp_path, text[:start] + block + text[end:])
    result = _sync(config)
    assert result.exit_code == 0, result.output
    assert (
        "note: work item 'printers.xml#2' finishes (2026-05-29) before it starts (2026-06-04)"
        in result.output
    )
    ledger = CliRunner().invoke(cli, ["--config", str(config), "runs", "--json"]).output
    assert "finishes (2026-05-29) before it starts" in ledger


def test_a_code_too_long_for_the_store_is_refused_alike_on_both_stores(
    tmp_path: Path, store_url: str
) -> None:
    config = _setup(tmp_path, store_url)
    _export_with(tmp_path, project="P-" + "9" * 600)
    result = _sync(config)
    assert result.exit_code == 1
    assert f"a-costs.csv row {BAD_ROW}, column 'Project Number'" in result.output
    assert "has 602 characters; a code or line id may have at most 200" in result.output
    assert _live(config, store_url) == 10


def test_a_key_too_long_from_any_connector_is_refused_alike_on_both_stores(
    tmp_path: Path, store_url: str
) -> None:
    connector = {"name": "plan", "type": "core.pmsync_testconnector:CountingConnector", "scope": "s" * 600}
    config = write_yaml(tmp_path, store_url, connector)
    result = _sync(config)
    assert result.exit_code == 1
    assert "its scope has 600 characters, more than the 512 the store keeps" in result.output
    with Store.open(store_url) as store:
        assert store.count_live("plan") == 0
