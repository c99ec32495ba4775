"""A written report, published: `pmsync publish --from DIR` reads metadata and status rows from the
report's JSON, and `pmsync report --publish`'s hook (`publish_files`) sends them to SharePoint."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner
from report.sample import sample_report  # tests/report/sample.py: a report with every section filled

from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.microsoft.auth import forget_token_providers
from pmsync.publish import publish_files
from pmsync.report.writers import write_report
from pmsync.sandbox.graph_sharepoint import seed_demo
from pmsync.sandbox.microsoft import microsoft_sandbox
from pmsync.store import Store


def test_publish_from_a_report_folder_takes_rows_and_metadata_from_its_json(tmp_path):
    out = tmp_path / "reports"
    write_report(sample_report(), out, ["html", "json"])
    config = tmp_path / "pmsync.yaml"
    target = {"name": "archive", "type": "folder", "path": "published", "folder": "{period}"}
    config.write_text(yaml.safe_dump({"publish": {"targets": [target]}}))

    result = CliRunner().invoke(cli, ["--config", str(config), "publish", "--from", str(out)])

    assert result.exit_code == 0, result.output
    published = tmp_path / "published"
    assert sorted(p.name for p in (published / "2026-11").iterdir()) == [
        "report-2026-11.html",
        "report-2026-11.json",
    ]
    rows = {r["project"]: r for r in json.loads((published / "project-status.json").read_text())}
    assert set(rows) == {"ERP", "WEB"}
    assert rows["ERP"]["overall"] == "red" and rows["ERP"]["report_url"].endswith("report-2026-11.html")
    assert rows["ERP"]["key_variances"].splitlines()[0].startswith("Schedule (red): finish variance +12")


def test_report_publish_hook_sends_files_metadata_and_rows_to_sharepoint(tmp_path):
    forget_token_providers()
    report = sample_report()
    paths = write_report(report, tmp_path / "reports", ["html", "xlsx", "json"])
    with microsoft_sandbox(tmp_path) as ms:
        state = ms.graph_state.sharepoint
        seed_demo(state)
        site = "https://contoso.sharepoint.com/sites/PMO"
        block = {"name": "committee", "type": "sharepoint", **ms.settings(), "site_url": site}
        block["folder"] = "Oversight/{period}"
        (tmp_path / "pmsync.yaml").write_text(yaml.safe_dump({"publish": {"targets": [block]}}))
        config = load_config(tmp_path / "pmsync.yaml")
        with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
            lines = list(publish_files(config, store, report, paths))
            again = list(publish_files(config, store, report, paths))

        html = next(i for i in state.items.values() if i.name == "report-2026-11.html")
        xlsx = next(i for i in state.items.values() if i.name == "report-2026-11.xlsx")
        local_xlsx = next(p for p in paths if p.suffix == ".xlsx").read_bytes()
        status = next(sp for sp in state.lists.values() if sp.display_name == "Project Status")
        rows = {i.fields["Project"]: i.fields for i in status.items.values()}
    forget_token_providers()
    assert len(lines) == 5 and all("unchanged" in line for line in again)
    # SharePoint rewrote the workbook in a library with columns; it is published and recorded anyway
    assert bytes(xlsx.content) != local_xlsx and len(xlsx.versions) == 1
    assert any("report-2026-11.xlsx: published (SharePoint rewrote the Office file" in line for line in lines)
    assert html.fields == {"Period": "2026-11", "OverallStatus": "red"}  # portfolio report: worst status
    assert rows["ERP"]["OverallRAG"] == "red"
    assert rows["ERP"]["ReportLink"].endswith("/Oversight/2026-11/report-2026-11.html")
