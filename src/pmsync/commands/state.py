"""``pmsync state show|reset``: what each source's committed cursor says, and forgetting it.

The cursor is where the next sync of a source starts (the last Jira ``updated`` read, the hashes of
finance files already loaded, ...). ``show`` prints it with the run that committed it and how many
records the source has in the store. ``reset`` forgets it, so the next sync reads everything again;
it never deletes a record or a history row, asks first (or ``--yes``), and takes the source's lock
so it cannot race a running sync. ``pmsync sync --full-refresh`` does the same re-read without
touching the stored cursor until the re-read commits.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


def _describe(name: str, kind: str, row: dict[str, Any] | None, live: int) -> list[str]:
    if row is None:
        return [f"{name} ({kind}): no cursor (the next sync reads everything); {live} live records"]
    moment = row["updated_at"]
    when = f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else "an unknown time"
    run = f"run {row['run_id']}" if row["run_id"] is not None else "no run"
    text = json.dumps(row["cursor"], indent=2, sort_keys=True, default=str)
    return [
        f"{name} ({kind}): cursor committed by {run} at {when}; {live} live records",
        *("  " + line for line in text.splitlines()),
    ]


@click.group()
def state() -> None:
    """Show or reset each source's committed cursor (where its next sync starts)."""


@state.command()
@click.option("--source", "-s", "source_name", default=None, metavar="NAME", help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source (for scripts).")
@click.pass_obj
def show(state: CliState, source_name: str | None, as_json: bool) -> None:
    """Print the committed cursor of every (or the named) source, the run that committed it, and how
    many live records the source has."""
    from pmsync.store import Store

    config = state.config()
    sources = [config.source(source_name)] if source_name else list(config.sources)
    out: list[dict[str, Any]] = []
    with Store.open(config.store_url()) as store:
        for source in sources:
            row = store.source_state(source.name)
            live = store.count_live(source.name)
            if as_json:
                out.append(
                    {
                        "source": source.name,
                        "type": source.type,
                        "cursor": row["cursor"] if row else None,
                        "run_id": row["run_id"] if row else None,
                        "updated_at": row["updated_at"].isoformat() if row and row["updated_at"] else None,
                        "live_records": live,
                    }
                )
            else:
                for line in _describe(source.name, source.type, row, live):
                    click.echo(line)
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
    elif not sources:
        click.echo("no sources configured; add one under `sources:` (see `pmsync init`)")


@state.command()
@click.option("--source", "-s", "source_name", required=True, metavar="NAME", help="The source to reset.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def reset(state: CliState, source_name: str, yes: bool) -> None:
    """Forget a source's cursor so its next sync reads everything again. Records and history are kept;
    deletions the re-read finds go through the deletion guard."""
    from pmsync.store import Store

    config = state.config()
    source = config.source(source_name)  # an unknown name is a config error before anything is asked
    with Store.open(config.store_url()) as store:
        row = store.source_state(source.name)
        if row is None:
            click.echo(f"{source.name}: has no cursor; nothing to reset")
            return
        live = store.count_live(source.name)
        if not yes:
            click.confirm(
                f"Forget the cursor of {source.name!r}? Its {live} records and their history are kept; "
                "the next sync reads everything again",
                abort=True,
            )
        lock = store.source_lock(source.name)
        lock.acquire()  # a running sync would commit its cursor over the reset: refuse (exit 5)
        try:
            store.reset_cursor(source.name)
        finally:
            lock.release()
    click.echo(
        f"{source.name}: cursor forgotten (was committed by run {row['run_id']}); {live} records kept. "
        f"The next `pmsync sync --source {source.name}` reads everything again"
    )
