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
from pmsync.report.writers.xlsx_sheets import DATE, DAYS, MOMENT, Sheet, columns

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
    key = ("Project", 12)
    return [
        (
            "Front page",
            columns(("Item", 16), key, ("Name", 28), ("What", 90)),
            lambda: _front(report),
        ),
        (
            "Oversight",
            columns(
                key,
                ("Status (reported)", 12),
                ("Status (computed)", 12),
                ("CIO rating", 8),
                ("CIO reason", 40),
                ("CIO rated by", 16),
                ("CIO rated on", DATE, 12),
                ("Criticality", 10),
                ("Criticality score", 9),
                ("Criticality basis", 40),
                ("Phase", 14),
                ("Gate passed", 14),
                ("Next gate", 14),
                ("Funds released", MONEY, 15),
                ("Open findings", 8),
                ("Overdue findings", 8),
                ("Re-approval", 10),
                ("Decisions needed", 80),
            ),
            lambda: _overview(report),
        ),
        (
            "Gates",
            columns(
                key,
                ("Gate", 18),
                ("Planned", DATE, 12),
                ("State", 14),
                ("Decided", DATE, 12),
                ("Decided by", 18),
                ("Conditions", 30),
                ("Funds planned", MONEY, 15),
                ("Funds released", MONEY, 15),
                ("Recorded by", 16),
                ("Recorded at", MOMENT, 16),
            ),
            lambda: (
                [k, g.gate, g.planned, g.state, g.decided_on, g.decided_by, g.conditions]
                + [g.funds_planned, g.funds_released, g.recorded_by, g.recorded_at]
                for k, o in _each(report)
                for g in o.gates
            ),
        ),
        (
            "Findings",
            columns(
                key,
                ("Finding", 36),
                ("Assessor", 16),
                ("Severity", 9),
                ("Recommendation", 36),
                ("Corrective action", 36),
                ("Owner", 16),
                ("Action status", 12),
                ("Due", DATE, 12),
                ("Raised", DATE, 12),
                ("Closed", DATE, 12),
                ("Open", 7),
                ("Overdue", 8),
                ("Recorded by", 16),
                ("Ref", 18),
            ),
            lambda: (
                [k, f.title, f.assessor, f.severity, f.recommendation, f.corrective_action, f.owner]
                + [f.action_status, f.due, f.raised_on, f.closed_on, f.open, f.overdue, f.recorded_by, f.ref]
                for k, o in _each(report)
                for f in o.findings
            ),
        ),
        (
            "Contracts",
            columns(
                key,
                ("Contract", 14),
                ("Vendor", 20),
                ("PO numbers", 16),
                ("Original value", MONEY, 15),
                ("Amendments", MONEY, 15),
                ("Current value", MONEY, 15),
                ("Paid to date", MONEY, 15),
                ("Burn % (paid ÷ current value)", PERCENT, 12),
                ("Remaining", MONEY, 15),
                ("Nearing value", 9),
                ("Over value", 9),
                ("Deliverables", 9),
                ("Accepted", 9),
                ("Overdue", 9),
                ("Rule", 50),
            ),
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
            columns(
                key,
                ("Source", 18),
                ("Fiscal year", 9),
                ("Type", 11),
                ("Appropriated", MONEY, 15),
                ("Spent", MONEY, 15),
                ("Remaining", MONEY, 15),
                ("Consumed % (spent ÷ appropriated)", PERCENT, 12),
                ("Rule", 50),
            ),
            lambda: (
                [k, f.source, f.fiscal_year, f.cost_type, f.appropriated, f.spent, f.remaining]
                + [f.consumed_percent, f.basis]
                for k, o in _each(report)
                for f in o.funding
            ),
        ),
        (
            "Staffing",
            columns(
                key,
                ("Month", DATE, 12),
                ("Planned FTE", DAYS, 10),
                ("Actual FTE", DAYS, 10),
                ("Variance FTE (actual − planned)", DAYS, 12),
                ("Variance %", PERCENT, 9),
                ("Rule", 60),
            ),
            lambda: (
                [k, s.month, s.planned_fte, s.actual_fte, s.variance_fte, s.variance_percent, s.basis]
                for k, o in _each(report)
                if (s := o.staffing) is not None
            ),
        ),
        (
            "Benefits",
            columns(
                key,
                ("Benefit", 30),
                ("Unit", 8),
                ("Planned", MONEY, 15),
                ("By", DATE, 12),
                ("Due", 6),
                ("Realised", MONEY, 15),
                ("Measured", DATE, 12),
                ("Variance (realised − planned)", MONEY, 15),
                ("Variance %", PERCENT, 9),
                ("Recorded by", 16),
            ),
            lambda: (
                [k, b.benefit, b.unit, b.planned, b.by, b.due, b.realised, b.measured_on, b.variance]
                + [b.variance_percent, b.recorded_by]
                for k, o in _each(report)
                for b in o.benefits
            ),
        ),
        (
            "Triggers",
            columns(
                key,
                ("Dimension", 10),
                ("Unit", 8),
                ("Threshold %", PERCENT, 9),
                ("Figure % (signed)", PERCENT, 9),
                ("Tripped", 8),
                ("Basis", 30),
                ("Explanation", 90),
            ),
            lambda: (
                [
                    k,
                    t.dimension,
                    t.unit,
                    t.threshold_percent,
                    t.figure_percent,
                    t.tripped,
                    t.basis,
                    t.explanation,
                ]
                for k, o in _each(report)
                for t in o.triggers
            ),
        ),
    ]
