"""The report model: everything an oversight report says, as data, before any rendering.

One :class:`Report` per period and scope: a portfolio page (one :class:`PortfolioRow` per project,
projects needing attention first), one :class:`ProjectSection` per project, the changes since the
previous report, and an :class:`Appendix` that makes every figure traceable (sources, sync runs,
baselines used). Writers (HTML, XLSX, PDF, JSON) only render this model; they compute nothing.

The numbers are reconcile's: each section carries the :class:`~pmsync.reconcile.results.ProjectMeasures`
verbatim (RAG ratings with rule and explanation, milestones, EVM and S-curve, cost by category, schedule
health, reconciliation exceptions, baseline history). The report adds what reconcile does not own: the
PM's narrative, the RAID log, data freshness, and the changes since the previous period.

The model is also the JSON writer's output and the source of the published ``report.schema.json``,
so field names are part of pmsync's public interface: add fields, do not rename them.

Conventions (as in reconcile's results): money is ``Decimal`` (in JSON an exact decimal string), dates
are ISO dates, moments are UTC datetimes;
lists are already in display order, so rendering is deterministic.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pmsync.reconcile.oversight_results import OversightMeasures
from pmsync.reconcile.results import (
    ExceptionKind,
    PortfolioRollup,
    ProjectMeasures,
    RagRating,
    RagStatus,
    RagStatuses,
    ReconciliationException,
    Severity,
    Trend,
)

#: money: exact in Python, an exact decimal string in JSON (as in reconcile's results)
Money = Decimal

ChangeKind = Literal[
    "status_change",
    "milestone_slipped",
    "new_risk",
    "rebaseline",
    "new_project",
    "restatement",
    "cio_rating",
    "finding_raised",
    "finding_closed",
    "trigger_tripped",
    "gate_decision",
]
#: lifecycle states reported apart from active work
NOT_ACTIVE = ("closing", "closed", "cancelled")

NO_NARRATIVE = "No narrative provided."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreState(_Model):
    """Which state of the store the report was built from, so it can be rebuilt exactly.

    Two times: ``as_of`` is *recorded* time (what pmsync knew: ``pmsync report --as-of`` with this
    moment rebuilds the report exactly); ``valid_at`` is *valid* time (the end of the status date in
    the agency's time zone: the moment the figures describe at the sources)."""

    as_of: datetime
    #: the end of the status date in the agency's time zone (UTC); the state the report describes
    valid_at: datetime | None = None
    #: the newest change in the store at or before ``as_of`` (the report's data timestamp)
    data_through: datetime | None = None
    #: the newest successful sync run at or before ``as_of``
    last_sync_run: str | None = None


class DataGap(_Model):
    """A project (and source) with no data valid at the status date: the report cannot say where it
    stood, and says so instead of rating it."""

    project: str
    #: the source without data, or ``None`` when the project has no data from any source
    source: str | None = None
    note: str


class ReportMeta(_Model):
    title: str
    portfolio: str
    period: str
    period_start: date
    period_end: date
    status_date: date
    previous_period: str
    previous_as_of: datetime
    scope: Literal["portfolio", "program", "projects"]
    #: the program reported on when ``scope`` is "program"
    program: str | None = None
    projects: list[str]
    currency: str
    #: a timestamp taken from the data (never the wall clock), so re-runs are byte-identical
    generated_at: datetime
    store: StoreState
    pmsync_version: str
    stale_after_hours: float
    #: sources not synced successfully within ``stale_after_hours`` of the report's moment
    stale_sources: list[str] = Field(default_factory=list)
    #: the agency's time zone (pmsync.yaml ``reporting.time_zone``): the status date is a day there
    time_zone: str = "UTC"
    #: projects or sources with no data valid at the status date; ``pmsync report --publish``
    #: refuses to publish a report with gaps unless ``--allow-incomplete`` is given
    gaps: list[DataGap] = Field(default_factory=list)


class MilestoneRef(_Model):
    name: str
    date: dt.date
    baseline_date: dt.date | None = None


class PortfolioRow(_Model):
    """One project on the portfolio page (a flat row: what dashboards and the status list need)."""

    key: str
    name: str
    program: str | None = None
    tier: str | None = None
    sponsor: str | None = None
    manager: str | None = None
    schedule: RagRating
    cost: RagRating
    scope: RagRating
    risk: RagRating
    overall: RagRating
    previous_overall: RagStatus | None = None
    trend: Trend = "new"
    currency: str = "USD"
    budget: Money | None = None
    actual: Money | None = None
    forecast: Money | None = None
    next_milestone: MilestoneRef | None = None
    #: red or amber (or worsening) *active* work; closing, closed and cancelled projects are apart
    needs_attention: bool = False
    #: planning, executing, on_hold, closing, closed, cancelled (see reconcile.results.Lifecycle)
    lifecycle: str = "executing"
    #: the project's one % complete and what it is
    percent_complete: float | None = None
    percent_complete_basis: str = ""
    #: oversight (see ProjectSection.oversight): the CIO's 1-5 rating, the status the report leads with
    #: (the CIO's when it overrides, else ``overall``), criticality, gate, and a tripped trigger
    cio_rating: int | None = None
    effective_overall: RagStatus | None = None
    criticality: str | None = None
    current_gate: str | None = None
    reapproval_required: bool = False
    open_findings: int = 0

    def ratings(self) -> list[RagRating]:
        return [self.schedule, self.cost, self.scope, self.risk, self.overall]


class PortfolioTotals(_Model):
    projects: int = 0
    budget: Money = Decimal(0)
    actual: Money = Decimal(0)
    forecast: Money = Decimal(0)
    #: count of projects by overall RAG (green, amber, red, grey: all four keys always present)
    by_overall: dict[str, int] = Field(default_factory=dict)
    #: totals are only meaningful in one currency; other-currency projects are counted here
    excluded_other_currency: list[str] = Field(default_factory=list)


class ExecutiveSummary(_Model):
    narrative: str | None = None
    #: where the narrative came from: ``narrative_file <path>`` or ``source <system:instance:id>``
    narrative_source: str | None = None

    @property
    def text(self) -> str:
        return self.narrative if self.narrative else NO_NARRATIVE


class RiskRow(_Model):
    title: str
    ref: str
    owner: str | None = None
    status: str | None = None
    probability: float | None = None
    impact: float | None = None
    score: float | None = None
    due: date | None = None
    mitigation: str | None = None
    raised_on: date | None = None


class IssueRow(_Model):
    title: str
    ref: str
    owner: str | None = None
    status: str | None = None
    priority: str | None = None
    due: date | None = None
    raised_on: date | None = None


class DecisionRow(_Model):
    title: str
    ref: str
    decided_by: str | None = None
    decided_on: date | None = None
    status: str | None = None
    description: str | None = None


class ActionRow(_Model):
    title: str
    ref: str
    owner: str | None = None
    status: str | None = None
    due: date | None = None
    overdue: bool = False


class SourceFreshness(_Model):
    source: str
    system: str | None = None
    last_sync: datetime | None = None
    stale: bool = True
    note: str = ""


class Change(_Model):
    """A change since the previous report, computed from store history (never from the sources)."""

    project: str
    kind: ChangeKind
    text: str
    before: str | None = None
    after: str | None = None
    #: for a restatement: the net change in money (negative = down), the month restated, the lines
    amount: Money | None = None
    period: str | None = None
    records: list[str] = Field(default_factory=list)


class ExceptionGroup(_Model):
    """The reconciliation exceptions of one rule on one project: how many, and the worst few."""

    kind: ExceptionKind
    #: the rule in words
    rule: str
    #: the most severe of the group
    severity: Severity
    count: int
    #: the worst examples (all of them are in ``measures.exceptions`` and the appendix)
    examples: list[ReconciliationException] = Field(default_factory=list)


class ProjectSection(_Model):
    key: str
    name: str
    #: reconcile's figures for the period, verbatim
    measures: ProjectMeasures
    trend: Trend = "new"
    summary: ExecutiveSummary = Field(default_factory=ExecutiveSummary)
    risks: list[RiskRow] = Field(default_factory=list)
    issues: list[IssueRow] = Field(default_factory=list)
    decisions: list[DecisionRow] = Field(default_factory=list)
    actions: list[ActionRow] = Field(default_factory=list)
    freshness: list[SourceFreshness] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    #: ``measures.exceptions`` grouped by rule, worst examples first (see report.exceptions)
    exception_groups: list[ExceptionGroup] = Field(default_factory=list)
    #: criticality, gates, CIO rating, independent findings, contracts, funding, staffing, benefits and
    #: escalation triggers (reconcile.oversight)
    oversight: OversightMeasures | None = None

    @property
    def rag(self) -> RagStatuses:
        return self.measures.rag


class SourceEntry(_Model):
    name: str
    type: str
    last_successful_sync: datetime | None = None


class SyncRunEntry(_Model):
    run: str
    source: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str
    records: int | None = None
    note: str = ""


class BaselineUsed(_Model):
    project: str
    number: int | None = None
    source: str | None = None
    approved_at: datetime | None = None


class Appendix(_Model):
    sources: list[SourceEntry] = Field(default_factory=list)
    sync_runs: list[SyncRunEntry] = Field(default_factory=list)
    baselines: list[BaselineUsed] = Field(default_factory=list)


class FrontPageItem(_Model):
    project: str
    name: str
    text: str


class FrontPage(_Model):
    """The committee's one page: the portfolio at a glance, the triggers tripped and the decisions
    the committee is asked to make (all drawn from the project sections)."""

    #: projects by the status the report leads with (the CIO's where it overrides)
    by_status: dict[str, int] = Field(default_factory=dict)
    by_criticality: dict[str, int] = Field(default_factory=dict)
    triggers_tripped: list[FrontPageItem] = Field(default_factory=list)
    decisions_needed: list[FrontPageItem] = Field(default_factory=list)
    #: projects whose CIO rating overrides a different computed status
    cio_overrides: list[FrontPageItem] = Field(default_factory=list)
    #: the jurisdiction preset applied and its public sources
    preset: str | None = None
    preset_source: str | None = None


class Report(_Model):
    """One oversight report; the JSON writer emits exactly this."""

    schema_version: Literal[1] = 1
    meta: ReportMeta
    portfolio: list[PortfolioRow] = Field(default_factory=list)
    totals: PortfolioTotals = Field(default_factory=PortfolioTotals)
    #: reconcile's roll-up: totals by tier, sponsor and status, trends, attention order, and (for the
    #: whole portfolio) spend and work no project owns
    rollup: PortfolioRollup | None = None
    projects: list[ProjectSection] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    appendix: Appendix = Field(default_factory=Appendix)
    front_page: FrontPage = Field(default_factory=FrontPage)
