"""Publishing to SharePoint end to end: pmsync.yaml → msal sign-in → Graph over https with the
sandbox CA → the sandbox SharePoint, with faults injected on the real wire."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from pmsync.config import PmsyncConfig, load_config
from pmsync.publish import ProjectStatusRow, PublishResult, ReportFile, check_targets, publish
from pmsync.sandbox.faults import ServerError, Status, Throttle, Truncate
from pmsync.sandbox.graph_sharepoint import UPLOAD_PREFIX, SharePointState, seed_demo
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.store import Store

SITE_URL = "https://contoso.sharepoint.com/sites/PMO"
MB = 1024 * 1024


@pytest.fixture
def sharepoint(ms: MicrosoftSandbox) -> SharePointState:
    state: SharePointState = ms.graph_state.sharepoint
    seed_demo(state)
    return state


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as opened:
        yield opened


def write_config(ms: MicrosoftSandbox, tmp_path: Path, **target: Any) -> PmsyncConfig:
    settings = ms.settings()
    secret = settings.pop("client_secret")
    block = {
        "name": "committee",
        "type": "sharepoint",
        **settings,
        "client_secret": "${PMSYNC_TEST_GRAPH_SECRET}",
        "site_url": SITE_URL,
        "folder": "Oversight/{period}",
        "simple_upload_max_bytes": MB,
        "chunk_bytes": 10 * 320 * 1024,
        **target,
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump({"publish": {"targets": [block]}}), encoding="utf-8")
    return load_config(path, env={"PMSYNC_TEST_GRAPH_SECRET": secret})


def report(tmp_path: Path, name: str, size: int, seed: int = 1) -> Path:
    path = tmp_path / "out" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def download(ms: MicrosoftSandbox, sharepoint: SharePointState, item_id: str) -> bytes:
    """The file's bytes as SharePoint serves them (the pre-authenticated download URL)."""
    item = sharepoint.items[item_id]
    response = requests.get(
        f"{ms.graph_url}/_sandbox/sharepoint/download/{item.id}", verify=str(ms.ca_bundle), timeout=30
    )
    response.raise_for_status()
    return response.content


def run(
    config: PmsyncConfig, store: Store, files: list[ReportFile], rows: list[ProjectStatusRow] = (), **kw: Any
) -> list[PublishResult]:  # type: ignore[assignment]
    return list(publish(config, store, files, rows, **kw))


def upload_puts(ms: MicrosoftSandbox) -> int:
    return sum(
        1 for method, path in ms.graph.faults.requests if method == "PUT" and path.startswith(UPLOAD_PREFIX)
    )


def test_20mb_report_survives_dropped_fragment_throttling_and_5xx(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = report(tmp_path, "report-2026-11.html", 20 * MB)
    ms.graph.faults.add(Throttle(retry_after=7), method="PUT", path_prefix=UPLOAD_PREFIX, after=1, times=2)
    ms.graph.faults.add(ServerError(503, retry_after=5), method="PUT", path_prefix=UPLOAD_PREFIX, after=4)
    sharepoint.drop_chunks(after=2, mode="disconnect")
    sharepoint.drop_chunks(after=4, mode="discard")
    waits: list[float] = []
    file = ReportFile(path=path, period="2026-11", project="ERP", overall_status="amber")

    [result] = run(config, store, [file], sleep=waits.append)

    assert result.action == "created"
    assert ms.graph.faults.served() == 3 and sharepoint.drops_served() == 2
    assert 7 in waits and 5 in waits  # Retry-After honoured, not guessed
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert hashlib.sha256(download(ms, sharepoint, result.item_id or "")).hexdigest() == sha
    assert result.content_hash == sha
    assert result.url == f"{SITE_URL}/Shared%20Documents/Oversight/2026-11/report-2026-11.html"
    item = sharepoint.items[result.item_id or ""]
    assert item.fields == {"Period": "2026-11", "Project": "ERP", "OverallStatus": "amber"}
    recorded = store.find_publication(f"{SITE_URL}/Documents/Oversight/2026-11/report-2026-11.html", sha)
    assert recorded is not None and recorded.item_id == result.item_id and recorded.url == result.url
    # 7 fragments of 3.2 MB, plus exactly one resend per fault: the upload never started over and
    # never sent a fragment the session did not ask for
    assert upload_puts(ms) == 7 + 5


def test_identical_content_again_is_a_no_op(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    small = ReportFile(path=report(tmp_path, "report.html", 200_000), period="2026-11")
    large = ReportFile(path=report(tmp_path, "report.pdf", 3 * MB, seed=2), period="2026-11")
    first = run(config, store, [small, large])
    ms.graph.faults.clear()

    again = run(config, store, [small, large])

    assert [r.action for r in first] == ["created", "created"]
    assert [r.action for r in again] == ["unchanged", "unchanged"]
    assert [r.url for r in again] == [r.url for r in first]
    assert not [m for m, _ in ms.graph.faults.requests if m in ("PUT", "POST", "PATCH")]
    assert len(sharepoint.items[first[0].item_id or ""].versions) == 1


def test_changed_content_becomes_a_new_version_never_a_silent_overwrite(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = report(tmp_path, "report.html", 100_000)
    [first] = run(config, store, [ReportFile(path=path, period="2026-11")])
    path.write_bytes(b"<html>corrected</html>")

    [second] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert second.action == "new_version" and second.item_id == first.item_id
    assert "version 2.0" in second.detail
    versions = sharepoint.items[first.item_id or ""].versions
    assert [len(v.content) for v in versions] == [100_000, len(b"<html>corrected</html>")]


def test_rename_keeps_the_existing_file(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path, on_conflict="rename")
    path = report(tmp_path, "report.html", 2 * MB)
    run(config, store, [ReportFile(path=path, period="2026-11")])
    path.write_bytes(b"second edition")

    [second] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert second.action == "renamed" and second.url and second.url.endswith("/report%201.html")
    drive = next(iter(sharepoint.drives))
    assert len(sharepoint.file_content(drive, "Oversight/2026-11/report.html")) == 2 * MB
    assert sharepoint.file_content(drive, "Oversight/2026-11/report 1.html") == b"second edition"


def test_failure_mid_upload_records_nothing_and_a_rerun_completes(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = report(tmp_path, "report.xlsx", 5 * MB)
    ms.graph.faults.add(ServerError(503), method="PUT", path_prefix=UPLOAD_PREFIX, after=1, times=-1)

    [failed] = run(config, store, [ReportFile(path=path, period="2026-11")], sleep=lambda s: None)

    assert failed.action == "failed" and "report.xlsx" in failed.error and "committee" in failed.error
    assert "upload stopped at byte" in failed.line()
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.find_publication(f"{SITE_URL}/Documents/Oversight/2026-11/report.xlsx", sha) is None
    drive = next(iter(sharepoint.drives))
    with pytest.raises(KeyError):
        sharepoint.file_content(drive, "Oversight/2026-11/report.xlsx")
    assert sharepoint.sessions == {}  # the partial upload was cancelled

    ms.graph.faults.clear()
    [result] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert result.action == "created"
    assert hashlib.sha256(sharepoint.file_content(drive, "Oversight/2026-11/report.xlsx")).hexdigest() == sha
    assert store.find_publication(f"{SITE_URL}/Documents/Oversight/2026-11/report.xlsx", sha) is not None


def test_lost_answer_to_the_last_fragment_is_recognised_as_done(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = report(tmp_path, "report.pdf", 5 * MB)  # two fragments of 3.2 MB
    ms.graph.faults.add(Truncate(keep=5), method="PUT", path_prefix=UPLOAD_PREFIX, after=1)

    [result] = run(config, store, [ReportFile(path=path)])

    assert ms.graph.faults.served() == 1
    assert result.action == "created" and upload_puts(ms) == 2  # not uploaded a second time
    assert hashlib.sha256(download(ms, sharepoint, result.item_id or "")).hexdigest() == result.content_hash


def test_a_file_deleted_in_sharepoint_is_published_again(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    file = ReportFile(path=report(tmp_path, "report.html", 1000), period="2026-11")
    [first] = run(config, store, [file])
    del sharepoint.items[first.item_id or ""]

    [again] = run(config, store, [file])

    assert again.action == "created" and again.item_id != first.item_id


def status(project: str, overall: str = "green", **kw: Any) -> ProjectStatusRow:
    return ProjectStatusRow(project=project, period="2026-11", overall=overall, schedule=overall, **kw)


def status_items(sharepoint: SharePointState) -> list[dict[str, Any]]:
    status_list = next(sp for sp in sharepoint.lists.values() if sp.display_name == "Project Status")
    return [item.fields for item in status_list.items.values()]


def test_status_rows_are_upserted_by_project_and_period(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    file = ReportFile(path=report(tmp_path, "report-2026-11.html", 5000), period="2026-11")
    rows = [status("ERP", key_variances="Finish +12 days"), status("HR")]
    first = run(config, store, [file], tuple(rows))
    updated_rows = [status("ERP", "red", key_variances="Finish +30 days"), status("HR")]

    second = run(config, store, [file], tuple(updated_rows))
    third = run(config, store, [file], tuple(updated_rows))

    assert [r.action for r in first] == ["created", "created", "created"]
    assert [r.action for r in second] == ["unchanged", "updated", "unchanged"]
    assert [r.action for r in third] == ["unchanged", "unchanged", "unchanged"]
    items = sorted(status_items(sharepoint), key=lambda f: f["Project"])
    assert [(f["Project"], f["OverallRAG"], f["ScheduleRAG"]) for f in items] == [
        ("ERP", "red", "red"),
        ("HR", "green", "green"),
    ]
    assert items[0]["KeyVariances"] == "Finish +30 days"
    assert items[0]["ReportLink"] == first[0].url  # the status row links the report just published


def test_status_list_is_created_when_missing(ms, store, tmp_path):
    state: SharePointState = ms.graph_state.sharepoint
    seed_demo(state, status_list=False)
    config = write_config(ms, tmp_path)
    file = ReportFile(path=report(tmp_path, "r.html", 10), period="2026-11")

    results = run(config, store, [file], (status("ERP"),))

    assert [r.action for r in results] == ["created", "created"]
    created = next(sp for sp in state.lists.values() if sp.display_name == "Project Status")
    assert created.columns["Project"].indexed and created.columns["Period"].indexed
    assert created.columns["KeyVariances"].type == "note"


def test_missing_library_column_is_a_clear_error_and_nothing_is_recorded(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path, metadata_columns={"period": "Period", "project": "Programme"})
    path = report(tmp_path, "report.html", 10)

    [failed] = run(config, store, [ReportFile(path=path, period="2026-11", project="ERP")])

    message = failed.error
    assert failed.action == "failed" and "Programme" in message and "metadata_columns" in message
    assert (
        store.find_publication(
            f"{SITE_URL}/Documents/Oversight/2026-11/report.html", hashlib.sha256(b"").hexdigest()
        )
        is None
    )


def test_unknown_site_and_library_name_what_to_fix(ms, sharepoint, store, tmp_path):
    file = ReportFile(path=report(tmp_path, "r.html", 10))
    config = write_config(ms, tmp_path, site_url="https://contoso.sharepoint.com/sites/Nope")
    [failed] = run(config, store, [file])
    assert failed.action == "failed" and "site was not found" in failed.error
    config = write_config(ms, tmp_path, library="Reports")
    [failed] = run(config, store, [file])
    assert re.search("no document library named 'Reports'.*'Documents'", failed.error)


def test_download_verification_compares_sha256(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path, verify="download")
    path = report(tmp_path, "report.pdf", 2 * MB)

    [result] = run(config, store, [ReportFile(path=path)])

    assert result.action == "created"
    assert (
        "GET",
        f"/v1.0/drives/{next(iter(sharepoint.drives))}/items/{result.item_id}/content",
    ) in ms.graph.faults.requests


def test_the_client_secret_reaches_no_log_error_or_store(ms, sharepoint, store, tmp_path, caplog):
    config = write_config(ms, tmp_path)
    secret = ms.credentials.client_secret
    path = report(tmp_path, "report.html", 2 * MB)
    ms.graph.faults.add(ServerError(503), method="PUT", path_prefix=UPLOAD_PREFIX, times=-1)
    caplog.set_level("DEBUG")

    [failed] = run(config, store, [ReportFile(path=path)], sleep=lambda s: None)
    ms.graph.faults.clear()
    run(config, store, [ReportFile(path=path)])

    assert failed.action == "failed"
    assert secret not in caplog.text and secret not in failed.error
    assert secret.encode() not in (tmp_path / "pmsync.db").read_bytes()


def test_doctor_checks_say_what_is_missing(ms, sharepoint, tmp_path):
    config = write_config(ms, tmp_path, metadata_columns={"project": "Programme"})
    results = {r.name: r for r in check_targets(config)}

    assert results["committee: site"].status == "ok"
    assert results["committee: library"].status == "ok"
    columns = results["committee: library columns"]
    assert columns.status == "warn" and "Programme" in columns.detail and "metadata_columns" in columns.fix
    assert results["committee: list 'Project Status'"].status == "ok"


def test_doctor_reports_a_wrong_secret_without_showing_it(ms, sharepoint, tmp_path):
    path = tmp_path / "pmsync.yaml"
    block = {"name": "committee", "type": "sharepoint", **ms.settings(), "site_url": SITE_URL}
    block["client_secret"] = "wrong-secret-value"
    path.write_text(yaml.safe_dump({"publish": {"targets": [block]}}))

    [result] = check_targets(load_config(path))

    assert result.status == "fail" and "wrong-secret-value" not in result.detail + result.fix
    assert "secret" in (result.detail + result.fix).lower()


def test_throttling_and_5xx_on_graph_calls_are_waited_out(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    faults = ms.graph.faults
    faults.add(Throttle(retry_after=11), method="GET", path_prefix="/v1.0/sites/")
    faults.add(ServerError(503, retry_after=13), method="POST", path_prefix="/v1.0/drives/")
    faults.add(Throttle(retry_after=17), method="PATCH", path_prefix="/v1.0/drives/")
    faults.add(ServerError(502), method="PUT", path_prefix="/v1.0/drives/")
    waits: list[float] = []
    file = ReportFile(path=report(tmp_path, "r.html", 1000), period="2026-11", project="ERP")

    [result] = run(config, store, [file], sleep=waits.append)

    assert result.action == "created" and faults.served() == 4
    assert {11, 13, 17} <= set(waits)
    assert sharepoint.items[result.item_id or ""].fields["Project"] == "ERP"


def test_a_status_row_edited_meanwhile_is_read_again_then_updated(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    run(config, store, [], (status("ERP"),))
    conflict = {"error": {"code": "resourceModified", "message": "ETag does not match", "innerError": {}}}
    ms.graph.faults.add(Status(412, conflict), method="PATCH", path_prefix="/v1.0/sites/")

    [result] = run(config, store, [], (status("ERP", "red"),))

    assert result.action == "updated" and ms.graph.faults.served() == 1
    assert [f["OverallRAG"] for f in status_items(sharepoint)] == ["red"]


def test_an_expired_upload_session_is_replaced_once(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = report(tmp_path, "report.xlsx", 8 * MB)  # three fragments
    sharepoint.drop_chunks(after=1, mode="expire")

    [result] = run(config, store, [ReportFile(path=path)])

    assert result.action == "created" and sharepoint.drops_served() == 1
    sessions = [p for m, p in ms.graph.faults.requests if p.endswith("createUploadSession")]
    assert len(sessions) == 2
    assert hashlib.sha256(download(ms, sharepoint, result.item_id or "")).hexdigest() == result.content_hash

    sharepoint.drop_chunks(after=0, times=2, mode="expire")
    path.write_bytes(b"x" * (4 * MB))
    [failed] = run(config, store, [ReportFile(path=path)])
    assert failed.action == "failed" and "expired" in failed.error
