"""What the sandbox Graph serves must exist in Microsoft's own Graph v1.0 schema (CSDL).

Every property name the sandbox puts in a Planner entity must be a property of that type (or of its
base types) in ``msgraph-v1.0.csdl.xml``, and every route must walk the schema's navigation
properties from an entity set or singleton, so the sandbox cannot drift into a Graph that does not
exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from defusedxml import ElementTree

from pmsync.sandbox.graph_planner import iter_entity_names

CSDL = Path("/work/shared/specs/msgraph-v1.0.csdl.xml")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

pytestmark = pytest.mark.skipif(not CSDL.is_file(), reason=f"{CSDL} (Graph v1.0 CSDL) is not here")


@dataclass
class GraphType:
    base: str | None
    open: bool
    properties: dict[str, str] = field(default_factory=dict)  # name -> type, navigation included


@dataclass
class Schema:
    types: dict[str, GraphType]
    roots: dict[str, str]  # entity sets and singletons -> type (collection for sets)

    def properties(self, name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        current: str | None = name
        while current is not None:
            graph_type = self.types[current]
            found = {**graph_type.properties, **found}
            current = graph_type.base
        return found

    def walk(self, path: str) -> str:
        """The type a Graph URL path (``/planner/plans/{id}/tasks``) addresses; fails on an unknown step."""
        segments = [s for s in path.strip("/").split("/") if s]
        current = self.roots[segments[0]]
        for segment in segments[1:]:
            if segment.startswith("{"):
                assert current.startswith("Collection("), f"{path}: key after a single-valued {current}"
                current = current[len("Collection(") : -1]
                continue
            element = current[len("Collection(") : -1] if current.startswith("Collection(") else current
            properties = self.properties(element)
            assert segment in properties, f"{path}: {element} has no navigation property {segment!r}"
            current = properties[segment]
        return current


def _short(type_name: str) -> str:
    return re.sub(r"\b(?:graph|microsoft\.graph)\.", "", type_name)


@pytest.fixture(scope="module")
def schema() -> Schema:
    root = ElementTree.parse(CSDL).getroot()
    types: dict[str, GraphType] = {}
    roots: dict[str, str] = {}
    # Only microsoft.graph's own namespace: others (e.g. microsoft.graph.termStore) reuse short names.
    graph = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == "microsoft.graph")
    for element in graph.iter():
        if element.tag in (f"{EDM}EntityType", f"{EDM}ComplexType"):
            base = element.get("BaseType")
            graph_type = GraphType(_short(base) if base else None, element.get("OpenType") == "true")
            for prop in element:
                if prop.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    graph_type.properties[prop.get("Name", "")] = _short(prop.get("Type", ""))
            types[element.get("Name", "")] = graph_type
        elif element.tag == f"{EDM}EntitySet":
            roots[element.get("Name", "")] = f"Collection({_short(element.get('EntityType', ''))})"
        elif element.tag == f"{EDM}Singleton":
            roots[element.get("Name", "")] = _short(element.get("Type", ""))
    return Schema(types, roots)


@pytest.mark.parametrize("type_name,served", list(iter_entity_names()), ids=lambda v: str(v)[:30])
def test_served_properties_exist_in_graph_v1(schema, type_name, served):
    known = set(schema.properties(type_name))
    assert served, f"nothing served for {type_name}"
    assert served <= known, f"{type_name}: not in Graph v1.0: {sorted(served - known)}"


@pytest.mark.parametrize(
    "route,expected",
    [
        ("/groups/{id}/planner/plans", "Collection(plannerPlan)"),
        ("/planner/plans/{id}", "plannerPlan"),
        ("/planner/plans/{id}/buckets", "Collection(plannerBucket)"),
        ("/planner/plans/{id}/tasks", "Collection(plannerTask)"),
        ("/planner/tasks/{id}", "plannerTask"),
        ("/planner/tasks/{id}/details", "plannerTaskDetails"),
    ],
)
def test_planner_routes_follow_graph_navigation(schema, route, expected):
    assert schema.walk(route) == expected


def test_the_walker_rejects_a_route_graph_does_not_have(schema):
    with pytest.raises(AssertionError, match="no navigation property 'delta'"):
        schema.walk("/planner/plans/{id}/tasks/{id}/delta")
