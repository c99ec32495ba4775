"""``pmsync config``: the effective configuration, or (``--schema``) the JSON Schema of pmsync.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


@click.command("config")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of pmsync.yaml (for editors) and exit.")
@click.pass_obj
def config_command(state: CliState, schema: bool) -> None:
    """Check pmsync.yaml and print it as pmsync reads it (secrets stay as ${VAR} references)."""
    if schema:
        from pmsync.config_schema import config_schema_text

        click.echo(config_schema_text(), nl=False)
        return
    import yaml

    config = state.config()
    data = config.model_dump(mode="json", exclude_defaults=False)
    click.echo(f"# {config.path} (valid; store: {config.store_url()})")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), nl=False)
