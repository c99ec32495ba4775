import csv
from decimal import Decimal
from pathlib import Path

from pmsync.sandbox.finance_gen import main, write_monthly_exports

from .helpers import file_connector, lines_of, totals


def _restated_total(september: Path) -> Decimal:
    """August's P-100 actuals as September's export restates them, read with the csv module alone."""
    with september.open(newline="") as handle:
        rows = list(csv.reader(handle))[3:]
    header, data = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    return sum(
        (
            Decimal(row[col["Burdened Cost"]].replace(",", ""))
            for row in data
            if row[col["Project Number"]] == "P-100"
            and row[col["Amount Type"]] == "Actual"
            and row[col["PA Period"]] == "AUG-25"
        ),
        Decimal(0),
    )


def test_generated_monthly_exports_load_and_the_correction_wins(tmp_path: Path) -> None:
    files = write_monthly_exports(tmp_path / "exports", months=4, lines_per_month=60, correct_month=1)
    assert [f.name for f in files] == [
        "pa-budget-FY2026.csv",
        "pa-costs-2025-07.csv",
        "pa-costs-2025-08.csv",
        "pa-costs-2025-09.csv",
        "pa-costs-2025-10.csv",
    ]
    lines = lines_of(file_connector(tmp_path / "exports").extract({}))
    assert set(totals(lines, "kind")) == {("budget",), ("actual",), ("commitment",)}
    # the budget covers the 12 periods of FY2026 for each of three projects and six categories
    budget = [line for line in lines if line.kind == "budget"]
    assert len(budget) == 3 * 12 * 6
    assert {line.fiscal_period for line in budget} == set(range(1, 13))
    # August was restated in September's export: its P-100 actuals are the restated ones
    actuals = totals([x for x in lines if x.kind == "actual"], "project", "fiscal_period")
    restated = _restated_total(files[3])
    assert restated != 0
    assert actuals[("ERP", 2)] == restated


def test_command_line_writes_sample_exports(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([str(tmp_path / "out"), "--months", "2", "--lines-per-month", "10"]) == 0
    assert len(list((tmp_path / "out").glob("*.csv"))) == 3
    assert "pa-costs-2025-08.csv" in capsys.readouterr().out
