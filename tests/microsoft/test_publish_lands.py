"""Publishing that lands on a SharePoint that behaves like one: Office files rewritten on save, one
file's failure not stopping the rest, creates retried after a lost answer, duplicates healed, and an
app without admin consent told which permission to grant."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from test_publish_sharepoint import SITE_URL, run, write_config

from pmsync.cli import cli
from pmsync.publish import ProjectStatusRow, ReportFile
from pmsync.publish.office import same_office_content
from pmsync.sandbox.faults import Truncate
from pmsync.sandbox.graph_sharepoint import UPLOAD_PREFIX, SharePointState, seed_demo
from pmsync.sandbox.graph_sharepoint_state import ListItem
from pmsync.sandbox.microsoft import DEMO_CLIENT_ID, MicrosoftSandbox


@pytest.fixture
def sharepoint(ms: MicrosoftSandbox) -> SharePointState:
    state: SharePointState = ms.graph_state.sharepoint
    seed_demo(state)
    return state


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from pmsync.store import Store

    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as opened:
        yield opened


def workbook(path: Path, value: str = "on track") -> Path:
    """A real .xlsx (as the XLSX report writer produces), with fixed timestamps so it is reproducible."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Project", "Status"])
    sheet.append(["ERP", value])
    book.properties.created = book.properties.modified = __import__("datetime").datetime(2026, 11, 30)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def puts(ms: MicrosoftSandbox) -> int:
    return sum(1 for method, _ in ms.graph.faults.requests if method == "PUT")


def test_sharepoint_rewrites_an_xlsx_and_pmsync_still_records_it_once(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = workbook(tmp_path / "out" / "report-2026-11.xlsx")
    local = path.read_bytes()
    file = ReportFile(path=path, period="2026-11", project="ERP", overall_status="amber")

    [first] = run(config, store, [file])

    stored = bytes(sharepoint.items[first.item_id or ""].content)
    assert stored != local  # the sandbox rewrote it, as SharePoint does in a library with columns
    assert first.action == "created" and first.rewritten
    assert first.stored_size == len(stored) and first.stored_size != len(local)
    assert "SharePoint rewrote the Office file" in first.line()
    assert same_office_content(local, stored) is None  # every worksheet part is intact
    sha = hashlib.sha256(local).hexdigest()
    recorded = store.find_publication(f"{SITE_URL}/Documents/Oversight/2026-11/report-2026-11.xlsx", sha)
    # the ledger keeps pmsync's hash for idempotency and, beside it, what SharePoint stores
    assert recorded is not None and recorded.stored_size == len(stored) and recorded.stored_hash
    assert recorded.stored_hash == first.stored_hash

    before = puts(ms)
    [again] = run(config, store, [file])

    assert again.action == "unchanged" and puts(ms) == before  # no upload, no new SharePoint version
    assert len(sharepoint.items[first.item_id or ""].versions) == 1


def test_download_verification_checks_the_content_parts_of_a_rewritten_office_file(
    ms, sharepoint, store, tmp_path
):
    config = write_config(ms, tmp_path, verify="download")
    path = workbook(tmp_path / "out" / "report.xlsx")

    [result] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert result.action == "created" and result.rewritten


def test_with_the_rewrite_switched_off_the_stored_bytes_are_the_sent_ones(ms, sharepoint, store, tmp_path):
    sharepoint.rewrite_office_files = False
    config = write_config(ms, tmp_path)
    path = workbook(tmp_path / "out" / "report.xlsx")

    [result] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert result.action == "created" and not result.rewritten
    assert bytes(sharepoint.items[result.item_id or ""].content) == path.read_bytes()


def test_a_lost_ledger_is_harmless_with_the_hash_column(ms, sharepoint, store, tmp_path):
    library = next(sp for sp in sharepoint.lists.values() if sp.template == "documentLibrary")
    from pmsync.sandbox.graph_sharepoint_state import Column

    library.columns["PmsyncHash"] = Column("PmsyncHash")
    config = write_config(ms, tmp_path, metadata_columns={"content_hash": "PmsyncHash"})
    path = workbook(tmp_path / "out" / "report.xlsx")
    file = ReportFile(path=path, period="2026-11")
    [first] = run(config, store, [file])
    assert first.rewritten

    from pmsync.store import Store

    with Store.open(f"sqlite:///{tmp_path / 'other.db'}") as fresh:  # another machine, a new database
        before = puts(ms)
        [again] = run(config, fresh, [file])

    assert again.action == "unchanged" and puts(ms) == before
    assert sharepoint.items[first.item_id or ""].fields["PmsyncHash"] == first.content_hash


def test_new_version_is_decided_by_what_was_there_not_by_200_or_201(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    path = workbook(tmp_path / "out" / "report.xlsx")
    [first] = run(config, store, [ReportFile(path=path, period="2026-11")])
    workbook(path, "late")

    [second] = run(config, store, [ReportFile(path=path, period="2026-11")])

    assert second.action == "new_version" and second.item_id == first.item_id
    assert [v.id for v in sharepoint.items[first.item_id or ""].versions] == ["1.0", "2.0"]


def status(project: str, overall: str = "green") -> ProjectStatusRow:
    return ProjectStatusRow(project=project, period="2026-11", overall=overall)


def test_one_failed_file_stops_neither_the_others_nor_the_status_rows_and_exits_4(ms, sharepoint, tmp_path):
    config = write_config(ms, tmp_path)
    out = tmp_path / "out"
    good = workbook(out / "report-2026-11.xlsx")
    bad = out / "report|draft.html"  # a name SharePoint refuses
    bad.write_text("<html>draft</html>")
    last = out / "z-summary.html"
    last.write_text("<html>summary</html>")
    assert config.path is not None

    result = CliRunner().invoke(
        cli,
        ["--config", str(config.path), "publish", str(bad), str(good), str(last), "--period", "2026-11"],
        env={"PMSYNC_TEST_GRAPH_SECRET": ms.credentials.client_secret},
    )

    assert result.exit_code == 4, result.output
    assert "report|draft.html: FAILED" in result.output and "not allowed" in result.output
    assert "report-2026-11.xlsx: published" in result.output
    assert "z-summary.html: published" in result.output
    assert "1 of 3 publications failed: committee: report|draft.html" in result.output
    drive = next(iter(sharepoint.drives))
    assert sharepoint.file_content(drive, "Oversight/2026-11/z-summary.html") == b"<html>summary</html>"


def test_status_rows_still_land_after_a_file_fails(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    bad = tmp_path / "out" / "bad|name.html"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("x")

    results = run(config, store, [ReportFile(path=bad, period="2026-11")], (status("ERP"),))

    assert [r.action for r in results] == ["failed", "created"]


def test_a_create_whose_answer_was_lost_is_found_not_duplicated(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    ms.graph.faults.add(Truncate(keep=10), method="POST", path_prefix="/v1.0/sites/", times=1)

    [result] = run(config, store, [], (status("ERP"),), sleep=lambda s: None)

    assert ms.graph.faults.served() == 1 and result.action == "created"
    status_list = next(sp for sp in sharepoint.lists.values() if sp.display_name == "Project Status")
    assert [item.fields["Project"] for item in status_list.items.values()] == ["ERP"]


def test_exact_duplicate_rows_are_healed_and_a_person_s_row_is_kept(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    [first] = run(config, store, [], (status("ERP"),))
    status_list = next(sp for sp in sharepoint.lists.values() if sp.display_name == "Project Status")
    original = status_list.items[int(first.item_id or "0")]
    for fields in (dict(original.fields), {**original.fields, "KeyVariances": "added by the PMO"}):
        status_list.items[status_list.next_item_id] = ListItem(status_list.next_item_id, fields)
        status_list.next_item_id += 1

    [second] = run(config, store, [], (status("ERP", "red"),))

    assert second.action == "updated" and second.item_id == first.item_id
    left = sorted(status_list.items.values(), key=lambda i: i.id)
    assert [(i.fields["OverallRAG"], i.fields["KeyVariances"]) for i in left] == [
        ("red", ""),
        ("green", "added by the PMO"),
    ]


def test_an_app_without_admin_consent_is_told_which_permission_without_a_retry_loop(
    ms, sharepoint, store, tmp_path
):
    ms.identity_state.apps[DEMO_CLIENT_ID].admin_consented = False
    config = write_config(ms, tmp_path)
    path = workbook(tmp_path / "out" / "report.xlsx")
    other = tmp_path / "out" / "report.html"
    other.write_text("x")

    results = run(config, store, [ReportFile(path=path), ReportFile(path=other)], (status("ERP"),))

    assert [r.action for r in results] == ["failed", "failed", "failed"]
    assert "carries no permission" in results[0].error and "Sites.ReadWrite.All" in results[0].error
    assert "Grant admin consent" in results[0].error
    assert "not attempted" in results[1].error
    assert ms.identity_state.tokens_issued[DEMO_CLIENT_ID] == 1  # no fresh token asked for in vain
    graph_calls = [p for _, p in ms.graph.faults.requests if not p.startswith(UPLOAD_PREFIX)]
    assert len(graph_calls) == 1


def test_a_folder_create_whose_answer_was_lost_is_found_not_duplicated(ms, sharepoint, store, tmp_path):
    config = write_config(ms, tmp_path)
    ms.graph.faults.add(Truncate(keep=10), method="POST", path_prefix="/v1.0/drives/", times=1)
    file = ReportFile(path=workbook(tmp_path / "out" / "report.xlsx"), period="2026-11")

    [result] = run(config, store, [file], sleep=lambda s: None)

    assert ms.graph.faults.served() == 1 and result.action == "created"
    drive = next(iter(sharepoint.drives.values()))
    oversight = [i for i in sharepoint.children(drive.root_id) if i.name.startswith("Oversight")]
    assert [i.name for i in oversight] == ["Oversight"]


@pytest.mark.parametrize("name", ["report.html", "report.xlsx"])
def test_a_put_whose_answer_was_lost_adds_no_second_version(ms, sharepoint, store, tmp_path, name):
    config = write_config(ms, tmp_path)
    path = tmp_path / "out" / name
    if name.endswith(".xlsx"):
        workbook(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html>v1</html>")
    [first] = run(config, store, [ReportFile(path=path, period="2026-11")])
    if name.endswith(".xlsx"):
        workbook(path, "late")
    else:
        path.write_text("<html>v2</html>")
    ms.graph.faults.add(Truncate(keep=10), method="PUT", path_prefix="/v1.0/drives/", times=1)

    [second] = run(config, store, [ReportFile(path=path, period="2026-11")], sleep=lambda s: None)

    assert ms.graph.faults.served() == 1 and second.action == "new_version"
    assert [v.id for v in sharepoint.items[first.item_id or ""].versions] == ["1.0", "2.0"]
