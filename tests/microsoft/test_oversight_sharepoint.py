"""Oversight inputs kept in SharePoint lists made from the shipped templates, read through Graph
(the sandbox tenant, the real msal and requests clients): who and when come from the list item."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from pmsync.config import build_connector, load_config
from pmsync.errors import SourceDataError
from pmsync.model import CioRating, OversightFinding
from pmsync.oversight.sharepoint_template import list_template
from pmsync.sandbox.graph_sharepoint import seed_demo
from pmsync.sandbox.graph_sharepoint_state import ListItem
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

SITE_URL = "https://contoso.sharepoint.com/sites/PMO"


def _config(ms: MicrosoftSandbox, tmp_path: Path, store_url: str, **extra: object) -> Path:
    seed_demo(ms.graph_state.sharepoint)  # the PMO site
    settings = ms.settings()
    block = {"name": "oversight", "type": "oversight_sharepoint", **settings, "site_url": SITE_URL, **extra}
    raw = {
        "store": {"url": store_url},
        "reporting": {"time_zone": "America/Los_Angeles"},
        "projects": [{"key": "ERP", "name": "ERP upgrade"}],
        "sources": [block],
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _create_lists(connector: object) -> dict[str, str]:
    client = connector.client  # type: ignore[attr-defined]
    site_id = connector._site_id()  # type: ignore[attr-defined]
    ids = {}
    for kind in ("cio_ratings", "findings"):
        created = client.request("POST", f"sites/{site_id}/lists", json=list_template(kind)).json()
        ids[kind] = created["id"]
    return ids


def test_items_of_the_template_lists_sync_with_their_editor_and_moment(
    ms: MicrosoftSandbox, tmp_path: Path, store_url: str
) -> None:
    lists = {"cio_ratings": "Oversight - CIO ratings", "findings": "Oversight - findings"}
    config = load_config(_config(ms, tmp_path, store_url, lists=lists))
    connector = build_connector(config, config.sources[0])
    ids = _create_lists(connector)
    state = ms.graph_state.sharepoint
    rating = state.lists[ids["cio_ratings"]]
    # a date column holds the instant its midnight began where it was typed (Los Angeles: 08:00Z)
    rating.items[1] = ListItem(
        1,
        {"project": "ERP", "id": "R1", "rating": 2, "reason": "Vendor staffing gaps",
         "rated_on": "2026-11-20T08:00:00Z"},
        modified_by="Jordan Lee",
    )  # fmt: skip
    findings = state.lists[ids["findings"]]
    findings.items[1] = ListItem(
        1,
        {"project": "ERP", "id": "F1", "title": "No load test", "severity": "high",
         "raised_on": "2026-09-30T07:00:00Z", "recorded_by": "IV&V vendor"},
        modified_by="Portal account",
    )  # fmt: skip
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        [cio] = store.iter_records(CioRating)
        assert (cio.rating, cio.rated_on, cio.recorded_by) == (2, date(2026, 11, 20), "Jordan Lee")
        assert isinstance(cio.recorded_at, datetime) and cio.source_modified == cio.recorded_at
        [finding] = store.iter_records(OversightFinding)
        # a filled recorded_by column wins over the list's last editor
        assert (finding.recorded_by, finding.raised_on) == ("IV&V vendor", date(2026, 9, 30))

        # a bad item fails the run naming the list and item; the stored rating stays
        bad = {"project": "ERP", "id": "R2", "rating": 9, "reason": "x", "rated_on": "2026-11-21T08:00:00Z"}
        rating.items[2] = ListItem(2, bad, modified_by="Jordan Lee")
        [run] = sync_sources(config, store)
        assert run.status == "failed" and run.error is not None
        assert "list 'Oversight - CIO ratings' item 2: rating" in run.error
        assert [r.rating for r in store.iter_records(CioRating)] == [2]


def test_doctor_names_a_missing_list_and_its_template(
    ms: MicrosoftSandbox, tmp_path: Path, store_url: str
) -> None:
    config = load_config(_config(ms, tmp_path, store_url, lists={"staffing": "Oversight - staffing"}))
    connector = build_connector(config, config.sources[0])
    results = {r.name: r for r in connector.check()}
    missing = results["list Oversight - staffing"]
    assert missing.status == "fail" and "staffing.sharepoint-list.json" in missing.fix
    with pytest.raises(SourceDataError, match="'Oversight - staffing' \\(staffing\\) is not on the site"):
        list(connector.extract({}))
