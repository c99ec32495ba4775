"""Oversight reads from Jira: releases as milestones, "is blocked by" links as dependencies."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pmsync.model import Dependency, WorkItem
from pmsync.sandbox.jira import JiraSandbox


def work_items(connector: Any, cursor: dict[str, object] | None = None) -> dict[str, WorkItem]:
    return {r.source.external_id: r for r in connector.extract(cursor or {}) if isinstance(r, WorkItem)}


def with_releases(jira: JiraSandbox, folder: Path) -> str:
    name = "jira-cloud.yaml" if jira.flavor.cloud else "jira-datacenter.yaml"
    text = (Path(__file__).parents[2] / "mappings" / name).read_text()
    (folder / "releases.yaml").write_text(
        text.replace("releases_as_milestones: false", "releases_as_milestones: true")
    )
    return "releases.yaml"


def test_blocked_by_links_are_finish_to_start_predecessors(jira_any: JiraSandbox, connect: Any) -> None:
    items = work_items(connect(jira_any, projects=["ERP"]))
    linked = {k: w for k, w in items.items() if w.predecessors}
    assert linked
    for key, item in linked.items():
        number = int(key.split("-")[1])
        assert item.predecessors == (Dependency(predecessor=f"ERP-{number - 1}"),)
        # the other side of the link ("blocks") adds nothing to the blocker
        assert not any(d.predecessor == key for d in items[f"ERP-{number - 1}"].predecessors)


def test_releases_are_milestones_due_on_their_release_date_with_their_issues(
    jira_any: JiraSandbox, connect: Any, tmp_path: Path
) -> None:
    mapping = with_releases(jira_any, tmp_path)
    connector = connect(jira_any, projects=["ERP"], mapping=mapping, mapping_dirs=(tmp_path,))
    items = work_items(connector)
    releases = {w.name: w for w in items.values() if w.kind == "milestone"}
    versions = {v["name"]: v for v in jira_any.app.renderer.versions("ERP")}
    assert set(releases) == {f"Release {n}" for n in versions}
    for name, version in versions.items():
        milestone = releases[f"Release {name}"]
        assert milestone.due == milestone.finish == date.fromisoformat(version["releaseDate"])
        assert (milestone.status_category == "done") is version["released"]
        planned = {k for k, w in items.items() if w.custom.get("releases") == name}
        if version["released"]:
            assert milestone.actual_finish == milestone.due and milestone.predecessors == ()
        else:  # the issues planned for an open release must finish before it
            assert planned and {d.predecessor for d in milestone.predecessors} == planned
    # a release is re-read by each deletion scan, and one deleted in Jira is swept with it
    cursor = {**_last_cursor(connector), "last_scan": None}
    again = work_items(connect(jira_any, projects=["ERP"], mapping=mapping, mapping_dirs=(tmp_path,)), cursor)
    assert {w.name for w in again.values() if w.kind == "milestone"} == set(releases)


def _last_cursor(connector: Any) -> dict[str, object]:
    from pmsync.connector import Checkpoint

    return [i for i in connector.extract({}) if isinstance(i, Checkpoint)][-1].cursor
