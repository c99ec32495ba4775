"""``pmsync doctor``: is the config valid, the store reachable and current, each source usable, can the
reports be written in their formats (the PDF engine's prerequisites), each publish target reachable?

One line per check, and for each problem the fix. Exit 0 when nothing failed (warnings allowed),
1 when a check failed, 3 when the config itself cannot be loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pmsync.config import build_connector
from pmsync.connector import CheckResult
from pmsync.errors import PmsyncError
from pmsync.logs import redact

if TYPE_CHECKING:
    from pmsync.commands.context import CliState
    from pmsync.config import PmsyncConfig

_LABEL = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def _echo(result: CheckResult) -> None:
    line = f"{_LABEL[result.status]}  {result.name}"
    if result.detail:
        line += f": {redact(result.detail)}"
    click.echo(line)
    if result.fix and result.status != "ok":
        click.echo(f"      fix: {redact(result.fix)}")


def check_store(config: PmsyncConfig) -> CheckResult:
    from pmsync.store import Store

    try:
        store = Store.open(config.store_url(), upgrade=False)
    except PmsyncError as exc:
        return CheckResult("store", "fail", str(exc), "fix store.url in pmsync.yaml")
    try:
        current = store.schema_revision()
    except PmsyncError as exc:
        return CheckResult("store", "fail", exc.message, exc.hint or "check store.url in pmsync.yaml")
    finally:
        store.close()
    head = Store.head_revision()
    if current is None:
        return CheckResult(
            "store", "warn", f"{store.url} is empty", "run `pmsync db upgrade` (or just `pmsync sync`)"
        )
    if current != head:
        return CheckResult(
            "store",
            "warn",
            f"{store.url} is at revision {current}, latest is {head}",
            "run `pmsync db upgrade`",
        )
    return CheckResult("store", "ok", f"{store.url} (revision {current})")


def check_sources(config: PmsyncConfig) -> list[CheckResult]:
    results: list[CheckResult] = []
    for source in config.sources:
        prefix = f"source {source.name} ({source.type})"
        if not source.enabled:
            results.append(CheckResult(prefix, "ok", "disabled (enabled: false); not checked"))
            continue
        try:
            connector = build_connector(config, source)
            checks = connector.check()
        except PmsyncError as exc:
            results.append(CheckResult(prefix, "fail", exc.message, exc.hint or ""))
            continue
        except Exception as exc:  # a connector bug must not hide the other sources' checks
            results.append(
                CheckResult(prefix, "fail", f"check crashed: {type(exc).__name__}: {exc}", "rerun with -v")
            )
            continue
        if not checks:
            results.append(CheckResult(prefix, "ok", "no checks to run"))
        results.extend(CheckResult(f"{prefix}: {c.name}", c.status, c.detail, c.fix) for c in checks)
    return results


def check_links(config: PmsyncConfig) -> list[CheckResult]:
    """Warn about project links that no source delivers: a link under a name that is no configured
    source's name or type, a Jira project the source does not read, and a link whose source has
    synced but brought no record of the project (a typo in a finance code looks exactly like that)."""
    from pmsync.store import Store

    names = {s.name: s for s in config.sources}
    types = {s.type for s in config.sources}
    results: list[CheckResult] = []
    delivered: dict[str, set[str]] = {}
    synced: set[str] = set()
    try:
        with Store.open(config.store_url(), upgrade=False) as store:
            if store.schema_revision() == Store.head_revision():  # else check_store says what to do
                delivered = store.live_projects()
                synced = {s.name for s in config.sources if store.last_successful_sync(s.name) is not None}
    except PmsyncError:
        pass  # check_store reports the store's problem
    for project in config.projects:
        for link, keys in project.links.items():
            name = f"project {project.key}: links {link}"
            if link not in names and link not in types:
                results.append(
                    CheckResult(
                        name,
                        "warn",
                        f"no source is named or typed {link!r}, so {', '.join(keys)} are never read",
                        "use a source's name or type under links (see `sources:`)",
                    )
                )
                continue
            sources = [names[link]] if link in names else [s for s in config.sources if s.type == link]
            jira_reads = [s.connector_settings().get("projects") for s in sources if s.type == "jira"]
            if jira_reads and all(isinstance(r, list) for r in jira_reads):
                unread = [k for k in keys if not any(k in r for r in jira_reads if isinstance(r, list))]
                if unread:
                    results.append(
                        CheckResult(
                            name,
                            "warn",
                            f"no Jira source reads the project(s) {', '.join(unread)}",
                            "add them to the source's projects: list",
                        )
                    )
                    continue
            done = [s.name for s in sources if s.name in synced]
            if done and not any(project.key in delivered.get(n, set()) for n in done):
                results.append(
                    CheckResult(
                        name,
                        "warn",
                        f"{', '.join(done)} synced but delivered no record of this project "
                        f"(links: {', '.join(keys)})",
                        "check the keys against the source (a typo in a code looks like this)",
                    )
                )
    if config.projects and not results:
        results.append(CheckResult("project links", "ok", "every link names a source that delivers it"))
    return results


def check_reports(config: PmsyncConfig) -> list[CheckResult]:
    """The ``reports:`` section, and what its PDF engine needs when ``pdf`` is among its formats."""
    from pmsync.report.settings import load_reports_config
    from pmsync.report.writers import parse_formats

    try:
        settings = load_reports_config(config)
        formats = parse_formats(settings.formats)
    except PmsyncError as exc:
        return [
            CheckResult("reports", "fail", exc.message, exc.hint or "fix the reports: section of pmsync.yaml")
        ]
    results = [CheckResult("reports", "ok", f"formats {', '.join(formats)} into {settings.out_dir}")]
    if "pdf" in formats:
        from pmsync.report.writers.pdf import FALLBACK_HINT, ensure_available, resolve_engine

        name = f"reports: PDF ({settings.pdf_engine} engine)"
        try:
            reason = ensure_available(settings.pdf_engine, settings.chromium_path)
            if resolve_engine(settings.pdf_engine, settings.chromium_path).fell_back:
                # it works, ~10x slower: a warning with the fix, not a failure
                results.append(CheckResult(name, "warn", reason.split(";")[0], FALLBACK_HINT))
            else:
                results.append(CheckResult(name, "ok", reason))
        except PmsyncError as exc:
            results.append(CheckResult(name, "fail", exc.message, exc.hint or ""))
    return results


@click.command()
@click.pass_obj
def doctor(state: CliState) -> None:
    """Check the config, the store and every configured source; print the fix for each problem."""
    from pmsync.commands.context import EXIT_CONFIG, EXIT_FAILURE

    try:
        config = state.config()
    except PmsyncError as exc:
        _echo(CheckResult("config", "fail", str(exc), exc.hint or "see `pmsync init` for a valid example"))
        click.get_current_context().exit(EXIT_CONFIG)
    _echo(
        CheckResult(
            "config", "ok", f"{config.path} ({len(config.sources)} sources, {len(config.projects)} projects)"
        )
    )
    from pmsync.publish.run import check_targets

    results = [
        check_store(config),
        *check_sources(config),
        *check_links(config),
        *check_reports(config),
        *check_targets(config),
    ]
    for result in results:
        _echo(result)
    failed = sum(r.status == "fail" for r in results)
    if failed:
        click.echo(f"{failed} check(s) failed")
        click.get_current_context().exit(EXIT_FAILURE)
