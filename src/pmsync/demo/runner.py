"""Run the demo: sandbox up, sync every source, baselines captured and approved, three monthly
periods replayed with slips and spend, reports built and published, and a summary of where things are.

The demo drives the same library functions the CLI commands call (sync engine, baseline register,
report builder and writers, publisher), so what it shows is what a user's scheduled runs do.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from pmsync import clock
from pmsync.config import PmsyncConfig, load_config
from pmsync.demo.oversight import OVERSIGHT_RULES, PLANS, write_oversight_inputs
from pmsync.demo.portfolio import (
    DEMO_PERIODS,
    DEMO_START,
    FISCAL_YEAR_START_MONTH,
    PROJECTS,
    period_end,
    report_moment,
)
from pmsync.demo.world import DemoWorld
from pmsync.errors import ConfigError, PmsyncError
from pmsync.publish import publish_files
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.report.build import build_report
from pmsync.report.period import Period
from pmsync.report.settings import load_reports_config
from pmsync.report.writers import parse_formats, write_report
from pmsync.store import Store
from pmsync.sync import sync_sources

Echo = Callable[[str], None]

CONFIG_HEADER = """\
# pmsync.yaml written by `pmsync demo`. It points at the demo's sandbox servers (gone when the demo
# ends), but its shape is what a real setup needs: copy it, then replace each source's URL, tenant
# and client ids with your own. The demo's secrets are in secrets/ beside this file (mode 0600, read
# through the `api_token_file:` and `client_secret_file:` keys); for your own systems use such files
# or `${ENV_VAR}` references, never the secret itself:
#   api_token_file / api_token      an Atlassian API token (Jira Cloud) -- or `pat:` for Data Center
#   client_secret_file              the client secret of your Entra ID app registration
# Remove `ca_bundle:` (it trusts the sandbox's own CA), `authority_host:` and `graph_url:` for the
# public Microsoft cloud. Run `pmsync doctor` after every change.
"""

#: written into every folder the demo fills; only such a folder is emptied by the next `pmsync demo`
MARKER = ".pmsync-demo"
MARKER_TEXT = (
    "This folder was made by `pmsync demo`; the next `pmsync demo --dir` on it empties it first.\n"
    "Delete this file to keep the folder from being emptied.\n"
)


def prepare_workdir(workdir: Path, *, force: bool = False) -> None:
    """Make ``workdir`` ready for a demo: create it, or empty one an earlier demo made.

    Nothing destructive by default: a folder that holds anything and lacks the demo's marker file is
    refused (``--force`` empties it anyway). The folder itself is never removed, so ``--dir .`` keeps the
    shell's working directory, and a folder that contains the working directory is always refused.
    """
    workdir = workdir.resolve()
    cwd = Path.cwd().resolve()
    if workdir != cwd and workdir in cwd.parents:
        raise ConfigError(
            f"{workdir} contains the current directory; the demo will not empty it",
            record="--dir",
            hint="give a new folder, e.g. --dir pmsync-demo",
        )
    if workdir.exists() and not workdir.is_dir():
        raise ConfigError(f"{workdir} is a file, not a folder", record="--dir")
    if workdir.is_dir():
        entries = list(workdir.iterdir())
        if entries and not (workdir / MARKER).is_file() and not force:
            raise ConfigError(
                f"{workdir} is not empty and was not made by `pmsync demo`; nothing was changed",
                record="--dir",
                hint="give a new or empty folder, or add --force to empty this one",
            )
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


@dataclass
class PeriodResult:
    period: str
    report_files: list[Path]
    published: list[str]
    records_changed: int


@dataclass
class DemoSummary:
    workdir: Path
    config_path: Path
    store_url: str
    periods: list[PeriodResult] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)


def demo_config(world: DemoWorld, workdir: Path) -> dict[str, Any]:
    """The pmsync.yaml the demo writes (as data)."""
    projects = []
    for project in PROJECTS:
        links: dict[str, list[str]] = {"finance_file": [project.finance_code]}
        for home in project.home.split("+"):
            key = world.schedule_file(project) if home == "msproject" else project.source_key
            links[home] = [key]
        entry: dict[str, Any] = {
            "key": project.key,
            "name": project.name,
            "tier": project.tier,
            "sponsor": project.sponsor,
            "manager": project.manager,
            "approved_budget": project.budget,
            "links": links,
        }
        if project.key in PLANS:
            entry["oversight"] = PLANS[project.key]
        if project.narrative:
            narrative = workdir / "narratives" / f"{project.key}.md"
            narrative.parent.mkdir(parents=True, exist_ok=True)
            narrative.write_text(project.narrative + "\n", encoding="utf-8")
            entry["narrative_file"] = f"narratives/{project.key}.md"
        projects.append(entry)
    write_oversight_inputs(workdir / "oversight")
    return {
        "store": {"url": "sqlite:///pmsync.db"},
        "portfolio": {
            "name": "Department of Digital Services: IT portfolio",
            "currency": "USD",
            "fiscal_year_start_month": FISCAL_YEAR_START_MONTH,
        },
        "projects": projects,
        "sources": [
            world.jira_source(),
            {"name": "schedules", "type": "msproject", "path": "schedules"},
            world.planner_source(),
            world.dataverse_source(),
            {
                "name": "finance",
                "type": "finance_file",
                "path": "finance",
                "mapping": "finance-oracle-ebs.yaml",
            },
            {"name": "oversight", "type": "oversight_file", "path": "oversight"},
        ],
        "oversight": OVERSIGHT_RULES,
        "reports": {"out_dir": "reports", "formats": ["html", "xlsx", "json"]},
        "publish": {"targets": [world.publish_target()]},
    }


def write_demo_config(world: DemoWorld, workdir: Path) -> Path:
    path = workdir / "pmsync.yaml"
    body = yaml.safe_dump(demo_config(world, workdir), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(CONFIG_HEADER + body, encoding="utf-8")
    return path


def _sync(config: PmsyncConfig, store: Store, echo: Echo) -> int:
    changed = 0
    for run in sync_sources(config, store):
        # the words of `pmsync sync` and `pmsync runs`
        counts = f"{run.inserted} inserted, {run.updated} updated, {run.deleted} deleted"
        counts += f", {run.unchanged} unchanged"
        status = "ok" if run.status == "ok" else f"{run.status.upper()}: {run.error}"
        echo(f"    {run.source_name:<10} {counts}  [{status}]")
        if run.status != "ok":
            raise PmsyncError(f"demo sync of {run.source_name} failed: {run.error}", source=run.source_name)
        changed += run.inserted + run.updated + run.deleted
    return changed


def _approve_baselines(store: Store, echo: Echo) -> None:
    for project in PROJECTS:
        register = BaselineRegister(store, project.key)
        imported = [b for b in register.baselines() if b.source.system == "msproject" and b.number == 0]
        if imported:
            approved = register.approve(
                imported[0].source.key(), by=project.sponsor, reason="Approved at gate 2 (business case)"
            )
            echo(
                f"    {project.key:<7} MS Project Baseline 0 adopted, approved as baseline {approved.number}"
            )
        else:
            baseline, items = register.capture(name="Gate 2 plan")
            register.approve(baseline.number, by=project.sponsor, reason="Approved at gate 2 (business case)")
            echo(f"    {project.key:<7} baseline {baseline.number} captured ({items} items) and approved")


def run_demo(
    workdir: Path,
    *,
    echo: Echo = print,
    formats: list[str] | None = None,
    publish: bool = True,
    issues_per_project: int = 120,
    force: bool = False,
) -> DemoSummary:
    """Replay the demo in ``workdir`` and return where everything is.

    ``workdir`` must be new, empty, or made by an earlier demo (see :func:`prepare_workdir`)."""
    prepare_workdir(workdir, force=force)
    workdir = workdir.resolve()
    clock.set_now(DEMO_START)
    world = DemoWorld(workdir, issues_per_project=issues_per_project)
    try:
        echo(f"[1/5] starting the sandbox (Jira, Microsoft identity, Graph, Dataverse) in {workdir}")
        world.start()
        world.write_secrets()
        config_path = write_demo_config(world, workdir)
        config = load_config(config_path)
        summary = DemoSummary(workdir, config_path, config.store_url())
        chosen = parse_formats(formats or ["html", "xlsx", "json"])
        with Store.open(config.store_url()) as store:
            echo(f"[2/5] first sync of every source ({DEMO_START:%Y-%m-%d})")
            _sync(config, store, echo)
            echo("[3/5] baselines captured and approved")
            _approve_baselines(store, echo)
            settings = load_reports_config(config)
            for index, period in enumerate(DEMO_PERIODS):
                moment = period_end(period)
                clock.set_now(moment - timedelta(hours=1))
                correction = Period.parse(DEMO_PERIODS[0]).start if index == 2 else None
                world.advance_to(clock.now(), correction_of=correction)
                clock.set_now(moment)
                echo(f"[4/5] period {period}: sync at {moment:%Y-%m-%d %H:%M} UTC")
                changed = _sync(config, store, echo)
                if index == 1:
                    register = BaselineRegister(store, "GRANTS")
                    rebased = register.rebaseline(
                        by="Director of Grants",
                        reason="Scope added: federal reporting module (approved by steering committee)",
                        change_request="CR-2026-014",
                    )
                    echo(f"    GRANTS  re-baselined as baseline {rebased.number} (CR-2026-014)")
                # The pack is built a few working days after the month closes, as agencies do: the
                # month's report must describe its status date, not the first days of the next month.
                report_at = report_moment(period)
                clock.set_now(report_at - timedelta(hours=1))
                world.first_days()
                echo(
                    f"    {report_at:%Y-%m-%d}: early sync, then the {period} report (status date: month end)"
                )
                changed += _sync(config, store, echo)
                clock.set_now(report_at)
                built = build_report(store, config, Period.parse(period), settings=settings)
                out_dir = config.resolve_path(settings.out_dir) / period
                paths = write_report(
                    built,
                    out_dir,
                    chosen,
                    templates_dir=settings.templates_dir,
                    pdf_engine=settings.pdf_engine,
                    chromium_path=settings.chromium_path,
                    notice=lambda line: echo(f"    {line}"),
                )
                published = list(publish_files(config, store, built, paths)) if publish else []
                echo(
                    f"    report: {len(paths)} files in {out_dir}"
                    + (f", published: {len(published)} lines" if published else "")
                )
                summary.periods.append(PeriodResult(period, paths, published, changed))
                if index == len(DEMO_PERIODS) - 1:
                    summary.attention = [
                        f"{row.key} ({row.name}): {row.overall.status.upper()} - {row.overall.explanation}"
                        for row in built.portfolio
                        if row.needs_attention
                    ]
        echo("[5/5] done")
        return summary
    finally:
        world.stop()
        clock.set_now(None)
