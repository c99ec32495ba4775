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


#: a column in short: (title, width) or (title, number format, width); a Column passes as it is
ColumnSpec = Column | tuple[str, int] | tuple[str, str, int]


def columns(*specs: ColumnSpec) -> list[Column]:
    """A sheet's columns from short specs, so a sheet reads as its titles and widths, not as a
    repeated constructor call per column."""
    result = []
    for spec in specs:
        if isinstance(spec, Column):
            result.append(spec)
        elif len(spec) == 2:
            result.append(Column(spec[0], width=spec[1]))
        else:
            result.append(Column(spec[0], spec[1], spec[2]))
    return result


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
            columns(
                key,
                ("Name", 30),
                ("Program", 14),
                ("Tier", 9),
                *(Column(n, width=12) for n in ("Schedule", "Cost", "Scope", "Risk", "Overall", "Trend")),
                ("Previous overall", 12),
                ("Why", 50),
                ("Currency", 9),
                *_money_cols("Budget", "Actual", "Forecast"),
                ("Next milestone", 28),
                ("Next milestone date", DATE, 12),
                ("Needs attention", 10),
                ("Lifecycle", 11),
                ("% complete", DAYS, 10),
                ("% complete basis", 40),
            ),
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
            columns(
                key,
                ("Kind", 18),
                ("Change", 60),
                ("Before", 14),
                ("After", 14),
                ("Amount", MONEY, 15),
                ("Period", 10),
                ("Records", 40),
            ),
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
            columns(
                key,
                ("Dimension", 12),
                ("RAG", 12),
                ("Why", 70),
                ("Rule", 50),
            ),
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
            columns(
                key,
                ("Milestone", 34),
                ("Record", 24),
                ("Baseline finish", DATE, 12),
                ("Current finish", DATE, 12),
                ("Actual finish", DATE, 12),
                ("Variance (working days)", "0", 12),
                ("State", 12),
                ("Explanation", 50),
            ),
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
            columns(
                key,
                ("Status date", DATE, 12),
                ("Currency", 9),
                *_money_cols("BAC", "PV", "EV", "AC", "SV", "CV"),
                ("SPI", RATIO, 8),
                ("CPI", RATIO, 8),
                *_money_cols("EAC", "ETC", "VAC"),
                ("TCPI", RATIO, 8),
                ("EAC formula", 50),
                ("Basis", 40),
                ("% complete (EV ÷ BAC)", DAYS, 10),
                ("% spent (AC ÷ BAC)", DAYS, 10),
            ),
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
            columns(
                key,
                ("Lifecycle", 11),
                ("Finish method", 11),
                ("Baseline finish", DATE, 12),
                ("Forecast finish", DATE, 12),
                ("Variance (working days)", "0", 12),
                ("At least (working days late)", "0", 12),
                ("50 % finish", DATE, 12),
                ("85 % finish", DATE, 12),
                ("Weekly throughput", 20),
                ("Finish forecast", 60),
                *_money_cols("Actual", "Open commitments", "Actual + commitments", "Forecast at completion"),
                ("Raised to actual + commitments", 10),
                ("% spent (actual ÷ BAC)", DAYS, 10),
                ("% spent and committed", DAYS, 10),
            ),
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
            columns(
                key,
                ("Method", 36),
                *_money_cols("EAC"),
                ("Formula", 80),
                ("Rates", 14),
            ),
            lambda: (
                [p.key, v.label, v.value, v.formula, v.rates]
                for p in projects
                for v in p.measures.cost.eac_variants
            ),
        ),
        (
            "EVM by period",
            columns(
                key,
                ("Period", 10),
                ("From (exclusive)", DATE, 12),
                ("To", DATE, 12),
                *_money_cols("PV", "EV", "AC (burn)"),
                ("SPI", RATIO, 8),
                ("CPI", RATIO, 8),
                ("This period", 8),
            ),
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
            columns(
                key,
                ("Category", 24),
                ("Fiscal year", 10),
                ("Fiscal period", 10),
                *_money_cols("Budget", "Actual", "Committed", "Forecast", "Remaining"),
                ("Month", 9),
                ("Forecast rule", 60),
            ),
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
            columns(
                key,
                ("Risk", 40),
                ("Ref", 24),
                ("Owner", 18),
                ("Status", 14),
                ("Probability", RATIO, 10),
                ("Impact", RATIO, 10),
                ("Score", RATIO, 8),
                ("Due", DATE, 12),
                ("Mitigation", 40),
            ),
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
            columns(
                key,
                ("Issue", 40),
                ("Ref", 24),
                ("Owner", 18),
                ("Status", 14),
                ("Priority", 14),
                ("Due", DATE, 12),
            ),
            lambda: (
                [p.key, i.title, i.ref, i.owner, i.status, i.priority, i.due]
                for p in projects
                for i in p.issues
            ),
        ),
        (
            "Decisions",
            columns(
                key,
                ("Decision", 40),
                ("Ref", 24),
                ("Decided by", 18),
                ("Decided on", DATE, 12),
                ("Status", 14),
            ),
            lambda: (
                [p.key, d.title, d.ref, d.decided_by, d.decided_on, d.status]
                for p in projects
                for d in p.decisions
            ),
        ),
        (
            "Actions",
            columns(
                key,
                ("Action", 40),
                ("Ref", 24),
                ("Owner", 18),
                ("Due", DATE, 12),
                ("Status", 14),
                ("Overdue", 9),
            ),
            lambda: (
                [p.key, a.title, a.ref, a.owner, a.due, a.status, a.overdue]
                for p in projects
                for a in p.actions
            ),
        ),
        (
            "Baselines",
            columns(
                key,
                ("When (UTC)", MOMENT, 17),
                ("Action", 12),
                ("Baseline", "0", 9),
                ("By", 18),
                ("Change request", 14),
                ("Reason", 40),
                ("Replaces", "0", 9),
                ("Used", 7),
            ),
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
            columns(
                key,
                ("Baseline", 10),
                ("Number", "0", 8),
                ("Approved (UTC)", MOMENT, 17),
                ("Baseline finish", DATE, 12),
                ("Finish variance (working days)", "0", 12),
                ("% of duration", DAYS, 10),
                *_money_cols("Baseline cost", "Cost variance"),
            ),
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
            columns(
                key,
                ("Schedule", 22),
                ("DCMA", "0", 6),
                ("Check", 26),
                ("Result", 10),
                ("Flagged", "0", 8),
                ("Population", "0", 10),
                ("Value", RATIO, 10),
                ("Threshold", 16),
                ("Explanation", 60),
            ),
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
            columns(
                key,
                ("Kind", 20),
                ("Severity", 10),
                ("Records", 40),
                ("Detail", 70),
            ),
            lambda: (
                [p.key, x.kind, x.severity, ", ".join(x.records), x.description]
                for p in projects
                for x in p.measures.exceptions
            ),
        ),
        (
            "Freshness",
            columns(
                key,
                ("Source", 20),
                ("System", 14),
                ("Last sync (UTC)", MOMENT, 17),
                ("Stale", 7),
                ("Note", 40),
            ),
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
            columns(
                ("Project", 12),
                ("Source", 20),
                ("What is missing at the status date", 90),
            ),
            lambda: ([g.project, g.source or "(every source)", g.note] for g in report.meta.gaps),
        ),
        (
            "Sources",
            columns(
                ("Source", 20),
                ("Type", 16),
                ("Last successful sync (UTC)", MOMENT, 20),
            ),
            lambda: ([s.name, s.type, s.last_successful_sync] for s in report.appendix.sources),
        ),
        (
            "Sync runs",
            columns(
                ("Run", 16),
                ("Source", 20),
                ("Started (UTC)", MOMENT, 17),
                ("Finished (UTC)", MOMENT, 17),
                ("Status", 10),
                ("Records", "0", 10),
                ("Note", 40),
            ),
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
            columns(
                ("Group by", 10),
                ("Value", 20),
                ("Projects", "0", 9),
                *_money_cols("Budget", "Actual", "Committed", "Forecast"),
                *(Column(formatting.rag_word(rag), "0", 8) for rag in rags),
            ),
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
            columns(
                ("Kind", 20),
                ("Severity", 10),
                ("Records", 50),
                ("Detail", 80),
            ),
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
