"""Every answer the sandbox Jira Cloud gives the connector validates against Atlassian's OpenAPI spec.

The spec (``/work/shared/specs``-style copy shipped with the tests' environment, path below) is the
vendor's own description of Jira Cloud platform REST v3. A full sync, an incremental one with changes,
a deletion scan, long changelogs (bulkfetch), work logs and releases are recorded at the sandbox and
each JSON body is checked against the response schema of its path: zero divergences.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from pmsync.sandbox.jira import JiraSandbox

SPEC = Path(os.environ.get("PMSYNC_JIRA_SPEC", "/work/shared/specs/jira-cloud-platform-v3.openapi.json"))
URI = "urn:jira-cloud-v3"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema terms."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"Atlassian's OpenAPI spec is not at {SPEC} (set PMSYNC_JIRA_SPEC)")
    return dict(_nullable(json.loads(SPEC.read_text(encoding="utf-8"))))


def _operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    for template, operations in spec["paths"].items():
        parts = re.split(r"\{[^}]+\}", template)
        pattern = "^" + "[^/]+".join(re.escape(part) for part in parts) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    raise AssertionError(f"{method} {path} is not in Atlassian's spec: the sandbox serves a made-up path")


def test_every_answer_to_the_connector_validates_against_the_cloud_spec(
    spec: dict[str, Any], jira_cloud: JiraSandbox, connect: Any, tmp_path: Path
) -> None:
    text = (Path(__file__).parents[2] / "mappings" / "jira-cloud.yaml").read_text()
    mine = text.replace("effort: timetracking", "effort: worklogs")
    (tmp_path / "m.yaml").write_text(
        mine.replace("releases_as_milestones: false", "releases_as_milestones: true")
    )
    jira_cloud.app.renderer.worklog_limit = 1  # so work logs are fetched per issue too
    jira_cloud.app.exchanges = exchanges = []
    connector = connect(jira_cloud, mapping="m.yaml", mapping_dirs=(tmp_path,), deletion_scan_hours=0)
    items = list(connector.extract({}))
    cursor = [i for i in items if hasattr(i, "cursor")][-1].cursor
    jira_cloud.touch(5)
    jira_cloud.delete(1)
    list(connector.extract(cursor))

    registry: Registry[Any] = Registry().with_resource(URI, Resource.opaque(spec))
    seen: dict[str, int] = {}
    divergences: list[str] = []
    for method, path, status, body in exchanges:
        template, operation = _operation(spec, method, path)
        answer = operation["responses"].get(str(status))
        assert answer is not None, f"{method} {path} answered {status}, which the spec does not list"
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        seen[template] = seen.get(template, 0) + 1
        wrapped = {"$ref": f"{URI}#/components/schemas/_answer"}
        spec["components"]["schemas"]["_answer"] = schema
        validator = Draft7Validator(wrapped, registry=registry.with_resource(URI, Resource.opaque(spec)))
        for error in validator.iter_errors(json.loads(body)):
            divergences.append(
                f"{method} {path}: {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
            )
    assert divergences == []
    # the answers checked cover everything the connector reads
    assert {
        "/rest/api/3/myself", "/rest/api/3/field", "/rest/api/3/status", "/rest/api/3/issuetype",
        "/rest/api/3/search/jql", "/rest/api/3/changelog/bulkfetch",
        "/rest/api/3/issue/{issueIdOrKey}/worklog", "/rest/api/3/project/{projectIdOrKey}/versions",
    } <= set(seen)  # fmt: skip
