"""The Jira mapping file (``mappings/jira-*.yaml``): which custom fields hold what, how statuses map to
not-started / in-progress / done, and which issue types are RAID records rather than work items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pmsync.errors import MappingError
from pmsync.mapping import find_mapping_file, load_mapping
from pmsync.model import StatusCategory, WorkItemKind

RaidType = Literal["risk", "issue", "decision", "action_item"]
RAID_TYPES: tuple[RaidType, ...] = ("risk", "issue", "decision", "action_item")

#: what each custom-field role must hold, as Jira's field schema ``type`` says
_EXPECTED_SCHEMA: dict[str, tuple[str, ...]] = {
    "story_points": ("number",),
    "start_date": ("date", "datetime"),
    "target_end": ("date", "datetime"),
    "epic_link": ("any", "string", "issuelink"),
    "sprint": ("array",),
    "team": ("option", "team", "string", "any", "array"),
    "risk_probability": ("option", "number", "string"),
    "risk_impact": ("option", "number", "string"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Strict):
    """Field ids (``customfield_10016``) per role; leave a role out when the instance has no such field."""

    story_points: str | None = None
    start_date: str | None = None
    target_end: str | None = None
    epic_link: str | None = None
    sprint: str | None = None
    team: str | None = None
    risk_probability: str | None = None
    risk_impact: str | None = None

    @field_validator("*")
    @classmethod
    def _field_id(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("customfield_") or value.isidentifier()):
            raise ValueError(f"{value!r} is not a Jira field id (like customfield_10016 or duedate)")
        return value

    def roles(self) -> Iterable[tuple[str, str]]:
        for role, field_id in self.model_dump().items():
            if field_id:
                yield role, field_id


class IssueTypeMap(_Strict):
    """Jira issue type names per normalized kind; unlisted types become work items of kind ``task``."""

    epic: list[str] = Field(default_factory=lambda: ["Epic"])
    story: list[str] = Field(default_factory=lambda: ["Story"])
    subtask: list[str] = Field(default_factory=lambda: ["Sub-task", "Subtask"])
    bug: list[str] = Field(default_factory=lambda: ["Bug"])
    milestone: list[str] = Field(default_factory=list)
    risk: list[str] = Field(default_factory=lambda: ["Risk"])
    issue: list[str] = Field(default_factory=lambda: ["Issue", "Impediment"])
    decision: list[str] = Field(default_factory=lambda: ["Decision"])
    action_item: list[str] = Field(default_factory=lambda: ["Action Item", "Action"])


class JiraMapping(_Strict):
    fields: FieldMap = Field(default_factory=FieldMap)
    #: status name → category, for statuses whose Jira status category is misleading
    statuses: dict[str, StatusCategory] = Field(default_factory=dict)
    issue_types: IssueTypeMap = Field(default_factory=IssueTypeMap)
    #: where actual effort comes from: the time-tracking fields, or the sum of the worklogs
    effort: Literal["timetracking", "worklogs"] = "timetracking"
    #: option values of the probability / impact fields → numbers: the declared risk scale, checked
    #: against governance.high_risk_score at config load (see pmsync.reconcile.riskscale)
    probability_scale: dict[str, float] = Field(default_factory=dict)
    impact_scale: dict[str, float] = Field(default_factory=dict)

    def kind_of(self, issue_type: str) -> WorkItemKind | RaidType:
        """The normalized kind (or RAID record type) of a Jira issue type name."""
        name = issue_type.casefold()
        for kind, names in self.issue_types.model_dump().items():
            if name in (n.casefold() for n in names):
                return cast("WorkItemKind | RaidType", kind)
        return "task"

    def raid_names(self, raid: RaidType) -> list[str]:
        names: list[str] = getattr(self.issue_types, raid)
        return names


def load_jira_mapping(name: str, mapping_dirs: Sequence[Path], *, source: str) -> tuple[JiraMapping, Path]:
    try:
        path = find_mapping_file(name, mapping_dirs)
        return load_mapping(str(path), JiraMapping, mapping_dirs), path
    except MappingError as exc:
        exc.source = source
        raise


def validate_fields(
    mapping: JiraMapping, path: Path, fields: list[dict[str, Any]], *, source: str
) -> list[str]:
    """Raise :class:`MappingError` naming the first mapped field the instance does not have; return
    warnings for fields whose type does not fit their role."""
    by_id = {str(f.get("id")): f for f in fields}
    warnings: list[str] = []
    for role, field_id in mapping.fields.roles():
        found = by_id.get(field_id)
        if found is None:
            similar = [
                f"{f.get('id')} ({f.get('name')})"
                for f in fields
                if str(f.get("id", "")).startswith("customfield_")
                and role.split("_")[0] in str(f.get("name", "")).lower().replace(" ", "_")
            ]
            hint = (
                f"fields that look right: {', '.join(similar)}"
                if similar
                else ("see Jira's field list at /rest/api/3/field, or remove the line")
            )
            raise MappingError(
                f"fields.{role}: field {field_id!r} does not exist in this Jira instance",
                source=source,
                record=str(path),
                hint=hint,
            )
        schema_type = str((found.get("schema") or {}).get("type", ""))
        if schema_type and schema_type not in _EXPECTED_SCHEMA.get(role, (schema_type,)):
            warnings.append(
                f"fields.{role}: {field_id} ({found.get('name')}) holds {schema_type!r} values, "
                f"expected {' or '.join(_EXPECTED_SCHEMA[role])}"
            )
    return warnings
