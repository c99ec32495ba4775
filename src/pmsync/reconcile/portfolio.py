"""The portfolio: every project measured now and at the previous report, rolled up (totals and counts by
tier, sponsor and status) with the trend since the previous report (:func:`measure_portfolio`).

The trend compares each project's RAG with what it was at the previous status date, computed from the
store's history (``as_of`` reads), never by re-reading sources — so a past period's report can be
rebuilt exactly and the arrows never depend on when the sources were last synced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Literal, Protocol

from pmsync.config import PmsyncConfig, ProjectConfig
from pmsync.errors import PmsyncError
from pmsync.model import WorkItem
from pmsync.reconcile.crosscheck import unattributed_items, unowned_spend
from pmsync.reconcile.governance import status_rank
from pmsync.reconcile.measures import measure_project
from pmsync.reconcile.oversight import reads_spend
from pmsync.reconcile.results import (
    Dimension,
    PortfolioRollup,
    ProjectMeasures,
    ProjectTrend,
    RagStatus,
    ReconciliationException,
    RollupGroup,
    StatusChange,
    Trend,
)
from pmsync.reconcile.riskscale import governance_for
from pmsync.reconcile.two_processes import each_in_two_processes, splits
from pmsync.store import Store, TotalsBy

ZERO = Decimal(0)
DIMENSIONS: tuple[Dimension, ...] = ("schedule", "cost", "scope", "risk", "overall")


def trend_of(previous: RagStatus | None, current: RagStatus) -> Trend:
    if previous is None or previous == "grey":
        return "new" if current != "grey" else "unchanged"
    if current == "grey" or previous == current:
        return "unchanged"
    return "worsening" if status_rank(current) > status_rank(previous) else "improving"


def project_trend(current: ProjectMeasures, previous: ProjectMeasures | None) -> ProjectTrend:
    changes = []
    for dimension in DIMENSIONS:
        now = getattr(current.rag, dimension).status
        before = getattr(previous.rag, dimension).status if previous else None
        changes.append(
            StatusChange(dimension=dimension, previous=before, current=now, trend=trend_of(before, now))
        )
    return ProjectTrend(
        project=current.project,
        previous_status_date=previous.status_date if previous else None,
        overall=changes[-1].trend,
        changes=changes,
    )


def _group(
    group_by: Literal["tier", "sponsor", "status"], measures: Iterable[ProjectMeasures]
) -> list[RollupGroup]:
    buckets: dict[str, list[ProjectMeasures]] = defaultdict(list)
    for m in measures:
        value = {"tier": m.tier, "sponsor": m.sponsor, "status": m.rag.overall.status}[group_by]
        buckets[value or "(none)"].append(m)
    order = {"red": 0, "amber": 1, "green": 2, "grey": 3, "small": 0, "medium": 1, "large": 2}
    return [
        RollupGroup(group_by=group_by, value=value, project_count=len(members), **_totals(members))
        for value, members in sorted(buckets.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))
    ]


def _totals(members: Sequence[ProjectMeasures]) -> dict[str, object]:
    counts = {"red": 0, "amber": 0, "green": 0, "grey": 0}
    for m in members:
        counts[m.rag.overall.status] += 1
    return {
        "budget_at_completion": sum((m.cost.budget_at_completion or ZERO for m in members), ZERO),
        "actual_to_date": sum((m.cost.actual_to_date for m in members), ZERO),
        "commitments": sum((m.cost.commitments for m in members), ZERO),
        "forecast_at_completion": sum(
            (m.cost.forecast_at_completion or m.cost.budget_at_completion or ZERO for m in members), ZERO
        ),
        "status_counts": counts,
    }


def attention_order(measures: Iterable[ProjectMeasures]) -> list[str]:
    """Red first, then amber, green, not rated; within a colour, the largest forecast overrun first."""

    def key(m: ProjectMeasures) -> tuple[int, Decimal, str]:
        overrun = -(m.cost.variance_at_completion or ZERO)
        rank = {"red": 0, "amber": 1, "green": 2, "grey": 3}[m.rag.overall.status]
        return (rank, -overrun, m.project)

    return [m.project for m in sorted(measures, key=key)]


def rollup(
    measures: Sequence[ProjectMeasures],
    status_date: date,
    *,
    previous: dict[str, ProjectMeasures] | None = None,
    previous_status_date: date | None = None,
    currency: str = "USD",
    exceptions: Sequence[ReconciliationException] = (),
) -> PortfolioRollup:
    totals = _totals(measures)
    trends = (
        [project_trend(m, (previous or {}).get(m.project)) for m in measures] if previous is not None else []
    )
    return PortfolioRollup(
        status_date=status_date,
        previous_status_date=previous_status_date,
        currency=currency,
        project_count=len(measures),
        by_tier=_group("tier", measures),
        by_sponsor=_group("sponsor", measures),
        by_status=_group("status", measures),
        trend=trends,
        attention_order=attention_order(measures),
        exceptions=list(exceptions),
        **totals,
    )


class MeasureProject(Protocol):
    """Computes one project's measures from the store as of a moment (:func:`measure_project` under a
    governance; tests and benchmarks may pass another)."""

    def __call__(
        self, store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
    ) -> ProjectMeasures: ...


def governed_measurer(config: PmsyncConfig) -> MeasureProject:
    """The default :class:`MeasureProject`: :func:`measure_project` under the config's governance."""
    governance = governance_for(config)

    def measure(
        store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
    ) -> ProjectMeasures:
        return measure_project(store, project, status_date, governance=governance, as_of=as_of)

    return measure


@dataclass(frozen=True)
class PortfolioReading:
    """The two states a portfolio is measured in: now (at ``status_date``, with what the store knew at
    ``as_of``) and at the previous report (``previous_status_date``, known at ``previous_as_of``).

    ``now`` and ``before`` are the store or valid-time views of it (:meth:`Store.at`). Which previous
    status date a portfolio is compared with is one rule, :func:`pmsync.report.moments.report_moments`:
    the previous reporting period's status date, as pmsync knew it when that period's report was last
    published (else at its status moment)."""

    now: Store
    status_date: date
    as_of: datetime
    before: Store
    previous_status_date: date
    previous_as_of: datetime


@dataclass(frozen=True)
class MeasuredProject:
    """One project's measures now and at the previous report (``None``: the store held nothing for it
    then, so it is new since, not "unchanged")."""

    project: ProjectConfig
    current: ProjectMeasures
    previous: ProjectMeasures | None


@dataclass(frozen=True)
class PortfolioMeasures:
    """Every project measured (in the roll-up's attention order) and the roll-up with its trend."""

    projects: list[MeasuredProject]
    rollup: PortfolioRollup


def measure_portfolio(
    reading: PortfolioReading,
    projects: Sequence[ProjectConfig],
    measure: MeasureProject,
    *,
    currency: str,
    owned: Sequence[str] | None = None,
) -> PortfolioMeasures:
    """Measure ``projects`` now and at the previous report, and roll them up with the trend between.

    The one portfolio orchestration: reports, tests and benchmarks all measure through it. ``owned``
    (the keys of every project the portfolio owns) adds the portfolio-wide exceptions: spend and work
    no project owns; leave it out when measuring a program or a few projects."""
    views = (reading.now, reading.before)
    split = splits(projects, views)  # on two cores when there are enough (reconcile/two_processes.py)
    if reading.now.valid_time is not None and reading.before.valid_time is not None:
        # both moments' cost totals from one scan of the ledger, before any project asks for them;
        # the spend totals that oversight figures read come from the same scan
        spend: list[TotalsBy] = ["spend"] if any(reads_spend(p) for p in projects) else []
        # Split, the totals are read here, before the fork: each process would scan the ledger for
        # itself, and the spend by task code too when items link task codes (read at the first
        # project linking one, in either half; one more GROUP BY in the same scan costs less than
        # a second scan, but 3 s at 10^6 lines when nothing links, hence the check).
        links = split and reading.now.work_items_link_elsewhere()
        task_codes: list[TotalsBy] = ["task_code"] if links else []
        reading.now.load_cost_totals(reading.before, together=["period", *spend, *task_codes], read_now=split)
    measured = each_in_two_processes(projects, partial(_measure_both, reading, measure=measure), views)
    exceptions: list[ReconciliationException] = []
    if owned is not None:
        exceptions = unowned_spend(reading.now.unowned_cost_lines(owned, as_of=reading.as_of), owned)
        exceptions += unattributed_items(reading.now.iter_records(WorkItem, as_of=reading.as_of))
    roll = rollup(
        [m.current for m in measured],
        reading.status_date,
        previous={m.project.key: m.previous for m in measured if m.previous is not None},
        previous_status_date=reading.previous_status_date,
        currency=currency,
        exceptions=exceptions,
    )
    order = {key: index for index, key in enumerate(roll.attention_order)}
    return PortfolioMeasures(sorted(measured, key=lambda m: order[m.project.key]), roll)


def _measure_both(
    reading: PortfolioReading, project: ProjectConfig, *, measure: MeasureProject
) -> MeasuredProject:
    try:
        current = measure(reading.now, project, reading.status_date, as_of=reading.as_of)
        before = measure(reading.before, project, reading.previous_status_date, as_of=reading.previous_as_of)
    except PmsyncError as exc:
        if exc.record is None:
            exc.record = f"project {project.key}"
        raise
    return MeasuredProject(project, current, before if had_data(before) else None)


def had_data(measures: ProjectMeasures) -> bool:
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
