"""The demo's oversight: California's rules (Special Project Report triggers and the criticality
sheet of SIMM 45's four factors), the plan per project (criticality answers, gates, funding, a
contract, staffing and benefits) and the inputs a portfolio office keeps by hand (a CIO rating that
overrides the computed status, IV&V findings, gate decisions, benefits realised, staff in post)
written beside pmsync.yaml as the CSV and YAML files the oversight_file connector reads.

What the demo shows: ERP trips the cost trigger and the benefits trigger ("re-approval required:
Special Project Report"), its gate 3 is overdue for a decision, its systems-integrator contract nears
its value and an IV&V finding is past its corrective-action date; the CIO rates NET 3 (amber) over a
computed green."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: California's preset: the SPR triggers and the criticality sheet (SIMM 45's four factors)
OVERSIGHT_RULES: dict[str, Any] = {"preset": "california", "contract_warn_percent": 90}

#: ERP's systems integrator: paid by invoice each month (the finance exports' consulting vendor)
ERP_CONTRACT_VENDOR = "Accenture Federal Services"
#: chosen so the demo's payments by October reach about 96 % of the amended value
ERP_CONTRACT_VALUE = 322_000
ERP_CONTRACT_AMENDMENT = 40_000

PLANS: dict[str, dict[str, Any]] = {
    "ERP": {
        # 3 + 2 + 3 + 3 = 11 on California's sheet: high (from 10)
        "criticality": {
            "Project size": "high",
            "Project manager experience": "medium",
            "Team experience": "high",
            "Project type": "high",
        },
        "phase": "Execution",
        "gates": [
            {"gate": "Gate 1 business case", "planned": "2026-02-15", "funds_planned": 1500000},
            {"gate": "Gate 2 design", "planned": "2026-06-15", "funds_planned": 1700000},
            {"gate": "Gate 3 build", "planned": "2026-10-15", "funds_planned": 1000000},
        ],
        "funding": [
            {"source": "Special Fund", "fiscal_year": 2026, "amount": 1300000, "cost_type": "one_time"},
            {
                "source": "General Fund",
                "fiscal_year": 2027,
                "amount": 2000000,
                "accounts": ["5110", "5410"],
            },
            {
                "source": "Federal",
                "fiscal_year": 2027,
                "amount": 900000,
                "accounts": ["5210", "5310"],
            },
        ],
        "contracts": [
            {
                "vendor": ERP_CONTRACT_VENDOR,
                "number": "C-2026-0142",
                "value": ERP_CONTRACT_VALUE,
                "amendments": [
                    {
                        "number": "A1",
                        "value_change": ERP_CONTRACT_AMENDMENT,
                        "executed": "2026-07-20",
                        "description": "two developers for data conversion",
                    }
                ],
                "deliverables": [
                    {"name": "Solution design", "due": "2026-06-01", "accepted": "2026-06-12"},
                    {"name": "Data conversion build", "due": "2026-09-30"},
                    {"name": "Payroll parallel run", "due": "2027-02-15"},
                ],
            }
        ],
        "staffing": [{"month": "2026-03-01", "fte": 10}, {"month": "2026-08-01", "fte": 14}],
        "benefits": [
            {
                "benefit": "Invoice processing hours saved",
                "planned": 2000,
                "by": "2026-09-30",
                "unit": "hours",
            },
            {"benefit": "Legacy licences retired", "planned": 250000, "by": "2027-06-30", "unit": "USD"},
        ],
    },
    "NET": {
        # 2 + 1 + 2 + 2 = 7: medium (from 6)
        "criticality": {
            "Project size": "medium",
            "Project manager experience": "low",
            "Team experience": "medium",
            "Project type": "medium",
        },
        "phase": "Execution",
        "gates": [{"gate": "Gate 2 design", "planned": "2026-04-01", "funds_planned": 2800000}],
    },
    "GRANTS": {"criticality_override": "medium", "phase": "Execution"},
}

CIO_RATINGS = (
    "project,id,rating,reason,rated_on,recorded_by,recorded_at\n"
    "ERP,ERP-2026-08,2,Data conversion behind plan; payroll parallel run at risk,2026-08-25,"
    "Jordan Lee (CIO),2026-08-26T16:00:00+00:00\n"
    "NET,NET-2026-09,3,Branch cut-overs depend on the carrier contract still in negotiation,2026-09-24,"
    "Jordan Lee (CIO),2026-09-24T17:30:00+00:00\n"
)

STAFFING = """project,id,month,fte,role,recorded_by,recorded_at
ERP,ERP-2026-08-dev,2026-08-01,8,developers,PMO analyst,2026-09-02T09:00:00+00:00
ERP,ERP-2026-08-ba,2026-08-01,3,analysts,PMO analyst,2026-09-02T09:00:00+00:00
ERP,ERP-2026-09-dev,2026-09-01,10,developers,PMO analyst,2026-10-02T09:00:00+00:00
ERP,ERP-2026-09-ba,2026-09-01,2,analysts,PMO analyst,2026-10-02T09:00:00+00:00
ERP,ERP-2026-10-dev,2026-10-01,10,developers,PMO analyst,2026-11-02T09:00:00+00:00
ERP,ERP-2026-10-ba,2026-10-01,2,analysts,PMO analyst,2026-11-02T09:00:00+00:00
"""

MAINTAINED: dict[str, Any] = {
    "findings": [
        {
            "project": "ERP",
            "id": "IVV-2026-07",
            "title": "No performance test of the payroll run before parallel run",
            "assessor": "IV&V: Example Assurance LLC",
            "severity": "high",
            "recommendation": "Load-test the payroll batch at production volume",
            "owner": "ERP test manager",
            "corrective_action": "Performance test plan and run",
            "action_status": "in progress",
            "due": "2026-09-30",
            "raised_on": "2026-07-31",
            "recorded_by": "Example Assurance LLC",
            "recorded_at": "2026-08-03T10:00:00+00:00",
        },
        {
            "project": "ERP",
            "id": "IVV-2026-04",
            "title": "Requirements traceability incomplete",
            "assessor": "IV&V: Example Assurance LLC",
            "severity": "medium",
            "recommendation": "Trace every requirement to a test",
            "owner": "ERP business analyst",
            "corrective_action": "Traceability matrix",
            "action_status": "done",
            "due": "2026-06-30",
            "raised_on": "2026-04-30",
            "closed_on": "2026-06-24",
            "recorded_by": "Example Assurance LLC",
            "recorded_at": "2026-06-25T10:00:00+00:00",
        },
    ],
    "gate_decisions": [
        {
            "project": "ERP",
            "id": "ERP-G1",
            "gate": "Gate 1 business case",
            "decision": "approved",
            "decided_on": "2026-02-20",
            "decided_by": "IT Steering Committee",
            "funds_released": 1500000,
            "recorded_by": "Portfolio office",
            "recorded_at": "2026-02-20T15:00:00+00:00",
        },
        {
            "project": "ERP",
            "id": "ERP-G2",
            "gate": "Gate 2 design",
            "decision": "approved_with_conditions",
            "decided_on": "2026-06-18",
            "decided_by": "IT Steering Committee",
            "funds_released": 1700000,
            "conditions": "monthly IV&V reports to the committee",
            "recorded_by": "Portfolio office",
            "recorded_at": "2026-06-18T15:00:00+00:00",
        },
        {
            "project": "NET",
            "id": "NET-G2",
            "gate": "Gate 2 design",
            "decision": "approved",
            "decided_on": "2026-04-02",
            "decided_by": "IT Steering Committee",
            "funds_released": 2800000,
            "recorded_by": "Portfolio office",
            "recorded_at": "2026-04-02T15:00:00+00:00",
        },
    ],
    "benefits_realised": [
        {
            "project": "ERP",
            "id": "ERP-hours-2026-10",
            "benefit": "Invoice processing hours saved",
            "value": 1500,
            "measured_on": "2026-10-30",
            "recorded_by": "Finance business owner",
            "recorded_at": "2026-10-31T12:00:00+00:00",
        }
    ],
}


def write_oversight_inputs(folder: Path) -> None:
    """The files a portfolio office keeps (CSV and YAML; see pmsync/oversight/templates)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cio_ratings.csv").write_text(CIO_RATINGS, encoding="utf-8")
    (folder / "staffing.csv").write_text(STAFFING, encoding="utf-8")
    (folder / "oversight.yaml").write_text(
        yaml.safe_dump(MAINTAINED, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
