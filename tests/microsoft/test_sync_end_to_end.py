"""Planner and Dataverse synced into the store through pmsync.yaml, the sync engine, the real msal and
requests, against the sandbox: first run inserts, an unchanged run writes nothing, changes and
deletions at the source show up as updates and deletions."""

from __future__ import annotations

from pathlib import Path

import yaml

from pmsync.config import load_config
from pmsync.model import Project, WorkItem
from pmsync.sandbox.graph_planner import DEMO_GROUP_ID
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.sync import sync_sources


def write_config(ms: MicrosoftSandbox, folder: Path) -> Path:
    keys = ms.settings()
    del keys["client_secret"]  # from the environment, as a real pmsync.yaml would
    config = {
        "projects": [
            {"key": "CMM", "name": "Case mgmt", "links": {"planner": ["Case Management Modernization"]}},
            {"key": "GRANTS", "name": "Grants portal", "links": {"dataverse": ["Grants Portal Replatform"]}},
        ],
        "sources": [
            {"name": "planner", "type": "planner", **keys, "client_secret": "${MS_SECRET}",
             "group_ids": [DEMO_GROUP_ID]},
            {"name": "pfw", "type": "dataverse", **keys, "client_secret": "${MS_SECRET}",
             "environment_url": ms.dataverse_url, "page_size": 4},
        ],
    }  # fmt: skip
    path = folder / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def work_items(store, source: str) -> dict[str, WorkItem]:
    return {w.name: w for w in store.iter_records(WorkItem, source_name=source)}


def test_planner_and_dataverse_sync_into_the_store(ms, store, tmp_path, monkeypatch):
    monkeypatch.setenv("MS_SECRET", ms.credentials.client_secret)
    config = load_config(write_config(ms, tmp_path))

    first = sync_sources(config, store)
    assert [(r.source_name, r.status) for r in first] == [("planner", "ok"), ("pfw", "ok")], [
        r.error for r in first
    ]
    planner_items = work_items(store, "planner")
    assert len(planner_items) == 16
    assert planner_items["Configure case intake"].project == "CMM"
    pfw_items = work_items(store, "pfw")
    assert len(pfw_items) == 10 and pfw_items["Forms engine"].project == "GRANTS"
    assert {p.key for p in store.iter_records(Project)} >= {"CMM", "GRANTS"}

    second = sync_sources(config, store)
    assert all(r.status == "ok" and r.counts.changed == 0 for r in second), [r.counts for r in second]

    planner = ms.graph_state.planner
    changed = next(t for t, v in planner.tasks.items() if v["title"] == "Go-live")
    gone = next(t for t, v in planner.tasks.items() if v["title"] == "Cutover runbook")
    planner.update_task(changed, percentComplete=100)
    planner.delete_task(gone)
    dv = ms.dataverse_state
    dv_task = next(k for k, v in dv.rows["msdyn_projecttasks"].items() if v["msdyn_subject"] == "Reporting")
    dv.update("msdyn_projecttasks", dv_task, msdyn_progress=0.6)

    third = {r.source_name: r for r in sync_sources(config, store)}
    assert (third["planner"].counts.updated, third["planner"].counts.deleted) == (1, 1)
    assert (third["pfw"].counts.updated, third["pfw"].counts.deleted) == (1, 0)
    planner_items = work_items(store, "planner")
    assert "Cutover runbook" not in planner_items
    assert planner_items["Go-live"].status_category == "done"
    assert work_items(store, "pfw")["Reporting"].percent_complete == 60


def test_a_failing_source_is_recorded_with_a_clear_error_and_no_secret(ms, store, tmp_path, monkeypatch):
    monkeypatch.setenv("MS_SECRET", ms.credentials.client_secret + "-wrong")
    config = load_config(write_config(ms, tmp_path))
    runs = sync_sources(config, store, ["planner"])
    assert runs[0].status == "failed"
    assert runs[0].error and "wrong secret" in runs[0].error
    assert ms.credentials.client_secret not in runs[0].error
    assert work_items(store, "planner") == {}


def test_the_sandbox_config_snippet_is_a_working_config(ms, tmp_path):
    from pmsync.config import build_connector

    path = tmp_path / "pmsync.yaml"
    path.write_text("sources:\n" + "".join(f"  {line}\n" for line in ms.config_snippet().splitlines()))
    config = load_config(path)
    assert ms.credentials.client_secret not in path.read_text()
    for source in config.sources:
        results = build_connector(config, source).check()
        assert [r.status for r in results] == ["ok"] * len(results), results


def test_doctor_names_the_missing_planner_permission(ms, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pmsync.cli import cli
    from pmsync.sandbox.microsoft import DEMO_CLIENT_ID

    monkeypatch.setenv("MS_SECRET", ms.credentials.client_secret)
    path = write_config(ms, tmp_path)
    ok = CliRunner().invoke(cli, ["--config", str(path), "doctor"])
    assert ok.exit_code == 0, ok.output
    for roles in ms.identity_state.apps[DEMO_CLIENT_ID].roles.values():
        roles.discard("Tasks.Read.All")
    from pmsync.microsoft.auth import forget_token_providers

    forget_token_providers()  # a new process would get a new token
    failed = CliRunner().invoke(cli, ["--config", str(path), "doctor"])
    assert failed.exit_code == 1
    assert "Tasks.Read.All" in failed.output and "admin consent" in failed.output
    assert ms.credentials.client_secret not in failed.output


def test_sync_logs_carry_no_secret_or_token(ms, store, tmp_path, monkeypatch, capfd):
    import logging

    from pmsync.logs import configure_logging
    from pmsync.microsoft.auth import token_provider
    from pmsync.microsoft.settings import MicrosoftAppSettings

    monkeypatch.setenv("MS_SECRET", ms.credentials.client_secret)
    config = load_config(write_config(ms, tmp_path))
    configure_logging(verbosity=1)
    for name in ("msal", "urllib3", "pmsync"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        sync_sources(config, store)
        monkeypatch.setenv("MS_SECRET", ms.credentials.client_secret + "-rotated")
        failing = load_config(write_config(ms, tmp_path))
        runs = sync_sources(failing, store)
    finally:
        configure_logging(verbosity=0)
    assert {r.status for r in runs} == {"failed"}
    err = capfd.readouterr().err
    assert "wrong secret" in err  # the failure was logged ...
    settings = MicrosoftAppSettings.model_validate(ms.settings())
    token = token_provider(settings, source="planner").token(settings.graph_scope())
    for secret in (ms.credentials.client_secret, token):
        assert secret not in err  # ... without the secret or the token
