"""A third-party client syncs from the sandbox Jira unpatched (issue 23, point 8): singer-io's
tap-jira 2.6.0, run from its own virtualenv, reads every issue of the sandbox Cloud site.

tap-jira is found through ``PMSYNC_TAP_JIRA`` (its executable; ``.ci/run`` builds ``.venv-tapjira``
and sets it) or on ``PATH``; without it the test skips and says how to install it.

tap-jira insists on https and builds requests with ``Session.send``, which ignores
``REQUESTS_CA_BUNDLE``: the sandbox's throwaway CA is trusted the way an administrator trusts a
corporate CA for a tool, by adding it to the CA bundle of tap-jira's virtualenv (certifi's file,
restored afterwards). tap-jira's code is not touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.jira import jira_sandbox

AGENT = "pmsync-test-tap-jira"
ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _tap_jira() -> Path:
    found = os.environ.get("PMSYNC_TAP_JIRA") or shutil.which("tap-jira")
    if not found or not Path(found).is_file():
        pytest.skip(
            "tap-jira 2.6.0 is not installed: `python -m venv .venv-tapjira && "
            ".venv-tapjira/bin/pip install tap-jira==2.6.0`, then set PMSYNC_TAP_JIRA to "
            ".venv-tapjira/bin/tap-jira (.ci/run does this)"
        )
    return Path(found)


@contextmanager
def _trusting(tap: Path, ca_bundle: Path) -> Iterator[None]:
    """tap-jira's virtualenv trusts the sandbox CA for the duration, then its bundle is restored."""
    where = subprocess.run(
        [str(tap.parent / "python"), "-c", "import certifi; print(certifi.where())"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    bundle = Path(where)
    original = bundle.read_bytes()
    bundle.write_bytes(original + b"\n" + ca_bundle.read_bytes())
    try:
        yield
    finally:
        bundle.write_bytes(original)


def _run(tap: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tap), *args], capture_output=True, text=True, timeout=600, check=False)


def test_tap_jira_syncs_every_issue_from_the_sandbox_unpatched(tmp_path: Path) -> None:
    tap = _tap_jira()
    with jira_sandbox(["ERP", "PORTAL"], 60, seed=11, anchor=ANCHOR, tls=True) as jira:
        assert jira.ca_bundle is not None
        config = {
            "start_date": "2000-01-01T00:00:00Z", "base_url": jira.url, "username": jira.email,
            "password": jira.api_token, "user_agent": AGENT,
        }  # fmt: skip
        (tmp_path / "config.json").write_text(json.dumps(config))
        with _trusting(tap, jira.ca_bundle):
            discovered = _run(tap, "--config", str(tmp_path / "config.json"), "--discover")
            assert discovered.returncode == 0, discovered.stderr[-2000:]
            catalog = json.loads(discovered.stdout)
            for stream in catalog["streams"]:
                for entry in stream["metadata"]:
                    if entry["breadcrumb"] == []:
                        entry["metadata"]["selected"] = stream["tap_stream_id"] in ("issues", "projects")
            (tmp_path / "catalog.json").write_text(json.dumps(catalog))
            synced = _run(
                tap, "--config", str(tmp_path / "config.json"), "--properties", str(tmp_path / "catalog.json")
            )
        assert synced.returncode == 0, synced.stderr[-2000:]
        live = set(jira.live_keys())
        agents = jira.requests_by_agent()
    messages = [json.loads(line) for line in synced.stdout.splitlines() if line.startswith("{")]
    issues = [m["record"] for m in messages if m.get("type") == "RECORD" and m.get("stream") == "issues"]
    projects = [m["record"] for m in messages if m.get("type") == "RECORD" and m.get("stream") == "projects"]
    assert {issue["key"] for issue in issues} == live and len(issues) == len(live) == 120
    assert {project["key"] for project in projects} == {"ERP", "PORTAL"}
    # what tap-jira asks for beyond pmsync's needs (`fields=*all`, `expand=changelog,transitions`)
    # is served: its schema keeps the fields, with the comments it pops on the way
    assert all(issue["fields"].get("summary") and issue["fields"].get("status") for issue in issues)
    # its bookmark advanced to the last issue's update
    states = [m["value"] for m in messages if m.get("type") == "STATE"]
    assert states and states[-1]["bookmarks"]["issues"]["updated"]
    assert agents.get(AGENT, 0) > 0 and set(agents) == {AGENT}
