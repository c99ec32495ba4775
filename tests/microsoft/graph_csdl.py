"""Checking a Graph JSON response against Microsoft's Graph v1.0 CSDL (``msgraph-v1.0.csdl.xml``).

A response *diverges* when it has a property its type does not declare (unless the type is open), a
value of the wrong JSON kind for its declared Edm type, an entity without its key (``id``), or a
``null`` where the schema says ``Nullable="false"``. Nested complex types, entities, collections and
``@odata.type`` casts are followed. :data:`ROUTES` says which type each sandbox Graph URL returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

CSDL = Path("/work/shared/specs/msgraph-v1.0.csdl.xml")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


@dataclass
class Prop:
    type: str
    nullable: bool


@dataclass
class GraphType:
    base: str | None
    open: bool
    entity: bool
    keys: list[str] = field(default_factory=list)
    properties: dict[str, Prop] = field(default_factory=dict)


def _short(name: str) -> str:
    return re.sub(r"\b(?:graph|microsoft\.graph)\.", "", name)


class Csdl:
    def __init__(self, path: Path = CSDL) -> None:
        root = ElementTree.parse(path).getroot()
        graph = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == "microsoft.graph")
        self.types: dict[str, GraphType] = {}
        self.enums: set[str] = set()
        for element in graph:
            name = element.get("Name", "")
            if element.tag == f"{EDM}EnumType":
                self.enums.add(name)
            if element.tag not in (f"{EDM}EntityType", f"{EDM}ComplexType"):
                continue
            base = element.get("BaseType")
            graph_type = GraphType(
                _short(base) if base else None,
                element.get("OpenType") == "true",
                element.tag == f"{EDM}EntityType",
            )
            for child in element:
                if child.tag == f"{EDM}Key":
                    graph_type.keys = [ref.get("Name", "") for ref in child]
                if child.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    graph_type.properties[child.get("Name", "")] = Prop(
                        _short(child.get("Type", "")), child.get("Nullable") != "false"
                    )
            self.types[name] = graph_type

    def chain(self, name: str) -> list[GraphType]:
        found = []
        current: str | None = name
        while current is not None:
            found.append(self.types[current])
            current = found[-1].base
        return found

    def properties(self, name: str) -> dict[str, Prop]:
        merged: dict[str, Prop] = {}
        for graph_type in reversed(self.chain(name)):
            merged.update(graph_type.properties)
        return merged

    def divergences(self, type_name: str, value: Any, where: str = "") -> list[str]:
        """Every way ``value`` departs from ``type_name`` (empty when it conforms)."""
        if type_name.startswith("Collection("):
            inner = type_name[len("Collection(") : -1]
            if not isinstance(value, list):
                return [f"{where}: expected a list of {inner}, got {type(value).__name__}"]
            return [d for i, v in enumerate(value) for d in self.divergences(inner, v, f"{where}[{i}]")]
        if type_name.startswith("Edm.") or type_name in self.enums:
            return self._primitive(type_name, value, where)
        if not isinstance(value, dict):
            return [f"{where}: expected a {type_name} object, got {type(value).__name__}"]
        cast = value.get("@odata.type")
        if isinstance(cast, str) and _short(cast.lstrip("#")) in self.types:
            type_name = _short(cast.lstrip("#"))
        chain = self.chain(type_name)
        props = self.properties(type_name)
        problems = []
        if any(t.entity for t in chain):
            keys = next((t.keys for t in chain if t.keys), [])
            problems += [
                f"{where or type_name}: entity {type_name} without its key {k!r}"
                for k in keys
                if k not in value
            ]
        is_open = any(t.open for t in chain)
        for name, item in value.items():
            if name.startswith("@") or "@odata." in name:
                continue
            here = f"{where}.{name}" if where else f"{type_name}.{name}"
            prop = props.get(name)
            if prop is None:
                if not is_open:
                    problems.append(f"{here}: {type_name} has no property {name!r}")
                elif isinstance(item, dict) and "@odata.type" in item:
                    problems += self.divergences(_short(str(item["@odata.type"]).lstrip("#")), item, here)
                continue
            if item is None:
                if not prop.nullable:
                    problems.append(f"{here}: null, but {type_name}.{name} is not nullable")
                continue
            problems += self.divergences(prop.type, item, here)
        return problems

    def _primitive(self, type_name: str, value: Any, where: str) -> list[str]:
        ok: bool
        if value is None:
            return []
        if type_name in self.enums:
            ok = isinstance(value, str)
        elif type_name == "Edm.Boolean":
            ok = isinstance(value, bool)
        elif type_name in ("Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_name == "Edm.DateTimeOffset":
            ok = isinstance(value, str) and _parses(
                lambda: datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
        elif type_name == "Edm.Date":
            ok = isinstance(value, str) and _parses(lambda: date.fromisoformat(value))
        elif type_name == "Edm.Untyped":
            ok = True
        else:  # String, Guid, Binary, Duration, TimeOfDay, Stream
            ok = isinstance(value, str)
        return [] if ok else [f"{where}: {value!r} is not a valid {type_name}"]


def _parses(parse: Any) -> bool:
    try:
        parse()
    except ValueError:
        return False
    return True


_ID = r"[^/:]+"
#: (method, path pattern under /v1.0 or the upload prefix, status class, CSDL type of the body)
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), t)
    for m, p, t in [
        ("GET", rf"^/v1\.0/groups/{_ID}/planner/plans$", "Collection(plannerPlan)"),
        ("GET", rf"^/v1\.0/planner/plans/{_ID}$", "plannerPlan"),
        ("GET", rf"^/v1\.0/planner/plans/{_ID}/details$", "plannerPlanDetails"),
        ("GET", rf"^/v1\.0/planner/plans/{_ID}/buckets$", "Collection(plannerBucket)"),
        ("GET", rf"^/v1\.0/planner/plans/{_ID}/tasks$", "Collection(plannerTask)"),
        ("GET", rf"^/v1\.0/planner/tasks/{_ID}$", "plannerTask"),
        ("GET", rf"^/v1\.0/planner/tasks/{_ID}/details$", "plannerTaskDetails"),
        ("GET", rf"^/v1\.0/users/{_ID}$", "user"),
        ("GET", r"^/v1\.0/sites/[^/:]+:/[^:]*:?$", "site"),
        ("GET", rf"^/v1\.0/sites/{_ID}$", "site"),
        ("GET", rf"^/v1\.0/sites/{_ID}/drives$", "Collection(drive)"),
        ("GET", rf"^/v1\.0/sites/{_ID}/lists$", "Collection(list)"),
        ("POST", rf"^/v1\.0/sites/{_ID}/lists$", "list"),
        ("GET", rf"^/v1\.0/sites/{_ID}/lists/[^/]+$", "list"),
        ("GET", rf"^/v1\.0/sites/{_ID}/lists/[^/]+/columns$", "Collection(columnDefinition)"),
        ("GET", rf"^/v1\.0/sites/{_ID}/lists/[^/]+/items$", "Collection(listItem)"),
        ("POST", rf"^/v1\.0/sites/{_ID}/lists/[^/]+/items$", "listItem"),
        ("GET", rf"^/v1\.0/sites/{_ID}/lists/[^/]+/items/\d+$", "listItem"),
        ("PATCH", rf"^/v1\.0/sites/{_ID}/lists/[^/]+/items/\d+/fields$", "fieldValueSet"),
        ("GET", rf"^/v1\.0/drives/{_ID}$", "drive"),
        ("GET", rf"^/v1\.0/drives/{_ID}/list$", "list"),
        ("GET", rf"^/v1\.0/drives/{_ID}/list/columns$", "Collection(columnDefinition)"),
        ("GET", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/children$", "Collection(driveItem)"),
        ("POST", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/children$", "driveItem"),
        ("POST", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/createUploadSession$", "uploadSession"),
        ("PUT", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/content$", "driveItem"),
        (
            "GET",
            rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/versions$",
            "Collection(driveItemVersion)",
        ),
        ("GET", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/listItem$", "listItem"),
        ("GET", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/listItem/fields$", "fieldValueSet"),
        ("PATCH", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/.*?:?)?/listItem/fields$", "fieldValueSet"),
        ("GET", rf"^/v1\.0/drives/{_ID}/(root|items/{_ID})(:/[^:]*:?)?$", "driveItem"),
        ("PUT", r"^/_sandbox/sharepoint/upload/\w+$", "uploadSession"),
        ("GET", r"^/_sandbox/sharepoint/upload/\w+$", "uploadSession"),
    ]
]


def response_type(method: str, path: str, status: int) -> str | None:
    """The CSDL type a sandbox Graph response has, or None for what Graph types otherwise (errors,
    ``$batch`` envelopes)."""
    if status >= 400 or path.endswith("/$batch"):
        return None
    if path.startswith("/_sandbox/sharepoint/upload/") and method == "PUT" and status in (200, 201):
        return "driveItem"  # the last fragment: the session answers with the item it made
    for route_method, pattern, type_name in ROUTES:
        if route_method == method and pattern.match(path):
            return type_name
    raise AssertionError(f"no CSDL type known for {method} {path}: add it to ROUTES")


def body_of(type_name: str, body: Any) -> Any:
    """A collection response's ``value`` list, or the body itself."""
    if type_name.startswith("Collection(") and isinstance(body, dict):
        return body.get("value")
    return body
