"""The Dataverse (Planner premium / Project for the web) connector against the sandbox Web API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.dataverse import DataverseConfig, DataverseConnector

from pmsync.config import shipped_mappings_dir
from pmsync.connector import Checkpoint, ConnectorContext, Seen, SnapshotComplete
from pmsync.errors import AuthError, SourceDataError
from pmsync.model import Project, WorkItem
from pmsync.sandbox.faults import Throttle
from pmsync.sandbox.microsoft import DEMO_CLIENT_ID, MicrosoftSandbox, microsoft_sandbox

DEMO_TASKS = 10  # 3 phases (summaries) + 7 tasks


def connector(ms: MicrosoftSandbox, mapping_dirs: tuple[Path, ...] = (), **keys: Any) -> DataverseConnector:
    settings = {**ms.settings(), "environment_url": ms.dataverse_url, **keys}
    return DataverseConnector(
        ConnectorContext(
            source_name="pfw",
            config=DataverseConfig.model_validate(settings),
            mapping_dirs=(*mapping_dirs, shipped_mappings_dir()),
            project_links={"Grants Portal Replatform": "GRANTS"},
        )
    )


def run(conn: DataverseConnector, cursor: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any]]:
    items = list(conn.extract(cursor or {}))
    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    return items, checkpoints[-1].cursor if checkpoints else (cursor or {})


def task_id(ms: MicrosoftSandbox, name: str) -> str:
    rows = ms.dataverse_state.rows["msdyn_projecttasks"]
    return next(k for k, v in rows.items() if v["msdyn_subject"] == name)


def test_reads_the_schedule_with_wbs_effort_progress_and_dependencies(ms):
    items, _ = run(connector(ms))
    (project,) = [i for i in items if isinstance(i, Project)]
    assert (project.key, project.name) == ("GRANTS", "Grants Portal Replatform")
    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}
    assert len(tasks) == DEMO_TASKS
    build, forms = tasks["Build"], tasks["Forms engine"]
    assert (build.kind, build.outline_level, build.wbs) == ("summary", 1, "2")
    assert (forms.parent, forms.outline_level, forms.wbs) == (build.source.external_id, 2, "2.2")
    assert forms.percent_complete == 25 and forms.status_category == "in_progress"  # msdyn_progress 0.25
    assert forms.effort_estimate_hours == 300 and forms.effort_actual_hours == 75
    assert forms.start and forms.finish and forms.duration_days
    assert [d.predecessor for d in forms.predecessors] == [tasks["Identity integration"].source.external_id]
    assert forms.predecessors[0].type == "FS"
    assert tasks["Charter approved"].status_category == "done"
    assert tasks["Go-live"].kind == "milestone"
    assert all(t.project == "GRANTS" for t in tasks.values())
    assert SnapshotComplete(scope=f"project:{project.source.external_id}") in items


def test_paging_uses_prefer_maxpagesize(ms):
    items, _ = run(connector(ms, page_size=3))
    assert len([i for i in items if isinstance(i, WorkItem)]) == DEMO_TASKS
    task_pages = [p for _, p in ms.dataverse.faults.requests if p.endswith("/msdyn_projecttasks")]
    assert len(task_pages) == 4  # 10 rows in pages of 3


def test_only_changed_tasks_are_rewritten(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    state = ms.dataverse_state
    state.update("msdyn_projecttasks", task_id(ms, "Reporting"), msdyn_progress=0.5)
    gone = task_id(ms, "User acceptance")
    state.delete("msdyn_projecttasks", gone)
    # A new dependency changes its successor's predecessors, though not the successor's row.
    state.add_dependency(
        next(iter(state.rows["msdyn_projects"])), task_id(ms, "Charter approved"), task_id(ms, "Reporting")
    )
    items, _ = run(conn, cursor)
    written = {w.name: w for w in items if isinstance(w, WorkItem)}
    assert set(written) == {"Reporting", "Go-live"}  # Go-live lost its predecessor (User acceptance)
    assert written["Reporting"].percent_complete == 50
    assert len(written["Reporting"].predecessors) == 2
    assert gone not in {i.source.external_id for i in items if isinstance(i, Seen)}
    assert len([i for i in items if isinstance(i, Seen)]) == DEMO_TASKS - 3 + 1  # tasks + the project


def test_app_without_an_application_user_gets_a_clear_error(ms):
    ms.dataverse_state.application_users.discard(DEMO_CLIENT_ID)
    conn = connector(ms)
    with pytest.raises(AuthError) as caught:
        run(conn)
    assert "application user" in str(caught.value)
    assert "prvReadmsdyn_project" in str(caught.value)
    checks = {c.name: c for c in conn.check()}
    assert checks["sign-in"].status == "ok"
    assert checks["read projects"].status == "fail"


def test_check_passes_against_the_sandbox(ms):
    checks = {c.name: c.status for c in connector(ms).check()}
    assert checks == {"mapping": "ok", "sign-in": "ok", "read projects": "ok"}


def test_throttled_dataverse_is_waited_out(ms):
    ms.dataverse.faults.add(Throttle(retry_after=1), path_prefix="/api/data/v9.2/msdyn_projecttasks", times=1)
    items, _ = run(connector(ms))
    assert len([i for i in items if isinstance(i, WorkItem)]) == DEMO_TASKS
    assert ms.dataverse.faults.served() == 1


def test_progress_out_of_range_names_the_task_and_the_fix(ms):
    ms.dataverse_state.update("msdyn_projecttasks", task_id(ms, "Reporting"), msdyn_progress=40)
    with pytest.raises(SourceDataError) as caught:
        run(connector(ms))
    assert "msdyn_projecttask" in str(caught.value) and "progress_scale" in str(caught.value)


def test_unmapped_link_type_names_the_value(ms, tmp_path):
    state = ms.dataverse_state
    dep = next(iter(state.rows["msdyn_projecttaskdependencies"]))
    state.update("msdyn_projecttaskdependencies", dep, msdyn_linktype=5)
    with pytest.raises(SourceDataError, match="msdyn_linktype 5 is not mapped"):
        run(connector(ms))


def test_selected_project_ids_and_a_deleted_project(tmp_path):
    with microsoft_sandbox(tmp_path) as ms:
        state = ms.dataverse_state
        extra = state.seed_bulk(projects=1, tasks_per_project=4)[0]
        conn = connector(ms)
        _, cursor = run(conn)
        state.delete("msdyn_projects", extra)
        items, cursor = run(conn, cursor)
        assert SnapshotComplete(scope=f"project:{extra}") in items
        assert f"project:{extra}" not in cursor["projects"]
        demo = next(iter(state.rows["msdyn_projects"]))
        items, _ = run(connector(ms, project_ids=[demo]))
        assert {i.project for i in items if isinstance(i, WorkItem)} == {"GRANTS"}


def test_wrong_environment_url_is_an_auth_error_naming_the_resource(ms):
    with pytest.raises(AuthError, match="does not exist in tenant"):
        run(connector(ms, environment_url="https://contoso-typo.crm.dynamics.com"))


def test_people_buckets_and_resource_assignments_by_name(ms):
    items, _ = run(connector(ms))
    (project,) = [i for i in items if isinstance(i, Project)]
    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}

    assert project.manager == "Pat Morgan"  # the systemuser's full name, not its id
    forms = tasks["Forms engine"]
    # a person and a generic resource, both by their team member names
    assert (
        forms.resources == ("Contractor - forms developer", "Pat Morgan")
        and forms.assignee in forms.resources
    )
    assert forms.labels == ("Delivery",) and forms.custom["bucket"] == "Delivery"
    assert tasks["Charter approved"].labels == ("Governance",)
    assert tasks["Go-live"].resources == ()  # a milestone has no one on it


def test_a_new_assignment_rewrites_the_task_though_its_etag_is_unchanged(ms):
    conn = connector(ms)
    _, cursor = run(conn)
    state = ms.dataverse_state
    project = next(iter(state.rows["msdyn_projects"]))
    member = next(k for k, v in state.rows["msdyn_projectteams"].items() if v["msdyn_name"] == "Sam Okafor")
    state.assign(project, task_id(ms, "Reporting"), member)

    items, _ = run(conn, cursor)

    changed = [i for i in items if isinstance(i, WorkItem)]
    assert [t.name for t in changed] == ["Reporting"]
    assert changed[0].resources == ("Lee Chen", "Sam Okafor")


def test_the_progress_scale_is_read_from_the_environment_s_metadata(tmp_path):
    with microsoft_sandbox(tmp_path, seed=False) as ms:
        ms.dataverse_state.progress_max = 100.0  # an environment customised to keep percents
        ms.dataverse_state.seed_demo()

        items, _ = run(connector(ms))

    tasks = {i.name: i for i in items if isinstance(i, WorkItem)}
    assert tasks["Forms engine"].percent_complete == 25  # stored as 25, not 0.25
    assert tasks["Charter approved"].status_category == "done"


def test_link_types_are_named_by_the_environment_s_option_set(ms):
    state = ms.dataverse_state
    # This environment numbers its link types differently; its metadata names them.
    state.link_labels = {
        1: "Finish-to-Start",
        2: "Start-to-Start",
        3: "Finish-to-Finish",
        4: "Start-to-Finish",
    }
    deps = state.rows["msdyn_projecttaskdependencies"]
    first = next(iter(deps))
    for dep in deps:
        state.update("msdyn_projecttaskdependencies", dep, msdyn_linktype=1)
    state.update("msdyn_projecttaskdependencies", first, msdyn_linktype=2)

    items, _ = run(connector(ms))  # the shipped mapping knows nothing of values 1-4

    types = [d.type for i in items if isinstance(i, WorkItem) for d in i.predecessors]
    assert sorted(types) == ["FS"] * (len(deps) - 1) + ["SS"]
