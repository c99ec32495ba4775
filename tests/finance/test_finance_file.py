import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pmsync.connector import Checkpoint, SkippedRow, SnapshotComplete
from pmsync.errors import ConfigError, SourceDataError

from .helpers import HEADER, MONTHS, file_connector, last_cursor, lines_of, totals, write_csv

ROW = "P-100,1.1,5110,Labor,Actual,JUL-25,15-JUL-2025,{amount},USD,{vendor},,Hours"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def _copy(folder: Path, *names: str) -> None:
    for name in names:
        shutil.copy(MONTHS / name, folder / name)


def test_monthly_exports_give_totals_by_project_period_category_and_vendor(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv", "pa-costs-2025-08.csv")
    items = list(file_connector(exports).extract({}))
    lines = lines_of(items)
    assert totals(lines, "project", "kind") == {
        ("ERP", "actual"): Decimal("33500"),  # July 12,500 + 2 x 4,000, August 13,000
        ("ERP", "commitment"): Decimal("30000"),
        ("ERP", "budget"): Decimal("50000"),
        ("CRM", "actual"): Decimal("11100"),  # 9,000 - (1,500) + 6,000 - 2,400-
        (None, "actual"): Decimal("750"),  # P-999 belongs to no project
    }
    actuals = [line for line in lines if line.kind == "actual"]
    # fiscal year starting in July: July 2025 is period 1 of FY2026
    assert totals(actuals, "fiscal_year", "fiscal_period") == {
        (2026, 1): Decimal("28750"),
        (2026, 2): Decimal("16600"),
    }
    assert totals(actuals, "category") == {
        ("labor",): Decimal("25500"),
        ("hardware",): Decimal("8000"),
        ("services",): Decimal("7500"),
        ("software",): Decimal("3600"),
        ("travel",): Decimal("750"),
    }
    assert totals(actuals, "vendor")[("Dell Technologies",)] == Decimal("8000")
    unknown = next(line for line in lines if line.project is None)
    assert unknown.scope.startswith("P-999/actual/2025-07")  # reconcile finds the code in the scope
    # the two identical Dell lines are two records
    dell = sorted(line.source.external_id for line in lines if line.vendor == "Dell Technologies")
    assert dell[1] == dell[0] + "/2"
    # the report footer row is not data
    assert all(line.source.external_id.split("/")[0] != "Grand Total" for line in lines)
    # a first load has no older lines to replace, so no scope needs sweeping
    assert not any(isinstance(item, SnapshotComplete) for item in items)
    assert sum(isinstance(item, Checkpoint) for item in items) == 2  # one per file


def test_unchanged_files_are_not_read_again_and_ids_do_not_depend_on_the_file(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv", "pa-costs-2025-08.csv")
    connector = file_connector(exports)
    first = list(connector.extract({}))
    cursor = last_cursor(first)
    assert set(cursor["files"]) == {"pa-costs-2025-07.csv", "pa-costs-2025-08.csv"}
    assert list(connector.extract(cursor)) == []
    # renamed and rows reordered: a changed file, read again, with the same ids
    august = (exports / "pa-costs-2025-08.csv").read_text().splitlines()
    (exports / "pa-costs-2025-08.csv").unlink()
    (exports / "aug-export.csv").write_text("\n".join([august[0], *reversed(august[1:])]) + "\n")
    again = list(connector.extract(cursor))
    ids = {line.source for line in lines_of(first) if line.period == date(2025, 8, 1)}
    assert {line.source for line in lines_of(again)} == ids


def test_a_correction_in_a_later_export_replaces_that_month(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv", "pa-costs-2025-08.csv", "pa-costs-2025-09.csv")
    items = list(file_connector(exports).extract({}))
    lines = lines_of(items)
    july_erp = [line for line in lines if line.scope == "P-100/actual/2025-07"]
    # only September's restatement of July is yielded: 12,000 + 4,000 (the duplicate is gone)
    assert sorted(line.amount for line in july_erp) == [Decimal("4000.00"), Decimal("12000.00")]
    # July's own lines of that scope were skipped; September's file owns the scope now
    cursor = last_cursor(items)
    assert "P-100/actual/2025-07" in cursor["files"]["pa-costs-2025-09.csv"]["scopes"]
    assert "P-100/actual/2025-07" not in cursor["files"]["pa-costs-2025-07.csv"]["scopes"]


def test_a_correction_in_a_later_run_closes_the_month_it_restates(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv", "pa-costs-2025-08.csv")
    connector = file_connector(exports)
    cursor = last_cursor(connector.extract({}))
    _copy(exports, "pa-costs-2025-09.csv")
    items = list(connector.extract(cursor))
    # the store replaces July's P-100 actuals: SnapshotComplete sweeps what September did not restate
    assert [i.scope for i in items if isinstance(i, SnapshotComplete)] == ["P-100/actual/2025-07"]
    cursor = last_cursor(items)
    assert "P-100/actual/2025-07" not in cursor["files"]["pa-costs-2025-07.csv"]["scopes"]
    assert "P-100/actual/2025-07" in cursor["files"]["pa-costs-2025-09.csv"]["scopes"]


def test_a_bad_row_rejects_its_file_and_names_file_row_column_and_value(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-08.csv", "pa-costs-2025-10.csv")
    items = []
    with pytest.raises(SourceDataError) as caught:
        for item in file_connector(exports).extract({}):
            items.append(item)
    message = str(caught.value)
    assert "pa-costs-2025-10.csv: 2 bad row(s), file not loaded" in message
    assert "row 2, column 'Burdened Cost': value '12,34.00' is not an amount" in message
    assert "row 3, column 'Expenditure Item Date': value '32-OCT-2025' is not a date" in message
    assert "skip_bad_rows" in (caught.value.hint or "")
    # the good file was loaded and checkpointed; nothing of the bad one
    assert {line.period for line in lines_of(items)} == {date(2025, 8, 1)}
    assert set(last_cursor(items)["files"]) == {"pa-costs-2025-08.csv"}


def test_skip_bad_rows_loads_the_good_rows_and_lists_the_bad_ones(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-10.csv")
    items = list(file_connector(exports, skip_bad_rows=True).extract({}))
    assert [line.amount for line in lines_of(items)] == [Decimal("5000.00")]
    skipped = [item for item in items if isinstance(item, SkippedRow)]
    assert [s.where for s in skipped] == ["pa-costs-2025-10.csv row 2", "pa-costs-2025-10.csv row 3"]
    assert "'12,34.00'" in skipped[0].reason and "Burdened Cost" in skipped[0].reason


def test_a_reexported_file_that_drops_a_month_empties_it(exports: Path) -> None:
    path = write_csv(
        exports / "a.csv",
        ROW.format(amount="100", vendor="V"),
        ROW.format(amount="5", vendor="V").replace("JUL-25", "AUG-25"),
    )
    connector = file_connector(exports)
    cursor = last_cursor(connector.extract({}))
    write_csv(path, ROW.format(amount="100", vendor="V"))
    items = list(connector.extract(cursor))
    assert SnapshotComplete("P-100/actual/2025-08", frozenset({"cost_line"})) in items
    assert last_cursor(items)["files"]["a.csv"]["scopes"] == ["P-100/actual/2025-07"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected(exports: Path, delimiter: str) -> None:
    row = ROW.format(amount="1234.50", vendor="VENDOR").replace(",", delimiter).replace("VENDOR", "Acme, Inc")
    write_csv(exports / "x.csv", row, header=HEADER.replace(",", delimiter))
    [line] = lines_of(file_connector(exports).extract({}))
    assert (line.amount, line.vendor) == (Decimal("1234.50"), "Acme, Inc")


def test_configured_delimiter_and_a_missing_column(exports: Path) -> None:
    write_csv(exports / "x.csv", ROW.format(amount="1", vendor="V"))
    expected = r"no header row in the first 50 rows names the columns"
    with pytest.raises(SourceDataError, match=expected) as caught:
        list(file_connector(exports, delimiter=";").extract({}))
    assert "x.csv" in str(caught.value)


def test_unquoted_thousands_separator_is_a_bad_row(exports: Path) -> None:
    write_csv(exports / "x.csv", ROW.format(amount="1,234.00", vendor="V"))
    with pytest.raises(SourceDataError, match=r"row 2, column '\(whole row\)'.*more cells than the header"):
        list(file_connector(exports).extract({}))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_encodings_are_detected(exports: Path, encoding: str) -> None:
    write_csv(
        exports / "x.csv",
        ROW.format(
            amount='"€1,000.00"' if encoding != "cp1252" else "1000", vendor="Société Générale – Café"
        ),
        encoding=encoding,
    )
    [line] = lines_of(file_connector(exports).extract({}))
    assert line.vendor == "Société Générale – Café"
    assert line.project == "ERP"  # the BOM is not part of the first column's name


def test_european_export(exports: Path) -> None:
    write_csv(
        exports / "x.csv",
        "P-100;01.08.2025;5110;Müller GmbH;-1.234,50",
        header="Projekt;Buchungsdatum;Konto;Lieferant;Betrag",
        encoding="cp1252",
    )
    [line] = lines_of(file_connector(exports, "finance-eu.yaml").extract({}))
    assert (line.amount, line.currency, line.period, line.vendor) == (
        Decimal("-1234.50"),
        "EUR",
        date(2025, 8, 1),
        "Müller GmbH",
    )


def test_wide_export_with_fiscal_year_and_period_columns(exports: Path) -> None:
    write_csv(
        exports / "munis.csv",
        'P-100,51100,2026,1,"10,000.00","8,000.00",,Agency Staff',
        'P-100,53000,2026,13,"5,000.00",0,"1,200.00",SHI',
        header="Project String,Object,Fiscal Year,Period,Revised Budget,Actual,Encumbrance,Vendor Name",
    )
    connector = file_connector(exports, "finance-munis-wide.yaml", fiscal_year_start_month=7)
    lines = lines_of(connector.extract({}))
    assert {(x.kind, x.amount, x.period, x.fiscal_period, x.category) for x in lines} == {
        ("budget", Decimal("10000.00"), date(2025, 7, 1), 1, "labor"),
        ("actual", Decimal("8000.00"), date(2025, 7, 1), 1, "labor"),
        # period 13 (year-end adjustments) counts in the last month of FY2026
        ("budget", Decimal("5000.00"), date(2026, 6, 1), 12, "software"),
        ("commitment", Decimal("1200.00"), date(2026, 6, 1), 12, "software"),
    }


def test_peoplesoft_export(exports: Path) -> None:
    write_csv(
        exports / "ps.csv",
        "P-101,ACT01,530100,ACT,2026,4,10/15/2025,1500.00,USD,SHI International,PO77,Licenses,RES-1",
        header="PROJECT_ID,ACTIVITY_ID,ACCOUNT,ANALYSIS_TYPE,FISCAL_YEAR,ACCOUNTING_PERIOD,ACCOUNTING_DT,"
        "RESOURCE_AMOUNT,CURRENCY_CD,VENDOR_NAME,PO_ID,DESCR,RESOURCE_ID",
    )
    connector = file_connector(exports, "finance-peoplesoft.yaml", fiscal_year_start_month=7)
    [line] = lines_of(connector.extract({}))
    assert (line.project, line.kind, line.period, line.category, line.source.external_id) == (
        "CRM",
        "actual",
        date(2025, 10, 1),
        "software",
        "P-101/actual/2025-10/RES-1",
    )


def _workbook(path: Path, *, merged: bool = False) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    sheet = book.create_sheet("Cost Lines")
    sheet.append(["Project Cost Inquiry"])
    sheet.append([])
    header = HEADER.split(",")
    if merged:
        header[7] = None
        header[6] = "Expenditure Item Date / Burdened Cost"
    sheet.append(header)
    sheet.append(
        [
            "P-100",
            "1.1",
            5110,
            "Labor",
            "Actual",
            datetime(2025, 7, 1),
            datetime(2025, 7, 15),
            12500.5,
            "USD",
            "Agency Staff",
            None,
            '=HYPERLINK("http://x")',
        ]
    )
    sheet.append(
        [
            "P-101",
            "2.1",
            5410.0,
            "Services",
            "Commitment",
            "AUG-25",
            "15-AUG-2025",
            -250,
            None,
            "Accenture",
            "PO-1",
            None,
        ]
    )
    sheet["L4"].data_type = "s"  # a text cell that looks like a formula, as users type them
    if merged:
        sheet.merge_cells("G3:H3")
    book.save(path)
    return path


def test_xlsx_sheet_by_name_header_not_first(exports: Path) -> None:
    _workbook(exports / "costs.xlsx")
    lines = lines_of(file_connector(exports, sheet="Cost Lines").extract({}))
    assert [(x.project, x.account, x.amount, x.period, x.posting_date) for x in lines] == [
        ("ERP", "5110", Decimal("12500.5"), date(2025, 7, 1), date(2025, 7, 15)),
        ("CRM", "5410", Decimal("-250"), date(2025, 8, 1), date(2025, 8, 15)),
    ]
    assert lines[0].description == '=HYPERLINK("http://x")'  # kept as-is; writers neutralise on output
    assert lines[1].currency == "USD"


def test_xlsx_missing_sheet_and_merged_header_are_clear_errors(exports: Path) -> None:
    _workbook(exports / "costs.xlsx", merged=True)
    with pytest.raises(SourceDataError, match=r"no worksheet named 'Costs'.*Summary, Cost Lines"):
        list(file_connector(exports, sheet="Costs").extract({}))
    with pytest.raises(SourceDataError, match=r"Burdened Cost.*merged header cells"):
        list(file_connector(exports, sheet="Cost Lines").extract({}))


def test_not_a_workbook(exports: Path) -> None:
    (exports / "x.xlsx").write_text("not a zip")
    with pytest.raises(SourceDataError, match=r"x.xlsx: not a readable XLSX workbook"):
        list(file_connector(exports).extract({}))


def test_missing_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        list(file_connector(tmp_path / "nowhere").extract({}))
    checks = file_connector(tmp_path / "nowhere").check()
    assert checks[-1].status == "fail"


def test_check_reports_each_file(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv")
    write_csv(exports / "bad.csv", "x", header="a,b,c")
    results = {r.name: r for r in file_connector(exports).check()}
    assert results["file pa-costs-2025-07.csv"].status == "ok"
    assert results["file pa-costs-2025-07.csv"].detail == "header at row 4"
    assert results["file bad.csv"].status == "fail"


@pytest.mark.parametrize(
    ("year", "period", "expected"),
    [
        ("2026", "14", r"column 'Period': value '14' is not a fiscal period"),
        ("26", "1", r"column 'Fiscal Year': value '26' is not a fiscal year"),
        ("FY26", "1", r"column 'Fiscal Year': value 'FY26' is not a whole number"),
    ],
)
def test_bad_fiscal_year_or_period_names_its_column(
    exports: Path, year: str, period: str, expected: str
) -> None:
    write_csv(
        exports / "munis.csv",
        f"P-100,51100,{year},{period},10,,,V",
        header="Project String,Object,Fiscal Year,Period,Revised Budget,Actual,Encumbrance,Vendor Name",
    )
    with pytest.raises(SourceDataError, match=expected):
        list(file_connector(exports, "finance-munis-wide.yaml").extract({}))


def test_an_older_file_reexported_does_not_empty_a_month_a_newer_file_restated(exports: Path) -> None:
    _copy(exports, "pa-costs-2025-07.csv")
    connector = file_connector(exports)
    cursor = last_cursor(connector.extract({}))
    _copy(exports, "pa-costs-2025-09.csv")  # restates July for P-100: September owns that month now
    cursor = last_cursor(connector.extract(cursor))
    july = exports / "pa-costs-2025-07.csv"
    kept = [row for row in july.read_text().splitlines() if not row.startswith("P-100,")]
    july.write_text("\n".join(kept) + "\n")  # July re-exported without P-100
    items = list(connector.extract(cursor))
    swept = {i.scope for i in items if isinstance(i, SnapshotComplete)}
    assert "P-100/actual/2025-07" not in swept  # September's restatement stays
    # P-100's July budget and commitment came from July's file only: they are emptied
    assert {"P-100/budget/2025-07", "P-100/commitment/2025-07"} <= swept


def test_recursive_folders_and_include_patterns(exports: Path) -> None:
    (exports / "FY2026" / "Q1").mkdir(parents=True)
    no_currency = ROW.format(amount="2", vendor="W").replace(",USD,", ",,")
    write_csv(exports / "FY2026" / "Q1" / "jul.csv", ROW.format(amount="1", vendor="V"), no_currency)
    write_csv(exports / "notes.md", "not an export", header="# notes")
    (exports / "~$jul.xlsx").write_bytes(b"Excel lock file")
    assert file_connector(exports).files() == []
    connector = file_connector(exports, recursive=True, include=["*.csv"], currency="CAD")
    assert [name for name, _ in connector.files()] == ["FY2026/Q1/jul.csv"]
    items = list(connector.extract({}))
    # the export's own currency wins; the configured one fills in where the export has none
    assert sorted(line.currency for line in lines_of(items)) == ["CAD", "USD"]
    assert list(last_cursor(items)["files"]) == ["FY2026/Q1/jul.csv"]


def test_workday_export(exports: Path) -> None:
    write_csv(
        exports / "journal-lines.csv",
        'PRJ-0042,Build,6250,Software Subscriptions,Obligation,"$12,000.00",USD,08/14/2025,SHI,PO-77,Seats',
        "PRJ-0042,Build,5110,,Actuals,(250.00),USD,08/31/2025,,,Accrual reversal",
        header="Project,Project Phase,Ledger Account,Spend Category,Ledger,Amount,Currency,Accounting Date,"
        "Supplier,Purchase Order,Line Memo",
    )
    connector = file_connector(exports, "finance-workday.yaml", links={"PRJ-0042": "ERP"})
    lines = sorted(lines_of(connector.extract({})), key=lambda x: x.amount)
    assert [(x.kind, x.amount, x.period, x.category, x.project) for x in lines] == [
        ("actual", Decimal("-250.00"), date(2025, 8, 1), "labor", "ERP"),
        ("commitment", Decimal("12000.00"), date(2025, 8, 1), "software", "ERP"),
    ]
