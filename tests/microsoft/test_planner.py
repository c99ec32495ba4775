"""The Planner connector against the sandbox Graph, through the real msal and requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from pmsync.connectors.planner import PlannerConfig, PlannerConnector

from pmsync.config import shipped_mappings_dir
from pmsync.connector import Checkpoint, ConnectorContext, Seen, SnapshotComplete
from pmsync.errors import AuthError, SourceDataError
from pmsync.microsoft.auth import MicrosoftAppSettings, token_provider
from pmsync.model import Project, WorkItem
from pmsync.sandbox.faults import ServerError, Throttle
from pmsync.sandbox.graph_planner import DEMO_GROUP_ID
from pmsync.sandbox.identity import GRAPH_RESOURCE
from pmsync.sandbox.microsoft import DEMO_CLIENT_ID, MicrosoftSandbox

CMM_TASKS = 12
NET_TASKS = 4


def connector(
    ms: MicrosoftSandbox,
    links: dict[str, str] | None = None,
    mapping_dirs: tuple[Path, ...] = (),
    **keys: Any,
) -> PlannerConnector:
    settings = {**ms.settings(), "group_ids": [DEMO_GROUP_ID], **keys}
    return PlannerConnector(
        ConnectorContext(
            source_name="planner",
            config=PlannerConfig.model_validate(settings),
            mapping_dirs=(*mapping_dirs, shipped_mappings_dir()),
            project_links=links or {"Case Management Modernization": "CMM"},
        )
    )


def run(conn: PlannerConnector, cursor: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any]]:
    items = list(conn.extract(cursor or {}))
    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    return items, checkpoints[-1].cursor if checkpoints else (cursor or {})


def plan_id(ms: MicrosoftSandbox, title: str) -> str:
    return next(p for p, v in ms.graph_state.planner.plans.items() if v["title"] == title)


def details_requests(ms: MicrosoftSandbox) -> int:
    return sum(1 for _, path in ms.graph.faults.requests if "/tasks/" in path and path.endswith("/details"))


def test_first_run_reads_plans_tasks_details_and_assignments(ms):
    items, _ = run(connector(ms))
    projects = [i for i in items if isinstance(i, Project)]
    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}
    assert {p.name for p in projects} == {"Case Management Modernization", "Network Refresh"}
    assert len(tasks) == CMM_TASKS + NET_TASKS
    intake = tasks["Configure case intake"]
    assert intake.project == "CMM"
    assert (intake.percent_complete, intake.status_category, intake.status) == (
        50,
        "in_progress",
        "In progress",
    )
    assert intake.labels == ("Build",)
    assert intake.custom["checklist_items"] == 2 and intake.custom["checklist_done"] == 1
    assert intake.assignee and intake.assignee in intake.resources
    assert intake.start and intake.finish and intake.start < intake.finish
    done = tasks["Stakeholder interviews"]
    assert done.status_category == "done" and done.actual_finish is not None
    assert tasks["Go-live"].kind == "milestone"
    assert tasks["Go-live"].custom["priority"] == "Urgent"
    assert tasks["Replace switches: Headquarters"].project is None  # Network Refresh is not linked
    scopes = [i.scope for i in items if isinstance(i, SnapshotComplete)]
    assert sorted(scopes) == sorted(f"plan:{p}" for p in ms.graph_state.planner.plans)
    assert details_requests(ms) == CMM_TASKS + NET_TASKS


def test_second_run_writes_only_what_changed(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    ms.graph.faults.clear()

    items, cursor = run(conn, cursor)
    assert not [i for i in items if isinstance(i, WorkItem | Project)]
    # tasks, plans, and the RAID records of the three tasks labelled Risk or Blocked
    assert len([i for i in items if isinstance(i, Seen)]) == CMM_TASKS + NET_TASKS + 2 + 3
    assert details_requests(ms) == 0

    planner = ms.graph_state.planner
    cmm = plan_id(ms, "Case Management Modernization")
    changed = next(t for t, v in planner.tasks.items() if v["title"] == "Interface to payment system")
    gone = next(t for t, v in planner.tasks.items() if v["title"] == "Cutover runbook")
    planner.update_task(changed, percentComplete=50)
    planner.delete_task(gone)
    items, _ = run(conn, cursor)
    written = [i for i in items if isinstance(i, WorkItem)]
    assert [(w.name, w.status_category) for w in written] == [("Interface to payment system", "in_progress")]
    seen = {i.source.external_id for i in items if isinstance(i, Seen)}
    assert gone not in seen and changed not in seen
    assert SnapshotComplete(scope=f"plan:{cmm}") in items  # the engine sweeps the deleted task


def test_a_patch_over_the_wire_changes_the_etag_and_is_picked_up(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    settings = MicrosoftAppSettings.model_validate(ms.settings())
    ms.identity_state.apps[DEMO_CLIENT_ID].roles[GRAPH_RESOURCE].add("Tasks.ReadWrite.All")
    ms.identity_state.apps[DEMO_CLIENT_ID].roles[ms.graph_url].add("Tasks.ReadWrite.All")
    tokens = token_provider(settings, source="test")
    tokens.invalidate()  # a token with the new permission
    task_id = next(t for t, v in ms.graph_state.planner.tasks.items() if v["title"] == "System test plan")
    url = f"{ms.graph_url}/v1.0/planner/tasks/{task_id}"
    auth = {"Authorization": f"Bearer {tokens.token(settings.graph_scope())}"}
    etag = tokens.session.get(url, headers=auth).json()["@odata.etag"]
    stale = tokens.session.patch(url, json={"percentComplete": 100}, headers={**auth, "If-Match": 'W/"x"'})
    assert stale.status_code == 412
    ok = tokens.session.patch(url, json={"percentComplete": 100}, headers={**auth, "If-Match": etag})
    assert ok.status_code == 204

    items, _ = run(conn, cursor)
    assert [(w.name, w.status_category) for w in items if isinstance(w, WorkItem)] == [
        ("System test plan", "done")
    ]


def test_bucket_rename_rewrites_its_tasks(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    planner = ms.graph_state.planner
    test_bucket = next(b for b, v in planner.buckets.items() if v["name"] == "Test")
    planner.buckets[test_bucket]["name"] = "Verification"
    items, _ = run(conn, cursor)
    assert {w.name for w in items if isinstance(w, WorkItem)} == {
        "System test plan",
        "User acceptance testing",
        "Accessibility (Section 508) review",
    }
    assert all(w.labels == ("Verification",) for w in items if isinstance(w, WorkItem))


def test_paging_follows_next_links(tmp_path):
    from pmsync.sandbox.microsoft import microsoft_sandbox

    with microsoft_sandbox(tmp_path, page_size=5) as small:
        items, _ = run(connector(small))
        assert len([i for i in items if isinstance(i, WorkItem)]) == CMM_TASKS + NET_TASKS
        task_pages = [p for _, p in small.graph.faults.requests if p.endswith("/tasks")]
        assert len(task_pages) == 3 + 1  # 12 tasks in pages of 5, and 4 tasks in one page


def test_throttling_and_server_errors_are_retried(ms):
    cmm = plan_id(ms, "Case Management Modernization")
    ms.graph.faults.add(Throttle(retry_after=1), path=f"/v1.0/planner/plans/{cmm}/tasks", times=2)
    ms.graph.faults.add(ServerError(503, retry_after=0), path_prefix="/v1.0/planner/tasks/", times=1)
    items, _ = run(connector(ms))
    assert len([i for i in items if isinstance(i, WorkItem)]) == CMM_TASKS + NET_TASKS
    assert ms.graph.faults.served() == 3


def test_missing_planner_permission_is_named(ms):
    for roles in ms.identity_state.apps[DEMO_CLIENT_ID].roles.values():
        roles.discard("Tasks.Read.All")
    conn = connector(ms)
    with pytest.raises(AuthError) as caught:
        run(conn)
    assert "Tasks.Read.All" in str(caught.value)
    results = {r.name: r for r in conn.check()}
    assert results["permission"].status == "fail"
    assert "Tasks.Read.All" in results["permission"].detail


def test_an_app_without_admin_consent_is_told_the_permission_at_the_first_401(ms):
    ms.identity_state.apps[DEMO_CLIENT_ID].admin_consented = False
    with pytest.raises(AuthError) as caught:
        run(connector(ms))
    message = str(caught.value)
    assert "carries no permission" in message and "Tasks.Read.All" in message
    assert "Grant admin consent" in message
    # one token, one Graph call: no token refresh and no retry on a refusal that cannot change
    assert ms.identity_state.tokens_issued[DEMO_CLIENT_ID] == 1
    assert len(ms.graph.faults.requests) == 1


def test_check_reports_sign_in_and_plans(ms):
    results = {r.name: r for r in connector(ms).check()}
    assert results["mapping"].status == "ok"
    assert results["sign-in"].status == "ok"
    assert results["plans"].status == "ok" and "Network Refresh" in results["plans"].detail


def test_check_reports_a_wrong_secret(ms):
    results = {r.name: r for r in connector(ms, client_secret="an-expired-or-mistyped-secret").check()}
    assert results["sign-in"].status == "fail"
    assert "wrong secret" in results["sign-in"].detail


def test_unknown_group_is_a_clear_error(ms):
    with pytest.raises(SourceDataError) as caught:
        run(connector(ms, group_ids=["00000000-0000-0000-0000-00000000dead"]))
    assert "group 00000000-0000-0000-0000-00000000dead" in str(caught.value)
    assert "HTTP 404" in str(caught.value)


def test_plan_ids_and_a_plan_that_disappears(ms):
    cmm = plan_id(ms, "Case Management Modernization")
    net = plan_id(ms, "Network Refresh")
    conn = connector(ms, group_ids=[DEMO_GROUP_ID])
    _, cursor = run(conn)
    # The Network Refresh plan is deleted from the group.
    ms.graph_state.planner.groups[DEMO_GROUP_ID].remove(net)
    del ms.graph_state.planner.plans[net]
    items, cursor = run(conn, cursor)
    assert SnapshotComplete(scope=f"plan:{net}") in items
    assert f"plan:{net}" not in cursor["plans"]
    only_cmm = connector(ms, group_ids=[], plan_ids=[cmm])
    items, _ = run(only_cmm)
    assert {i.project for i in items if isinstance(i, WorkItem)} == {"CMM"}


def test_expired_token_is_replaced_once(ms, ms_settings):
    conn = connector(ms)
    run(conn)
    # Tokens signed before a key rollover are refused with 401 InvalidAuthenticationToken.
    ms.identity_state._signing_key = b"rolled-over-signing-key-0123456789abcdef"  # noqa: SLF001
    items, _ = run(conn)
    assert len([i for i in items if isinstance(i, WorkItem)]) == CMM_TASKS + NET_TASKS


def test_graph_requires_a_token(ms):
    response = requests.get(f"{ms.graph_url}/v1.0/planner/plans/x", verify=str(ms.ca_bundle), timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_details_come_in_graph_batches_and_throttled_inner_requests_are_retried(ms):
    some_task = next(iter(ms.graph_state.planner.tasks))
    ms.graph.faults.add(Throttle(retry_after=1), path=f"/v1.0/planner/tasks/{some_task}/details", times=1)
    items, _ = run(connector(ms))
    assert len([i for i in items if isinstance(i, WorkItem)]) == CMM_TASKS + NET_TASKS
    assert ms.graph.faults.served() == 1
    outer = len(ms.graph.faults.requests) - ms.graph_state.batched_requests
    # group plans, then per plan: its details (label names), buckets, tasks, one batch of task details;
    # one batch of user names (the second plan's people are already known); the throttled batch again
    assert outer == 1 + 2 * 4 + 1 + 1


def test_editing_the_mapping_rewrites_every_task(ms, tmp_path):
    _, cursor = run(connector(ms))
    shipped = (shipped_mappings_dir() / "planner.yaml").read_text()
    (tmp_path / "planner.yaml").write_text(shipped.replace("in_progress: In progress", "in_progress: Active"))
    items, _ = run(connector(ms, mapping_dirs=(tmp_path,)), cursor)
    written = [i for i in items if isinstance(i, WorkItem)]
    assert len(written) == CMM_TASKS + NET_TASKS
    assert {w.status for w in written if w.status_category == "in_progress"} == {"Active"}


@pytest.mark.parametrize("agency_zone", ["Europe/Berlin", "America/New_York", "UTC", "Pacific/Honolulu"])
def test_planner_dates_are_the_days_their_setters_meant_in_the_agency_zone(ms, agency_zone):
    from datetime import date

    from pmsync.sandbox.graph_planner import DEMO_ZONES

    planner = ms.graph_state.planner
    plan = plan_id(ms, "Network Refresh")
    due = date(2026, 11, 20)  # a Friday; the clocks have changed in Europe and the US by then
    set_by = {
        zone: planner.add_task(plan, f"Dated in {zone}", due=due, start=due, set_in=zone)
        for zone in DEMO_ZONES
    }
    conn = PlannerConnector(
        ConnectorContext(
            source_name="planner",
            config=PlannerConfig.model_validate({**ms.settings(), "group_ids": [DEMO_GROUP_ID]}),
            mapping_dirs=(shipped_mappings_dir(),),
            time_zone=agency_zone,
        )
    )

    items = {i.source.external_id: i for i in run(conn)[0] if isinstance(i, WorkItem)}

    # Berlin's midnight is 2026-11-19T23:00Z: its UTC day is a day early, the agency's is not.
    assert planner.tasks[set_by["Europe/Berlin"]]["dueDateTime"] == "2026-11-19T23:00:00.000Z"
    for zone, task_id in set_by.items():
        assert (items[task_id].due, items[task_id].start) == (due, due), zone


def test_a_completion_instant_is_the_agency_s_day(ms):
    from datetime import date

    planner = ms.graph_state.planner
    plan = plan_id(ms, "Network Refresh")
    task = planner.add_task(plan, "Finished late on Friday evening in New York")
    planner.update_task(task, percentComplete=100, completedDateTime="2026-11-21T02:30:00.000Z")
    conn = PlannerConnector(
        ConnectorContext(
            source_name="planner",
            config=PlannerConfig.model_validate({**ms.settings(), "group_ids": [DEMO_GROUP_ID]}),
            mapping_dirs=(shipped_mappings_dir(),),
            time_zone="America/New_York",
        )
    )

    [item] = [i for i in run(conn)[0] if isinstance(i, WorkItem) and i.source.external_id == task]

    assert item.actual_finish == date(2026, 11, 20)


def test_assignees_are_named_through_one_graph_batch_per_run(ms):
    items, _ = run(connector(ms))
    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}
    names = {u.display_name for u in ms.identity_state.users.values()}
    ids = {u.object_id: u.display_name for u in ms.identity_state.users.values()}

    for task in tasks.values():
        assert set(task.resources) <= names
        assert [ids[i] for i in str(task.custom["assignee_ids"]).split(",")] == list(task.resources)
    user_lookups = [p for _, p in ms.graph.faults.requests if p.startswith("/v1.0/users/")]
    assert len(user_lookups) == len(ids)  # each person asked once, inside $batch requests
    assert ms.graph_state.batched_requests >= len(ids)


def test_without_the_user_permission_people_keep_their_ids_and_the_sync_goes_on(ms, caplog):
    for roles in ms.identity_state.apps[DEMO_CLIENT_ID].roles.values():
        roles.discard("User.ReadBasic.All")
    items, _ = run(connector(ms))
    ids = {u.object_id for u in ms.identity_state.users.values()}
    tasks = [i for i in items if isinstance(i, WorkItem)]
    assert len(tasks) == CMM_TASKS + NET_TASKS
    assert all(set(t.resources) <= ids for t in tasks)
    assert "User.ReadBasic.All" in caplog.text
    people = {r.name: r for r in connector(ms).check()}["people names"]
    assert people.status == "warn" and "User.ReadBasic.All" in people.detail
    # refused once, not once per plan
    assert len([p for _, p in ms.graph.faults.requests if p.startswith("/v1.0/users/")]) <= 20


def test_labels_become_tags_and_raid_markers_through_the_mapping(ms):
    from pmsync.model import Issue, Risk

    items, cursor = run(connector(ms))
    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}
    risks = {i.title: i for i in items if isinstance(i, Risk)}
    issues = {i.title: i for i in items if isinstance(i, Issue)}

    assert tasks["Interface to payment system"].labels == ("Build", "Security")  # Risk is not a tag
    assert set(risks) == {"Data migration scripts", "Interface to payment system"}
    assert set(issues) == {"User acceptance testing"}
    risk = risks["Data migration scripts"]
    task = tasks["Data migration scripts"]
    assert (risk.project, risk.owner, risk.due, risk.status) == (
        task.project,
        task.assignee,
        task.due,
        task.status,
    )

    # The label is taken off in Planner: the risk disappears with the next complete read of the plan.
    planner = ms.graph_state.planner
    task_id = task.source.external_id
    planner.update_task(task_id, appliedCategories={})
    items, _ = run(connector(ms), cursor)
    assert not [i for i in items if isinstance(i, Risk) and i.title == "Data migration scripts"]
    assert Seen("risk", risk.source) not in items


def test_renaming_a_label_rewrites_the_plan_s_tasks(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    plan = plan_id(ms, "Case Management Modernization")
    ms.graph_state.planner.name_labels(plan, {3: "Cyber"})

    items, _ = run(conn, cursor)

    rewritten = {i.name: i for i in items if isinstance(i, WorkItem)}
    assert len(rewritten) == CMM_TASKS
    assert rewritten["Role-based access model"].labels == ("Build", "Cyber")
