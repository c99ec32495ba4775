"""The Jira connector's stream, read directly from ``extract()`` against the sandbox Jira."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.jira import JiraConnector

from pmsync.connector import Checkpoint, Cursor, ExtractItem, Seen, SnapshotComplete
from pmsync.errors import AuthError, MappingError, RetriableSourceError, SourceDataError
from pmsync.model import Record, Risk, WorkItem
from pmsync.sandbox.faults import Garbage, ServerError, Throttle, Truncate
from pmsync.sandbox.jira import JiraSandbox
from pmsync.sandbox.jira.data import STATUSES, Edit


def collect(connector: JiraConnector, cursor: Cursor | None = None) -> list[ExtractItem]:
    return list(connector.extract(cursor or {}))


def records(items: list[object]) -> list[Record]:
    return [i for i in items if isinstance(i, Record)]


def keys(items: list[object]) -> set[str]:
    return {r.source.external_id for r in records(items)}


def last_cursor(items: list[object]) -> dict[str, object]:
    return [i for i in items if isinstance(i, Checkpoint)][-1].cursor


def test_full_sync_yields_every_issue_once_with_a_checkpoint_per_page(
    jira_any: JiraSandbox, connect: Any
) -> None:
    items = collect(connect(jira_any))
    found = [r.source.external_id for r in records(items)]
    assert sorted(found) == sorted(jira_any.live_keys())
    assert len(found) == len(set(found)) == 240
    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    assert len(checkpoints) >= 240 // 25  # one per search page, plus one after the deletion scan
    # records come before the checkpoint that commits them
    assert isinstance(items[-1], Checkpoint)
    # a full pass is itself the snapshot of each project: no key-only scan needed
    assert not [i for i in items if isinstance(i, Seen)]
    assert {i.scope for i in items if isinstance(i, SnapshotComplete)} == {"project:ERP", "project:PORTAL"}
    if jira_any.flavor.cloud:  # one id-only search, then one bulkfetch per page
        assert jira_any.search_requests() == 1
        bulk = [path for _, path in jira_any.requests if path.endswith("/issue/bulkfetch")]
        assert len(bulk) == len(checkpoints) - 1
    else:
        assert jira_any.search_requests() == len(checkpoints) - 1


def test_records_carry_the_wbs_status_history_effort_and_raid_types(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    items = collect(connect(jira_cloud, links={"ERP": "erp-upgrade"}))
    by_key = {r.source.external_id: r for r in records(items)}
    story = by_key["ERP-2"]
    assert isinstance(story, WorkItem) and story.kind == "story" and story.parent == "ERP-1"
    assert story.project == "erp-upgrade" and by_key["PORTAL-2"].project == "PORTAL"
    legacy = by_key["ERP-22"]  # a block that links stories to the epic with the Epic Link field
    assert isinstance(legacy, WorkItem) and legacy.parent == "ERP-21"
    subtask = by_key["ERP-5"]
    assert isinstance(subtask, WorkItem) and subtask.kind == "subtask" and subtask.parent == "ERP-4"
    done = [r for r in records(items) if isinstance(r, WorkItem) and r.status_category == "done"]
    assert done and all(r.done_at is not None and r.started_at is not None for r in done)
    assert all(r.started_at <= r.done_at for r in done if r.started_at and r.done_at)
    worked = [r for r in records(items) if isinstance(r, WorkItem) and r.effort_actual_hours]
    assert worked and all(r.kind != "epic" for r in worked)
    assert any(isinstance(r, WorkItem) and r.sprint and r.team and r.story_points for r in records(items))
    risk = by_key["ERP-14"]
    assert isinstance(risk, Risk) and risk.probability is not None and risk.score is not None
    assert {r.record_type for r in records(items)} == {
        "work_item",
        "risk",
        "issue",
        "decision",
        "action_item",
    }


def test_data_center_sprint_strings_and_epic_links_are_read(jira_dc: JiraSandbox, connect: Any) -> None:
    items = collect(connect(jira_dc))
    by_key = {r.source.external_id: r for r in records(items)}
    story = by_key["ERP-22"]
    assert isinstance(story, WorkItem) and story.parent == "ERP-21"
    assert story.sprint is not None and story.sprint.startswith("ERP Sprint")


def test_incremental_sync_yields_exactly_the_changed_issues(jira_any: JiraSandbox, connect: Any) -> None:
    connector = connect(jira_any)
    cursor = last_cursor(collect(connector))
    touched = jira_any.touch(7)
    created = jira_any.create("PORTAL", 2)
    items = collect(connector, cursor)
    assert keys(items) == set(touched) | set(created)
    assert last_cursor(items)["updated"] > cursor["updated"]  # type: ignore[operator]


def test_nothing_changed_makes_one_search_request_and_yields_nothing(
    jira_any: JiraSandbox, connect: Any
) -> None:
    connector = connect(jira_any)
    cursor = last_cursor(collect(connector))
    jira_any.server.faults.clear()
    items = collect(connector, cursor)
    assert records(items) == []
    # one HTTP request in all: no serverInfo, and the field list, statuses, issue types and time
    # zone come from the cursor (read once, kept for metadata_ttl_hours)
    assert [path for _, path in jira_any.requests] == [
        "/rest/api/3/search/jql" if jira_any.flavor.cloud else "/rest/api/2/search"
    ]
    assert last_cursor(items) == cursor


def test_the_field_list_is_read_once_per_run_and_again_when_stale_or_the_mapping_changes(
    jira_cloud: JiraSandbox, connect: Any, tmp_path: Path
) -> None:
    connector = connect(jira_cloud)
    cursor = last_cursor(collect(connector))
    assert [p for _, p in jira_cloud.requests].count("/rest/api/3/field") == 1
    fetched = datetime.fromisoformat(str(cursor["meta"]["fetched"]))  # type: ignore[index]
    stale = {**cursor, "meta": {**cursor["meta"], "fetched": (fetched - timedelta(hours=25)).isoformat()}}  # type: ignore[dict-item]
    jira_cloud.server.faults.clear()
    collect(connector, stale)
    assert [p for _, p in jira_cloud.requests].count("/rest/api/3/field") == 1
    text = (Path(__file__).parents[2] / "mappings" / "jira-cloud.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(text.replace("effort: timetracking", "effort: worklogs"))
    jira_cloud.server.faults.clear()
    collect(connect(jira_cloud, mapping="mine.yaml", mapping_dirs=(tmp_path,)), cursor)
    assert [p for _, p in jira_cloud.requests].count("/rest/api/3/field") == 1


def test_deleted_and_moved_issues_are_missing_from_the_scan(jira_any: JiraSandbox, connect: Any) -> None:
    connector = connect(jira_any, deletion_scan_hours=0)
    cursor = last_cursor(collect(connector))
    gone = jira_any.delete(2, ["ERP-7", "PORTAL-14"]) + jira_any.move_out(1, ["ERP-40"])
    items = collect(connector, cursor)
    seen = {i.source.external_id for i in items if isinstance(i, Seen)}
    assert seen == set(jira_any.live_keys())
    assert not seen & set(gone)
    assert {i.scope for i in items if isinstance(i, SnapshotComplete)} == {"project:ERP", "project:PORTAL"}
    risk_seen = {i.source.external_id for i in items if isinstance(i, Seen) and i.record_type == "risk"}
    assert "ERP-34" in risk_seen and "PORTAL-14" not in risk_seen


def test_throttling_and_server_errors_are_retried_honouring_retry_after(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    connector = connect(jira_cloud)
    waits: list[float] = []
    connector.sleep = waits.append
    plan = jira_cloud.server.faults
    # a full sync lists ids with one search, then reads the issues by bulkfetch, 8 at a time
    bulk = "/rest/api/3/issue/bulkfetch"
    plan.add(Throttle(retry_after=7), path=bulk, after=2, times=2)
    plan.add(ServerError(503), path=bulk, after=5, times=1)
    plan.add(Truncate(keep=50), path=bulk, after=7, times=1)
    plan.add(Garbage(), path=bulk, after=8, times=1)
    items = collect(connector)
    assert plan.served() == 5
    assert waits.count(7) == 2  # what Retry-After asked, not a guess
    found = [r.source.external_id for r in records(items)]
    assert sorted(found) == sorted(jira_cloud.live_keys()) and len(found) == len(set(found))


def test_persistent_throttling_stops_cleanly_after_the_last_committed_page(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    # An incremental sync pages by token, one page (and checkpoint) at a time.
    connector = connect(jira_cloud, retry_attempts=3)
    cursor = last_cursor(collect(connector))
    jira_cloud.touch(120)
    jira_cloud.server.faults.clear()
    jira_cloud.server.faults.add(Throttle(retry_after=1), path="/rest/api/3/search/jql", after=3, times=-1)
    seen: list[object] = []
    with pytest.raises(RetriableSourceError):
        for item in connector.extract(cursor):
            seen.append(item)
    assert len([i for i in seen if isinstance(i, Checkpoint)]) == 3  # three pages committed, no more
    assert isinstance(seen[-1], Checkpoint)


def test_persistent_throttling_of_a_full_sync_hands_over_no_partial_group(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    # A full sync reads up to 1,000 issues (here all 240) as one group whose long changelogs are
    # fetched together: the group is handed over whole or not at all.
    connector = connect(jira_cloud, retry_attempts=3, concurrency=2)
    jira_cloud.server.faults.add(
        Throttle(retry_after=1), path="/rest/api/3/issue/bulkfetch", after=3, times=-1
    )
    seen: list[object] = []
    with pytest.raises(RetriableSourceError, match="bulkfetch"):
        for item in connector.extract({}):
            seen.append(item)
    assert seen == []


def test_client_errors_are_not_retried(jira_cloud: JiraSandbox, connect: Any) -> None:
    connector = connect(jira_cloud, projects=["ERP", "NOPE"])
    with pytest.raises(SourceDataError, match="'NOPE' does not exist"):
        collect(connector)
    assert jira_cloud.search_requests() == 1


@pytest.mark.parametrize("flavor_fixture", ["jira_cloud", "jira_dc"])
def test_an_issue_updated_between_pages_is_not_lost(
    flavor_fixture: str, request: pytest.FixtureRequest, connect: Any
) -> None:
    sandbox: JiraSandbox = request.getfixturevalue(flavor_fixture)
    connector = connect(sandbox)
    # Issues on the first page move to the end of the result while the client pages on: with Data
    # Center's offsets the rest shifts left and the boundary issue would be skipped.
    first_page = sorted(sandbox.live_keys(), key=lambda k: (k.split("-")[0] != "ERP", int(k.split("-")[1])))
    sandbox.update_between_pages(after_page=1, keys=["ERP-1", "PORTAL-1", "ERP-2"])
    sandbox.update_between_pages(after_page=3, keys=["ERP-3"])
    items = collect(connector)
    assert keys(items) == set(sandbox.live_keys())
    assert first_page  # the sandbox really had data
    latest = {r.source.external_id: r for r in records(items)}
    assert latest["ERP-3"].source_modified is not None


def test_an_issue_deleted_between_pages_does_not_hide_its_neighbours(
    jira_dc: JiraSandbox, connect: Any
) -> None:
    connector = connect(jira_dc)
    jira_dc.delete_between_pages(after_page=2, keys=["ERP-3", "PORTAL-2"])
    items = collect(connector)
    assert set(jira_dc.live_keys()) <= keys(items)


def test_wrong_api_token_is_an_auth_error_that_names_the_fix(jira_cloud: JiraSandbox, connect: Any) -> None:
    connector = connect(jira_cloud, api_token="not-the-token")
    with pytest.raises(AuthError) as raised:
        collect(connector)
    assert "401" in str(raised.value) and "api_token" in str(raised.value)
    assert "not-the-token" not in str(raised.value)
    assert len(jira_cloud.requests) == 1  # refused credentials are not retried


def test_data_center_captcha_lockout_is_explained(jira_dc: JiraSandbox, connect: Any) -> None:
    bad = connect(jira_dc, pat=None, username="pm", password="wrong")
    for _ in range(3):
        with pytest.raises(AuthError):
            collect(bad)
    with pytest.raises(AuthError, match="CAPTCHA"):
        collect(bad)


def test_bad_pat_is_refused(jira_dc: JiraSandbox, connect: Any) -> None:
    with pytest.raises(AuthError, match="pat"):
        collect(connect(jira_dc, pat="expired-token"))


def test_unknown_custom_field_in_the_mapping_names_the_field(
    jira_cloud: JiraSandbox, tmp_path: Path, connect: Any
) -> None:
    text = (Path(__file__).parents[2] / "mappings" / "jira-cloud.yaml").read_text()
    mine = text.replace("[Story point estimate, Story Points]", "[Story pts, customfield_99999]")
    (tmp_path / "mine.yaml").write_text(mine)
    connector = connect(jira_cloud, mapping="mine.yaml", mapping_dirs=(tmp_path,))
    with pytest.raises(MappingError) as raised:
        collect(connector)
    message = str(raised.value)
    assert "fields.story_points" in message and "'Story pts' or 'customfield_99999'" in message
    # the candidates are the site's number fields whose name says "story"
    assert f"{jira_cloud.field_id('story_points')} ('Story Points', number)" in message
    assert f"{jira_cloud.field_id('story_point_estimate')} ('Story point estimate', number)" in message
    failed = [c for c in connector.check() if c.status == "fail"]
    assert [c.name for c in failed] == ["mapping"] and "Story pts" in failed[0].detail


def test_shipped_mappings_find_this_sites_fields_by_name_in_both_project_types(
    jira_any: JiraSandbox, connect: Any
) -> None:
    """Field ids differ per site (the sandbox numbers them from its seed); the shipped mapping names
    fields, so it reads story points from team-managed ("Story point estimate") and company-managed
    ("Story Points") projects alike, and sprint, team, dates, epic link and risk scores too."""
    items = records(collect(connect(jira_any)))
    by_key = {r.source.external_id: r for r in items}
    for project in ("ERP", "PORTAL"):
        stories = [
            r for r in items
            if isinstance(r, WorkItem) and r.kind == "story" and r.source.external_id.startswith(project)
        ]  # fmt: skip
        truth = {r.source.external_id: jira_any.data.find(r.source.external_id) for r in stories}
        assert stories and all(r.story_points == truth[r.source.external_id].story_points for r in stories)  # type: ignore[union-attr]
        assert any(r.sprint for r in stories) and any(r.start for r in stories)
    assert jira_any.app.renderer.team_managed("PORTAL") == jira_any.flavor.cloud
    risks = [r for r in by_key.values() if isinstance(r, Risk)]
    assert risks and all(r.probability is not None and r.impact is not None for r in risks)


def test_a_name_that_matches_two_fields_is_refused_listing_both(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    fields = jira_cloud.app.renderer.fields
    fields["sprint_copy"] = "customfield_29999"  # an admin created a second "Sprint" field
    from pmsync.sandbox.jira import render

    render._CUSTOM_SCHEMAS["sprint_copy"] = render._CUSTOM_SCHEMAS["sprint"]
    try:
        with pytest.raises(MappingError) as raised:
            collect(connect(jira_cloud))
    finally:
        del render._CUSTOM_SCHEMAS["sprint_copy"]
    message = str(raised.value)
    assert "fields.sprint: 'Sprint' names 2 fields" in message
    assert jira_cloud.field_id("sprint") in message and "customfield_29999" in message
    assert "write the id" in message


def _true_start(jira: JiraSandbox, key: str) -> datetime | None:
    """When the sandbox's issue first left a not-started status: the truth actual start must match."""
    state = jira.data.find(key)
    assert state is not None
    for change in state.history:
        if STATUSES[change.to_status][1] != "new":
            return datetime.fromtimestamp(change.at_ms / 1000, UTC)
    return None


def test_check_reports_each_step(jira_cloud: JiraSandbox, connect: Any) -> None:
    results = connect(jira_cloud, projects=["ERP", "GHOST"]).check()
    status = {r.name: r.status for r in results}
    assert status == {
        "reachable": "ok", "sign-in": "ok", "project ERP": "ok", "project GHOST": "fail", "mapping": "ok",
    }  # fmt: skip
    bad = connect(jira_cloud, api_token="nope").check()
    assert [(r.name, r.status) for r in bad] == [("sign-in", "fail")]


def test_long_histories_and_worklogs_are_fetched_in_full(
    jira_any: JiraSandbox, connect: Any, tmp_path: Path
) -> None:
    name = "jira-cloud.yaml" if jira_any.flavor.cloud else "jira-datacenter.yaml"
    text = (Path(__file__).parents[2] / "mappings" / name).read_text()
    (tmp_path / "worklogs.yaml").write_text(text.replace("effort: timetracking", "effort: worklogs"))
    connector = connect(jira_any, mapping="worklogs.yaml", mapping_dirs=(tmp_path,), projects=["ERP"])
    # Cloud's search carries the 40 most recent histories (its default); Data Center's carries
    # them all, so cut it to one here, as a huge changelog would be. Worklogs: one inline.
    if not jira_any.flavor.cloud:
        jira_any.app.renderer.changelog_limit = 1
    jira_any.app.renderer.worklog_limit = 1
    items = {r.source.external_id: r for r in records(collect(connector))}
    long_lived = [
        key for key in items
        if len((s := jira_any.data.find(key)) and (*s.history, *s.edits) or ()) > 40
    ]  # fmt: skip
    assert len(long_lived) >= 3  # the sandbox makes some issues long-lived
    for key, record in items.items():
        if isinstance(record, WorkItem):
            assert record.started_at == _true_start(jira_any, key), key
            state = jira_any.data.find(key)
            assert state is not None
            spent = state.spent_seconds / 3600 if state.spent_seconds else None
            assert record.effort_actual_hours == (round(spent, 4) if spent else None), key
    paths = [path for _, path in jira_any.requests]
    assert any(p.endswith("/worklog") for p in paths)
    if jira_any.flavor.cloud:
        # one bulk request per page of results at most, never one request per issue
        assert 1 <= paths.count("/rest/api/3/changelog/bulkfetch") <= jira_any.search_requests()
        assert not any(p.endswith("/changelog") for p in paths)
    else:
        assert any(p.startswith("/rest/api/2/issue/") and p.count("/") == 5 for p in paths)


def test_a_long_changelog_keeps_recent_changes_of_fields_beyond_the_bulk_requests_ten(
    jira_cloud: JiraSandbox, connect: Any
) -> None:
    """Cloud's changelog bulkfetch takes at most 10 field ids; the time-tracking fields fall beyond
    them and come from the 40 most recent histories inline, not nowhere."""
    long_lived = next(
        k
        for k in jira_cloud.live_keys()
        if (s := jira_cloud.data.find(k)) is not None and len(s.history) + len(s.edits) > 40
    )
    state = jira_cloud.data.update(long_lived)  # moved on a step just now...
    at = state.updated_ms - state.updated_ms % 1000 - 60_000  # ...after re-estimating a minute earlier
    estimate = Edit(at, "timeestimate", "2h", "1h", 0)
    jira_cloud.data.overrides[(state.project, state.number)] = replace(state, edits=(*state.edits, estimate))
    connector = connect(jira_cloud, projects=[state.project])
    record = {r.source.external_id: r for r in records(collect(connector))}[state.key]
    changes = [c.at for c in record.history if c.field == "effort_remaining_hours"]
    assert changes == [datetime.fromtimestamp(at / 1000, UTC)]


def test_missing_secret_is_reported_by_check_not_raised(jira_cloud: JiraSandbox, connect: Any) -> None:
    results = connect(jira_cloud, api_token=None, api_token_file="no-such-file").check()
    assert [(r.name, r.status) for r in results] == [("sign-in", "fail")]
    assert "no-such-file" in results[0].detail
