"""Fixtures for the Jira tests: sandbox Jira servers (Cloud and Data Center) and connectors on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.jira import JiraConfig, JiraConnector

from pmsync.config import shipped_mappings_dir
from pmsync.connector import ConnectorContext
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox

#: a fixed "now" for the generated data, so failures reproduce
ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def jira_cloud() -> Iterator[JiraSandbox]:
    """A sandbox Jira Cloud: two projects of 120 issues, user time zone Australia/Sydney."""
    with jira_sandbox(["ERP", "PORTAL"], 120, seed=11, anchor=ANCHOR) as sandbox:
        yield sandbox


@pytest.fixture
def jira_dc() -> Iterator[JiraSandbox]:
    """A sandbox Jira Data Center (offset paging, PAT auth) with the same shape of data."""
    with jira_sandbox(["ERP", "PORTAL"], 120, seed=11, anchor=ANCHOR, flavor="datacenter") as sandbox:
        yield sandbox


@pytest.fixture(params=["cloud", "datacenter"])
def jira_any(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP", "PORTAL"], 120, seed=11, anchor=ANCHOR, flavor=request.param) as sandbox:
        yield sandbox


@pytest.fixture
def connect() -> Any:
    """A factory: ``connect(sandbox, **settings)`` → a :class:`JiraConnector` for that sandbox."""
    return make_connector


def make_connector(
    sandbox: JiraSandbox,
    *,
    source: str = "jira-test",
    mapping_dirs: tuple[Path, ...] = (),
    links: dict[str, str] | None = None,
    **settings: Any,
) -> JiraConnector:
    config = JiraConfig.model_validate(sandbox.source_settings(page_size=25, **settings))
    context = ConnectorContext(
        source_name=source,
        config=config,
        mapping_dirs=(*mapping_dirs, shipped_mappings_dir()),
        project_links=links or {},
    )
    connector = JiraConnector(context)
    connector.sleep = lambda seconds: None  # Retry-After is honoured by the policy; tests need not wait
    return connector
