"""``pmsync publish``: send report files (and the per-project status rows) to the publish targets.

    pmsync publish --from reports/2026-11              # every file there; metadata from report-*.json
    pmsync publish --target committee report.html --period 2026-11 --project ERP

Identical content already published to a target is skipped (the store's ledger remembers it), so a
re-run after a failure publishes only what is missing. One file's failure does not stop the others:
the command prints every result, then ends with exit code 4 (partial) naming what failed, or 1 when
nothing could be published.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--from",
    "from_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Publish every file in this folder (a `pmsync report` output folder).",
)
@click.option("--target", "targets", multiple=True, metavar="NAME", help="Only this target (repeatable).")
@click.option("--period", help="Period metadata for FILES, e.g. 2026-11.")
@click.option("--project", help="Project metadata for FILES (a project key).")
@click.option(
    "--status",
    "overall_status",
    type=click.Choice(["green", "amber", "red", "grey"]),
    help="Overall status metadata for FILES.",
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Publish a report even though it lists projects or sources with no data at its status date.",
)
@click.pass_obj
def publish(
    state: CliState,
    files: tuple[Path, ...],
    from_dir: Path | None,
    targets: tuple[str, ...],
    period: str | None,
    project: str | None,
    overall_status: str | None,
    allow_incomplete: bool,
) -> None:
    """Publish report files to SharePoint or a folder (the targets in pmsync.yaml's publish: section)."""
    from pmsync.errors import PublishError
    from pmsync.publish import ProjectStatusRow, ReportFile
    from pmsync.publish import publish as run_publish
    from pmsync.publish.inputs import from_directory, report_gaps
    from pmsync.publish.run import raise_if_incomplete
    from pmsync.store import Store

    if not files and from_dir is None:
        raise click.UsageError("give FILES to publish or --from DIR")
    chosen: list[ReportFile] = []
    rows: list[ProjectStatusRow] = []
    if from_dir is not None:
        chosen, rows = from_directory(from_dir)
    chosen += [
        ReportFile.model_validate(
            {"path": f, "period": period, "project": project, "overall_status": overall_status}
        )
        for f in files
    ]
    if not chosen:
        raise PublishError(f"{from_dir} holds no files to publish", record="--from")
    refuse_incomplete(report_gaps(f.path for f in chosen), allow_incomplete)
    config = state.config()
    counts: dict[str, int] = {}
    results = []
    with Store.open(config.store_url()) as store:
        for result in run_publish(config, store, chosen, rows, targets=targets):
            click.echo(result.line())
            results.append(result)
            counts[result.action] = counts.get(result.action, 0) + 1
    summary = ", ".join(f"{n} {action.replace('_', ' ')}" for action, n in sorted(counts.items()))
    click.echo(f"done: {summary}", err=True)
    # exit 4 (partial) naming what failed, or 1 when nothing could be published
    raise_if_incomplete(results)


def refuse_incomplete(gaps: list[str], allow_incomplete: bool) -> None:
    """Say what a report is missing; refuse to publish it unless ``--allow-incomplete``."""
    from pmsync.errors import ReportIncompleteError

    for line in gaps:
        click.echo(f"warning: no data at the status date: {line}", err=True)
    if gaps and not allow_incomplete:
        raise ReportIncompleteError(
            f"not published: {len(gaps)} project/source gap(s) at the status date (listed above)",
            hint="sync the missing sources, or publish anyway with --allow-incomplete",
        )
