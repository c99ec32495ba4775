"""Every Graph response pmsync receives from the sandbox conforms to Microsoft's Graph v1.0 CSDL.

The sandbox records each JSON answer (inner ``$batch`` answers one by one) while pmsync does what it
does against a tenant: a Planner sync, publishing reports to a library and a status list (creating
the list, versions, rows), and ``pmsync doctor``'s checks. Each answer is then checked against the
type its URL returns in the CSDL: no undeclared property, no value of the wrong kind, no entity
without its key, no null where the schema forbids it. Zero divergences is the bar.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from graph_csdl import CSDL, Csdl, body_of, response_type
from pmsync.connectors.planner import PlannerConfig, PlannerConnector
from test_publish_sharepoint import run as publish_run
from test_publish_sharepoint import write_config

from pmsync.config import shipped_mappings_dir
from pmsync.connector import ConnectorContext
from pmsync.publish import ProjectStatusRow, ReportFile, check_targets
from pmsync.sandbox.graph_planner import DEMO_GROUP_ID
from pmsync.sandbox.graph_sharepoint import seed_demo
from pmsync.store import Store

pytestmark = pytest.mark.skipif(not CSDL.is_file(), reason=f"{CSDL} (Graph v1.0 CSDL) is not here")


def workload(ms, tmp_path: Path) -> None:
    connector = PlannerConnector(
        ConnectorContext(
            source_name="planner",
            config=PlannerConfig.model_validate({**ms.settings(), "group_ids": [DEMO_GROUP_ID]}),
            mapping_dirs=(shipped_mappings_dir(),),
        )
    )
    list(connector.extract({}))
    connector.check()

    seed_demo(ms.graph_state.sharepoint, status_list=False)  # the first publish creates the list
    config = write_config(ms, tmp_path, verify="download")
    out = tmp_path / "out"
    out.mkdir()
    book = openpyxl.Workbook()
    book.active.append(["Project", "Status"])  # type: ignore[union-attr]
    book.save(out / "report-2026-11.xlsx")
    (out / "report-2026-11.html").write_text("<html>November</html>")
    big = out / "report-2026-11.pdf"
    big.write_bytes(b"%PDF" + bytes(2 * 1024 * 1024))  # an upload session
    files = [ReportFile(path=p, period="2026-11", overall_status="amber") for p in sorted(out.iterdir())]
    rows = (
        ProjectStatusRow(project="CMM", period="2026-11"),
        ProjectStatusRow(project="NET", period="2026-11"),
    )
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        publish_run(config, store, files, rows)
        (out / "report-2026-11.html").write_text("<html>November, corrected</html>")
        publish_run(config, store, files, (ProjectStatusRow(project="CMM", period="2026-11", overall="red"),))
    check_targets(config)


def test_every_graph_response_pmsync_receives_conforms_to_the_csdl(ms, tmp_path):
    schema = Csdl()
    ms.graph_state.recorded = []

    workload(ms, tmp_path)

    recorded = ms.graph_state.recorded
    checked = 0
    divergences: list[str] = []
    types: set[str] = set()
    for method, path, status, body in recorded:
        type_name = response_type(method, path, status)
        if type_name is None:
            continue
        checked += 1
        types.add(type_name)
        divergences += [
            f"{method} {path}: {d}" for d in schema.divergences(type_name, body_of(type_name, body))
        ]
    assert checked >= 60 and len(types) >= 15, (checked, sorted(types))
    assert divergences == [], "\n".join(divergences[:40])


def test_the_checker_finds_what_the_schema_forbids():
    schema = Csdl()
    assert schema.divergences("columnDefinition", {"name": "Period", "text": {}}) == [
        "columnDefinition: entity columnDefinition without its key 'id'"
    ]
    assert schema.divergences("driveItem", {"id": "1", "size": "12"}) == [
        "driveItem.size: '12' is not a valid Edm.Int64"
    ]
    assert schema.divergences("plannerTask", {"id": "t", "percentComplete": 50, "shoeSize": 9}) == [
        "plannerTask.shoeSize: plannerTask has no property 'shoeSize'"
    ]
