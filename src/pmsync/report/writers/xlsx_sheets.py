"""What goes on each XLSX sheet: columns (title, number format, width) and the rows, per section.

Per-project sections share one sheet with a ``Project`` column, so a reader filters instead of
hunting through tabs. Rows are generators, so a big portfolio is written without building lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pmsync.reconcile.results import RagRating
from pmsync.report import formatting
from pmsync.report.model import Report

MONEY = "#,##0.00"
RATIO = "0.00"
DAYS = "0.0"
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    title: str
    format: str | None = None
    width: int = 14


def _rag(rating: RagRating) -> str:
    return formatting.rag_word(rating.status)


def _money_cols(*names: str) -> list[Column]:
    return [Column(name, MONEY, 15) for name in names]


Sheet = tuple[str, list[Column], Callable[[], Iterable[Sequence[Any]]]]


def _portfolio_sheets(report: Report) -> list[Sheet]:
    key = Column("Project", width=14)
    return [
        (
            "Portfolio",
            [
                key,
                Column("Name", width=30),
                Column("Program"),
                Column("Tier", width=9),
                *(Column(n, width=12) for n in ("Schedule", "Cost", "Scope", "Risk", "Overall", "Trend")),
                Column("Previous overall", width=12),
                Column("Why", width=50),
                Column("Currency", width=9),
                *_money_cols("Budget", "Actual", "Forecast"),
                Column("Next milestone", width=28),
                Column("Next milestone date", DATE, 12),
                Column("Needs attention", width=10),
                Column("Lifecycle", width=11),
                Column("% complete", DAYS, 10),
                Column("% complete basis", width=40),
            ],
            lambda: (
                [
                    r.key,
                    r.name,
                    r.program,
                    r.tier,
                    *(_rag(x) for x in r.ratings()),
                    formatting.trend_word(r.trend),
                    formatting.rag_word(r.previous_overall) if r.previous_overall else None,
                    r.overall.explanation,
                    r.currency,
                    r.budget,
                    r.actual,
                    r.forecast,
                    r.next_milestone.name if r.next_milestone else None,
                    r.next_milestone.date if r.next_milestone else None,
                    r.needs_attention,
                    r.lifecycle,
                    r.percent_complete,
                    r.percent_complete_basis,
                ]
                for r in report.portfolio
            ),
        ),
        (
            "Changes",
            [
                key,
                Column("Kind", width=18),
                Column("Change", width=60),
                Column("Before"),
                Column("After"),
                Column("Amount", MONEY, 15),
                Column("Period", width=10),
                Column("Records", width=40),
            ],
            lambda: (
                [c.project, c.kind, c.text, c.before, c.after, c.amount, c.period, ", ".join(c.records)]
                for c in report.changes
            ),
        ),
    ]


def _project_sheets(report: Report) -> list[Sheet]:
    projects = report.projects
    key = Column("Project", width=14)
    return [
        (
            "Status",
            [
                key,
                Column("Dimension", width=12),
                Column("RAG", width=12),
                Column("Why", width=70),
                Column("Rule", width=50),
            ],
            lambda: (
                [p.key, x.dimension, _rag(x), x.explanation, x.rule]
                for p in projects
                for x in p.measures.rag.as_list()
            ),
        ),
        (
            "Summary",
            [key, Column("Executive summary", width=100), Column("Narrative source", width=40)],
            lambda: ([p.key, p.summary.text, p.summary.narrative_source] for p in projects),
        ),
        (
            "Milestones",
            [
                key,
                Column("Milestone", width=34),
                Column("Record", width=24),
                Column("Baseline finish", DATE, 12),
                Column("Current finish", DATE, 12),
                Column("Actual finish", DATE, 12),
                Column("Variance (working days)", "0", 12),
                Column("State", width=12),
                Column("Explanation", width=50),
            ],
            lambda: (
                [
                    p.key,
                    ms.name,
                    ms.source.key(),
                    ms.baseline_finish,
                    ms.current_finish,
                    ms.actual_finish,
                    ms.variance_working_days,
                    formatting.milestone_word(ms.state),
                    ms.explanation,
                ]
                for p in projects
                for ms in p.measures.schedule.milestones
            ),
        ),
        (
            "EVM",
            [
                key,
                Column("Status date", DATE, 12),
                Column("Currency", width=9),
                *_money_cols("BAC", "PV", "EV", "AC", "SV", "CV"),
                Column("SPI", RATIO, 8),
                Column("CPI", RATIO, 8),
                *_money_cols("EAC", "ETC", "VAC"),
                Column("TCPI", RATIO, 8),
                Column("EAC formula", width=50),
                Column("Basis", width=40),
                Column("% complete (EV ÷ BAC)", DAYS, 10),
                Column("% spent (AC ÷ BAC)", DAYS, 10),
            ],
            lambda: (
                [
                    p.key,
                    e.status_date,
                    e.currency,
                    e.bac,
                    e.pv,
                    e.ev,
                    e.ac,
                    e.sv,
                    e.cv,
                    e.spi,
                    e.cpi,
                    e.eac,
                    e.etc,
                    e.vac,
                    e.tcpi,
                    e.eac_formula,
                    e.basis,
                    e.percent_complete,
                    e.percent_spent,
                ]
                for p in projects
                if (e := p.measures.evm) is not None
            ),
        ),
        (
            "Forecast",
            [
                key,
                Column("Lifecycle", width=11),
                Column("Finish method", width=11),
                Column("Baseline finish", DATE, 12),
                Column("Forecast finish", DATE, 12),
                Column("Variance (working days)", "0", 12),
                Column("At least (working days late)", "0", 12),
                Column("50 % finish", DATE, 12),
                Column("85 % finish", DATE, 12),
                Column("Weekly throughput", width=20),
                Column("Finish forecast", width=60),
                *_money_cols("Actual", "Open commitments", "Actual + commitments", "Forecast at completion"),
                Column("Raised to actual + commitments", width=10),
                Column("% spent (actual ÷ BAC)", DAYS, 10),
                Column("% spent and committed", DAYS, 10),
            ],
            lambda: (
                [
                    p.key,
                    p.measures.lifecycle,
                    s.forecast_method,
                    s.baseline_finish,
                    s.current_finish,
                    s.finish_variance_working_days,
                    s.finish_variance_at_least_working_days,
                    s.flow_forecast.p50_finish if s.flow_forecast else None,
                    s.flow_forecast.p85_finish if s.flow_forecast else None,
                    ", ".join(map(str, s.flow_forecast.weekly_throughput)) if s.flow_forecast else None,
                    s.forecast_explanation,
                    c.actual_to_date,
                    c.commitments,
                    c.committed_floor,
                    c.forecast_at_completion,
                    c.forecast_raised_to_floor,
                    c.percent_spent,
                    c.percent_committed,
                ]
                for p in projects
                for s, c in ((p.measures.schedule, p.measures.cost),)
            ),
        ),
        (
            "EAC variants",
            [
                key,
                Column("Method", width=36),
                *_money_cols("EAC"),
                Column("Formula", width=80),
                Column("Rates"),
            ],
            lambda: (
                [p.key, v.label, v.value, v.formula, v.rates]
                for p in projects
                for v in p.measures.cost.eac_variants
            ),
        ),
        (
            "EVM by period",
            [
                key,
                Column("Period", width=10),
                Column("From (exclusive)", DATE, 12),
                Column("To", DATE, 12),
                *_money_cols("PV", "EV", "AC (burn)"),
                Column("SPI", RATIO, 8),
                Column("CPI", RATIO, 8),
                Column("This period", width=8),
            ],
            lambda: (
                [p.key, q.label, q.start, q.end, q.pv, q.ev, q.ac, q.spi, q.cpi, q == e.this_period]
                for p in projects
                if (e := p.measures.evm) is not None
                for q in e.periods
            ),
        ),
        (
            "S-curve",
            [key, Column("Period", width=10), Column("Period end", DATE, 12), *_money_cols("PV", "EV", "AC")],
            lambda: (
                [p.key, pt.label, pt.period_end, pt.pv, pt.ev, pt.ac]
                for p in projects
                if p.measures.evm is not None
                for pt in p.measures.evm.s_curve
            ),
        ),
        (
            "Budget",
            [
                key,
                Column("Category", width=24),
                Column("Fiscal year", width=10),
                Column("Fiscal period", width=10),
                *_money_cols("Budget", "Actual", "Committed", "Forecast", "Remaining"),
                Column("Month", width=9),
                Column("Forecast rule", width=60),
            ],
            lambda: (
                [
                    p.key,
                    b.category,
                    b.fiscal_year,
                    b.fiscal_period,
                    b.budget,
                    b.actual,
                    b.commitment,
                    b.forecast if b.forecast_known else None,
                    b.budget - b.actual - b.commitment,
                    b.month,
                    p.measures.cost.forecast_phasing,
                ]
                for p in projects
                for b in p.measures.cost.by_category
            ),
        ),
        (
            "Risks",
            [
                key,
                Column("Risk", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Status"),
                Column("Probability", RATIO, 10),
                Column("Impact", RATIO, 10),
                Column("Score", RATIO, 8),
                Column("Due", DATE, 12),
                Column("Mitigation", width=40),
            ],
            lambda: (
                [
                    p.key,
                    k.title,
                    k.ref,
                    k.owner,
                    k.status,
                    k.probability,
                    k.impact,
                    k.score,
                    k.due,
                    k.mitigation,
                ]
                for p in projects
                for k in p.risks
            ),
        ),
        (
            "Issues",
            [
                key,
                Column("Issue", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Status"),
                Column("Priority"),
                Column("Due", DATE, 12),
            ],
            lambda: (
                [p.key, i.title, i.ref, i.owner, i.status, i.priority, i.due]
                for p in projects
                for i in p.issues
            ),
        ),
        (
            "Decisions",
            [
                key,
                Column("Decision", width=40),
                Column("Ref", width=24),
                Column("Decided by", width=18),
                Column("Decided on", DATE, 12),
                Column("Status"),
            ],
            lambda: (
                [p.key, d.title, d.ref, d.decided_by, d.decided_on, d.status]
                for p in projects
                for d in p.decisions
            ),
        ),
        (
            "Actions",
            [
                key,
                Column("Action", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Due", DATE, 12),
                Column("Status"),
                Column("Overdue", width=9),
            ],
            lambda: (
                [p.key, a.title, a.ref, a.owner, a.due, a.status, a.overdue]
                for p in projects
                for a in p.actions
            ),
        ),
        (
            "Baselines",
            [
                key,
                Column("When (UTC)", MOMENT, 17),
                Column("Action", width=12),
                Column("Baseline", "0", 9),
                Column("By", width=18),
                Column("Change request"),
                Column("Reason", width=40),
                Column("Replaces", "0", 9),
                Column("Used", width=7),
            ],
            lambda: (
                [
                    p.key,
                    ev.at,
                    ev.action,
                    ev.number,
                    ev.by,
                    ev.change_request,
                    ev.reason,
                    ev.replaces,
                    p.measures.baseline is not None and p.measures.baseline.number == ev.number,
                ]
                for p in projects
                for ev in p.measures.baseline_history
            ),
        ),
        (
            "Baseline variance",
            [
                key,
                Column("Baseline", width=10),
                Column("Number", "0", 8),
                Column("Approved (UTC)", MOMENT, 17),
                Column("Baseline finish", DATE, 12),
                Column("Finish variance (working days)", "0", 12),
                Column("% of duration", DAYS, 10),
                *_money_cols("Baseline cost", "Cost variance"),
            ],
            lambda: (
                [
                    p.key,
                    b.role,
                    b.number,
                    b.approved_at,
                    b.baseline_finish,
                    b.finish_variance_working_days,
                    b.finish_variance_percent,
                    b.baseline_cost,
                    b.cost_variance,
                ]
                for p in projects
                for b in p.measures.baseline_comparison
            ),
        ),
        (
            "Health",
            [
                key,
                Column("Schedule", width=22),
                Column("DCMA", "0", 6),
                Column("Check", width=26),
                Column("Result", width=10),
                Column("Flagged", "0", 8),
                Column("Population", "0", 10),
                Column("Value", RATIO, 10),
                Column("Threshold", width=16),
                Column("Explanation", width=60),
            ],
            lambda: (
                [
                    p.key,
                    h.schedule,
                    c.dcma_number,
                    c.title,
                    "n/a" if c.passed is None else ("pass" if c.passed else "fail"),
                    c.flagged,
                    c.population,
                    c.metric,
                    c.threshold_text,
                    c.explanation,
                ]
                for p in projects
                for h in p.measures.health
                for c in h.checks
            ),
        ),
        (
            "Exceptions",
            [
                key,
                Column("Kind", width=20),
                Column("Severity", width=10),
                Column("Records", width=40),
                Column("Detail", width=70),
            ],
            lambda: (
                [p.key, x.kind, x.severity, ", ".join(x.records), x.description]
                for p in projects
                for x in p.measures.exceptions
            ),
        ),
        (
            "Freshness",
            [
                key,
                Column("Source", width=20),
                Column("System", width=14),
                Column("Last sync (UTC)", MOMENT, 17),
                Column("Stale", width=7),
                Column("Note", width=40),
            ],
            lambda: (
                [p.key, f.source, f.system, f.last_sync, f.stale, f.note]
                for p in projects
                for f in p.freshness
            ),
        ),
    ]


def _appendix_sheets(report: Report) -> list[Sheet]:
    return [
        (
            "Data gaps",
            [
                Column("Project", width=12),
                Column("Source", width=20),
                Column("What is missing at the status date", width=90),
            ],
            lambda: ([g.project, g.source or "(every source)", g.note] for g in report.meta.gaps),
        ),
        (
            "Sources",
            [
                Column("Source", width=20),
                Column("Type", width=16),
                Column("Last successful sync (UTC)", MOMENT, 20),
            ],
            lambda: ([s.name, s.type, s.last_successful_sync] for s in report.appendix.sources),
        ),
        (
            "Sync runs",
            [
                Column("Run", width=16),
                Column("Source", width=20),
                Column("Started (UTC)", MOMENT, 17),
                Column("Finished (UTC)", MOMENT, 17),
                Column("Status", width=10),
                Column("Records", "0", 10),
                Column("Note", width=40),
            ],
            lambda: (
                [r.run, r.source, r.started_at, r.finished_at, r.status, r.records, r.note]
                for r in report.appendix.sync_runs
            ),
        ),
    ]


def _rollup_sheets(report: Report) -> list[Sheet]:
    groups = (
        report.rollup.by_tier + report.rollup.by_sponsor + report.rollup.by_status if report.rollup else []
    )
    exceptions = report.rollup.exceptions if report.rollup else []
    rags = ("red", "amber", "green", "grey")
    return [
        (
            "Roll-up",
            [
                Column("Group by", width=10),
                Column("Value", width=20),
                Column("Projects", "0", 9),
                *_money_cols("Budget", "Actual", "Committed", "Forecast"),
                *(Column(formatting.rag_word(rag), "0", 8) for rag in rags),
            ],
            lambda: (
                [
                    g.group_by,
                    g.value,
                    g.project_count,
                    g.budget_at_completion,
                    g.actual_to_date,
                    g.commitments,
                    g.forecast_at_completion,
                    *(g.status_counts.get(rag, 0) for rag in ("red", "amber", "green", "grey")),
                ]
                for g in groups
            ),
        ),
        (
            "Unowned",
            [
                Column("Kind", width=20),
                Column("Severity", width=10),
                Column("Records", width=50),
                Column("Detail", width=80),
            ],
            lambda: ([x.kind, x.severity, ", ".join(x.records), x.description] for x in exceptions),
        ),
    ]


def sheets(report: Report) -> list[Sheet]:
    """Every sheet after "About" and the oversight sheets (:mod:`.xlsx_oversight`), in workbook order."""
    return (
        _portfolio_sheets(report)
        + _rollup_sheets(report)
        + _project_sheets(report)
        + _appendix_sheets(report)
    )
