"""The oversight pack's XLSX sheets and its escalation triggers as the committee reads them."""

from __future__ import annotations

import io

import openpyxl

from pmsync.report.writers.xlsx import xlsx_bytes
from pmsync.report.writers.xlsx_sheets import DATE, Column, columns

from .sample import sample_report


def test_columns_reads_short_specs_as_the_sheet_columns() -> None:
    key = Column("Project", width=12)
    assert columns(key, ("Gate", 18), ("Planned", DATE, 12)) == [
        key,
        Column("Gate", None, 18),
        Column("Planned", DATE, 12),
    ]


def test_the_xlsx_triggers_and_contracts_sheets_state_unit_rule_and_figures() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sample_report())))
    triggers = list(wb["Triggers"].iter_rows(values_only=True))
    assert triggers[0] == (
        "Project",
        "Dimension",
        "Unit",
        "Threshold %",
        "Figure % (signed)",
        "Tripped",
        "Basis",
        "Explanation",
    )
    rows = {(r[1], r[2]): r for r in triggers[1:]}
    # the sample's ERP: 800 hours realised of 1,000 planned: (800 − 1,000) ÷ 1,000 = −20 %
    benefits = rows["benefits", "hours"]
    assert (benefits[3], benefits[4], benefits[5]) == (10, -20, True)
    assert "re-approval required (Special Project Report)" in benefits[7]
    # cost: (1,318,681 − 1,200,000) ÷ 1,200,000 = +9.89 %, within ±10 %, and says its rule
    cost = rows["cost", None]
    assert round(cost[4], 2) == 9.89 and cost[5] is False and "forecast − budget, ÷ budget" in cost[7]
    contracts = list(wb["Contracts"].iter_rows(values_only=True))
    header, erp = contracts[0], contracts[1]
    burn = header.index("Burn % (paid ÷ current value)")
    # paid 470,000 of 500,000: 94 %
    assert erp[burn] == 94 and "invoices not yet paid" in erp[header.index("Rule")]
