"""``pmsync db upgrade | status``: the store's schema, explicitly (sync also upgrades on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


@click.group()
def db() -> None:
    """Manage the store's database schema."""


@db.command()
@click.pass_obj
def upgrade(state: CliState) -> None:
    """Create the store's tables, or migrate them to this pmsync's schema revision."""
    from pmsync.store import Store

    config = state.config()
    store = Store.open(config.store_url(), upgrade=False)
    try:
        before = store.schema_revision()
        after = store.upgrade()
    finally:
        store.close()
    if before == after:
        click.echo(f"store {store.url} is up to date (revision {after})")
    else:
        click.echo(f"store {store.url} upgraded from {before or 'empty'} to revision {after}")


@db.command()
@click.pass_obj
def status(state: CliState) -> None:
    """Show the store's URL and schema revision (exit 1 when an upgrade is needed)."""
    from pmsync.store import Store

    config = state.config()
    store = Store.open(config.store_url(), upgrade=False)
    try:
        current = store.schema_revision()
    finally:
        store.close()
    head = Store.head_revision()
    click.echo(f"store {store.url}: revision {current or 'none (empty database)'}, latest {head}")
    if current != head:
        click.echo("run `pmsync db upgrade` (or any `pmsync sync`) to migrate it", err=True)
        click.get_current_context().exit(1)
