"""Store + config + period → :class:`~pmsync.report.model.Report`.

Every read is *as of* one moment (by default the last instant of the period), so the same period over
the same store gives the same report, and a past report rebuilds exactly from history. The figures
are reconcile's, measured for the whole portfolio by :func:`pmsync.reconcile.portfolio.measure_portfolio`
now and at the previous report (which one: :mod:`pmsync.report.moments`); the difference gives the
trend and the "changes since the last report". Each part of the report has its own builder.

Nothing here reads the wall clock except to decide staleness of a *current* period (a source cannot
be judged stale against a moment that has not happened yet); the report's own timestamp is the
moment its newest data arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Literal

from pmsync import __version__, clock
from pmsync.config import PmsyncConfig, ProjectConfig
from pmsync.errors import ConfigError
from pmsync.model import Project
from pmsync.reconcile.oversight_results import OversightMeasures
from pmsync.reconcile.portfolio import (
    MeasuredProject,
    MeasureProject,
    PortfolioReading,
    governed_measurer,
    measure_portfolio,
    trend_of,
)
from pmsync.reconcile.restatements import Restatement, restatements_by_project
from pmsync.reconcile.results import ProjectMeasures
from pmsync.reconcile.two_processes import each_in_two_processes, splits
from pmsync.report.changes import changes_between, changes_of_restatements
from pmsync.report.exceptions import group_exceptions
from pmsync.report.front_page import OversightReader, front_page
from pmsync.report.gaps import data_gaps
from pmsync.report.model import (
    NOT_ACTIVE,
    Appendix,
    BaselineUsed,
    Change,
    MilestoneRef,
    PortfolioRow,
    PortfolioTotals,
    ProjectSection,
    Report,
    ReportMeta,
    SourceEntry,
    StoreState,
    SyncRunEntry,
)
from pmsync.report.moments import ReportMoments, reading_of, report_moments
from pmsync.report.oversight_changes import oversight_changes
from pmsync.report.period import Period, ReportingCalendar
from pmsync.report.sections import SyncHistory, executive_summary, open_risk_titles, raid_log
from pmsync.report.settings import ReportsConfig, load_reports_config
from pmsync.store import Store
from pmsync.suggest import choices_hint

log = logging.getLogger(__name__)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ConfigError(
            "--as-of needs a time zone", record="--as-of", hint="e.g. 2026-11-30T18:00:00+00:00"
        )
    return moment.astimezone(UTC)


def select_projects(
    config: PmsyncConfig,
    store: Store,
    keys: Sequence[str] | None,
    as_of: datetime,
    program: str | None = None,
) -> list[str]:
    """The projects in scope: those named, or a program's (from pmsync.yaml), else all."""
    known = [p.key for p in config.projects]
    if not known:  # no projects in pmsync.yaml: report what the sources know
        known = sorted({p.key for p in store.iter_records(Project, as_of=as_of)})
    if program is not None:
        members = sorted(p.key for p in config.projects if p.program == program)
        if not members:
            programs = sorted({p.program for p in config.projects if p.program})
            raise ConfigError(
                f"no project belongs to program {program!r}",
                record="--program",
                hint=f"programs in pmsync.yaml: {', '.join(programs) or 'none (set projects[].program)'}",
            )
        return members
    if not keys:
        return sorted(known)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ConfigError(
            f"unknown project {', '.join(unknown)}",
            record="--project",
            hint=choices_hint(unknown[0], sorted(known), "projects"),
        )
    return sorted(dict.fromkeys(keys))


def build_report(
    store: Store,
    config: PmsyncConfig,
    period: Period,
    *,
    projects: Sequence[str] | None = None,
    program: str | None = None,
    as_of: datetime | None = None,
    measure: MeasureProject | None = None,
    settings: ReportsConfig | None = None,
) -> Report:
    """Build the report for ``period`` (all projects, or ``projects``): the state valid at the period's
    status date, with what the store knew at ``as_of`` (default: now; see :mod:`pmsync.report.moments`).

    Each part of the report has its own builder below: the project sections, the portfolio table and
    totals, the report's meta data and the appendix."""
    settings = settings or load_reports_config(config)
    calendar = ReportingCalendar(config.reporting)
    built_at = _utc(as_of) if as_of is not None else clock.now()
    history = SyncHistory(store, config, built_at, settings.sync_runs_listed)
    data_through = _data_through(store, history, built_at)
    moments = report_moments(calendar, period, built_at, data_through, store.last_published)
    reading = reading_of(store, moments)
    keys = select_projects(config, reading.now, projects, moments.known_at, program)
    scope: Scope = "projects" if projects else "program" if program is not None else "portfolio"
    by_key = {p.key: p for p in config.projects}
    measured = measure_portfolio(
        reading,
        [by_key.get(key) or ProjectConfig(key=key, name=key) for key in keys],
        measure or governed_measurer(config),
        currency=config.portfolio.currency,
        # spend and work no project owns concern the whole portfolio only
        owned=([p.key for p in config.projects] or keys) if scope == "portfolio" else None,
    )
    oversight = OversightReader(config, store, reading.as_of)
    # a portfolio's restatements are read for every project; a few projects' for those only
    restated_of = None if scope == "portfolio" else tuple(keys)
    context = _ReportContext(
        store, config, settings, period, calendar, moments, reading, history, oversight, restated_of
    )
    sections = _project_sections(context, measured.projects)
    rows = [_portfolio_row(s, m.previous) for s, m in zip(sections, measured.projects, strict=True)]
    return Report(
        meta=_meta(context, data_through, scope, program, keys, sections),
        portfolio=rows,
        totals=_totals(rows, config.portfolio.currency),
        projects=sections,
        changes=[c for s in sections for c in s.changes],
        rollup=measured.rollup,
        front_page=front_page(sections, oversight.settings if oversight.active else None),
        appendix=_appendix(config, history, sections, reading.as_of),
    )


Scope = Literal["portfolio", "program", "projects"]


@dataclass(frozen=True)
class _ReportContext:
    """What every section builder reads from."""

    store: Store
    config: PmsyncConfig
    settings: ReportsConfig
    period: Period
    calendar: ReportingCalendar
    moments: ReportMoments
    reading: PortfolioReading
    history: SyncHistory
    oversight: OversightReader
    #: the projects whose restatements are read (``None``: every project's)
    projects: tuple[str, ...] | None = None
    #: restatements of every project by the status date they are judged through (one read each)
    _restated: dict[date, dict[str, list[Restatement]]] = field(default_factory=dict)

    def restated(self, through: date) -> dict[str, list[Restatement]]:
        """Every project's restated months up to ``through`` since the previous report, read once
        for the whole report rather than once per project."""
        if through not in self._restated:
            reading = self.reading
            self._restated[through] = restatements_by_project(
                self.store, reading.previous_as_of, reading.as_of, through, self.projects
            )
        return self._restated[through]


def _data_through(store: Store, history: SyncHistory, built_at: datetime) -> datetime | None:
    """The newest data the store held at ``built_at``: the newest successful sync, or a baseline
    captured or approved later (baselines are written outside sync runs)."""
    data_through = history.data_through
    baseline_write = store.newest_write(("baseline", "baseline_item"), built_at)
    if baseline_write is not None and (data_through is None or baseline_write > data_through):
        return baseline_write
    return data_through


def _project_sections(context: _ReportContext, measured: Sequence[MeasuredProject]) -> list[ProjectSection]:
    """Every project's section, in the order measured: the second half in a forked child when the
    portfolio was measured in two (each section reads its project's RAID log, oversight inputs and
    changes from the store: 1.2-1.3 s of one core at 500 projects, with the printing waiting).
    What both halves would each read for themselves is read before the fork."""
    reading = context.reading
    views = (reading.now, reading.before)
    if splits(measured, views):
        context.oversight.read_inputs(reading.now)
        context.oversight.read_inputs(reading.before)
        for through in sorted({m.previous.status_date for m in measured if m.previous is not None}):
            context.restated(through)
    return each_in_two_processes(
        measured,
        partial(_project_section, context),
        views,
        "building half of the projects' sections",
        name="pmsync-sections-half",
    )


def _project_section(context: _ReportContext, measured: MeasuredProject) -> ProjectSection:
    """One project's section: its measures, RAID log, freshness, exceptions, oversight and changes."""
    reading, settings = context.reading, context.settings
    project, current, before = measured.project, measured.current, measured.previous
    key = project.key
    configured = next((p for p in context.config.projects if p.key == key), None)
    raid = raid_log(reading.now, key, reading.as_of, reading.status_date, settings.top_items)
    oversight_now = context.oversight.measure(reading.now, project, current, reading.status_date)
    return ProjectSection(
        key=key,
        name=current.name,
        measures=current,
        trend=trend_of(before.rag.overall.status if before else None, current.rag.overall.status),
        summary=executive_summary(
            reading.now, context.config, configured, key, context.period, reading.as_of
        ),
        risks=raid.risks,
        issues=raid.issues,
        decisions=raid.decisions,
        actions=raid.actions,
        # Staleness is judged at the status moment: a source last synced ten days before a closed
        # period's status date (or before the newest data of a running one) is stale for this report.
        freshness=context.history.freshness(
            configured, context.moments.valid_at, settings.stale_after_hours, reading.now, context.calendar
        ),
        exception_groups=group_exceptions(current.exceptions),
        oversight=oversight_now,
        changes=_section_changes(context, measured, raid.open_risk_keys, oversight_now),
    )


def _section_changes(
    context: _ReportContext,
    measured: MeasuredProject,
    open_risk_keys: dict[str, str],
    oversight_now: OversightMeasures | None,
) -> list[Change]:
    """What changed since the previous report: figures and risks, restated history, oversight."""
    reading = context.reading
    key, current, before = measured.project.key, measured.current, measured.previous
    risks_before = open_risk_titles(reading.before, key, reading.previous_as_of) if before is not None else {}
    changes = changes_between(
        key, current, before, open_risk_keys, risks_before, reading.previous_as_of, reading.as_of
    )
    if before is not None:
        changes += changes_of_restatements(
            key, current.currency, context.restated(before.status_date).get(key, [])
        )
    if oversight_now:
        oversight_before = (
            context.oversight.measure(reading.before, measured.project, before, reading.previous_status_date)
            if before
            else None
        )
        changes += oversight_changes(key, oversight_now, oversight_before)
    return changes


def _meta(
    context: _ReportContext,
    data_through: datetime | None,
    scope: Scope,
    program: str | None,
    keys: list[str],
    sections: Sequence[ProjectSection],
) -> ReportMeta:
    """What the report is (period, scope, projects), what it read (the store's moments), and its gaps."""
    config, settings, period, moments = context.config, context.settings, context.period, context.moments
    return ReportMeta(
        title=settings.title,
        portfolio=config.portfolio.name,
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        status_date=moments.status_date,
        previous_period=period.previous().label,
        previous_as_of=moments.previous_known_at,
        scope=scope,
        program=program,
        projects=keys,
        currency=config.portfolio.currency,
        generated_at=data_through or moments.known_at,
        store=StoreState(
            as_of=moments.known_at,
            valid_at=moments.valid_at,
            data_through=data_through,
            last_sync_run=context.history.last_run_id,
        ),
        pmsync_version=__version__,
        stale_after_hours=settings.stale_after_hours,
        stale_sources=sorted({f.source for s in sections for f in s.freshness if f.stale}),
        time_zone=config.reporting.time_zone,
        gaps=data_gaps(config, context.reading.now, keys),
    )


def _appendix(
    config: PmsyncConfig, history: SyncHistory, sections: Sequence[ProjectSection], as_of: datetime
) -> Appendix:
    """The sources and their last successful sync, the sync runs up to ``as_of``, the baselines used."""
    return Appendix(
        sources=[
            SourceEntry(name=s.name, type=s.type, last_successful_sync=history.last_ok.get(s.name))
            for s in config.sources
        ],
        sync_runs=[
            SyncRunEntry(
                run=str(r.run_id),
                source=r.source_name,
                started_at=r.started_at,
                finished_at=r.finished_at if r.finished_at and r.finished_at <= as_of else None,
                status=r.status if not r.finished_at or r.finished_at <= as_of else "running",
                records=r.counts.inserted + r.counts.updated + r.counts.deleted + r.counts.unchanged,
                note=(r.error or "")[:300],
            )
            for r in history.runs
        ],
        baselines=[_baseline_used(s) for s in sections],
    )


def _baseline_used(section: ProjectSection) -> BaselineUsed:
    baseline = section.measures.baseline
    return BaselineUsed(
        project=section.key,
        number=baseline.number if baseline else None,
        source=f"{baseline.system}:{baseline.instance}" if baseline else None,
        approved_at=baseline.approved_at if baseline else None,
    )


def _portfolio_row(section: ProjectSection, before: ProjectMeasures | None) -> PortfolioRow:
    m = section.measures
    o = section.oversight
    nxt = m.schedule.next_milestone
    when = (nxt.current_finish or nxt.baseline_finish) if nxt is not None else None
    return PortfolioRow(
        key=section.key,
        name=m.name,
        program=m.program,
        tier=m.tier,
        sponsor=m.sponsor,
        manager=m.manager,
        schedule=m.rag.schedule,
        cost=m.rag.cost,
        scope=m.rag.scope,
        risk=m.rag.risk,
        overall=m.rag.overall,
        previous_overall=before.rag.overall.status if before else None,
        trend=section.trend,
        currency=m.currency,
        budget=m.cost.budget_at_completion,
        actual=m.cost.actual_to_date,
        forecast=m.cost.forecast_at_completion,
        next_milestone=(
            MilestoneRef(name=nxt.name, date=when, baseline_date=nxt.baseline_finish)
            if nxt is not None and when is not None
            else None
        ),
        needs_attention=m.lifecycle not in NOT_ACTIVE
        and (m.rag.overall.status in ("red", "amber") or section.trend == "worsening"),
        lifecycle=m.lifecycle,
        percent_complete=m.percent_complete,
        percent_complete_basis=m.percent_complete_basis,
        cio_rating=o.cio.rating if o is not None and o.cio is not None else None,
        effective_overall=o.effective_overall.status if o is not None else None,
        criticality=o.criticality.level if o is not None else None,
        current_gate=o.current_gate if o is not None else None,
        reapproval_required=o.reapproval_required if o is not None else False,
        open_findings=o.open_findings if o is not None else 0,
    )


def _totals(rows: Sequence[PortfolioRow], currency: str) -> PortfolioTotals:
    same = [r for r in rows if r.currency == currency]
    counts = {rag: 0 for rag in ("red", "amber", "green", "grey")}
    for row in rows:
        counts[row.overall.status] += 1
    return PortfolioTotals(
        projects=len(rows),
        budget=sum((r.budget or Decimal(0) for r in same), Decimal(0)),
        actual=sum((r.actual or Decimal(0) for r in same), Decimal(0)),
        forecast=sum((r.forecast or Decimal(0) for r in same), Decimal(0)),
        by_overall=counts,
        excluded_other_currency=sorted(r.key for r in rows if r.currency != currency),
    )
