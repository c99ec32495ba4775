"""Governance rules: the ``governance:`` section of pmsync.yaml turns measures into RAG status.

Every status carries the rule and the figures that produced it, in words, so a committee member can
check it by hand and a PM can explain it.

Defaults are modelled on public IT oversight practice. The US federal IT Dashboard rates cost and
schedule variance green below 10 %, yellow from 10 % and red from 30 %; state IT oversight offices
apply the same idea with tighter bands for their largest projects. So:

============  ===================  ===================  =================
tier          schedule variance    cost variance        scope change
============  ===================  ===================  =================
small         amber 10 %, red 30 % amber 10 %, red 30 % amber 10 %, red 25 %
medium        amber 10 %, red 20 % amber 10 %, red 20 % amber 10 %, red 20 %
large         amber  5 %, red 10 % amber  5 %, red 10 % amber  5 %, red 15 %
============  ===================  ===================  =================

Schedule variance is the project finish slip as a share of the baseline duration (working days);
cost variance is the forecast at completion against the budget at completion (the IT Dashboard
counts under-runs too, since a large under-run also means the plan was wrong; set
``count_underrun: false`` to rate overruns only). SPI and CPI bands (amber below 0.95, red below 0.90)
apply when earned value is available; the worse of the two rules wins. Risk is rated on open high
risks and overdue risks; overall is the worst of the four dimensions (not rated when neither
schedule nor cost can be rated).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmsync.errors import ConfigError
from pmsync.model import Tier
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.health import HealthThresholds
from pmsync.reconcile.results import (
    CostMeasures,
    Dimension,
    EacMethod,
    EvmMeasures,
    RagRating,
    RagStatus,
    RagStatuses,
    RiskMeasures,
    ScheduleMeasures,
    ScopeMeasures,
)
from pmsync.validation import describe_validation_error

_ORDER: dict[RagStatus, int] = {"grey": 0, "green": 1, "amber": 2, "red": 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Band(_Strict):
    """Amber from ``amber``, red from ``red`` (a value at or above the threshold takes that colour)."""

    amber: float = Field(ge=0)
    red: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.red < self.amber:
            raise ValueError(f"red ({self.red:g}) must not be below amber ({self.amber:g})")
        return self


class IndexBand(_Strict):
    """For indices where low is bad: amber below ``amber``, red below ``red``."""

    amber: float = Field(default=0.95, ge=0)
    red: float = Field(default=0.90, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> IndexBand:
        if self.red > self.amber:
            raise ValueError(f"red ({self.red:g}) must not be above amber ({self.amber:g})")
        return self


class TierRules(_Strict):
    schedule_variance_percent: Band
    #: forecast overrun (forecast above budget) as a share of the budget
    cost_variance_percent: Band
    #: forecast under-run (below budget); None: the same band as overruns (±, IT Dashboard practice)
    cost_underrun_percent: Band | None = None
    scope_change_percent: Band
    spi: IndexBand = Field(default_factory=IndexBand)
    cpi: IndexBand = Field(default_factory=IndexBand)
    high_risks: Band = Field(default_factory=lambda: Band(amber=1, red=3))
    overdue_risks: Band = Field(default_factory=lambda: Band(amber=1, red=5))
    rebaselines: Band = Field(default_factory=lambda: Band(amber=2, red=3))


def _default_tiers() -> dict[Tier, TierRules]:
    def rules(
        schedule: tuple[float, float], cost: tuple[float, float], scope: tuple[float, float]
    ) -> TierRules:
        return TierRules(
            schedule_variance_percent=Band(amber=schedule[0], red=schedule[1]),
            cost_variance_percent=Band(amber=cost[0], red=cost[1]),
            scope_change_percent=Band(amber=scope[0], red=scope[1]),
        )

    return {
        "small": rules((10, 30), (10, 30), (10, 25)),
        "medium": rules((10, 20), (10, 20), (10, 20)),
        "large": rules((5, 10), (5, 10), (5, 15)),
    }


def _default_tier_budgets() -> dict[Literal["medium", "large"], Decimal]:
    return {"medium": Decimal(500_000), "large": Decimal(5_000_000)}


class CalendarConfig(_Strict):
    weekend: list[int] = Field(default_factory=lambda: [5, 6])
    holidays: list[date] = Field(default_factory=list)

    def build(self) -> WorkingCalendar:
        try:
            return WorkingCalendar(self.holidays, self.weekend)
        except ValueError as exc:
            raise ConfigError(str(exc), record="governance.calendar.weekend") from None


class CrosscheckConfig(_Strict):
    #: linked items whose finish dates differ by more than this many working days are reported
    date_tolerance_days: int = Field(default=0, ge=0)
    #: a "done" item is reported when its counterpart is below this percent complete
    done_vs_percent_below: float = Field(default=100, ge=0, le=100)
    #: item kinds that must have a counterpart in another system, by system, e.g. {jira: [epic]}
    require_counterpart: dict[str, list[str]] = Field(default_factory=lambda: {"jira": ["epic"]})


class FlowConfig(_Strict):
    """Flow-managed work: forecast from throughput, not from planned dates (see reconcile.throughput)."""

    #: source systems whose work is a flow backlog (when not on a logic-linked schedule)
    systems: list[str] = Field(default_factory=lambda: ["jira"])
    #: weeks of throughput history the forecast resamples
    window_weeks: int = Field(default=8, ge=1, le=52)
    #: the confidence whose date is the rated forecast finish (the other is shown as the range)
    confidence: Literal[50, 85] = 85


class GovernanceConfig(_Strict):
    """The ``governance:`` section of pmsync.yaml."""

    eac_method: EacMethod = "cpi"
    #: rate cost under-runs like overruns (IT Dashboard practice)
    count_underrun: bool = True
    #: work item kinds counted for scope change (None: every kind except summary rows)
    scope_kinds: list[str] | None = None
    #: risk score (or probability × impact) at or above which an open risk counts as high
    high_risk_score: float = Field(default=15, ge=0)
    #: projects without a tier get one from their budget: ≥ medium → medium, ≥ large → large
    tier_by_budget: dict[Literal["medium", "large"], Decimal] = Field(default_factory=_default_tier_budgets)
    tiers: dict[Tier, TierRules] = Field(default_factory=_default_tiers)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    health: HealthThresholds = Field(default_factory=HealthThresholds)
    crosscheck: CrosscheckConfig = Field(default_factory=CrosscheckConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)

    @model_validator(mode="before")
    @classmethod
    def _merge_tiers(cls, data: Any) -> Any:
        """A tier given in the config overrides only the keys it names; the rest keep the defaults."""
        if not isinstance(data, dict) or not isinstance(data.get("tiers"), dict):
            return data
        merged: dict[str, Any] = {k: v.model_dump() for k, v in _default_tiers().items()}
        for tier, override in data["tiers"].items():
            if isinstance(override, dict) and tier in merged:
                merged[tier] = {**merged[tier], **override}
            else:
                merged[tier] = override
        return {**data, "tiers": merged}

    def tier_of(self, tier: Tier | None, budget: Decimal | None) -> Tier:
        if tier is not None:
            return tier
        if budget is not None and budget >= self.tier_by_budget.get("large", Decimal("Infinity")):
            return "large"
        if budget is not None and budget >= self.tier_by_budget.get("medium", Decimal("Infinity")):
            return "medium"
        return "small"


def load_governance(section: Mapping[str, Any] | None) -> GovernanceConfig:
    """Validate the ``governance:`` section; errors name the key path (``governance.tiers.large...``)."""
    try:
        return GovernanceConfig.model_validate(dict(section or {}))
    except ValidationError as exc:
        raise ConfigError(
            f"pmsync.yaml: {describe_validation_error(exc, prefix='governance', model=GovernanceConfig)}"
        ) from None


# --- rating ---------------------------------------------------------------------------------------


def _band_status(value: float, band: Band) -> RagStatus:
    if value >= band.red:
        return "red"
    if value >= band.amber:
        return "amber"
    return "green"


def _index_status(value: float, band: IndexBand) -> RagStatus:
    if value < band.red:
        return "red"
    if value < band.amber:
        return "amber"
    return "green"


def _band_words(band: Band, unit: str = " %") -> str:
    return f"green below {band.amber:g}{unit}, amber from {band.amber:g}{unit}, red from {band.red:g}{unit}"


def _index_words(name: str, band: IndexBand) -> str:
    return f"{name} amber below {band.amber:g}, red below {band.red:g}"


def _worst(*statuses: RagStatus) -> RagStatus:
    return max(statuses, key=lambda s: _ORDER[s])


def _money(value: Decimal | None, currency: str) -> str:
    return "n/a" if value is None else f"{currency} {value:,.0f}"


def _because(status: RagStatus) -> str:
    return {"green": "green", "amber": "amber", "red": "red", "grey": "not rated"}[status]


def rate_schedule(
    schedule: ScheduleMeasures, evm: EvmMeasures | None, rules: TierRules, tier: Tier
) -> RagRating:
    band = rules.schedule_variance_percent
    rule = f"schedule ({tier} tier): finish slip as a share of baseline duration {_band_words(band)}"
    rule += f"; {_index_words('SPI', rules.spi)}; the worse applies"
    figures: dict[str, float | None] = {
        "finish_variance_working_days": _f(schedule.finish_variance_working_days),
        "baseline_duration_working_days": _f(schedule.baseline_duration_working_days),
        "finish_variance_percent": schedule.finish_variance_percent,
        "spi": evm.spi if evm else None,
        "milestones_missed": float(schedule.milestones_missed),
    }
    figures["finish_variance_at_least_working_days"] = _f(schedule.finish_variance_at_least_working_days)
    parts: list[str] = []
    statuses: list[RagStatus] = []
    heads: list[tuple[RagStatus, str]] = []
    duration = schedule.baseline_duration_working_days
    floor = schedule.finish_variance_at_least_working_days
    threshold = f"threshold {band.amber:g} % late, red from {band.red:g} %"
    if schedule.finish_variance_percent is not None:
        slip = max(schedule.finish_variance_percent, 0.0)
        status = _band_status(slip, band)
        statuses.append(status)
        days = schedule.finish_variance_working_days or 0
        direction = "late" if days > 0 else ("early" if days < 0 else "on the baseline date")
        method = {"throughput": " (throughput forecast)", "schedule": ""}.get(schedule.forecast_method, "")
        if days:
            pct = abs(schedule.finish_variance_percent)
            parts.append(
                f"the forecast finish{method} is {abs(days)} working days {direction} "
                f"({pct:.1f} % of the {duration}-working-day baseline duration): {_because(status)}"
            )
            heads.append(
                (status, f"schedule: finish {abs(days)} working days {direction}, {pct:.1f} % ({threshold})")
            )
        else:
            parts.append(f"the forecast finish{method} is {direction}: {_because(status)}")
    elif floor is not None and duration:
        # No defensible forecast: rate on the lower bound. The project is at least this late, so at
        # least this colour; the words say "at least" so nobody reads the floor as a forecast.
        pct = floor / duration * 100
        status = _band_status(pct, band)
        statuses.append(status)
        parts.append(
            f"no defensible forecast finish; the project is at least {floor} working days late "
            f"(at least {pct:.1f} % of the {duration}-working-day baseline duration): "
            f"at least {_because(status)}"
        )
        heads.append(
            (status, f"schedule: at least {floor} working days late, at least {pct:.1f} % ({threshold})")
        )
    if evm is not None and evm.spi is not None:
        status = _index_status(evm.spi, rules.spi)
        statuses.append(status)
        parts.append(f"SPI is {evm.spi:.2f}: {_because(status)}")
        heads.append(
            (
                status,
                f"schedule: SPI {evm.spi:.2f} (amber below {rules.spi.amber:g}, red below {rules.spi.red:g})",
            )
        )
    if not statuses:
        return RagRating(
            dimension="schedule",
            status="grey",
            rule=rule,
            explanation="not rated: no approved baseline finish and no earned value to compare with",
            figures=figures,
        )
    status = _worst(*statuses)
    headline = "; ".join(h for st, h in heads if st == status) if status != "green" else ""
    return RagRating(
        dimension="schedule",
        status=status,
        rule=rule,
        explanation="; ".join(parts),
        figures=figures,
        headline=headline,
    )


def _pm(band: Band, under: Band | None) -> str:
    """The threshold in words with its sign: "±10 %" when over- and under-runs share it."""
    if under is None:
        return f"over {band.amber:g} % (red {band.red:g} %)"
    if under.amber == band.amber and under.red == band.red:
        return f"±{band.amber:g} %, red ±{band.red:g} %"
    return f"over {band.amber:g} % / under {under.amber:g} %, red over {band.red:g} % / under {under.red:g} %"


def rate_cost(
    cost: CostMeasures, evm: EvmMeasures | None, rules: TierRules, tier: Tier, count_underrun: bool
) -> RagRating:
    """Cost: the forecast's signed variance against the budget (over- and under-runs each against its
    own band), and CPI; the worse applies."""
    over = rules.cost_variance_percent
    under = (rules.cost_underrun_percent or over) if count_underrun else None
    rule = f"cost ({tier} tier): forecast over budget {_band_words(over)}"
    rule += f"; forecast under budget {_band_words(under)}" if under is not None else "; under-runs not rated"
    rule += f"; {_index_words('CPI', rules.cpi)}; the worse applies"
    vac_pct = cost.variance_at_completion_percent
    figures: dict[str, float | None] = {
        "budget_at_completion": _f(cost.budget_at_completion),
        "forecast_at_completion": _f(cost.forecast_at_completion),
        "variance_at_completion": _f(cost.variance_at_completion),
        "variance_at_completion_percent": vac_pct,
        "cpi": evm.cpi if evm else None,
    }
    parts: list[str] = []
    statuses: list[RagStatus] = []
    heads: list[tuple[RagStatus, str]] = []
    if vac_pct is not None and cost.variance_at_completion is not None:
        overrun = -vac_pct  # VAC is negative for an overrun
        if overrun > 0:
            status = _band_status(overrun, over)
        elif under is not None:
            status = _band_status(-overrun, under)
        else:
            status = "green"
        statuses.append(status)
        word = "over" if overrun > 0 else "under"
        raised = (
            f", raised to actual + open commitments {_money(cost.committed_floor, cost.currency)}"
            if cost.forecast_raised_to_floor
            else ""
        )
        parts.append(
            f"the forecast {_money(cost.forecast_at_completion, cost.currency)} "
            f"({cost.forecast_basis}{raised}) is {_money(abs(cost.variance_at_completion), cost.currency)} "
            f"{word} the budget {_money(cost.budget_at_completion, cost.currency)} "
            f"({abs(overrun):.1f} % {word}): {_because(status)}"
        )
        heads.append(
            (status, f"cost: forecast {abs(overrun):.1f} % {word} budget (threshold {_pm(over, under)})")
        )
    if evm is not None and evm.cpi is not None:
        status = _index_status(evm.cpi, rules.cpi)
        statuses.append(status)
        parts.append(f"CPI is {evm.cpi:.2f}: {_because(status)}")
        heads.append(
            (
                status,
                f"cost: CPI {evm.cpi:.2f} (amber below {rules.cpi.amber:g}, red below {rules.cpi.red:g})",
            )
        )
    if not statuses:
        return RagRating(
            dimension="cost",
            status="grey",
            rule=rule,
            explanation="not rated: no budget at completion or no forecast, and no earned value",
            figures=figures,
        )
    status = _worst(*statuses)
    return RagRating(
        dimension="cost",
        status=status,
        rule=rule,
        explanation="; ".join(parts),
        figures=figures,
        headline="; ".join(h for st, h in heads if st == status) if status != "green" else "",
    )


def rate_scope(scope: ScopeMeasures, rules: TierRules, tier: Tier) -> RagRating:
    band, rebaselines = rules.scope_change_percent, rules.rebaselines
    rule = (
        f"scope ({tier} tier): items added or removed since the baseline {_band_words(band)}; "
        f"re-baselines {_band_words(rebaselines, '')}; the worse applies"
    )
    figures: dict[str, float | None] = {
        "baseline_items": float(scope.baseline_items),
        "items_added": float(scope.items_added),
        "items_removed": float(scope.items_removed),
        "scope_change_percent": scope.scope_change_percent,
        "rebaselines": float(scope.rebaselines),
    }
    if scope.scope_change_percent is None:
        return RagRating(
            dimension="scope",
            status="grey",
            rule=rule,
            explanation="not rated: no approved baseline",
            figures=figures,
        )
    change = _band_status(scope.scope_change_percent, band)
    again = _band_status(scope.rebaselines, rebaselines)
    explanation = (
        f"{scope.items_added} items added and {scope.items_removed} removed against {scope.baseline_items} "
        f"baselined ({scope.scope_change_percent:.1f} %): {_because(change)}; "
        f"{scope.rebaselines} re-baseline{'s' if scope.rebaselines != 1 else ''}: {_because(again)}"
    )
    status = _worst(change, again)
    heads = [
        (change, f"scope: {scope.scope_change_percent:.1f} % of baselined items added or removed "
         f"(threshold {band.amber:g} %, red {band.red:g} %)"),
        (again, f"scope: {scope.rebaselines} re-baselines "
         f"(threshold {rebaselines.amber:g}, red {rebaselines.red:g})"),
    ]  # fmt: skip
    return RagRating(
        dimension="scope",
        status=status,
        rule=rule,
        explanation=explanation,
        figures=figures,
        headline="; ".join(h for st, h in heads if st == status) if status != "green" else "",
    )


def rate_risk(risk: RiskMeasures, rules: TierRules, tier: Tier, high_score: float) -> RagRating:
    rule = (
        f"risk ({tier} tier): open risks scored {high_score:g} or more {_band_words(rules.high_risks, '')}; "
        f"overdue risks {_band_words(rules.overdue_risks, '')}; the worse applies"
    )
    figures: dict[str, float | None] = {
        "open_risks": float(risk.open_risks),
        "high_risks": float(risk.high_risks),
        "overdue_risks": float(risk.overdue_risks),
    }
    high = _band_status(risk.high_risks, rules.high_risks)
    overdue = _band_status(risk.overdue_risks, rules.overdue_risks)
    explanation = (
        f"{risk.high_risks} high of {risk.open_risks} open risks: {_because(high)}; "
        f"{risk.overdue_risks} overdue: {_because(overdue)}"
    )
    status = _worst(high, overdue)
    heads = [
        (high, f"risk: {risk.high_risks} open risks scored {high_score:g} or more "
         f"(threshold {rules.high_risks.amber:g}, red {rules.high_risks.red:g})"),
        (overdue, f"risk: {risk.overdue_risks} risks overdue "
         f"(threshold {rules.overdue_risks.amber:g}, red {rules.overdue_risks.red:g})"),
    ]  # fmt: skip
    return RagRating(
        dimension="risk",
        status=status,
        rule=rule,
        explanation=explanation,
        figures=figures,
        headline="; ".join(h for st, h in heads if st == status) if status != "green" else "",
    )


def rate_overall(ratings: Mapping[Dimension, RagRating]) -> RagRating:
    rated = {d: r for d, r in ratings.items() if r.status != "grey"}
    rule = (
        "overall: the worst of schedule, cost, scope and risk (dimensions not rated are left out); "
        "not rated when neither schedule nor cost is"
    )
    figures: dict[str, float | None] = {d: float(_ORDER[r.status]) for d, r in ratings.items()}
    if "schedule" not in rated and "cost" not in rated:
        # Risk or scope alone cannot vouch for a project whose schedule and cost are unknown.
        return RagRating(
            dimension="overall",
            status="grey",
            rule=rule,
            explanation="not rated: neither schedule nor cost could be rated",
            figures=figures,
        )
    status = _worst(*(r.status for r in rated.values()))
    drivers = [d for d, r in rated.items() if r.status == status]
    explanation = f"{status} because {' and '.join(drivers)} {'is' if len(drivers) == 1 else 'are'} {status}"
    reasons = [rated[d].headline for d in drivers if rated[d].headline]
    if reasons:
        explanation += ": " + "; ".join(reasons)
    missing = [d for d in ratings if d not in rated]
    if missing:
        explanation += f" ({', '.join(missing)} not rated)"
    return RagRating(
        dimension="overall",
        status=status,
        rule=rule,
        explanation=explanation,
        figures=figures,
        headline="; ".join(reasons),
    )


def rate_project(
    config: GovernanceConfig,
    tier: Tier,
    schedule: ScheduleMeasures,
    cost: CostMeasures,
    evm: EvmMeasures | None,
    scope: ScopeMeasures,
    risk: RiskMeasures,
) -> RagStatuses:
    rules = config.tiers[tier]
    ratings: dict[Dimension, RagRating] = {
        "schedule": rate_schedule(schedule, evm, rules, tier),
        "cost": rate_cost(cost, evm, rules, tier, config.count_underrun),
        "scope": rate_scope(scope, rules, tier),
        "risk": rate_risk(risk, rules, tier, config.high_risk_score),
    }
    return RagStatuses(
        schedule=ratings["schedule"],
        cost=ratings["cost"],
        scope=ratings["scope"],
        risk=ratings["risk"],
        overall=rate_overall(ratings),
    )


def _f(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def status_rank(status: RagStatus) -> int:
    """grey 0 < green 1 < amber 2 < red 3 (for sorting and trend arrows)."""
    return _ORDER[status]
