"""No secret leaves pmsync: a whole scheduled cycle -- ``pmsync sync`` (Jira, MS Project, Planner,
Dataverse, finance files and a finance database), ``report``, ``publish``, ``runs``, ``doctor`` -- run as
real processes with ``-vv`` in text and JSON log formats, plus deliberately failing runs whose
tracebacks are printed, then EVERYTHING they wrote is searched for each secret: their stdout and
stderr, every file in the working folder (the SQLite store's bytes, every report, inside XLSX zips),
and every file and list row published to the sandbox SharePoint.

The secrets: the Jira API token (and the Basic auth header it becomes), the Entra ID client secret,
the finance database password, and any Microsoft access token (any JWT at all).
"""

from __future__ import annotations

import base64
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pmsync import clock
from pmsync.demo.portfolio import DEMO_START
from pmsync.demo.runner import demo_config
from pmsync.demo.world import DemoWorld
from pmsync.sandbox.faults import Status

from .helpers import pmsync, root_conftest

FINANCE_PASSWORD = "fin-Pa55w0rd-q8Zt3"  # noqa: S105 - the distinctive value the test hunts for
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
FINANCE_QUERY = """
SELECT * FROM (VALUES
  ('FIN-ERP-01', 'A1', '500100', 'ACT', 2026, 3, DATE '2025-09-30', 12500.00, 'USD', 'Acme', 'PO1',
   'Payroll', 'R1')
) AS t("PROJECT_ID", "ACTIVITY_ID", "ACCOUNT", "ANALYSIS_TYPE", "FISCAL_YEAR", "ACCOUNTING_PERIOD",
       "ACCOUNTING_DT", "RESOURCE_AMOUNT", "CURRENCY_CD", "VENDOR_NAME", "PO_ID", "DESCR", "RESOURCE_ID")
"""


@dataclass
class Cycle:
    world: DemoWorld
    workdir: Path
    secrets: dict[str, bytes]
    outputs: dict[str, subprocess.CompletedProcess[str]]


def _finance_sql_source() -> dict[str, object] | None:
    postgres_server_url = root_conftest().postgres_server_url
    postgres_unavailable = root_conftest().postgres_unavailable

    if postgres_unavailable():
        return None
    return {
        "name": "ledger",
        "type": "finance_sql",
        "url": postgres_server_url(),
        "password": "${PMSYNC_FIN_PASSWORD}",
        "query": FINANCE_QUERY,
        "mapping": "finance-peoplesoft.yaml",
    }


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    workdir = tmp_path_factory.mktemp("cycle")
    clock.set_now(DEMO_START)
    world = DemoWorld(workdir, issues_per_project=15)
    try:
        world.start()
    finally:
        clock.set_now(None)
    try:
        config = demo_config(world, workdir)
        ledger = _finance_sql_source()
        if ledger is not None:
            # ... and one whose database is gone, its password in the URL, as users often write it.
            down = str(ledger["url"]).replace("://postgres@", "://postgres:${PMSYNC_FIN_PASSWORD}@", 1)
            down = down.rsplit("/", 1)[0] + "/no_such_finance_db"
            gone = {**ledger, "name": "ledger-down", "url": down, "enabled": False}
            del gone["password"]
            config["sources"] += [ledger, gone]
        path = workdir / "pmsync.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        world.write_secrets()  # the demo config reads its secrets from 0600 files (*_file keys)
        env = {"PMSYNC_FIN_PASSWORD": FINANCE_PASSWORD}
        jira_basic = f"{world.jira.email}:{world.jira.api_token}".encode()
        secrets = {
            "jira token": world.jira.api_token.encode(),
            "jira basic auth header": base64.b64encode(jira_basic),
            "client secret": world.microsoft.credentials.client_secret.encode(),
            "finance password": FINANCE_PASSWORD.encode(),
        }
        period = f"{DEMO_START:%Y-%m}"
        outputs = {
            "sync -vv": pmsync(path, "-vv", "sync", env=env, timeout=300),
            "sync json": pmsync(path, "-vv", "--log-format", "json", "sync", env=env, timeout=300),
            "report": pmsync(
                path, "-v", "report", "--period", period, "--out", str(workdir / "reports"), env=env
            ),
            "publish": pmsync(
                path, "-vv", "publish", "--from", str(workdir / "reports"), "--period", period, env=env
            ),
            "runs": pmsync(path, "-v", "runs", env=env),
            "doctor": pmsync(path, "-vv", "doctor", env=env),
        }
        # Failing runs (errors that are not retried, to keep this quick): Jira and Graph refuse the
        # reads after sign-in, SharePoint refuses the upload.
        refused = Status(403, {"error": {"code": "accessDenied", "message": "Access denied"}})
        world.jira.server.faults.add(
            Status(400, {"errorMessages": ["refused"]}), path_prefix="/rest/api/3/search", times=-1
        )
        world.microsoft.graph.faults.add(refused, path_prefix="/v1.0/groups", times=-1)
        world.microsoft.graph.faults.add(refused, path_prefix="/v1.0/drives", times=-1)
        failing = env
        sources = ["-s", "jira", "-s", "planner"] + (["-s", "ledger-down"] if ledger is not None else [])
        outputs["failing sync -vv"] = pmsync(path, "-vv", "sync", *sources, env=failing)
        outputs["failing doctor"] = pmsync(path, "-vv", "doctor", env=failing)
        extra = workdir / "extra" / "minutes.txt"
        extra.parent.mkdir()
        extra.write_text("steering committee minutes\n", encoding="utf-8")
        outputs["failing publish -vv"] = pmsync(
            path, "-vv", "publish", str(extra), "--period", period, env=failing
        )
        world.jira.server.faults.clear()
        world.microsoft.graph.faults.clear()
        yield Cycle(world, workdir, secrets, outputs)
    finally:
        world.stop()


def _everything_written(cycle: Cycle) -> Iterator[tuple[str, bytes]]:
    for name, result in cycle.outputs.items():
        yield f"{name}: stdout", result.stdout.encode()
        yield f"{name}: stderr", result.stderr.encode()
    for path in sorted(cycle.workdir.rglob("*")):
        parts = path.relative_to(cycle.workdir).parts
        if not path.is_file() or "sandbox" in parts or parts[0] == "secrets":
            continue  # the sandbox's own files (its CA key, its secret file) and the demo's secret files
            # (tested for mode 0600 in tests/demo) are not pmsync's output
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member)
    sharepoint = cycle.world.microsoft.graph_state.sharepoint
    for item in sharepoint.items.values():
        yield f"sharepoint:{item.name}", bytes(item.content) + repr(item.fields).encode()
        for version in item.versions:
            yield f"sharepoint:{item.name}@{version}", bytes(version.content)
    for sp_list in sharepoint.lists.values():
        for row in sp_list.items.values():
            yield f"sharepoint list {sp_list.display_name}#{row.id}", repr(row.fields).encode()


def test_the_cycle_really_ran_and_the_failing_runs_printed_tracebacks(cycle: Cycle) -> None:
    out = cycle.outputs
    for step in ("sync -vv", "sync json", "report", "publish", "runs"):
        assert out[step].returncode == 0, (step, out[step].stdout, out[step].stderr[-3000:])
    assert list((cycle.workdir / "reports").glob("*.xlsx")) and (cycle.workdir / "pmsync.db").stat().st_size
    assert cycle.world.microsoft.graph_state.sharepoint.items  # something was published
    assert out["failing sync -vv"].returncode != 0 and "Traceback" in out["failing sync -vv"].stderr
    assert out["failing publish -vv"].returncode != 0 and "Traceback" in out["failing publish -vv"].stderr
    # The finance database source ran (with its password) when PostgreSQL is reachable.
    if _finance_sql_source() is not None:
        assert "ledger: ok" in out["sync -vv"].stdout, out["sync -vv"].stdout


@pytest.mark.parametrize(
    "secret", ["jira token", "jira basic auth header", "client secret", "finance password"]
)
def test_no_secret_appears_in_anything_a_run_wrote(cycle: Cycle, secret: str) -> None:
    value = cycle.secrets[secret]
    leaks = [where for where, data in _everything_written(cycle) if value in data]
    assert leaks == [], f"the {secret} appears in: {leaks}"


def test_no_access_token_appears_in_anything_a_run_wrote(cycle: Cycle) -> None:
    leaks = [where for where, data in _everything_written(cycle) if JWT.search(data)]
    assert leaks == [], f"an access token (JWT) appears in: {leaks}"
