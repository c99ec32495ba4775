"""The normalized model: what every connector yields and what the store keeps.

Portfolio → Project → WorkItem (a WBS tree), plus cost lines, baselines and the RAID log (risks,
issues, decisions, action items). Every record names where it came from (``source``: system,
instance, external id) and when the source last changed it (``source_modified``), so the store can
upsert by source reference and keep history.

Valid time: a record may also say when it came to exist at its source (``created_at``) and carry the
changes its source recorded (``history``: Jira's changelog, worklogs by their start), so a report for
an earlier status date can say what the record *was then* (``pmsync.store.valid_time``), even when
pmsync first synced it later. Records whose source keeps no history are read from the stored snapshot
nearest the status date instead; cost lines and baselines date themselves (``valid_time``). See
docs/report.md.

Conventions:
- dates are ``datetime.date``; moments are timezone-aware ``datetime`` in UTC;
- money is ``Decimal`` with an ISO-4217 ``currency``;
- effort is in hours, durations in working days, percent complete in 0..100;
- ``project`` is the pmsync project key (from pmsync.yaml), resolved by the connector through its
  mapping; ``None`` when the record cannot be attributed (reconcile reports those);
- ``scope`` groups records that a connector re-reads as a whole (one file, one Jira project), so the
  sync engine can mark as deleted what disappeared from a complete re-read of that scope.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

__all__ = [
    "RECORD_TYPES",
    "ActionItem",
    "AnyRecord",
    "Baseline",
    "BaselineItem",
    "BenefitRealised",
    "CioRating",
    "CostKind",
    "CostLine",
    "CustomValue",
    "Decision",
    "Dependency",
    "DependencyType",
    "FieldChange",
    "FindingSeverity",
    "GateDecision",
    "GateOutcome",
    "Issue",
    "ItemCalendar",
    "MaintainedInput",
    "OversightFinding",
    "Portfolio",
    "Project",
    "Record",
    "Risk",
    "SourceRef",
    "StaffingActual",
    "StatusCategory",
    "Tier",
    "ValidTime",
    "WorkItem",
    "WorkItemKind",
    "record_type_of",
]

StatusCategory = Literal["not_started", "in_progress", "done"]
WorkItemKind = Literal[
    "summary", "task", "milestone", "epic", "story", "subtask", "bug", "deliverable", "other"
]
CostKind = Literal["budget", "actual", "commitment", "forecast"]
DependencyType = Literal["FS", "SS", "FF", "SF"]
Tier = Literal["small", "medium", "large"]

#: values a custom field may hold once normalized
CustomValue = str | int | float | bool | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Frozen):
    """Where a record lives at its source: ``system`` (jira, msproject, planner, finance_file, ...),
    ``instance`` (the configured source name, e.g. ``jira-cloud``) and the source's own id."""

    system: str = Field(min_length=1)
    instance: str = Field(min_length=1)
    external_id: str = Field(min_length=1)

    def key(self) -> str:
        return f"{self.system}:{self.instance}:{self.external_id}"


class FieldChange(_Frozen):
    """One change a source recorded: ``field`` (a model field name) held ``before`` until ``at``."""

    at: datetime
    field: str
    before: Any = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("a change's moment must be timezone-aware")
        return value


#: How a report for an earlier status date reads a record type (``pmsync.store.reader``):
#: ``snapshot`` — the stored version nearest the status date (the source keeps no history);
#: ``dated`` — pmsync's latest knowledge, the record dating itself (a cost line's posting date).
#: Either way, a record that carries ``history`` is rolled back to the status date instead.
ValidTime = Literal["snapshot", "dated"]


class Record(_Frozen):
    """Fields every normalized record has."""

    valid_time: ClassVar[ValidTime] = "snapshot"

    source: SourceRef
    source_modified: datetime | None = None
    project: str | None = None
    scope: str = ""
    url: str | None = None
    #: when the record came to exist at its source, when the source says (Jira's ``created``)
    created_at: datetime | None = None
    #: changes the source recorded, oldest first (``pmsync.store.valid_time.rolled_back`` undoes them)
    history: tuple[FieldChange, ...] = ()

    @field_validator("source_modified", "created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("source_modified and created_at must be timezone-aware")
        return value

    @model_serializer(mode="wrap")
    def _without_unused_valid_time(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Records of sources without history serialize (and so hash) exactly as before these fields
        # existed: upgrading pmsync does not turn every stored record into a "change".
        data: dict[str, Any] = handler(self)
        if not data.get("history"):
            data.pop("history", None)
        if data.get("created_at") is None:
            data.pop("created_at", None)
        if "calendar" in data and data["calendar"] is None:
            data.pop("calendar")  # WorkItem.calendar, added later: same rule
        return data

    def began_on(self) -> date | None:
        """The day the record's fact became true at its source, when the record says (``dated``
        types); a report for an earlier status date leaves it out."""
        return None


class Portfolio(Record):
    record_type: Literal["portfolio"] = "portfolio"
    name: str
    description: str | None = None


class Project(Record):
    record_type: Literal["project"] = "project"
    key: str
    name: str
    program: str | None = None
    tier: Tier | None = None
    sponsor: str | None = None
    manager: str | None = None
    approved_budget: Decimal | None = None
    currency: str = "USD"
    start: date | None = None
    finish: date | None = None
    status_date: date | None = None
    #: minutes per working day / week from the schedule's calendar (MS Project), for day conversions
    minutes_per_day: int | None = None
    minutes_per_week: int | None = None
    #: the schedule's own working calendar (MS Project's project calendar), when the source has one:
    #: non-working weekdays (``date.weekday()``, Monday 0), holidays (dates not worked although
    #: their weekday is) and extra working days (a working Saturday); reconcile counts working-day
    #: variances with it instead of the agency's Monday-Friday
    nonworking_weekdays: tuple[int, ...] | None = None
    holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    narrative: str | None = None


class Dependency(_Frozen):
    """A predecessor link: ``predecessor`` is the external id of the other item in the same source."""

    predecessor: str
    type: DependencyType = "FS"
    lag_days: float = 0.0


class ItemCalendar(_Frozen):
    """A work item's own working calendar (MS Project's task calendar), when it differs from its
    schedule's: the same three facts as ``Project``'s calendar fields, plus what a day is worth."""

    name: str | None = None
    #: ``date.weekday()`` numbers (Monday 0) not worked
    nonworking_weekdays: tuple[int, ...] = (5, 6)
    #: dates not worked although their weekday is
    holidays: tuple[date, ...] = ()
    #: dates worked although their weekday is not (a working Saturday)
    extra_working_days: tuple[date, ...] = ()
    #: working minutes in one of its working days (1440 for a 24-hour calendar)
    minutes_per_day: int | None = Field(default=None, gt=0)

    @field_validator("nonworking_weekdays")
    @classmethod
    def _some_day_worked(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        # a calendar without a working day cannot count anything: its source leaves it unset
        if not set(value) <= set(range(7)) or len(set(value)) == 7:
            raise ValueError("nonworking_weekdays must be weekdays 0 (Monday) .. 6 with at least one worked")
        return value


class WorkItem(Record):
    record_type: Literal["work_item"] = "work_item"
    key: str | None = None
    name: str
    kind: WorkItemKind = "task"
    parent: str | None = None
    wbs: str | None = None
    outline_level: int | None = None
    status: str | None = None
    status_category: StatusCategory = "not_started"
    start: date | None = None
    finish: date | None = None
    due: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    duration_days: float | None = None
    percent_complete: float | None = Field(default=None, ge=0, le=100)
    physical_percent_complete: float | None = Field(default=None, ge=0, le=100)
    effort_estimate_hours: float | None = None
    effort_actual_hours: float | None = None
    effort_remaining_hours: float | None = None
    story_points: float | None = None
    cost: Decimal | None = None
    actual_cost: Decimal | None = None
    bcws: Decimal | None = None
    bcwp: Decimal | None = None
    acwp: Decimal | None = None
    assignee: str | None = None
    resources: tuple[str, ...] = ()
    predecessors: tuple[Dependency, ...] = ()
    constraint_type: str | None = None
    constraint_date: date | None = None
    deadline: date | None = None
    critical: bool | None = None
    total_slack_days: float | None = None
    #: the item's own calendar when its source schedules it on one that differs from the project's
    #: (MS Project's task calendar); ``None``: the project's calendar applies. Reconcile counts this
    #: item's working days (finish variance, forecast, DCMA durations) with it.
    calendar: ItemCalendar | None = None
    sprint: str | None = None
    team: str | None = None
    labels: tuple[str, ...] = ()
    #: keys of the same work in other systems, e.g. {"jira": "ERP-12", "finance": "P-100.02"}
    links: dict[str, str] = Field(default_factory=dict)
    custom: dict[str, CustomValue] = Field(default_factory=dict)
    #: status history: when work started and finished per the source's changelog
    started_at: datetime | None = None
    done_at: datetime | None = None


class Baseline(Record):
    """A baseline stored in a source (e.g. MS Project Baseline0-10) or captured by pmsync."""

    valid_time: ClassVar[ValidTime] = "dated"

    record_type: Literal["baseline"] = "baseline"
    number: int = Field(ge=0)
    name: str | None = None
    captured_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    reason: str | None = None
    change_request: str | None = None


class BaselineItem(Record):
    """Per-item values of one baseline; ``item`` is the external id of the work item."""

    valid_time: ClassVar[ValidTime] = "dated"

    record_type: Literal["baseline_item"] = "baseline_item"
    baseline_number: int = Field(ge=0)
    item: str
    start: date | None = None
    finish: date | None = None
    cost: Decimal | None = None
    work_hours: float | None = None
    duration_days: float | None = None


class CostLine(Record):
    #: a line is true from its posting date (or its accounting period); a restated export is pmsync's
    #: latest knowledge of earlier periods, applied to every report built after it
    valid_time: ClassVar[ValidTime] = "dated"

    record_type: Literal["cost_line"] = "cost_line"
    kind: CostKind
    amount: Decimal
    currency: str = "USD"
    period: date | None = None
    posting_date: date | None = None
    fiscal_year: int | None = None
    fiscal_period: int | None = None
    #: the finance system's own project code (e.g. ``P-100``), kept even when no pmsync project owns it
    project_code: str | None = None
    account: str | None = None
    category: str | None = None
    vendor: str | None = None
    po_number: str | None = None
    task_code: str | None = None
    description: str | None = None

    def began_on(self) -> date | None:
        # Actuals and commitments happen on their posting date (or in their accounting period); a
        # budget or forecast line is a plan for its period, in force as pmsync last read it.
        if self.kind not in ("actual", "commitment"):
            return None
        return self.posting_date or self.period


class Risk(Record):
    record_type: Literal["risk"] = "risk"
    title: str
    description: str | None = None
    owner: str | None = None
    status: str | None = None
    status_category: StatusCategory = "not_started"
    probability: float | None = None
    impact: float | None = None
    score: float | None = None
    due: date | None = None
    mitigation: str | None = None
    raised_on: date | None = None


class Issue(Record):
    """An issue in the RAID sense (a problem happening now), not a Jira issue."""

    record_type: Literal["issue"] = "issue"
    title: str
    description: str | None = None
    owner: str | None = None
    status: str | None = None
    status_category: StatusCategory = "not_started"
    priority: str | None = None
    due: date | None = None
    raised_on: date | None = None
    resolved_on: date | None = None


class Decision(Record):
    record_type: Literal["decision"] = "decision"
    title: str
    description: str | None = None
    decided_by: str | None = None
    decided_on: date | None = None
    status: str | None = None


class ActionItem(Record):
    record_type: Literal["action_item"] = "action_item"
    title: str
    owner: str | None = None
    status: str | None = None
    status_category: StatusCategory = "not_started"
    due: date | None = None


# --- inputs people maintain (oversight) ----------------------------------------------------------
# The CIO's rating, the independent assessor's findings, gate decisions, benefits realised and staff
# in post are kept by people in a file or a SharePoint list (connectors/oversight_file.py). Each says
# who recorded it and when; the store's history keeps every earlier version. They date themselves
# (``dated``): a report for an earlier status date leaves out what was decided or found later.


class MaintainedInput(Record):
    """Fields of every record a person maintains: who recorded it and when."""

    valid_time: ClassVar[ValidTime] = "dated"

    recorded_by: str = Field(min_length=1)
    recorded_at: datetime | None = None

    @field_validator("recorded_at")
    @classmethod
    def _aware_recorded(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("recorded_at must be timezone-aware")
        return value


class CioRating(MaintainedInput):
    """The executive (CIO) rating of a project, 1 = high risk ... 5 = low risk, with its reason (as
    on the federal IT Dashboard). It may override the computed overall status (see reconcile)."""

    record_type: Literal["cio_rating"] = "cio_rating"
    rating: int = Field(ge=1, le=5)
    reason: str = Field(min_length=1)
    rated_on: date

    def began_on(self) -> date | None:
        return self.rated_on


FindingSeverity = Literal["high", "medium", "low"]


class OversightFinding(MaintainedInput):
    """A finding of the independent oversight (IPOR / IV&V) assessor, kept apart from the PM's own
    RAID log: the finding, its recommendation, who owns the corrective action and its status."""

    record_type: Literal["oversight_finding"] = "oversight_finding"
    title: str = Field(min_length=1)
    assessor: str | None = None
    severity: FindingSeverity = "medium"
    recommendation: str | None = None
    owner: str | None = None
    corrective_action: str | None = None
    action_status: str | None = None
    due: date | None = None
    raised_on: date
    #: the day the assessor closed it; open at a status date before it
    closed_on: date | None = None

    def began_on(self) -> date | None:
        return self.raised_on


GateOutcome = Literal["approved", "approved_with_conditions", "deferred", "rejected"]


class GateDecision(MaintainedInput):
    """A governance body's decision at a lifecycle gate, and the funds it released."""

    record_type: Literal["gate_decision"] = "gate_decision"
    gate: str = Field(min_length=1)
    decision: GateOutcome
    decided_on: date
    decided_by: str | None = None
    funds_released: Decimal | None = Field(default=None, ge=0)
    currency: str = "USD"
    conditions: str | None = None

    def began_on(self) -> date | None:
        return self.decided_on


class BenefitRealised(MaintainedInput):
    """A benefit measured as realised to date (cumulative), e.g. cost avoided, hours saved."""

    record_type: Literal["benefit_realised"] = "benefit_realised"
    benefit: str = Field(min_length=1)
    value: Decimal
    measured_on: date
    note: str | None = None

    def began_on(self) -> date | None:
        return self.measured_on


class StaffingActual(MaintainedInput):
    """Full-time equivalents actually working on the project in a month."""

    record_type: Literal["staffing_actual"] = "staffing_actual"
    month: date
    fte: Decimal = Field(ge=0)
    role: str | None = None

    def began_on(self) -> date | None:
        return self.month


AnyRecord = Annotated[
    Portfolio
    | Project
    | WorkItem
    | Baseline
    | BaselineItem
    | CostLine
    | Risk
    | Issue
    | Decision
    | ActionItem
    | CioRating
    | OversightFinding
    | GateDecision
    | BenefitRealised
    | StaffingActual,
    Field(discriminator="record_type"),
]

RECORD_TYPES: dict[str, type[Record]] = {
    "portfolio": Portfolio,
    "project": Project,
    "work_item": WorkItem,
    "baseline": Baseline,
    "baseline_item": BaselineItem,
    "cost_line": CostLine,
    "risk": Risk,
    "issue": Issue,
    "decision": Decision,
    "action_item": ActionItem,
    "cio_rating": CioRating,
    "oversight_finding": OversightFinding,
    "gate_decision": GateDecision,
    "benefit_realised": BenefitRealised,
    "staffing_actual": StaffingActual,
}


def record_type_of(record: Record) -> str:
    """The ``record_type`` discriminator of a record."""
    value: Any = getattr(record, "record_type")  # noqa: B009 - every concrete record has it
    return str(value)
