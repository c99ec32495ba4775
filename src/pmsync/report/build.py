"""Store + config + period → :class:`~pmsync.report.model.Report`.

Every read is *as of* one moment (by default the last instant of the period), so the same period over
the same store gives the same report, and a past report rebuilds exactly from history. The figures
are reconcile's (:mod:`pmsync.reconcile.measures`); the previous period's figures, computed as of the
previous period's end, give the trend and the "changes since the last report".

Nothing here reads the wall clock except to decide staleness of a *current* period (a source cannot
be judged stale against a moment that has not happened yet); the report's own timestamp is the
moment its newest data arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal, Protocol

from pmsync import __version__, clock
from pmsync.config import PmsyncConfig, ProjectConfig
from pmsync.errors import ConfigError, PmsyncError
from pmsync.model import CostLine, Project, WorkItem
from pmsync.reconcile.crosscheck import unattributed_items, unowned_spend
from pmsync.reconcile.portfolio import rollup, trend_of
from pmsync.reconcile.results import ProjectMeasures, ReconciliationException
from pmsync.report.changes import changes_between, restatement_changes
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
from pmsync.report.oversight_changes import oversight_changes
from pmsync.report.period import Period, ReportingCalendar
from pmsync.report.sections import SyncHistory, executive_summary, open_risk_titles, raid_log
from pmsync.report.settings import ReportsConfig, load_reports_config
from pmsync.store import Store
from pmsync.suggest import choices_hint

log = logging.getLogger(__name__)


class MeasureProject(Protocol):
    """Computes one project's measures from the store as of a moment (reconcile's job)."""

    def __call__(
        self, store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
    ) -> ProjectMeasures: ...


def reconcile_measurer(config: PmsyncConfig) -> MeasureProject:
    """The default :class:`MeasureProject`: reconcile's ``measure_project`` under the config's governance."""
    from pmsync.reconcile.measures import measure_project
    from pmsync.reconcile.riskscale import governance_for

    governance = governance_for(config)

    def measure(
        store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
    ) -> ProjectMeasures:
        return measure_project(store, project, status_date, governance=governance, as_of=as_of)

    return measure


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


def _had_data(measures: ProjectMeasures) -> bool:
    """Whether the store held anything for the project at that moment (else it is new since then).
    Judged from the measures, which read every record type, rather than by probing the store again."""
    schedule, cost, risk = measures.schedule, measures.cost, measures.risk
    return bool(
        measures.baseline is not None
        or schedule.current_finish is not None
        or schedule.percent_complete is not None
        or cost.by_category
        or cost.actual_to_date
        or risk.open_risks
        or risk.open_issues
    )


@dataclass(frozen=True)
class ReportMoments:
    """The two times of a report and of the previous one it is compared with.

    ``known_at`` is recorded time (what pmsync knew: the end of the newest sync run finished by the
    build moment, so re-running the same report gives the same bytes); ``valid_at`` is valid time (the
    end of the status date in the agency's zone: the state the report describes). The previous report
    is the previous period's state as pmsync knew it when that report was last published (else at the
    previous status date)."""

    status_date: date
    known_at: datetime
    valid_at: datetime
    previous_status_date: date
    previous_known_at: datetime
    previous_valid_at: datetime


def report_moments(
    calendar: ReportingCalendar,
    period: Period,
    known_at: datetime,
    data_through: datetime | None,
    last_published: Callable[[str, datetime], datetime | None] | None = None,
) -> ReportMoments:
    """When a report for ``period`` built at ``known_at`` reads, in both times.

    The previous report is what the committee last saw of the previous period: its last publication
    (``last_published(name_prefix, before)``) when there was one, else the previous period's state as
    known at its status date."""
    read_at = min(data_through, known_at) if data_through is not None else known_at
    status_moment = calendar.status_moment(period)
    if status_moment <= known_at:
        # A closed period is described at its status date, however old the data (stale sources are
        # flagged). The report states the later of its data and its status moment as the moment it
        # read: nothing was recorded in between, and a rebuild ``--as-of`` it gives the same bytes.
        status_date = calendar.status_date(period)
        read_at = max(read_at, status_moment)
    else:
        # A period still running is described as of the newest data.
        status_date = min(calendar.status_date(period), calendar.local_date(read_at))
    valid_at = min(calendar.end_of_day(status_date), read_at)
    previous = period.previous()
    published = last_published(f"report-{previous.label}", read_at) if last_published else None
    previous_known = min(published or calendar.status_moment(previous), read_at)
    previous_status = min(calendar.status_date(previous), calendar.local_date(previous_known))
    return ReportMoments(
        status_date=status_date,
        known_at=read_at,
        valid_at=valid_at,
        previous_status_date=previous_status,
        previous_known_at=previous_known,
        previous_valid_at=min(calendar.end_of_day(previous_status), previous_known),
    )


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
    status date, with what the store knew at ``as_of`` (default: now; see :class:`ReportMoments`)."""
    settings = settings or load_reports_config(config)
    measure = measure or reconcile_measurer(config)
    calendar = ReportingCalendar(config.reporting)
    built_at = _utc(as_of) if as_of is not None else clock.now()
    history = SyncHistory(store, config, built_at, settings.sync_runs_listed)
    data_through = history.data_through
    # Baselines are captured and approved outside sync runs: the store's newest data includes them.
    baseline_write = store.newest_write(("baseline", "baseline_item"), built_at)
    if baseline_write is not None and (data_through is None or baseline_write > data_through):
        data_through = baseline_write
    moments = report_moments(calendar, period, built_at, data_through, store.last_published)
    as_of = moments.known_at
    status_date, previous_status_date = moments.status_date, moments.previous_status_date
    previous = period.previous()
    previous_as_of = moments.previous_known_at
    now_view = store.at(known_at=as_of, valid_at=moments.valid_at, valid_on=status_date)
    before_view = store.at(
        known_at=previous_as_of, valid_at=moments.previous_valid_at, valid_on=previous_status_date
    )
    keys = select_projects(config, now_view, projects, as_of, program)
    # Staleness is judged at the status moment: a source last synced ten days before a closed period's
    # status date (or before the newest data of a running one) is stale for this report.
    reference = moments.valid_at
    by_key: dict[str, ProjectConfig] = {p.key: p for p in config.projects}
    oversight = OversightReader(config, store, as_of)

    sections: list[ProjectSection] = []
    rows: list[PortfolioRow] = []
    current_all: list[ProjectMeasures] = []
    previous_all: dict[str, ProjectMeasures] = {}
    for key in keys:
        project = by_key.get(key) or ProjectConfig(key=key, name=key)
        try:
            current = measure(now_view, project, status_date, as_of=as_of)
            before: ProjectMeasures | None = measure(
                before_view, project, previous_status_date, as_of=previous_as_of
            )
        except PmsyncError as exc:
            if exc.record is None:
                exc.record = f"project {key}"
            raise
        if before is not None and not _had_data(before):
            before = None
        current_all.append(current)
        if before is not None:
            previous_all[key] = before
        raid = raid_log(now_view, key, as_of, status_date, settings.top_items)
        risks_before = open_risk_titles(before_view, key, previous_as_of) if before is not None else {}
        trend = trend_of(before.rag.overall.status if before else None, current.rag.overall.status)
        oversight_now = oversight.measure(now_view, project, current, status_date)
        oversight_before = (
            oversight.measure(before_view, project, before, previous_status_date) if before else None
        )
        section = ProjectSection(
            key=key,
            name=current.name,
            measures=current,
            trend=trend,
            summary=executive_summary(now_view, config, by_key.get(key), key, period, as_of),
            risks=raid.risks,
            issues=raid.issues,
            decisions=raid.decisions,
            actions=raid.actions,
            freshness=history.freshness(
                by_key.get(key), reference, settings.stale_after_hours, now_view, calendar
            ),
            exception_groups=group_exceptions(current.exceptions),
            oversight=oversight_now,
            changes=changes_between(
                key, current, before, raid.open_risk_keys, risks_before, previous_as_of, as_of
            )
            + (
                restatement_changes(store, key, current.currency, previous_as_of, as_of, before.status_date)
                if before is not None
                else []
            )
            + (oversight_changes(key, oversight_now, oversight_before) if oversight_now else []),
        )
        sections.append(section)
        rows.append(_portfolio_row(section, before))
    currency = config.portfolio.currency
    exceptions: list[ReconciliationException] = []
    scope: Literal["portfolio", "program", "projects"] = (
        "projects" if projects else "program" if program is not None else "portfolio"
    )
    if scope == "portfolio":  # spend and work no project owns concern the whole portfolio
        owned = [p.key for p in config.projects] or keys
        exceptions = unowned_spend(now_view.iter_records(CostLine, as_of=as_of), owned)
        exceptions += unattributed_items(now_view.iter_records(WorkItem, as_of=as_of))
    roll = rollup(
        current_all,
        status_date,
        previous=previous_all,
        previous_status_date=previous_status_date,
        currency=currency,
        exceptions=exceptions,
    )
    # reconcile's attention order: red, amber, green, not rated; the largest overrun first within each
    order = {key: index for index, key in enumerate(roll.attention_order)}
    rows.sort(key=lambda r: order[r.key])
    sections.sort(key=lambda s: order[s.key])
    meta = ReportMeta(
        title=settings.title,
        portfolio=config.portfolio.name,
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        status_date=status_date,
        previous_period=previous.label,
        previous_as_of=previous_as_of,
        scope=scope,
        program=program,
        projects=keys,
        currency=currency,
        generated_at=data_through or as_of,
        store=StoreState(
            as_of=as_of,
            valid_at=moments.valid_at,
            data_through=data_through,
            last_sync_run=history.last_run_id,
        ),
        pmsync_version=__version__,
        stale_after_hours=settings.stale_after_hours,
        stale_sources=sorted({f.source for s in sections for f in s.freshness if f.stale}),
        time_zone=config.reporting.time_zone,
        gaps=data_gaps(config, now_view, keys),
    )
    changes: list[Change] = [c for s in sections for c in s.changes]
    front = front_page(sections, oversight.settings if oversight.active else None)
    return Report(
        meta=meta,
        portfolio=rows,
        totals=_totals(rows, currency),
        projects=sections,
        changes=changes,
        rollup=roll,
        front_page=front,
        appendix=Appendix(
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
            baselines=[
                BaselineUsed(
                    project=s.key,
                    number=s.measures.baseline.number if s.measures.baseline else None,
                    source=(
                        f"{s.measures.baseline.system}:{s.measures.baseline.instance}"
                        if s.measures.baseline
                        else None
                    ),
                    approved_at=s.measures.baseline.approved_at if s.measures.baseline else None,
                )
                for s in sections
            ],
        ),
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
