"""The shipped CSV and SharePoint list templates agree with what the oversight_file connector reads."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pmsync.connectors.oversight_file import OversightFileConfig, OversightFileConnector

from pmsync.connector import ConnectorContext
from pmsync.model import CioRating, OversightFinding
from pmsync.oversight.kinds import KINDS
from pmsync.oversight.sharepoint_template import list_template

TEMPLATES = Path(str(resources.files("pmsync.oversight") / "templates"))


def test_every_csv_template_is_a_valid_input_of_its_kind(tmp_path: Path) -> None:
    config = OversightFileConfig(path=TEMPLATES)
    connector = OversightFileConnector(ConnectorContext(source_name="oversight", config=config))
    records = [item for item in connector.extract({}) if isinstance(item, CioRating | OversightFinding)]
    assert {type(r) for r in records} == {CioRating, OversightFinding}
    checked = connector.check()
    assert {c.name for c in checked} >= {f"file {kind}.csv" for kind in KINDS}
    assert all(c.status == "ok" for c in checked), checked


def test_the_shipped_sharepoint_list_templates_are_current_and_cover_every_field() -> None:
    for kind in KINDS:
        shipped = json.loads((TEMPLATES / f"{kind}.sharepoint-list.json").read_text(encoding="utf-8"))
        assert shipped == list_template(kind), "regenerate: python -m pmsync.oversight.sharepoint_template"
        names = {c["name"] for c in shipped["columns"]}
        csv_header = (TEMPLATES / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert set(csv_header) == names, kind
        required = {c["name"] for c in shipped["columns"] if c["required"]}
        assert {"project", "id", "recorded_by"} <= required
    rating = {c["name"]: c for c in list_template("cio_ratings")["columns"]}["rating"]
    assert "number" in rating
