"""Spend booked to a finance project code no pmsync project owns is kept, and reconcile names the code."""

from __future__ import annotations

from pathlib import Path

from pmsync.reconcile.crosscheck import unowned_spend

from .helpers import HEADER, file_connector, lines_of


def test_unknown_project_code_is_kept_and_reported_by_its_code(tmp_path: Path) -> None:
    export = tmp_path / "costs.csv"
    export.write_text(
        HEADER
        + "\nP-100,1.1,5110,Labor,Actual,OCT-26,05-OCT-2026,1000.00,USD,Agency Staff,,Timesheet"
        + "\nP-999,1.1,5410,Consulting Services,Actual,OCT-26,12-OCT-2026,"
        + '"18,500.00",USD,Gartner Inc,PO-1,Advisory'
        + "\n",
        encoding="utf-8",
    )
    lines = lines_of(file_connector(export).extract({}))
    by_code = {line.project_code: line for line in lines}
    assert by_code["P-100"].project == "ERP"
    assert by_code["P-999"].project is None
    exceptions = unowned_spend(lines, {"ERP", "CRM"})
    assert len(exceptions) == 1
    assert "P-999" in exceptions[0].description and "18,500.00" in exceptions[0].description
