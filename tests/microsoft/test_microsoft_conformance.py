"""The Microsoft connectors (Planner, Planner premium on Dataverse, oversight SharePoint lists) keep
pmsync's connector guarantees (the conformance suite, pmsync.testing), against the sandbox tenant
through the real msal and requests clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pmsync.config import build_connector
from pmsync.oversight.sharepoint_template import list_template
from pmsync.sandbox.graph_planner import DEMO_GROUP_ID
from pmsync.sandbox.graph_sharepoint import seed_demo
from pmsync.sandbox.graph_sharepoint_state import ListItem
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.testing import ConnectorConformance, Scenario

SITE_URL = "https://contoso.sharepoint.com/sites/PMO"


def _keys(ms: MicrosoftSandbox) -> dict[str, Any]:
    keys = ms.settings()
    keys["client_secret"] = "${MS_SECRET}"  # from the environment, as a real pmsync.yaml would
    return keys


class _OnTheSandbox(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _sandbox(self, ms: MicrosoftSandbox) -> None:
        self.ms = ms

    def scenario_for(self, tmp_path: Path, source: dict[str, Any], **options: Any) -> Scenario:
        return Scenario(
            source=source,
            folder=tmp_path / "conformance",
            env={"MS_SECRET": self.ms.credentials.client_secret},
            **options,
        )


class TestPlannerConformance(_OnTheSandbox):
    def scenario(self, tmp_path: Path) -> Scenario:
        planner = self.ms.graph_state.planner
        task = next(t for t, v in planner.tasks.items() if v["title"] == "Go-live")
        return self.scenario_for(
            tmp_path,
            {"type": "planner", **_keys(self.ms), "group_ids": [DEMO_GROUP_ID]},
            spoil=lambda: planner.update_task(task, percentComplete=150),
        )


class TestDataverseConformance(_OnTheSandbox):
    def scenario(self, tmp_path: Path) -> Scenario:
        rows = self.ms.dataverse_state.rows["msdyn_projecttasks"]
        task = next(k for k, v in rows.items() if v["msdyn_subject"] == "Reporting")
        return self.scenario_for(
            tmp_path,
            {"type": "dataverse", **_keys(self.ms), "environment_url": self.ms.dataverse_url, "page_size": 4},
            # 40 where the environment keeps progress as a fraction of 1
            spoil=lambda: self.ms.dataverse_state.update("msdyn_projecttasks", task, msdyn_progress=40),
        )


class TestOversightSharePointConformance(_OnTheSandbox):
    def scenario(self, tmp_path: Path) -> Scenario:
        lists = {"cio_ratings": "Oversight - CIO ratings", "findings": "Oversight - findings"}
        source = {"type": "oversight_sharepoint", **_keys(self.ms), "site_url": SITE_URL, "lists": lists}
        # the lists are short and read in full each run (see the connector's docstring)
        projects = {"projects": [{"key": "ERP", "name": "ERP"}]}
        scenario = self.scenario_for(tmp_path, source, config=projects, restates_everything=True)
        if not self.ms.graph_state.sharepoint.sites:
            seed_demo(self.ms.graph_state.sharepoint)
        config, _ = scenario.write("setup")
        connector: Any = build_connector(config, config.sources[0])
        site_id = connector._site_id()
        state = self.ms.graph_state.sharepoint
        existing = {str(x.get("displayName")) for x in connector.client.items(f"sites/{site_id}/lists")}
        ids = {}
        for kind in lists:
            if lists[kind] not in existing:
                created = connector.client.request("POST", f"sites/{site_id}/lists", json=list_template(kind))
                ids[kind] = created.json()["id"]
        if ids:
            state.lists[ids["cio_ratings"]].items[1] = ListItem(
                1, {"project": "ERP", "id": "R1", "rating": 2, "reason": "Vendor staffing gaps",
                    "rated_on": "2026-11-20T08:00:00Z"}, modified_by="Jordan Lee",
            )  # fmt: skip
            state.lists[ids["findings"]].items[1] = ListItem(
                1, {"project": "ERP", "id": "F1", "title": "No load test", "severity": "high",
                    "raised_on": "2026-09-30T07:00:00Z", "recorded_by": "IV&V vendor"}, modified_by="Portal",
            )  # fmt: skip
            ratings = state.lists[ids["cio_ratings"]]
            scenario.spoil = lambda: ratings.items.__setitem__(
                2,
                ListItem(2, {"project": "ERP", "id": "R2", "rating": "excellent"}, modified_by="Jordan Lee"),
            )
            scenario.restore = lambda: ratings.items.pop(2, None) and None
        return scenario
