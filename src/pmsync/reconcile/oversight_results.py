"""What reconcile says about a project's oversight: criticality, gates, the CIO rating beside the
computed status, independent findings, contract burn, funding, staffing, benefits and escalation
triggers (see :mod:`pmsync.reconcile.oversight`). Conventions as in :mod:`pmsync.reconcile.results`:
money is ``Decimal``; a figure that cannot be computed is ``None`` and ``basis`` says why; variances
are signed **actual − planned** (positive = more than planned) unless a field says otherwise."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pmsync.reconcile.results import RagRating, RagStatus

Criticality = Literal["low", "medium", "high"]
GateState = Literal["passed", "passed_with_conditions", "deferred", "rejected", "overdue", "pending"]
TriggerDimension = Literal["cost", "schedule", "benefits"]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriticalityAnswer(_Result):
    factor: str
    level: str | None = None
    points: int | None = None


class CriticalityResult(_Result):
    level: Criticality | None = None
    score: int | None = None
    #: how the level was reached, e.g. "score 7 on the scoring sheet: high from 6, medium from 3"
    basis: str = ""
    answers: list[CriticalityAnswer] = Field(default_factory=list)


class GateStatus(_Result):
    gate: str
    planned: date | None = None
    state: GateState = "pending"
    decision: str | None = None
    decided_on: date | None = None
    decided_by: str | None = None
    conditions: str | None = None
    funds_planned: Decimal | None = None
    funds_released: Decimal | None = None
    #: who recorded the decision in the maintained inputs, and when
    recorded_by: str | None = None
    recorded_at: datetime | None = None


class CioRatingResult(_Result):
    rating: int
    rag: RagStatus
    reason: str
    rated_on: date
    rated_by: str
    recorded_at: datetime | None = None
    #: True when it replaces the computed overall status (``oversight.cio_rating.overrides_overall``)
    overrides: bool = True


class FindingRow(_Result):
    ref: str
    title: str
    assessor: str | None = None
    severity: str = "medium"
    recommendation: str | None = None
    owner: str | None = None
    corrective_action: str | None = None
    action_status: str | None = None
    due: date | None = None
    raised_on: date
    closed_on: date | None = None
    #: open at the status date (raised by it and not closed by it)
    open: bool = True
    #: open and its corrective action's due date has passed
    overdue: bool = False
    recorded_by: str = ""
    recorded_at: datetime | None = None


class AmendmentRow(_Result):
    number: str
    value_change: Decimal
    executed: date | None = None
    description: str | None = None


class ContractBurn(_Result):
    vendor: str
    number: str
    po_numbers: list[str] = Field(default_factory=list)
    original_value: Decimal
    amendments: list[AmendmentRow] = Field(default_factory=list)
    #: original value + amendments executed by the status date
    current_value: Decimal
    #: actual cost lines matched to the contract, posted by the status date
    paid_to_date: Decimal
    #: paid ÷ current value × 100 (None when the value is 0)
    burn_percent: float | None = None
    remaining: Decimal
    #: burn at or above ``oversight.contract_warn_percent``
    nearing_value: bool = False
    over_value: bool = False
    deliverables: int = 0
    deliverables_accepted: int = 0
    #: due by the status date and not accepted
    deliverables_overdue: int = 0
    payment_lines: int = 0
    #: the burn % from which a contract is "nearing its value" (``oversight.contract_warn_percent``)
    warn_percent: float = 90
    #: which lines count as payments and what is left out, in words
    basis: str = ""


class FundingRow(_Result):
    source: str
    fiscal_year: int
    cost_type: str
    appropriated: Decimal
    spent: Decimal | None = None
    remaining: Decimal | None = None
    consumed_percent: float | None = None
    basis: str = ""


class StaffingVariance(_Result):
    month: date
    planned_fte: Decimal | None = None
    actual_fte: Decimal | None = None
    #: actual − planned (negative = understaffed)
    variance_fte: Decimal | None = None
    variance_percent: float | None = None
    basis: str = ""


class BenefitRow(_Result):
    benefit: str
    unit: str
    planned: Decimal
    by: date
    #: the benefit was due by the status date (only due benefits count towards the benefits trigger)
    due: bool = False
    realised: Decimal | None = None
    measured_on: date | None = None
    #: realised − planned (negative = short of plan)
    variance: Decimal | None = None
    variance_percent: float | None = None
    recorded_by: str | None = None


class EscalationTrigger(_Result):
    """One escalation rule: the figure it measured, its threshold, and whether it tripped."""

    dimension: TriggerDimension
    threshold_percent: float
    #: the deviation measured, percent, signed (cost and benefits: either way; schedule: positive = late)
    figure_percent: float | None = None
    tripped: bool = False
    #: "original" or "current" baseline, or "benefits plan"
    basis: str = ""
    #: benefits only: the unit the benefits are measured in (one trigger per unit: hours saved and
    #: dollars saved are never added together)
    unit: str | None = None
    #: the figures in words, e.g. "forecast $2,760,000 is 10.4 % over the current budget $2,500,000
    #: (threshold ±10 %): re-approval required (Special Project Report): ..."
    explanation: str = ""

    @property
    def label(self) -> str:
        """What the report calls the trigger: "cost", "schedule", "benefits (hours)"."""
        return self.dimension + (f" ({self.unit})" if self.unit else "")


class OversightMeasures(_Result):
    project: str
    status_date: date
    criticality: CriticalityResult = Field(default_factory=CriticalityResult)
    phase: str | None = None
    #: the last gate passed (in the plan's order), and the next one due
    current_gate: str | None = None
    next_gate: str | None = None
    gates: list[GateStatus] = Field(default_factory=list)
    funds_released: Decimal = Decimal(0)
    #: gated funding (``oversight.gated_funding``, King County): the sum of the gates' planned funds,
    #: shown against the funds released; None when gated funding is off
    funds_planned: Decimal | None = None
    cio: CioRatingResult | None = None
    #: reconcile's computed overall status (always shown) and the one the report leads with
    computed_overall: RagRating
    effective_overall: RagRating
    findings: list[FindingRow] = Field(default_factory=list)
    open_findings: int = 0
    open_high_findings: int = 0
    overdue_findings: int = 0
    contracts: list[ContractBurn] = Field(default_factory=list)
    funding: list[FundingRow] = Field(default_factory=list)
    staffing: StaffingVariance | None = None
    benefits: list[BenefitRow] = Field(default_factory=list)
    triggers: list[EscalationTrigger] = Field(default_factory=list)
    #: a trigger tripped: the report says "re-approval required" and why
    reapproval_required: bool = False
    reapproval_reasons: list[str] = Field(default_factory=list)
    #: what the committee is asked to decide, in words
    decisions_needed: list[str] = Field(default_factory=list)
    #: the preset applied and its sources
    preset: str | None = None
    preset_source: str | None = None
    notes: list[str] = Field(default_factory=list)
