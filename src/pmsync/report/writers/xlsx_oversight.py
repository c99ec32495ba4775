"""The oversight pack's XLSX sheets: "Front page" (triggers tripped and decisions needed), "Oversight"
(one row per project: reported and computed status, CIO rating, criticality, gate, findings, re-approval),
and one sheet each for gates, findings, contracts, funding, staffing, benefits and triggers. The
same content as the HTML pack and the JSON (``projects[].oversight``, ``front_page``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from pmsync.reconcile.oversight_results import OversightMeasures
from pmsync.report import formatting
from pmsync.report.model import Report
from pmsync.report.writers.xlsx_sheets import DATE, DAYS, MOMENT, Column, Sheet

MONEY = "#,##0.00"
PERCENT = "0.0"


def _each(report: Report) -> Iterator[tuple[str, OversightMeasures]]:
    for section in report.projects:
        if section.oversight is not None:
            yield section.key, section.oversight


def _front(report: Report) -> Iterator[Sequence[Any]]:
    f = report.front_page
    for kind, items in (
        ("Trigger tripped", f.triggers_tripped),
        ("Decision needed", f.decisions_needed),
        ("CIO override", f.cio_overrides),
    ):
        for item in items:
            yield [kind, item.project, item.name, item.text]


def _overview(report: Report) -> Iterator[Sequence[Any]]:
    for key, o in _each(report):
        yield [
            key,
            formatting.rag_word(o.effective_overall.status),
            formatting.rag_word(o.computed_overall.status),
            o.cio.rating if o.cio else None,
            o.cio.reason if o.cio else None,
            o.cio.rated_by if o.cio else None,
            o.cio.rated_on if o.cio else None,
            o.criticality.level,
            o.criticality.score,
            o.criticality.basis,
            o.phase,
            o.current_gate,
            o.next_gate,
            o.funds_released,
            o.open_findings,
            o.overdue_findings,
            "required" if o.reapproval_required else None,
            "; ".join(o.decisions_needed) or None,
        ]


def oversight_sheets(report: Report) -> list[Sheet]:
    if not any(True for _ in _each(report)):
        return []
    key = Column("Project", width=12)
    return [
        (
            "Front page",
            [Column("Item", width=16), key, Column("Name", width=28), Column("What", width=90)],
            lambda: _front(report),
        ),
        (
            "Oversight",
            [
                key,
                Column("Status (reported)", width=12),
                Column("Status (computed)", width=12),
                Column("CIO rating", width=8),
                Column("CIO reason", width=40),
                Column("CIO rated by", width=16),
                Column("CIO rated on", DATE, 12),
                Column("Criticality", width=10),
                Column("Criticality score", width=9),
                Column("Criticality basis", width=40),
                Column("Phase", width=14),
                Column("Gate passed", width=14),
                Column("Next gate", width=14),
                Column("Funds released", MONEY, 15),
                Column("Open findings", width=8),
                Column("Overdue findings", width=8),
                Column("Re-approval", width=10),
                Column("Decisions needed", width=80),
            ],
            lambda: _overview(report),
        ),
        (
            "Gates",
            [
                key,
                Column("Gate", width=18),
                Column("Planned", DATE, 12),
                Column("State", width=14),
                Column("Decided", DATE, 12),
                Column("Decided by", width=18),
                Column("Conditions", width=30),
                Column("Funds planned", MONEY, 15),
                Column("Funds released", MONEY, 15),
                Column("Recorded by", width=16),
                Column("Recorded at", MOMENT, 16),
            ],
            lambda: (
                [k, g.gate, g.planned, g.state, g.decided_on, g.decided_by, g.conditions]
                + [g.funds_planned, g.funds_released, g.recorded_by, g.recorded_at]
                for k, o in _each(report)
                for g in o.gates
            ),
        ),
        (
            "Findings",
            [
                key,
                Column("Finding", width=36),
                Column("Assessor", width=16),
                Column("Severity", width=9),
                Column("Recommendation", width=36),
                Column("Corrective action", width=36),
                Column("Owner", width=16),
                Column("Action status", width=12),
                Column("Due", DATE, 12),
                Column("Raised", DATE, 12),
                Column("Closed", DATE, 12),
                Column("Open", width=7),
                Column("Overdue", width=8),
                Column("Recorded by", width=16),
                Column("Ref", width=18),
            ],
            lambda: (
                [k, f.title, f.assessor, f.severity, f.recommendation, f.corrective_action, f.owner]
                + [f.action_status, f.due, f.raised_on, f.closed_on, f.open, f.overdue, f.recorded_by, f.ref]
                for k, o in _each(report)
                for f in o.findings
            ),
        ),
        (
            "Contracts",
            [
                key,
                Column("Contract", width=14),
                Column("Vendor", width=20),
                Column("PO numbers", width=16),
                Column("Original value", MONEY, 15),
                Column("Amendments", MONEY, 15),
                Column("Current value", MONEY, 15),
                Column("Paid to date", MONEY, 15),
                Column("Burn %", PERCENT, 9),
                Column("Remaining", MONEY, 15),
                Column("Nearing value", width=9),
                Column("Over value", width=9),
                Column("Deliverables", width=9),
                Column("Accepted", width=9),
                Column("Overdue", width=9),
                Column("Rule", width=50),
            ],
            lambda: (
                [k, c.number, c.vendor, ", ".join(c.po_numbers), c.original_value]
                + [sum((a.value_change for a in c.amendments), Decimal(0)), c.current_value]
                + [c.paid_to_date, c.burn_percent, c.remaining, c.nearing_value, c.over_value]
                + [c.deliverables, c.deliverables_accepted, c.deliverables_overdue, c.basis]
                for k, o in _each(report)
                for c in o.contracts
            ),
        ),
        (
            "Funding",
            [
                key,
                Column("Source", width=18),
                Column("Fiscal year", width=9),
                Column("Type", width=11),
                Column("Appropriated", MONEY, 15),
                Column("Spent", MONEY, 15),
                Column("Remaining", MONEY, 15),
                Column("Consumed %", PERCENT, 9),
                Column("Rule", width=50),
            ],
            lambda: (
                [k, f.source, f.fiscal_year, f.cost_type, f.appropriated, f.spent, f.remaining]
                + [f.consumed_percent, f.basis]
                for k, o in _each(report)
                for f in o.funding
            ),
        ),
        (
            "Staffing",
            [
                key,
                Column("Month", DATE, 12),
                Column("Planned FTE", DAYS, 10),
                Column("Actual FTE", DAYS, 10),
                Column("Variance FTE", DAYS, 10),
                Column("Variance %", PERCENT, 9),
                Column("Rule", width=60),
            ],
            lambda: (
                [k, s.month, s.planned_fte, s.actual_fte, s.variance_fte, s.variance_percent, s.basis]
                for k, o in _each(report)
                if (s := o.staffing) is not None
            ),
        ),
        (
            "Benefits",
            [
                key,
                Column("Benefit", width=30),
                Column("Unit", width=8),
                Column("Planned", MONEY, 15),
                Column("By", DATE, 12),
                Column("Due", width=6),
                Column("Realised", MONEY, 15),
                Column("Measured", DATE, 12),
                Column("Variance", MONEY, 15),
                Column("Variance %", PERCENT, 9),
                Column("Recorded by", width=16),
            ],
            lambda: (
                [k, b.benefit, b.unit, b.planned, b.by, b.due, b.realised, b.measured_on, b.variance]
                + [b.variance_percent, b.recorded_by]
                for k, o in _each(report)
                for b in o.benefits
            ),
        ),
        (
            "Triggers",
            [
                key,
                Column("Dimension", width=10),
                Column("Threshold %", PERCENT, 9),
                Column("Figure %", PERCENT, 9),
                Column("Tripped", width=8),
                Column("Basis", width=30),
                Column("Explanation", width=90),
            ],
            lambda: (
                [k, t.dimension, t.threshold_percent, t.figure_percent, t.tripped, t.basis, t.explanation]
                for k, o in _each(report)
                for t in o.triggers
            ),
        ),
    ]
