"""Jira benchmark stages: full and incremental sync from a sandbox Jira Cloud into a SQLite store.

The sandbox runs in its own process (as a real Jira would on its own machine), so peak memory is the
pmsync process alone. Two projects of ``size / 2`` issues each; page size 100 (Jira Cloud's cap).

Where users wait, Jira is far away: the "200 ms per request" stages delay every answer of the
sandbox by :data:`LATENCY` (issue 25.2: 10^5 issues under 60 s there, memory flat from 10^4 to 10^5).

For comparison, singer-io's tap-jira 2.6.0 (issues stream only) reads the same sandbox data over
https at the same latency, as does pmsync in the stage beside it; ``bench/targets.py`` prints the
ratios. Requests are counted per User-Agent at the sandbox, so each side counts only its own, and
per endpoint (``requests_by_endpoint`` in ``--json`` rows), so it is plain what they are spent on.
tap-jira runs unpatched from its own virtualenv (``.ci/run`` builds ``.venv-tapjira``):

    python -m venv .venv-tapjira && .venv-tapjira/bin/pip install 'tap-jira==2.6.0'
    export PMSYNC_TAP_JIRA=$PWD/.venv-tapjira/bin/tap-jira

tap-jira builds its requests with ``Session.send``, which ignores ``REQUESTS_CA_BUNDLE``; so the
stage trusts the sandbox's throwaway CA the way an administrator trusts a corporate CA for a tool:
by adding it to the trust store of tap-jira's virtualenv (certifi's bundle, restored from a copy on
each run). tap-jira's code is not touched.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from pmsync.config import load_config
from pmsync.http import USER_AGENT
from pmsync.sandbox.jira.process import JiraSandboxProcess
from pmsync.store import Store
from pmsync.sync import sync_sources

_sandbox: JiraSandboxProcess | None = None
#: seconds the sandbox waits before each answer in the latency stages (a distant Cloud site)
LATENCY = 0.2
#: the User-Agent tap-jira is configured to send, so its requests are counted apart
TAP_AGENT = "pmsync-bench-tap-jira"


def _start(size: int, workdir: Path, *, tls: bool = False, latency: float = 0.0) -> JiraSandboxProcess:
    global _sandbox
    _sandbox = JiraSandboxProcess(
        projects=["ALPHA", "BETA"], issues_per_project=size // 2, seed=42, tls=tls, latency=latency
    )
    _sandbox.start()
    atexit.register(_sandbox.stop)
    settings: dict[str, Any] = {"name": "jira", "type": "jira", **_sandbox.settings}
    config = {
        "store": {"url": f"sqlite:///{workdir / 'pmsync.db'}"},
        "projects": [{"key": "alpha", "name": "Alpha", "links": {"jira": ["ALPHA"]}}],
        "sources": [settings],
    }
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(config))
    return _sandbox


def _sync(workdir: Path) -> dict[str, Any]:
    assert _sandbox is not None
    config = load_config(workdir / "pmsync.yaml")
    store = Store.open(config.store_url())
    sandbox_cpu, pmsync_cpu = _sandbox.cpu_seconds(), time.process_time()
    try:
        (run,) = sync_sources(config, store)
    finally:
        store.close()
    # On a shared machine wall time hides who did the work: report both processes' CPU time.
    sandbox_cpu, pmsync_cpu = _sandbox.cpu_seconds() - sandbox_cpu, time.process_time() - pmsync_cpu
    if run.status != "ok":
        raise RuntimeError(f"sync failed: {run.error}")
    requests, searches = _sandbox.requests()
    ours = _sandbox.requests_by_agent().get(USER_AGENT, 0)
    if ours != requests:
        raise RuntimeError(f"the sandbox saw {requests} requests, {ours} of them from pmsync")
    counts = run.counts
    return {
        "written": counts.inserted + counts.updated + counts.deleted,
        "http_requests": ours,
        "search_requests": searches,
        "pmsync_cpu_seconds": round(pmsync_cpu, 2),
        "sandbox_cpu_seconds": round(sandbox_cpu, 2),
        "requests_by_endpoint": _sandbox.requests_by_endpoint(),
    }


def prepare_jira_full_sync(size: int, workdir: Path) -> None:
    _start(size, workdir)


def jira_full_sync(size: int, workdir: Path) -> dict[str, Any]:
    """Every issue, with changelog, into an empty store; includes the deletion scan."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_jira_full_sync_latency(size: int, workdir: Path) -> None:
    _start(size, workdir, latency=LATENCY)


def jira_full_sync_latency(size: int, workdir: Path) -> dict[str, Any]:
    """Every issue into an empty store, each answer 200 ms away (default concurrency, 8)."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_jira_incremental_1pct(size: int, workdir: Path) -> None:
    sandbox = _start(size, workdir)
    _sync(workdir)
    sandbox.touch(max(1, size // 100))
    sandbox.clear()


def jira_incremental_1pct(size: int, workdir: Path) -> dict[str, Any]:
    """1 % of the issues changed since the last sync."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_jira_incremental_nothing(size: int, workdir: Path) -> None:
    sandbox = _start(size, workdir)
    _sync(workdir)
    sandbox.clear()


def jira_incremental_nothing(size: int, workdir: Path) -> dict[str, Any]:
    """Nothing changed: one search request, nothing written (``items`` is the issues covered)."""
    result = _sync(workdir)
    if result["search_requests"] != 1:
        raise AssertionError(f"expected one search request, made {result['search_requests']}")
    return {"items": size, **result}


# -- side by side with singer-io tap-jira 2.6.0 ------------------------------------------------------
TAP_JIRA_VERSION = "2.6.0"


def _tap_jira() -> Path:
    found = (
        os.environ.get("PMSYNC_TAP_JIRA")
        or os.environ.get("PMSYNC_BENCH_TAP_JIRA")
        or shutil.which("tap-jira")
    )
    if not found or not Path(found).exists():
        raise RuntimeError(
            f"tap-jira {TAP_JIRA_VERSION} is not installed: see bench/stages_jira.py's docstring "
            "(PMSYNC_TAP_JIRA names its executable)"
        )
    return Path(found)


def _trust_sandbox_ca(tap: Path, ca_bundle: str) -> None:
    """Add the sandbox CA to certifi's bundle in tap-jira's virtualenv (kept: the original)."""
    python = tap.parent / "python"
    where = subprocess.run(
        [str(python), "-c", "import certifi; print(certifi.where())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    bundle = Path(where)
    original = bundle.with_name(bundle.name + ".pmsync-orig")
    if not original.exists():
        shutil.copyfile(bundle, original)
    bundle.write_bytes(original.read_bytes() + b"\n" + Path(ca_bundle).read_bytes())


def prepare_jira_full_sync_https(size: int, workdir: Path) -> None:
    _start(size, workdir, tls=True, latency=LATENCY)


def jira_full_sync_https(size: int, workdir: Path) -> dict[str, Any]:
    """pmsync on the data, transport and latency tap-jira gets (https, 200 ms), for the ratios."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_tap_jira_issues(size: int, workdir: Path) -> None:
    tap = _tap_jira()
    sandbox = _start(size, workdir, tls=True, latency=LATENCY)
    settings = sandbox.settings
    _trust_sandbox_ca(tap, str(settings["ca_bundle"]))
    config = {
        "start_date": "2000-01-01T00:00:00Z", "base_url": settings["url"],
        "username": settings["email"], "password": settings["api_token"], "user_agent": TAP_AGENT,
    }  # fmt: skip
    (workdir / "tap-config.json").write_text(json.dumps(config))
    discovered = subprocess.run(
        [str(tap), "--config", str(workdir / "tap-config.json"), "--discover"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    catalog = json.loads(discovered)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "issues"
    (workdir / "tap-catalog.json").write_text(json.dumps(catalog))
    sandbox.clear()


def tap_jira_issues(size: int, workdir: Path) -> dict[str, Any]:
    """singer-io tap-jira 2.6.0, issues stream only, from the same sandbox data (https, 200 ms)."""
    assert _sandbox is not None
    tap = _tap_jira()
    out = workdir / "tap-out.jsonl"
    sandbox_cpu = _sandbox.cpu_seconds()
    with out.open("wb") as sink:
        subprocess.run(
            [str(tap), "--config", str(workdir / "tap-config.json"),
             "--properties", str(workdir / "tap-catalog.json")],
            stdout=sink, stderr=subprocess.DEVNULL, check=True, timeout=3600,
        )  # fmt: skip
    sandbox_cpu = _sandbox.cpu_seconds() - sandbox_cpu
    records = 0
    with out.open("rb") as lines:
        for line in lines:
            if line.startswith(b'{"type": "RECORD", "stream": "issues"'):
                records += 1
    requests, searches = _sandbox.requests()
    theirs = _sandbox.requests_by_agent().get(TAP_AGENT, 0)
    if theirs != requests:
        raise RuntimeError(f"the sandbox saw {requests} requests, {theirs} of them from tap-jira")
    if records != size:
        raise RuntimeError(f"tap-jira wrote {records} issues of {size}")
    return {
        "items": records, "http_requests": requests, "search_requests": searches,
        "sandbox_cpu_seconds": round(sandbox_cpu, 2), "requests_by_endpoint": _sandbox.requests_by_endpoint(),
    }  # fmt: skip


STAGES = [
    ("Jira full sync", jira_full_sync, [12_500, 25_000, 50_000, 100_000], [1_000, 2_000]),
    ("Jira incremental sync, 1% changed", jira_incremental_1pct, [25_000, 50_000, 100_000], [2_000]),
    ("Jira incremental sync, nothing changed", jira_incremental_nothing, [25_000, 100_000], [2_000]),
    ("Jira full sync, 200 ms per request", jira_full_sync_latency, [10_000, 20_000, 100_000], [1_000]),
    ("Jira full sync over https (pmsync, beside tap-jira)", jira_full_sync_https, [10_000, 20_000], [1_000]),
    ("Jira full sync over https (tap-jira 2.6.0, issues)", tap_jira_issues, [10_000, 20_000], [1_000]),
]
