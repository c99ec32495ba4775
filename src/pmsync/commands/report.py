"""``pmsync report``: build the period's oversight report from the store and write it in each format.

The same period over the same data writes byte-identical files, so publishing a re-run uploads
nothing new; ``--as-of`` rebuilds a past report exactly from the store's history.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


def _as_of(value: str | None) -> datetime | None:
    from pmsync.errors import ConfigError

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--as-of {value!r} is not an ISO 8601 moment", record="--as-of", hint="e.g. 2026-11-30T18:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(
            f"--as-of {value!r} has no time zone",
            record="--as-of",
            hint="add Z for UTC, e.g. 2026-11-30T18:00:00Z",
        )
    return moment


@click.command()
@click.option(
    "--period",
    help="Period to report: YYYY-MM, or YYYY-Qn with a quarterly cadence (default: the last closed "
    "period while its close window is open, else the current one).",
)
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--program", metavar="NAME", help="Only the projects of this program (projects[].program).")
@click.option("--portfolio", is_flag=True, help="Every project (the default when no --project is given).")
@click.option("--format", "formats", help="Comma-separated: html,xlsx,pdf,json (default: reports.formats).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option(
    "--as-of", "as_of", metavar="DATETIME", help="Read the store as it was at this moment (ISO 8601)."
)
@click.option("--publish", is_flag=True, help="Publish the files to the targets in the publish: section.")
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="With --publish: publish even when projects or sources have no data at the status date.",
)
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the JSON report and exit.")
@click.pass_obj
def report(
    state: CliState,
    period: str | None,
    projects: tuple[str, ...],
    program: str | None,
    portfolio: bool,
    formats: str | None,
    out_dir: Path | None,
    as_of: str | None,
    publish: bool,
    allow_incomplete: bool,
    schema: bool,
) -> None:
    """Build the oversight report for a period and write it as HTML, XLSX, PDF and/or JSON."""
    from pmsync import clock
    from pmsync.commands.publish import refuse_incomplete
    from pmsync.errors import ReportError
    from pmsync.report.build import build_report, select_projects
    from pmsync.report.period import ReportingCalendar
    from pmsync.report.settings import load_reports_config
    from pmsync.report.writers import parse_formats, write_report
    from pmsync.report.writers.json import schema_text
    from pmsync.store import Store

    if schema:
        click.echo(schema_text(), nl=False)
        return
    if sum(map(bool, (portfolio, projects, program))) > 1:
        raise click.UsageError("give one of --portfolio, --program or --project")
    config = state.config()
    settings = load_reports_config(config)
    chosen = parse_formats(formats if formats is not None else settings.formats)
    calendar = ReportingCalendar(config.reporting)
    moment = _as_of(as_of)
    if period:
        month = calendar.parse(period)
    else:
        choice = calendar.default_period(moment or clock.now())
        month = choice.period
        click.echo(f"reporting {month}: {choice.reason}", err=True)
    with Store.open(config.store_url()) as store:
        if not store.sync_runs(limit=1):
            select_projects(config, store, list(projects) or None, clock.now(), program)  # usage first
            raise ReportError(
                "the store holds no sync run yet: there is nothing to report",
                record=store.url,
                hint="run `pmsync sync` first",
            )
        built = build_report(
            store,
            config,
            month,
            projects=list(projects) or None,
            program=program,
            as_of=moment,
            settings=settings,
        )
        paths = write_report(
            built,
            out_dir or settings.out_dir,
            chosen,
            templates_dir=settings.templates_dir,
            pdf_engine=settings.pdf_engine,
            chromium_path=settings.chromium_path,
            notice=lambda line: click.echo(line, err=True),
        )
        for path in paths:
            click.echo(f"wrote {path}")
        meta = built.meta
        click.echo(
            f"status date {meta.status_date} ({meta.time_zone}); read the store as of "
            f"{meta.store.as_of.isoformat()} (rebuild exactly with --as-of {meta.store.as_of.isoformat()})",
            err=True,
        )
        gaps = [f"{meta.period} {gap.project}: {gap.note}" for gap in meta.gaps]
        if publish:
            refuse_incomplete(gaps, allow_incomplete)
        else:
            for line in gaps:
                click.echo(f"warning: no data at the status date: {line}", err=True)
        if publish:
            from pmsync.publish import publish_files

            for line in publish_files(config, store, built, paths):
                click.echo(line)
