"""The Jira connector keeps pmsync's connector guarantees (the conformance suite, pmsync.testing),
against the sandbox Jira Cloud and Data Center through the real ``jira`` client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.testing import ConnectorConformance, Scenario

#: a fixed "now" for the generated data, so failures reproduce
ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    # small: every check syncs several fresh stores; 3 pages of 10 give the checkpoints to resume from
    with jira_sandbox(["ERP"], 25, seed=5, anchor=ANCHOR, flavor=request.param) as sandbox:
        yield sandbox


class TestJiraConformance(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _sandbox(self, jira: JiraSandbox) -> None:
        self.jira = jira

    def scenario(self, tmp_path: Path) -> Scenario:
        jira = self.jira
        secret = "api_token" if jira.flavor.cloud else "pat"
        value = jira.api_token if jira.flavor.cloud else jira.pat

        def spoil() -> None:
            # a due date Jira would never send, on an issue changed since the last run
            jira.app.hooks.field_overrides["ERP-13"] = {"duedate": "31/12/2026"}
            jira.touch(1, keys=["ERP-13"])

        return Scenario(
            source={"type": "jira", **jira.source_settings(**{secret: "${JIRA_SECRET}"}, page_size=10)},
            folder=tmp_path / "conformance",
            env={"JIRA_SECRET": value},
            spoil=spoil,
            restore=lambda: jira.app.hooks.field_overrides.clear(),
            # when the deletion scan and the site's metadata were last read: wall-clock moments
            volatile_cursor_keys=("last_scan", "meta"),
        )
