"""What reconcile hands to reports: measures per project and the portfolio roll-up, as of a status date.

These models are a contract with ``pmsync.report`` (and, through the JSON writer, with anyone building a
dashboard), so they change only by adding optional fields.

Conventions (the same as :mod:`pmsync.model`):
- money is ``Decimal`` in the project's ``currency``; indices (SPI, CPI, BEI, TCPI) are ``float``;
- variances follow the EVM sign convention: **negative is bad** for cost and schedule variance in money
  (SV = EV − PV, CV = EV − AC, VAC = BAC − EAC), while date variances are in **working days, positive
  = late** (current or actual finish after the baseline finish), which is how committees read slips;
- a measure that cannot be computed (no baseline, nothing earned, a division by zero) is ``None``,
  never 0, and the RAG rating for it says why;
- every RAG rating carries the rule that produced it and the figures, in words (``explanation``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pmsync.model import SourceRef, Tier

RagStatus = Literal["green", "amber", "red", "grey"]
"""``grey``: not enough data to rate (e.g. no approved baseline); the explanation says what is missing."""

Dimension = Literal["schedule", "cost", "scope", "risk", "overall"]
MilestoneState = Literal["hit", "missed", "at_risk", "on_track", "no_baseline"]
"""- ``hit``: finished on or before its baseline finish;
- ``missed``: finished after its baseline finish, or not finished and its baseline finish has passed;
- ``at_risk``: not finished, baseline finish not yet passed, but the current forecast finish is later
  than the baseline finish;
- ``on_track``: not finished, forecast on or before the baseline finish;
- ``no_baseline``: the milestone is not in the baseline used."""
Trend = Literal["improving", "worsening", "unchanged", "new"]
EacMethod = Literal["cpi", "cpi_spi", "atypical", "commitments", "finance_forecast"]
Lifecycle = Literal["planning", "executing", "on_hold", "closing", "closed", "cancelled"]
"""- ``planning``: no work started yet; ``executing``: work under way (active work, rated);
- ``on_hold`` / ``cancelled``: set in pmsync.yaml only;
- ``closing``: every item done with an actual finish (derived), or set in pmsync.yaml;
- ``closed``: set in pmsync.yaml (financial close is a decision, not a figure).
Closing, closed and cancelled projects are reported apart from active work."""
ForecastMethod = Literal["schedule", "throughput", "floor", "none"]
Weighting = Literal["cost", "work_hours", "working_days", "equal"]
ExceptionKind = Literal[
    "no_counterpart",  # an item in one system with no linked item in the other
    "date_mismatch",  # linked items whose finish (or start) dates disagree
    "status_mismatch",  # e.g. Jira done while the schedule says 40 %
    "unowned_spend",  # spend booked to a project / task code no project owns
    "unattributed_record",  # a record the connector could not attribute to any project
    "broken_link",  # a link key that names an item that does not exist
]
Severity = Literal["info", "warning", "error"]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- baselines -------------------------------------------------------------------------------------


class BaselineInfo(_Result):
    """The baseline the measures were computed against."""

    number: int
    name: str | None = None
    #: "pmsync" for baselines captured by pmsync, "msproject" for Baseline0-10 imported from a schedule
    system: str
    instance: str
    captured_at: datetime | None = None
    approved: bool = False
    approved_by: str | None = None
    approved_at: datetime | None = None
    reason: str | None = None
    change_request: str | None = None
    item_count: int = 0


class BaselineEvent(_Result):
    """One entry of the baseline audit trail (captured, approved, re-baselined, imported)."""

    action: Literal["captured", "approved", "rebaselined", "imported"]
    number: int
    at: datetime | None = None
    by: str | None = None
    reason: str | None = None
    change_request: str | None = None
    #: for a re-baseline, the baseline it replaced as the approved one
    replaces: int | None = None


class BaselineVariance(_Result):
    """The forecast against one approved baseline: the original (first approved) or the current one.
    After a re-baseline both are reported side by side, so the variance the re-baseline absorbed stays
    visible (as Texas QAT and California's oversight reports show both initial and current estimates)."""

    role: Literal["original", "current"]
    number: int
    approved_at: datetime | None = None
    baseline_finish: date | None = None
    #: forecast (or actual) finish against this baseline, working days, positive = late
    finish_variance_working_days: int | None = None
    finish_variance_percent: float | None = None
    #: the baseline's own cost of its detail items (None when the baseline carries no cost)
    baseline_cost: Decimal | None = None
    #: baseline cost − forecast at completion (negative = over); None without a baseline cost
    cost_variance: Decimal | None = None


# --- schedule --------------------------------------------------------------------------------------


class MilestoneMeasure(_Result):
    source: SourceRef
    key: str | None = None
    name: str
    baseline_finish: date | None = None
    #: the schedule's current (forecast) finish
    current_finish: date | None = None
    actual_finish: date | None = None
    #: working days, positive = late; from actual finish when finished, else from current finish
    variance_working_days: int | None = None
    state: MilestoneState
    explanation: str


class FlowForecast(_Result):
    """A finish forecast for flow-managed work (a Jira backlog) from its recent weekly throughput.

    Each future week is assumed to deliver as many items as one of the ``weekly_throughput`` weeks,
    drawn with equal chance (resampling, as Monte Carlo throughput forecasts do; computed exactly here
    by convolution, so the dates are reproducible and checkable by hand)."""

    #: what is counted: "items" (done leaf items per week)
    basis: Literal["items"] = "items"
    #: weeks of history used, oldest first: done items in each of the weeks ending on the status date
    weekly_throughput: list[int] = Field(default_factory=list)
    remaining_items: int = 0
    #: weeks after the status date by which the remaining items are done with 50 % / 85 % probability
    p50_weeks: int | None = None
    p85_weeks: int | None = None
    p50_finish: date | None = None
    p85_finish: date | None = None
    #: the confidence whose date is the project's forecast finish
    rated_confidence: int = 85
    explanation: str = ""


class ScheduleMeasures(_Result):
    baseline_finish: date | None = None
    current_finish: date | None = None
    actual_finish: date | None = None
    #: project finish variance against the approved baseline, in working days, positive = late
    finish_variance_working_days: int | None = None
    #: working days from baseline start to baseline finish (for variance as a percentage of duration)
    baseline_duration_working_days: int | None = None
    finish_variance_percent: float | None = None
    #: detail items done ÷ detail items × 100, *by count*: not the project's % complete (that is
    #: ProjectMeasures.percent_complete, with its basis); reports label this "items done (by count)"
    percent_complete: float | None = None
    milestones: list[MilestoneMeasure] = Field(default_factory=list)
    milestones_hit: int = 0
    milestones_missed: int = 0
    milestones_at_risk: int = 0
    next_milestone: MilestoneMeasure | None = None
    #: baseline execution index: tasks finished / tasks whose baseline finish is on or before the status
    #: date (DCMA check 14); None when no task was due yet
    bei: float | None = None
    bei_tasks_completed: int = 0
    bei_tasks_due: int = 0
    #: how ``current_finish`` was forecast: "schedule" (the plan's dates), "throughput" (flow work, see
    #: ``flow_forecast``), "floor" (no defensible forecast: only a lower bound on the slip is known)
    forecast_method: ForecastMethod = "schedule"
    flow_forecast: FlowForecast | None = None
    #: when no defensible forecast exists and the baseline finish has passed with work open: the
    #: project is *at least* this many working days late (a floor, not a forecast)
    finish_variance_at_least_working_days: int | None = None
    #: the finish in words, with its method, e.g. "at least 27 working days late (no throughput ...)"
    forecast_explanation: str = ""


# --- cost ------------------------------------------------------------------------------------------


class CostBreakdownRow(_Result):
    """Budget, actual and commitment per category and fiscal period (None = not given by finance)."""

    category: str | None = None
    fiscal_year: int | None = None
    fiscal_period: int | None = None
    #: the calendar month of the period ("2026-10"), from the lines' period or posting date
    month: str | None = None
    budget: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    commitment: Decimal = Decimal(0)
    #: history: actual + committed; later periods: finance forecast, or the remaining forecast spread by
    #: budget (see reconcile.phasing and CostMeasures.forecast_phasing)
    forecast: Decimal = Decimal(0)
    #: False when there is no forecast for this period (then ``forecast`` is 0 and means nothing)
    forecast_known: bool = False


class EacVariant(_Result):
    """One estimate at completion (PMBOK Guide 6th ed. §7.4.2.2; GAO-20-195G asks for a range of EACs),
    with its formula in figures and whether it is the one the cost rating uses."""

    method: EacMethod
    label: str
    value: Decimal | None = None
    formula: str = ""
    rates: bool = False


class CostMeasures(_Result):
    currency: str = "USD"
    #: budget at completion: the approved budget (project config / source), else finance budget lines,
    #: else the baseline's cost; EVM uses the same BAC (see reconcile.valuation)
    budget_at_completion: Decimal | None = None
    bac_basis: str = ""
    actual_to_date: Decimal = Decimal(0)
    #: open commitments / encumbrances (purchase orders not yet invoiced)
    commitments: Decimal = Decimal(0)
    #: forecast at completion: finance forecast lines when present, else the EVM EAC
    forecast_at_completion: Decimal | None = None
    forecast_basis: str = ""
    #: BAC − forecast; negative = forecast overrun
    variance_at_completion: Decimal | None = None
    variance_at_completion_percent: float | None = None
    #: EVM cost variance EV − AC (negative = over cost); None without earned value
    cost_variance: Decimal | None = None
    cost_variance_percent: float | None = None
    #: actual to date as a share of BAC, 0..100+ (the one "percent spent"; see percent_spent_basis)
    percent_spent: float | None = None
    percent_spent_basis: str = "actual to date ÷ budget at completion × 100"
    #: (actual + open commitments) as a share of BAC: spent and committed
    percent_committed: float | None = None
    #: actual + open commitments: what the forecast at completion can never be below
    committed_floor: Decimal | None = None
    #: True when the forecast was raised to ``committed_floor`` (the method's EAC was lower)
    forecast_raised_to_floor: bool = False
    #: the EAC variants side by side; the one with ``rates`` is ``forecast_at_completion``'s source
    eac_variants: list[EacVariant] = Field(default_factory=list)
    by_category: list[CostBreakdownRow] = Field(default_factory=list)
    #: how the per-period forecast was made, in words ("" when there is none)
    forecast_phasing: str = ""


# --- earned value ----------------------------------------------------------------------------------


class EvmPoint(_Result):
    """One period of the S-curve; all values cumulative to ``period_end``. ``ev``/``ac`` are None for
    periods after the status date (only PV is planned into the future)."""

    period_end: date
    label: str
    pv: Decimal
    ev: Decimal | None = None
    ac: Decimal | None = None


class EvmPeriod(_Result):
    """PV, EV, AC earned in one period (the S-curve's increments), and that period's indices: the
    GAO Schedule and Cost guides ask for current-period figures beside cumulative ones, because
    cumulative indices hide recent performance."""

    start: date | None = None  # the previous period end (exclusive); None: from the start
    end: date
    label: str
    pv: Decimal
    ev: Decimal | None = None
    ac: Decimal | None = None
    spi: float | None = None
    cpi: float | None = None


class EvmMeasures(_Result):
    """Earned value per ANSI/EIA-748 and the PMI PMBOK Guide, as of ``status_date``."""

    status_date: date
    currency: str = "USD"
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    sv: Decimal
    cv: Decimal
    sv_percent: float | None = None
    cv_percent: float | None = None
    spi: float | None = None
    cpi: float | None = None
    eac: Decimal | None = None
    eac_method: EacMethod = "cpi"
    #: the EAC formula in words, e.g. "EAC = BAC / CPI = 1,000,000 / 0.80 = 1,250,000"
    eac_formula: str = ""
    etc: Decimal | None = None
    vac: Decimal | None = None
    #: to-complete performance index against BAC: (BAC − EV) / (BAC − AC)
    tcpi: float | None = None
    #: TCPI against the EAC: (BAC − EV) / (EAC − AC)
    tcpi_eac: float | None = None
    percent_complete: float | None = None
    percent_spent: float | None = None
    #: where PV/EV/AC came from, in words (baseline number, finance sources, the formula)
    basis: str = ""
    s_curve: list[EvmPoint] = Field(default_factory=list)
    #: where BAC came from: "approved budget", "finance budget lines" or "baseline cost"
    bac_basis: str = ""
    #: what spreads BAC over the baseline items for PV and EV: their baseline cost, or (for a baseline
    #: without cost) their work hours, working days or equal weights
    weighting: Weighting | None = None
    #: the baseline's own cost of the items carrying value (None when it carries no cost); when it
    #: differs from BAC, PV and EV are scaled to BAC so that they share AC's (finance) basis
    baseline_cost: Decimal | None = None
    #: how EV credits progress, in words (percentages, done, the 0/50/100 rule)
    progress_rule: str = ""
    #: the reporting period ending on the status date (since the previous month end)
    this_period: EvmPeriod | None = None
    #: every period up to the status date (monthly burn: ``ac`` is what was spent in that month)
    periods: list[EvmPeriod] = Field(default_factory=list)


# --- schedule health -------------------------------------------------------------------------------


class HealthFinding(_Result):
    """One work item flagged by one check."""

    check: str
    item: SourceRef
    key: str | None = None
    name: str
    detail: str


class HealthCheck(_Result):
    """One DCMA 14-point check on one schedule."""

    check: str  # e.g. "missing_logic"
    dcma_number: int
    title: str  # e.g. "Missing logic"
    #: tasks the check looked at (incomplete, non-summary tasks for most checks)
    population: int
    flagged: int
    #: the value compared with the threshold: a percentage for count checks, an index for CPLI/BEI
    metric: float | None = None
    threshold: float | None = None
    threshold_text: str
    #: None = not applicable (e.g. empty population, no status date)
    passed: bool | None = None
    explanation: str
    findings: list[HealthFinding] = Field(default_factory=list)


class ScheduleHealth(_Result):
    """The health assessment of one schedule (one source instance / scope)."""

    project: str | None = None
    schedule: str  # e.g. "msproject:erp-schedule"
    status_date: date
    task_count: int
    checks: list[HealthCheck] = Field(default_factory=list)
    passed: int = 0
    failed: int = 0
    not_applicable: int = 0


# --- cross-system reconciliation -------------------------------------------------------------------


class ReconciliationException(_Result):
    kind: ExceptionKind
    severity: Severity
    project: str | None = None
    #: the records concerned (source keys "system:instance:external_id")
    records: list[str] = Field(default_factory=list)
    #: one sentence a PM can act on, with the figures
    description: str
    #: the figures by name, e.g. {"jira_status": "done", "schedule_percent_complete": "40"}
    details: dict[str, str] = Field(default_factory=dict)


# --- scope and risk --------------------------------------------------------------------------------


class ScopeMeasures(_Result):
    baseline_items: int = 0
    current_items: int = 0
    items_added: int = 0
    items_removed: int = 0
    #: (added + removed) / baseline items × 100
    scope_change_percent: float | None = None
    #: re-baselines recorded after the first approved baseline
    rebaselines: int = 0


class RiskMeasures(_Result):
    open_risks: int = 0
    #: open risks whose score (or probability × impact) reaches the configured high threshold
    high_risks: int = 0
    overdue_risks: int = 0
    open_issues: int = 0
    overdue_issues: int = 0
    overdue_actions: int = 0


# --- governance ------------------------------------------------------------------------------------


class RagRating(_Result):
    dimension: Dimension
    status: RagStatus
    #: the rule applied, e.g. "cost (large tier): green below 5 %, amber from 5 %, red from 10 %"
    rule: str
    #: the figures in words and the outcome, e.g. "forecast overrun is 7.2 % ($180,000 over the
    #: $2,500,000 budget): amber because it is at least 5 % and below 10 %"
    explanation: str
    #: the figures the rule used, by name, as numbers (None = not available)
    figures: dict[str, float | None] = Field(default_factory=dict)
    #: dimension, figure and sign that decided the status, short, e.g.
    #: "cost: forecast 23.2 % under budget (threshold ±10 %)"; empty when green or not rated
    headline: str = ""


class RagStatuses(_Result):
    schedule: RagRating
    cost: RagRating
    scope: RagRating
    risk: RagRating
    overall: RagRating

    def as_list(self) -> list[RagRating]:
        return [self.schedule, self.cost, self.scope, self.risk, self.overall]


# --- per project and portfolio ---------------------------------------------------------------------


class ProjectMeasures(_Result):
    project: str
    name: str
    program: str | None = None
    tier: Tier | None = None
    sponsor: str | None = None
    manager: str | None = None
    currency: str = "USD"
    status_date: date
    #: the store's as-of moment the measures were read at (for rebuilding a past report exactly)
    as_of: datetime | None = None
    baseline: BaselineInfo | None = None
    baseline_history: list[BaselineEvent] = Field(default_factory=list)
    #: after a re-baseline: the variance against the original and the current approved baseline
    baseline_comparison: list[BaselineVariance] = Field(default_factory=list)
    schedule: ScheduleMeasures
    cost: CostMeasures
    evm: EvmMeasures | None = None
    scope: ScopeMeasures = Field(default_factory=ScopeMeasures)
    risk: RiskMeasures = Field(default_factory=RiskMeasures)
    health: list[ScheduleHealth] = Field(default_factory=list)
    exceptions: list[ReconciliationException] = Field(default_factory=list)
    rag: RagStatuses
    #: what could not be computed and why (e.g. "no approved baseline: schedule variance not rated")
    notes: list[str] = Field(default_factory=list)
    lifecycle: Lifecycle = "executing"
    #: where the lifecycle state came from, e.g. "pmsync.yaml" or "derived: every item done, ..."
    lifecycle_basis: str = ""
    #: the project's one % complete and its basis; other percentages are labelled for what they are
    percent_complete: float | None = None
    percent_complete_basis: str = ""


class RollupGroup(_Result):
    """Totals for the projects sharing one value of ``group_by``."""

    group_by: Literal["tier", "sponsor", "status"]
    value: str  # "large", "CFO", "red"; "(none)" when the project has no value
    project_count: int
    budget_at_completion: Decimal = Decimal(0)
    actual_to_date: Decimal = Decimal(0)
    commitments: Decimal = Decimal(0)
    forecast_at_completion: Decimal = Decimal(0)
    #: overall RAG counts within the group, e.g. {"green": 3, "amber": 1, "red": 0, "grey": 0}
    status_counts: dict[str, int] = Field(default_factory=dict)


class StatusChange(_Result):
    dimension: Dimension
    previous: RagStatus | None = None
    current: RagStatus
    trend: Trend


class ProjectTrend(_Result):
    project: str
    previous_status_date: date | None = None
    overall: Trend
    changes: list[StatusChange] = Field(default_factory=list)


class PortfolioRollup(_Result):
    status_date: date
    previous_status_date: date | None = None
    currency: str = "USD"
    project_count: int
    budget_at_completion: Decimal = Decimal(0)
    actual_to_date: Decimal = Decimal(0)
    commitments: Decimal = Decimal(0)
    forecast_at_completion: Decimal = Decimal(0)
    status_counts: dict[str, int] = Field(default_factory=dict)
    by_tier: list[RollupGroup] = Field(default_factory=list)
    by_sponsor: list[RollupGroup] = Field(default_factory=list)
    by_status: list[RollupGroup] = Field(default_factory=list)
    trend: list[ProjectTrend] = Field(default_factory=list)
    #: projects ordered for attention: red first, then amber, then by forecast overrun
    attention_order: list[str] = Field(default_factory=list)
    #: spend and records that no project owns (portfolio-level reconciliation exceptions)
    exceptions: list[ReconciliationException] = Field(default_factory=list)
