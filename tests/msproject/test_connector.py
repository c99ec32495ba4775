"""MSProjectConnector: folders, single files and URLs; re-reading only changed files; per-file
deletion sweeps; project keys; mapping and config errors; doctor checks."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.msproject import MSProjectConfig, project_key_for
from pydantic import ValidationError

from pmsync.connector import Checkpoint, ExtractItem, SnapshotComplete
from pmsync.errors import ConfigError, MappingError
from pmsync.model import Project, WorkItem
from pmsync.sandbox.faults import ServerError
from pmsync.sandbox.server import SandboxServer

from .conftest import DATA, connector, records


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "schedules"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(DATA / name, folder / name)
    return folder


def _last_cursor(items: list[ExtractItem]) -> dict[str, Any]:
    checkpoints = [item for item in items if isinstance(item, Checkpoint)]
    return checkpoints[-1].cursor


def _snapshots(items: Iterable[ExtractItem]) -> list[str]:
    return [item.scope for item in items if isinstance(item, SnapshotComplete)]


def test_a_folder_is_read_file_by_file_with_a_snapshot_and_checkpoint_each(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "case-management.xml", "printer-refresh.xml")
    (folder / "~$case-management.xml").write_bytes(b"lock file Project leaves behind")
    (folder / "notes.txt").write_text("not a schedule")
    items = list(connector(tmp_path, path="schedules").extract({}))
    assert _snapshots(items) == ["schedules:case-management.xml", "schedules:printer-refresh.xml"]
    kinds = [type(item).__name__ for item in items if not isinstance(item, WorkItem)]
    assert kinds.count("Checkpoint") == 2
    assert kinds.index("SnapshotComplete") < kinds.index("Checkpoint")
    projects = [r for r in records(items) if isinstance(r, Project)]
    assert [p.key for p in projects] == ["case-management", "printer-refresh"]
    cursor = _last_cursor(items)
    assert set(cursor["files"]) == {"case-management.xml", "printer-refresh.xml"}
    assert all(len(digest) == 64 for digest in cursor["files"].values())


def test_unchanged_files_yield_nothing_and_a_changed_file_only_itself(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "case-management.xml", "printer-refresh.xml")
    source = connector(tmp_path, path="schedules")
    cursor = _last_cursor(list(source.extract({})))

    assert list(source.extract(cursor)) == []  # same bytes (even touched): nothing re-read, nothing swept
    (folder / "printer-refresh.xml").touch()
    assert list(source.extract(cursor)) == []

    changed = (
        (folder / "printer-refresh.xml").read_text(encoding="utf-8").replace("Order printers", "Order MFPs")
    )
    (folder / "printer-refresh.xml").write_text(changed, encoding="utf-8")
    items = list(source.extract(cursor))
    assert _snapshots(items) == ["schedules:printer-refresh.xml"]
    names = [r.name for r in records(items) if isinstance(r, WorkItem)]
    assert "Order MFPs" in names
    new_cursor = _last_cursor(items)
    assert new_cursor["files"]["case-management.xml"] == cursor["files"]["case-management.xml"]
    assert new_cursor["files"]["printer-refresh.xml"] != cursor["files"]["printer-refresh.xml"]


def test_a_deleted_file_sweeps_only_its_own_scope(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "case-management.xml", "printer-refresh.xml")
    source = connector(tmp_path, path="schedules")
    cursor = _last_cursor(list(source.extract({})))
    (folder / "case-management.xml").unlink()
    items = list(source.extract(cursor))
    assert records(items) == []
    assert _snapshots(items) == ["schedules:case-management.xml"]
    assert set(_last_cursor(items)["files"]) == {"printer-refresh.xml"}


def test_a_single_file_and_a_recursive_folder(tmp_path: Path) -> None:
    single = records(connector(tmp_path, path=str(DATA / "network-core.xml")).extract({}))
    assert {r.scope for r in single} == {"schedules:network-core.xml"}
    nested = tmp_path / "schedules" / "2026"
    nested.mkdir(parents=True)
    shutil.copy(DATA / "edge-cases.xml", nested / "edge-cases.xml")
    assert records(connector(tmp_path, path="schedules").extract({})) == []
    deep = connector(tmp_path, path="schedules", recursive=True).extract({})
    assert _snapshots(deep) == ["schedules:2026/edge-cases.xml"]


def test_project_key_from_pmsync_yaml_links_or_from_the_file_name(tmp_path: Path) -> None:
    _folder(tmp_path, "case-management.xml")
    items = records(connector(tmp_path, path="schedules", links={"case-management.xml": "CMS"}).extract({}))
    assert {r.project for r in items} == {"CMS"}
    assert [r.key for r in items if isinstance(r, Project)] == ["CMS"]
    assert project_key_for("2026/ERP Upgrade v3 (final).mpp") == "ERP-Upgrade-v3-final"
    assert project_key_for("plans/erp.xml", {"erp": "ERP"}) == "ERP"


def test_mapping_names_the_jira_and_finance_fields(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "msproject.yaml").write_text(
        "links:\n  jira: Text3\n  finance: [Cost Code, Finance Code]\ncustom_fields: [Story Points]\n"
    )
    items = records(connector(tmp_path, path=str(DATA / "case-management.xml")).extract({}))
    task = next(r for r in items if isinstance(r, WorkItem) and r.name == "Configure case module")
    assert task.links == {"jira": "Vendor: Acme", "finance": "P-2041.02"}
    assert task.custom == {}
    assert next(r for r in items if isinstance(r, WorkItem) and r.name == "Data migration").custom == {
        "Story Points": 13.0
    }


def test_a_bad_mapping_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "msproject.yaml").write_text("links:\n  jira: Text1\ncustom_field: all\n")
    with pytest.raises(MappingError, match=r"msproject.yaml.*custom_field: unknown key"):
        list(connector(tmp_path, path=str(DATA / "case-management.xml")).extract({}))


def test_config_needs_exactly_one_of_path_and_url() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'path'"):
        MSProjectConfig.model_validate({})
    with pytest.raises(ValidationError, match="exactly one of 'path'"):
        MSProjectConfig.model_validate({"path": "x", "url": "https://example.org/x.xml"})
    with pytest.raises(ValidationError, match="http:// or https://"):
        MSProjectConfig.model_validate({"url": "ftp://example.org/x.xml"})
    with pytest.raises(ValidationError, match="reader"):
        MSProjectConfig.model_validate({"path": "x", "reader": "lxml"})


def test_a_missing_folder_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        list(connector(tmp_path, path="nowhere").extract({}))
    assert caught.value.hint and "'path'" in caught.value.hint


def test_doctor_checks(tmp_path: Path) -> None:
    _folder(tmp_path, "case-management.xml")
    results = {r.name: r for r in connector(tmp_path, path="schedules").check()}
    assert results["mapping"].status == "ok"
    assert results["files"].status == "ok" and "1 schedule file" in results["files"].detail
    assert "mpxj" not in results  # XML only: Java is not needed
    (tmp_path / "empty").mkdir()
    assert {r.name: r.status for r in connector(tmp_path, path="empty").check()}["files"] == "warn"
    assert {r.name: r.status for r in connector(tmp_path, path="gone").check()}["files"] == "fail"


def test_mpp_without_the_extra_is_a_config_error_that_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def without_mpxj(name: str, *args: Any) -> Any:
        return None if name in ("mpxj", "jpype") else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_mpxj)
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "legacy.mpp").write_bytes(b"\xd0\xcf\x11\xe0 not really an mpp")
    with pytest.raises(
        ConfigError, match=r"needs MPXJ: the mpxj extra is not installed: pip install 'pmsync\[mpp\]'"
    ):
        list(connector(tmp_path, path="schedules").extract({}))
    results = {r.name: r for r in connector(tmp_path, path="schedules").check()}
    assert results["mpxj"].status == "fail" and "pmsync[mpp]" in results["mpxj"].detail


# -- a schedule served over HTTP --------------------------------------------------------------------


def _file_server(content: Callable[[], bytes]) -> Callable[..., Iterator[bytes]]:
    """A WSGI app serving one file with an ETag, answering If-None-Match with 304."""
    import hashlib

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        body = content()
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", [("ETag", etag)])
            return iter([])
        start_response(
            "200 OK", [("Content-Type", "text/xml"), ("ETag", etag), ("Content-Length", str(len(body)))]
        )
        return iter([body])

    return app


def test_a_schedule_from_a_url_with_etag_and_a_retried_503(tmp_path: Path) -> None:
    current = {"body": (DATA / "printer-refresh.xml").read_bytes()}
    with SandboxServer(_file_server(lambda: current["body"])) as server:
        server.faults.add(ServerError(503, retry_after=0), times=1)
        url = f"{server.url}/sites/pmo/Shared%20Documents/printer-refresh.xml?token=s3cret"
        source = connector(tmp_path, url=url)
        items = list(source.extract({}))
        assert server.faults.served() == 1  # the 503 was met and retried
        scope = f"schedules:{server.url}/sites/pmo/Shared%20Documents/printer-refresh.xml"
        assert _snapshots(items) == [scope]  # the query string (a token) is not part of the key
        assert "s3cret" not in repr(items)
        cursor = _last_cursor(items)
        assert list(source.extract(cursor)) == []  # 304 Not Modified

        current["body"] = current["body"].replace(b"Install printers", b"Install and test printers")
        changed = list(source.extract(cursor))
        assert "Install and test printers" in [r.name for r in records(changed) if isinstance(r, WorkItem)]
        assert [r.project for r in records(changed) if isinstance(r, Project)] == ["printer-refresh"]


def test_the_project_summary_task_can_be_left_out(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "msproject.yaml").write_text("include_project_summary: false\n")
    items = records(connector(tmp_path, path=str(DATA / "case-management.xml")).extract({}))
    work = {r.name: r for r in items if isinstance(r, WorkItem)}
    assert "Case Management Replacement" not in work
    assert work["Initiation"].parent is None and work["Initiation"].outline_level == 1
    assert work["Develop business case"].parent == "case-management.xml#1"
