"""``pmsync demo``: the whole pipeline against the sandbox, with no credentials and no network."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pmsync.demo.runner import DemoSummary


def next_steps(summary: DemoSummary) -> list[str]:
    """Commands to try after the demo; each works as printed once the sandbox has stopped (they read
    the demo's store, and its secrets are in files its config names, so nothing needs exporting)."""
    try:
        config = summary.config_path.relative_to(Path.cwd())
    except ValueError:
        config = summary.config_path
    base = f"pmsync --config {shlex.quote(str(config))}"
    last = summary.periods[-1].period if summary.periods else None
    steps = [f"{base} runs", f"{base} baseline list --project ERP", f"{base} db status"]
    if last is not None:
        steps.append(f"{base} report --period {last} --format html")
    return steps


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("pmsync-demo"),
    show_default=True,
    help="Folder for the demo's config, store, source files and reports: new, empty, or made by an "
    "earlier demo (which is emptied first).",
)
@click.option(
    "--force", is_flag=True, help="Empty the --dir folder even though an earlier demo did not make it."
)
@click.option(
    "--format",
    "formats",
    default="html,xlsx,json",
    show_default=True,
    help="Report formats (add pdf for a print-ready pack; it takes longer).",
)
@click.option(
    "--no-publish", is_flag=True, help="Write the reports but do not publish them to the sandbox SharePoint."
)
def demo(workdir: Path, formats: str, no_publish: bool, force: bool) -> None:
    """Sandbox up, sync all sources, baselines, three monthly periods, reports, publish; prints where."""
    from pmsync.demo.runner import run_demo
    from pmsync.report.writers import parse_formats

    summary = run_demo(
        workdir,
        force=force,
        echo=lambda line: click.echo(line, err=True),
        formats=parse_formats(formats),
        publish=not no_publish,
    )
    click.echo("")
    click.echo(f"config:  {summary.config_path}   (copy it and point it at your own systems)")
    click.echo(f"store:   {summary.store_url}")
    for period in summary.periods:
        click.echo(f"{period.period}: " + ", ".join(str(p) for p in period.report_files))
    if summary.attention:
        click.echo("needs attention in the last period:")
        for line in summary.attention:
            click.echo(f"  - {line}")
    click.echo("")
    click.echo("next: open the HTML report, or try (the sandbox has stopped; these read the demo's store):")
    for step in next_steps(summary):
        click.echo(f"  {step}")
