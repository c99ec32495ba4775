"""The portfolio roll-up: totals and counts by tier, sponsor and status, and the trend since last period.

The trend compares each project's RAG with what it was at the previous status date, computed from the
store's history (``as_of`` reads), never by re-reading sources — so a past period's report can be
rebuilt exactly and the arrows never depend on when the sources were last synced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pmsync.config import PmsyncConfig
from pmsync.model import CostLine, WorkItem
from pmsync.reconcile.crosscheck import unattributed_items, unowned_spend
from pmsync.reconcile.figures import end_of_day
from pmsync.reconcile.governance import GovernanceConfig, status_rank
from pmsync.reconcile.measures import measure_project
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
from pmsync.store import Store

ZERO = Decimal(0)
DIMENSIONS: tuple[Dimension, ...] = ("schedule", "cost", "scope", "risk", "overall")


def previous_period_end(status_date: date) -> date:
    """The last day of the month before ``status_date``'s month (the previous monthly report)."""
    return status_date.replace(day=1) - timedelta(days=1)


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


def measure_portfolio(
    store: Store,
    config: PmsyncConfig,
    status_date: date,
    *,
    as_of: datetime | None = None,
    projects: Sequence[str] | None = None,
    with_trend: bool = True,
    governance: GovernanceConfig | None = None,
) -> tuple[list[ProjectMeasures], PortfolioRollup]:
    """Measures of every configured project (or those named) and the roll-up with last period's trend."""
    governance = governance or governance_for(config)
    chosen = [p for p in config.projects if projects is None or p.key in projects]
    measures = [measure_project(store, p, status_date, governance=governance, as_of=as_of) for p in chosen]
    previous: dict[str, ProjectMeasures] | None = None
    before = previous_period_end(status_date)
    if with_trend:
        moment = end_of_day(before) if as_of is None else min(end_of_day(before), as_of)
        previous = {
            p.key: measure_project(store, p, before, governance=governance, as_of=moment) for p in chosen
        }
    keys = [p.key for p in config.projects]
    exceptions = unowned_spend(store.iter_records(CostLine, as_of=as_of), keys)
    exceptions += unattributed_items(store.iter_records(WorkItem, as_of=as_of))
    return measures, rollup(
        measures,
        status_date,
        previous=previous,
        previous_status_date=before if with_trend else None,
        currency=config.portfolio.currency,
        exceptions=exceptions,
    )
