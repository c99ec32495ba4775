"""The done-when of the Jira connector: a 10^4-issue project synced in full, then incrementally."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pmsync.config import load_config
from pmsync.sandbox.jira import jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources


@pytest.mark.slow
def test_ten_thousand_issue_project_full_then_incremental(tmp_path: Path) -> None:
    anchor = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with jira_sandbox(["BIG"], 10_000, seed=3, anchor=anchor) as jira:
        config_path = tmp_path / "pmsync.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "store": {"url": f"sqlite:///{tmp_path / 'pmsync.db'}"},
                    "sources": [{"name": "jira", "type": "jira", **jira.source_settings()}],
                }
            )
        )
        config = load_config(config_path)
        store = Store.open(config.store_url())
        try:
            (full,) = sync_sources(config, store)
            assert full.status == "ok", full.error
            assert full.counts.inserted == 10_000
            jira.server.faults.clear()
            touched = jira.touch(90)
            (incremental,) = sync_sources(config, store)
            assert incremental.counts.updated == len(touched) == 90
            assert incremental.counts.inserted == incremental.counts.deleted == 0
            assert jira.search_requests() == 1  # 90 changed issues and the overlap fit one page
        finally:
            store.close()
