"""A report for a past period, built from the sources' history (issue: reporting time).

``prepare`` (not timed) serves a sandbox Jira in its own process (ten projects of ``size / 10``
issues, created over the last eight months with their changelogs) and syncs it into an empty SQLite
store: the store learns everything *today*. The stage times ``build_report`` for the month three
months back: every issue is rolled back through its changelog to that month's status date, so the
whole history is read. Judged against the 500-project report target (``targets.py``).
"""

from __future__ import annotations

import atexit
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from pmsync import clock
from pmsync.config import load_config
from pmsync.report.build import build_report
from pmsync.report.period import Period
from pmsync.sandbox.jira.process import JiraSandboxProcess
from pmsync.store import Store
from pmsync.sync import sync_sources

PROJECTS = [f"P{n:02d}" for n in range(10)]
_sandbox: JiraSandboxProcess | None = None


def prepare_report_past_period(size: int, workdir: Path) -> None:
    global _sandbox
    _sandbox = JiraSandboxProcess(projects=PROJECTS, issues_per_project=size // len(PROJECTS), seed=19)
    _sandbox.start()
    atexit.register(_sandbox.stop)
    config = {
        "store": {"url": f"sqlite:///{workdir / 'pmsync.db'}"},
        "projects": [{"key": p, "name": f"Project {p}", "links": {"jira": [p]}} for p in PROJECTS],
        "sources": [{"name": "jira", "type": "jira", **_sandbox.settings}],
    }
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(config))
    loaded = load_config(workdir / "pmsync.yaml")
    with Store.open(loaded.store_url()) as store:
        (run,) = sync_sources(loaded, store)
        if run.status != "ok":
            raise RuntimeError(f"sync failed: {run.error}")


def report_past_period(size: int, workdir: Path) -> dict[str, Any]:
    """The report three months back, every issue rolled back to its status date."""
    config = load_config(workdir / "pmsync.yaml")
    period = Period.containing((clock.now() - timedelta(days=90)).date())
    with Store.open(config.store_url()) as store:
        report = build_report(store, config, period)
    in_scope = sum(p.measures.scope.current_items for p in report.projects)
    if not 0 < in_scope < size:
        raise AssertionError(f"{in_scope} of {size} issues in {period}: the history was not rolled back")
    return {"items": size, "issues_in_period": in_scope, "period": period.label}


STAGES = [
    ("report: a past period from Jira history (issues)", report_past_period, [25_000, 100_000], [2_000]),
]
