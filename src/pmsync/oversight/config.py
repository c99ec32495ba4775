"""The oversight parts of pmsync.yaml: ``projects[].oversight`` (the plan: criticality answers, gates,
funding lines, contracts, staffing and benefits) and the top-level ``oversight:`` section (the rules:
a jurisdiction preset, the criticality scoring sheet, escalation triggers, the CIO rating scale).

A preset is a shipped YAML file (``presets/<name>.yaml``) holding the same keys as the ``oversight:``
section; the agency's own keys override the preset's, key by key (nested mappings merged, lists and
values replaced). Every threshold a preset sets cites its public source in docs/report.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmsync import yaml_text
from pmsync.errors import ConfigError
from pmsync.validation import describe_validation_error

RagName = Literal["green", "amber", "red"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the plan, per project (projects[].oversight) --------------------------------------------------


class GatePlan(_Strict):
    """A lifecycle gate: when it is planned and what it may release. Decisions (approved, deferred...)
    come from the maintained inputs (``gate_decision`` records), not from the plan."""

    gate: str = Field(min_length=1)
    planned: date | None = None
    #: funds the gate is to release when approved (gated funding)
    funds_planned: Decimal | None = Field(default=None, ge=0)


class FundingLine(_Strict):
    """An appropriation: how much of which fund source in which fiscal year, one-time or continuing.
    Spend is the project's actual cost lines of that fiscal year whose ``account`` is in ``accounts``
    (without ``accounts``, a line is matched by fiscal year alone when it is that year's only line)."""

    source: str = Field(min_length=1)  # general fund, federal, special fund ...
    fiscal_year: int = Field(ge=1900, le=2200)
    amount: Decimal = Field(ge=0)
    cost_type: Literal["one_time", "continuing"] = "one_time"
    accounts: list[str] = Field(default_factory=list)


class Amendment(_Strict):
    number: str = Field(min_length=1)
    #: the change in contract value (negative = reduced)
    value_change: Decimal = Decimal(0)
    executed: date | None = None
    description: str | None = None


class Deliverable(_Strict):
    name: str = Field(min_length=1)
    due: date | None = None
    accepted: date | None = None


class ContractPlan(_Strict):
    """A vendor contract. Payments to date are the project's actual cost lines whose ``po_number`` is
    one of ``po_numbers`` (else whose ``vendor`` equals ``vendor``), posted by the status date."""

    vendor: str = Field(min_length=1)
    number: str = Field(min_length=1)
    po_numbers: list[str] = Field(default_factory=list)
    value: Decimal = Field(ge=0)
    start: date | None = None
    end: date | None = None
    amendments: list[Amendment] = Field(default_factory=list)
    deliverables: list[Deliverable] = Field(default_factory=list)


class StaffingPlan(_Strict):
    """Planned full-time equivalents from a month on (until the next plan line)."""

    month: date
    fte: Decimal = Field(ge=0)


class BenefitPlan(_Strict):
    """A benefit the business case promised: a cumulative value planned by a date."""

    benefit: str = Field(min_length=1)
    planned: Decimal
    by: date
    unit: str = "USD"


class ProjectOversight(_Strict):
    """``projects[].oversight`` in pmsync.yaml."""

    #: answers to the criticality scoring sheet: factor name → the chosen level's name
    criticality: dict[str, str] = Field(default_factory=dict)
    #: criticality fixed by the oversight body, overriding the scoring sheet
    criticality_override: Literal["low", "medium", "high"] | None = None
    phase: str | None = None
    gates: list[GatePlan] = Field(default_factory=list)
    funding: list[FundingLine] = Field(default_factory=list)
    contracts: list[ContractPlan] = Field(default_factory=list)
    staffing: list[StaffingPlan] = Field(default_factory=list)
    benefits: list[BenefitPlan] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return self == ProjectOversight()


# --- the rules (top-level oversight:) ---------------------------------------------------------------


class FactorLevel(_Strict):
    name: str = Field(min_length=1)
    points: int = Field(ge=0)


class CriticalityFactor(_Strict):
    name: str = Field(min_length=1)
    question: str = ""
    levels: list[FactorLevel] = Field(min_length=1)


class CriticalitySheet(_Strict):
    """A scoring sheet: each factor's chosen level gives points; the total picks the criticality."""

    factors: list[CriticalityFactor] = Field(default_factory=list)
    #: the lowest total that makes a project medium / high criticality
    medium_from: int = Field(default=0, ge=0)
    high_from: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CriticalitySheet:
        if self.factors and not self.medium_from <= self.high_from:
            raise ValueError("medium_from must not exceed high_from")
        return self


class Triggers(_Strict):
    """Escalation triggers: a deviation at or beyond a threshold requires re-approval."""

    #: forecast cost against the basis budget, percent, either direction (None: not checked)
    cost_percent: float | None = Field(default=None, gt=0)
    #: forecast finish later than the basis finish by this share of the basis duration, percent
    schedule_percent: float | None = Field(default=None, gt=0)
    #: realised benefits against the planned benefits due by the status date, percent, either direction
    benefits_percent: float | None = Field(default=None, gt=0)
    #: measured against the "original" (first approved) or the "current" (last approved) baseline
    basis: Literal["original", "current"] = "current"
    #: the words the report uses when a trigger trips
    action: str = "re-approval required"
    #: the name of the report the triggers call for, e.g. "Special Project Report"
    report_name: str | None = None


#: 1-2 red, 3 amber, 4-5 green (see the federal preset for what its source does and does not say)
_DEFAULT_CIO_RAG: dict[int, RagName] = {1: "red", 2: "red", 3: "amber", 4: "green", 5: "green"}


def _default_cio_rag() -> dict[int, RagName]:
    return dict(_DEFAULT_CIO_RAG)


class CioScale(_Strict):
    """How the CIO's 1-5 rating reads as RAG, and whether it overrides the computed overall status."""

    rag: dict[int, RagName] = Field(default_factory=_default_cio_rag)
    overrides_overall: bool = True

    @model_validator(mode="after")
    def _all_five(self) -> CioScale:
        if sorted(self.rag) != [1, 2, 3, 4, 5]:
            raise ValueError("cio_rating.rag must map each rating 1, 2, 3, 4 and 5 to green, amber or red")
        return self


class OversightSettings(_Strict):
    """The ``oversight:`` section after its preset is applied."""

    preset: str | None = None
    #: a line naming the preset's public sources, shown in the report's appendix
    source: str | None = None
    criticality: CriticalitySheet = Field(default_factory=CriticalitySheet)
    triggers: Triggers = Field(default_factory=Triggers)
    cio_rating: CioScale = Field(default_factory=CioScale)
    #: a contract whose payments reach this share of its current value is flagged "nearing its value"
    contract_warn_percent: float = Field(default=90, gt=0, le=100)
    #: gated funding: report funds released per gate against funds planned (King County)
    gated_funding: bool = False


PRESETS = ("california", "federal", "texas_qat", "king_county")


def presets_dir() -> Path:
    return Path(str(resources.files("pmsync.oversight") / "presets"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_preset(name: str) -> dict[str, Any]:
    path = presets_dir() / f"{name}.yaml"
    if name not in PRESETS or not path.is_file():
        raise ConfigError(
            f"unknown oversight preset {name!r}",
            record="oversight.preset",
            hint=f"one of: {', '.join(PRESETS)}",
        )
    data = yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a preset is a mapping of keys", record="oversight.preset")
    return data


def oversight_settings(raw: dict[str, Any], *, where: str = "pmsync.yaml") -> OversightSettings:
    """The ``oversight:`` section: its preset's keys, overridden by the agency's own."""
    data = dict(raw)
    name = data.get("preset")
    if name is not None:
        if not isinstance(name, str):
            raise ConfigError(f"{where}: oversight.preset must be a preset name", record="oversight.preset")
        data = _merge(load_preset(name), data)
    try:
        return OversightSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"{where}: {describe_validation_error(exc, prefix='oversight', model=OversightSettings)}"
        ) from None
