"""``pmsync demo``: the whole pipeline against the sandbox, with no credentials and no network."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("pmsync-demo"),
    show_default=True,
    help="Folder for the demo's config, store, source files and reports (emptied first).",
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
def demo(workdir: Path, formats: str, no_publish: bool) -> None:
    """Sandbox up, sync all sources, baselines, three monthly periods, reports, publish; prints where."""
    from pmsync.demo.runner import run_demo
    from pmsync.report.writers import parse_formats

    summary = run_demo(
        workdir.resolve(),
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
    click.echo(f"next: open the HTML report, or try `pmsync --config {summary.config_path} runs`")
