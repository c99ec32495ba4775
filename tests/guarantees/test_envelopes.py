"""Broken answers from Microsoft Graph (Planner) and Dataverse are never taken for complete ones.

A page without a ``value`` list, with a ``value`` of the wrong type, with an item that is not an
object, or an empty last page where ``@odata.nextLink`` promised more: the run fails with a clear
error, deletes nothing and leaves the cursor where it was; once the service answers properly, the
next run ends as a clean one. A well-formed but empty project list is stopped by the deletion guard.
Through the sandbox servers, the real msal and requests, and the sync engine (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pmsync.config import PmsyncConfig, load_config
from pmsync.sandbox.faults import Status
from pmsync.sandbox.graph_planner import DEMO_GROUP_ID
from pmsync.sandbox.microsoft import MicrosoftSandbox, microsoft_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import dump, write_yaml

DATAVERSE = "/api/data/v9.2/"
BROKEN: dict[str, dict[str, Any]] = {
    "an empty object": {},
    "value as text": {"value": "oops"},
    "value as an object": {"value": {"id": "1"}},
    "an item that is not an object": {"value": [1, 2]},
}
WORDS = {
    "an empty object": "no 'value' instead of a list of items",
    "value as text": "a str as 'value'",
    "value as an object": "a dict as 'value'",
    "an item that is not an object": "item 0 of the page is a int, not an object",
}


@pytest.fixture
def ms(tmp_path: Path) -> Iterator[MicrosoftSandbox]:
    with microsoft_sandbox(tmp_path, page_size=5) as sandbox:
        yield sandbox


def _config(ms: MicrosoftSandbox, folder: Path, url: str) -> PmsyncConfig:
    keys = {**ms.settings(), "client_secret": "${MS_SECRET}"}
    path = write_yaml(
        folder,
        url,
        {"name": "planner", "type": "planner", **keys, "group_ids": [DEMO_GROUP_ID]},
        {"name": "pfw", "type": "dataverse", **keys, "environment_url": ms.dataverse_url, "page_size": 4},
    )
    return load_config(path, env={"MS_SECRET": ms.credentials.client_secret})


def _plan_tasks(ms: MicrosoftSandbox, title: str) -> str:
    plan = next(p for p, v in ms.graph_state.planner.plans.items() if v["title"] == title)
    return f"/v1.0/planner/plans/{plan}/tasks"


def _fault_path(ms: MicrosoftSandbox, source: str) -> tuple[Any, str]:
    if source == "planner":
        return ms.graph.faults, _plan_tasks(ms, "Case Management Modernization")
    return ms.dataverse.faults, DATAVERSE + "msdyn_projecttasks"


@pytest.mark.parametrize("source", ["planner", "pfw"])
@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_page_fails_the_run_and_changes_nothing(
    ms: MicrosoftSandbox, tmp_path: Path, source: str, broken: str
) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = _config(ms, tmp_path, url)
    with Store.open(url) as store:
        assert [r.status for r in sync_sources(config, store, [source])] == ["ok"]
        before = dump(store)
        faults, path = _fault_path(ms, source)
        faults.add(Status(200, BROKEN[broken]), path=path, times=-1)
        [run] = sync_sources(config, store, [source])
        assert faults.served() >= 1
        assert run.status == "failed" and run.counts.deleted == 0
        assert WORDS[broken] in (run.error or "")
        assert dump(store) == before  # nothing deleted, nothing half-written, the cursor unchanged

        faults.clear()
        [healed] = sync_sources(config, store, [source])
        assert healed.status == "ok" and healed.counts.changed == 0


def test_an_empty_last_page_that_a_next_link_promised_is_an_incomplete_answer(
    ms: MicrosoftSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = _config(ms, tmp_path, url)
    with Store.open(url) as store:
        assert [r.status for r in sync_sources(config, store, ["planner"])] == ["ok"]
        before = dump(store)
        path = _plan_tasks(ms, "Case Management Modernization")  # 12 tasks: pages of 5, 5 and 2
        ms.graph.faults.add(Status(200, {"value": []}), path=path, after=1, times=-1)
        [run] = sync_sources(config, store, ["planner"])
        assert run.status == "failed"
        assert "empty last page although the previous page's @odata.nextLink promised more" in (
            run.error or ""
        )
        assert dump(store) == before


def test_a_well_formed_empty_project_list_is_stopped_by_the_deletion_guard(
    ms: MicrosoftSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = _config(ms, tmp_path, url)
    with Store.open(url) as store:
        assert [r.status for r in sync_sources(config, store, ["pfw"])] == ["ok"]
        before = dump(store)
        ms.dataverse.faults.add(Status(200, {"value": []}), path=DATAVERSE + "msdyn_projects", times=-1)
        [run] = sync_sources(config, store, ["pfw"])
        assert run.status == "failed" and "refused to delete" in (run.error or "")
        assert dump(store) == before


def _ledger_config(folder: Path, finance_url: str) -> PmsyncConfig:
    from finance.helpers import QUERY

    path = write_yaml(
        folder,
        f"sqlite:///{folder / 'pmsync.db'}",
        {
            "name": "ledger", "type": "finance_sql", "url": finance_url, "query": QUERY,
            "params": {"fiscal_year": 2026, "bu": "IT01"}, "mapping": "finance-peoplesoft.yaml",
        },
        portfolio={"fiscal_year_start_month": 7},
    )  # fmt: skip
    return load_config(path)


def test_a_finance_query_that_suddenly_returns_nothing_deletes_nothing(tmp_path: Path) -> None:
    from finance.helpers import create_ledger
    from sqlalchemy import create_engine, text

    finance_url = f"sqlite:///{tmp_path / 'finance.db'}"
    create_ledger(finance_url)
    config = _ledger_config(tmp_path, finance_url)
    with Store.open(config.store_url()) as store:
        [first] = sync_sources(config, store)
        assert first.status == "ok" and first.counts.inserted == 4
        before = dump(store)
        engine = create_engine(finance_url)
        with engine.begin() as conn:  # the view is rebuilt overnight and is empty for a while
            conn.execute(text("DELETE FROM proj_resource"))
        engine.dispose()
        [run] = sync_sources(config, store)
        assert run.status == "failed" and "refused to delete" in (run.error or "")
        assert dump(store) == before


def test_a_finance_query_row_beyond_the_amount_bound_names_the_row_and_column(tmp_path: Path) -> None:
    from finance.helpers import create_ledger
    from sqlalchemy import create_engine, text

    finance_url = f"sqlite:///{tmp_path / 'finance.db'}"
    create_ledger(finance_url)
    engine = create_engine(finance_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE proj_resource SET resource_amount = 1e30 WHERE resource_id = 'R3'"))
    engine.dispose()
    config = _ledger_config(tmp_path, finance_url)
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
        assert run.status == "failed"
        assert "column 'RESOURCE_AMOUNT'" in (run.error or "") and "plausible bound" in (run.error or "")


def test_fewer_items_than_the_stated_count_is_an_incomplete_answer(
    ms: MicrosoftSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = _config(ms, tmp_path, url)
    with Store.open(url) as store:
        assert [r.status for r in sync_sources(config, store, ["planner"])] == ["ok"]
        before = dump(store)
        path = _plan_tasks(ms, "Network Refresh")  # 4 tasks, one page
        ms.graph.faults.add(Status(200, {"value": [], "@odata.count": 4}), path=path, times=-1)
        [run] = sync_sources(config, store, ["planner"])
        assert run.status == "failed"
        assert "said @odata.count 4 but its pages held 0 items: an incomplete answer" in (run.error or "")
        assert dump(store) == before
