"""``pmsync init``: write a commented starter pmsync.yaml."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

STARTER_RESOURCE = "starter-config.yaml"


def starter_config_text() -> str:
    return resources.files("pmsync").joinpath(STARTER_RESOURCE).read_text(encoding="utf-8")


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented starter pmsync.yaml (to --config, default ./pmsync.yaml)."""
    path: Path = ctx.obj.config_path
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starter_config_text(), encoding="utf-8")
    click.echo(f"wrote {path}")
    click.echo("next: edit the sources, then run `pmsync doctor` and `pmsync sync`")
