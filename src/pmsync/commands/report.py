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
    from pmsync.cli import CliState


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
@click.option("--period", help="Month to report, YYYY-MM (default: the current month).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--program", metavar="NAME", help="Only the projects of this program (projects[].program).")
@click.option("--portfolio", is_flag=True, help="Every project (the default when no --project is given).")
@click.option("--format", "formats", help="Comma-separated: html,xlsx,pdf,json (default: reports.formats).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option(
    "--as-of", "as_of", metavar="DATETIME", help="Read the store as it was at this moment (ISO 8601)."
)
@click.option("--publish", is_flag=True, help="Publish the files to the targets in the publish: section.")
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
    schema: bool,
) -> None:
    """Build the oversight report for a period and write it as HTML, XLSX, PDF and/or JSON."""
    from pmsync import clock
    from pmsync.report.build import build_report
    from pmsync.report.period import Period
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
    month = Period.parse(period) if period else Period.containing(clock.now().date())
    moment = _as_of(as_of)
    with Store.open(config.store_url()) as store:
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
        )
        for path in paths:
            click.echo(f"wrote {path}")
        if publish:
            from pmsync.report.publishing import publish_report

            for line in publish_report(config, store, built, paths):
                click.echo(line)
