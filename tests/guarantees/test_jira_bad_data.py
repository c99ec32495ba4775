"""Jira issues with null, missing and oddly typed fields, served by the sandbox over HTTP and read
through the real ``jira`` client and the sync engine: each is read with sensible defaults, or stops
the run with an error naming the issue, the field and its value -- never a crash, never a half-written
page. A property test then throws arbitrary JSON at every field of a real issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jira import JIRA
from pmsync.connectors.jira.mapping import load_jira_mapping, resolve_fields
from pmsync.connectors.jira.normalize import IssueNormalizer

from pmsync.config import shipped_mappings_dir
from pmsync.errors import SourceDataError
from pmsync.model import WorkItem
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.sandbox.jira.app import MISSING
from pmsync.sandbox.jira.render import CLOUD, site_fields
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import dump, jira_source, load, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
#: this sandbox site's custom field ids (ids differ per site; the sandbox numbers them from its seed)
SITE = site_fields(CLOUD, seed=3)
STORY_POINTS, START, SPRINT, TEAM = (SITE[r] for r in ("story_points", "start_date", "sprint", "team"))
OPTIONAL = [
    *("summary", "status", "assignee", "issuetype", "duedate", "labels", "parent", "project", "created"),
    *("timespent", "timeestimate", "timeoriginalestimate", "priority", "description", "resolutiondate"),
    *(STORY_POINTS, START, SPRINT, TEAM),
]


@pytest.fixture
def jira() -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP"], 25, seed=3, anchor=ANCHOR) as sandbox:
        yield sandbox


def sync(jira: JiraSandbox, folder: Path) -> tuple[Store, Any]:
    url = f"sqlite:///{folder / 'pmsync.db'}"
    config = load(write_yaml(folder, url, jira_source(jira)), jira)
    store = Store.open(url)
    [run] = sync_sources(config, store)
    return store, run


def items(store: Store) -> dict[str, WorkItem]:
    return {w.source.external_id: w for w in store.iter_records(WorkItem)}


@pytest.mark.parametrize("how", ["null", "missing"])
def test_null_or_missing_optional_fields_are_read_as_unknown(
    how: str, jira: JiraSandbox, tmp_path: Path
) -> None:
    value = None if how == "null" else MISSING
    jira.app.hooks.field_overrides["ERP-3"] = dict.fromkeys(OPTIONAL, value)
    store, run = sync(jira, tmp_path)
    try:
        assert run.status == "ok", run.error
        item = items(store)["ERP-3"]
        assert item.name == "ERP-3"  # no summary: the key stands in
        assert (item.status, item.assignee, item.story_points, item.due, item.sprint, item.labels) == (
            None, None, None, None, None, ()
        )  # fmt: skip
        assert len(dump(store)["records"]) == 25
    finally:
        store.close()


def test_custom_fields_of_other_types_are_read_when_they_hold_the_value(
    jira: JiraSandbox, tmp_path: Path
) -> None:
    jira.app.hooks.field_overrides["ERP-3"] = {STORY_POINTS: {"self": "x", "value": "5", "id": "10042"}}
    jira.app.hooks.field_overrides["ERP-4"] = {STORY_POINTS: "8", "labels": "urgent"}
    store, run = sync(jira, tmp_path)
    try:
        assert run.status == "ok", run.error
        assert items(store)["ERP-3"].story_points == 5.0  # a select list of numbers
        assert items(store)["ERP-4"].story_points == 8.0 and items(store)["ERP-4"].labels == ("urgent",)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (STORY_POINTS, "five"),
        (STORY_POINTS, ["3"]),
        (START, {"value": "2026-01-01"}),
        ("duedate", "31/12/2026"),
        ("timespent", "NaN"),
        (STORY_POINTS, 10**400),  # valid JSON, too large for a float
    ],
)
def test_an_unreadable_field_stops_the_run_naming_issue_field_and_value(
    field: str, value: Any, jira: JiraSandbox, tmp_path: Path
) -> None:
    jira.app.hooks.field_overrides["ERP-13"] = {field: value}  # on the second page of ten
    store, run = sync(jira, tmp_path)
    try:
        assert run.status == "failed"
        assert run.error and "ERP-13" in run.error and field in run.error and repr(value)[:20] in run.error
        assert "pmsync doctor" in run.error  # and what to do
        # The first page was committed with its cursor; nothing of the page with the bad issue.
        assert sorted(items(store), key=lambda k: int(k.split("-")[1])) == [f"ERP-{n}" for n in range(1, 11)]
    finally:
        store.close()


# -- property: any JSON in any field ------------------------------------------------------------------
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([10**400, "1e999", "-inf", "2026-02-30", "2026-11-20T25:00:00.000+1100", "\x00"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "name", "displayName", "key", "id", "x"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def real_issue() -> Iterator[tuple[IssueNormalizer, dict[str, Any]]]:
    """A Story as the real client reads it from the sandbox, and a normalizer with the shipped mapping."""
    with jira_sandbox(["ERP"], 5, seed=3, anchor=ANCHOR) as sandbox:
        client = JIRA(sandbox.url, basic_auth=(sandbox.email, sandbox.api_token), max_retries=0)
        raw = client.issue("ERP-2").raw
        site_fields = client.fields()
        client.close()
    mapping, path = load_jira_mapping("jira-cloud.yaml", [shipped_mappings_dir()], source="jira")
    resolved, _ = resolve_fields(mapping, path, site_fields, source="jira")
    normalizer = IssueNormalizer(
        mapping, source="jira", base_url="https://jira.example", project_links={}, status_categories={},
        fields=resolved,
    )  # fmt: skip
    yield normalizer, raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.dictionaries(
        st.sampled_from(OPTIONAL + ["updated", "worklog", "issuelinks"]),
        JSON | st.just(MISSING),
        min_size=1,
        max_size=6,
    )
)
def test_any_json_in_any_field_is_read_or_refused_naming_the_issue(
    real_issue: tuple[IssueNormalizer, dict[str, Any]], changes: dict[str, Any]
) -> None:
    normalizer, raw = real_issue
    fields = dict(raw["fields"])
    for name, value in changes.items():
        if value is MISSING:
            fields.pop(name, None)
        else:
            fields[name] = value
    try:
        record = normalizer.normalize({**raw, "fields": fields})
    except SourceDataError as exc:
        assert exc.record == "ERP-2" and exc.source == "jira"
        return
    assert record.source.external_id == "ERP-2"
