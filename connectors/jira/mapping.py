"""The Jira mapping file (``mappings/jira-*.yaml``): which custom fields hold what, how statuses map to
not-started / in-progress / done, and which issue types are RAID records rather than work items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    "epic_link": ("any", "string", "issuelink", "issuekey"),
    "sprint": ("array",),
    "team": ("option", "team", "string", "any", "array"),
    "risk_probability": ("option", "number", "string"),
    "risk_impact": ("option", "number", "string"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRef(_Strict):
    """Where one role's value lives: field names (as Jira shows them) or ids, tried in order.

    Written as a name (``Sprint``), a list (``[Story point estimate, Story Points]``: a site with
    team-managed and company-managed projects has both, and pmsync reads whichever is set), or
    ``{names: [...], optional: true}`` for a field a site may not have at all.
    """

    names: tuple[str, ...] = Field(min_length=1)
    optional: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"names": (value,)}
        if isinstance(value, list | tuple):
            return {"names": tuple(value)}
        return value

    @field_validator("names")
    @classmethod
    def _not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not isinstance(name, str) or not name.strip():
                raise ValueError("a field name or id must be a non-empty string")
        return tuple(n.strip() for n in value)


class FieldMap(_Strict):
    """Custom fields per role, by name (or id); leave a role out when the site has no such field."""

    story_points: FieldRef | None = None
    start_date: FieldRef | None = None
    target_end: FieldRef | None = None
    epic_link: FieldRef | None = None
    sprint: FieldRef | None = None
    team: FieldRef | None = None
    risk_probability: FieldRef | None = None
    risk_impact: FieldRef | None = None

    def roles(self) -> Iterable[tuple[str, FieldRef]]:
        for role in type(self).model_fields:
            ref = getattr(self, role)
            if ref is not None:
                yield role, ref


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
    #: issue link types that are dependencies: the issue on their inward side ("is blocked by" X)
    #: is a finish-to-start predecessor; empty to read no links
    dependency_link_types: list[str] = Field(default_factory=lambda: ["Blocks"])
    #: read each project's releases (versions) as milestones, due on their release date (one more
    #: request per project, and one per unreleased release, at each full pass and deletion scan)
    releases_as_milestones: bool = False
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


@dataclass(frozen=True)
class ResolvedFields:
    """The field ids each role reads on this site, in the mapping's order (first set value wins)."""

    ids: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict)

    def of(self, role: str) -> tuple[str, ...]:
        return tuple(self.ids.get(role, ()))

    def all_ids(self) -> list[str]:
        return sorted({fid for ids in self.ids.values() for fid in ids})

    def to_json(self) -> dict[str, list[str]]:
        return {role: list(ids) for role, ids in self.ids.items()}

    @classmethod
    def from_json(cls, value: Any) -> ResolvedFields | None:
        if not isinstance(value, dict):
            return None
        return cls({str(k): tuple(str(i) for i in v) for k, v in value.items() if isinstance(v, list)})


def _describe(field: Mapping[str, Any]) -> str:
    schema = field.get("schema") or {}
    return f"{field.get('id')} ({field.get('name')!r}, {schema.get('type', '?')})"


def _fits(role: str, field: Mapping[str, Any]) -> bool:
    schema_type = str((field.get("schema") or {}).get("type", ""))
    return not schema_type or schema_type in _EXPECTED_SCHEMA.get(role, (schema_type,))


def resolve_fields(
    mapping: JiraMapping, path: Path, fields: list[dict[str, Any]], *, source: str
) -> tuple[ResolvedFields, list[str]]:
    """Each role's field ids on this site, found by name (case-insensitive) or id and checked
    against the role's schema type; warnings for optional roles the site does not have.

    A name that matches two fields of a fitting type is ambiguous; a required role that matches
    nothing is missing: both are a :class:`MappingError` naming the role and listing candidates.
    """
    by_id = {str(f.get("id")): f for f in fields if isinstance(f, dict)}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for found in by_id.values():
        for name in {str(found.get("name") or ""), str(found.get("untranslatedName") or "")} - {""}:
            by_name.setdefault(name.casefold(), []).append(found)
    resolved: dict[str, tuple[str, ...]] = {}
    warnings: list[str] = []
    for role, ref in mapping.fields.roles():
        ids: list[str] = []
        wrong_type: list[str] = []
        for name in ref.names:
            matches = [by_id[name]] if name in by_id else by_name.get(name.casefold(), [])
            fitting = [m for m in matches if _fits(role, m)]
            wrong_type += [_describe(m) for m in matches if not _fits(role, m)]
            if len(fitting) > 1:
                raise MappingError(
                    f"fields.{role}: {name!r} names {len(fitting)} fields on this site: "
                    + ", ".join(_describe(m) for m in fitting),
                    source=source,
                    record=str(path),
                    hint="write the id of the one to read (e.g. customfield_10016) instead of the name",
                )
            ids += [str(m["id"]) for m in fitting if str(m["id"]) not in ids]
        if ids:
            resolved[role] = tuple(ids)
            continue
        wanted = " or ".join(repr(n) for n in ref.names)
        if ref.optional:
            warnings.append(f"fields.{role}: this site has no field {wanted}; {role} is left empty")
            continue
        candidates = wrong_type or [
            _describe(f)
            for f in by_id.values()
            if str(f.get("id", "")).startswith("customfield_")
            and _fits(role, f)
            and any(w in str(f.get("name", "")).casefold() for w in role.casefold().split("_"))
        ]
        raise MappingError(
            f"fields.{role}: this site has no field {wanted} of type "
            f"{' or '.join(_EXPECTED_SCHEMA.get(role, ('any',)))}",
            source=source,
            record=str(path),
            hint=(
                f"candidates: {', '.join(candidates)}"
                if candidates
                else "see Jira's field list (/rest/api/3/field), or mark the role `optional: true`"
            ),
        )
    return ResolvedFields(resolved), warnings
