"""``pmsync runs``: the run ledger, most recent first, with counts and errors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from pmsync.errors import ConfigError, without_source
from pmsync.suggest import choices_hint

if TYPE_CHECKING:
    from pmsync.commands.context import CliState
    from pmsync.store import SyncRunInfo


def format_run(info: SyncRunInfo) -> str:
    seconds = info.duration_seconds
    took = f"{seconds:.1f}s" if seconds is not None else "-"
    c = info.counts
    return (
        f"{info.run_id:>5}  {info.source_name:<16} {info.status:<11} "
        f"{info.started_at:%Y-%m-%d %H:%M:%S}  {took:>7}  "
        f"{c.inserted:>7} {c.updated:>7} {c.deleted:>7} {c.unchanged:>9} {info.skipped_count:>7}"
    )


HEADER = (
    f"{'RUN':>5}  {'SOURCE':<16} {'STATUS':<11} {'STARTED (UTC)':<19}  {'TOOK':>7}  "
    f"{'INSERT':>7} {'UPDATE':>7} {'DELETE':>7} {'UNCHANGED':>9} {'SKIPPED':>7}"
)


@click.command()
@click.option("--source", "source_name", default=None, help="Only runs of this source.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array (for scripts).")
@click.option("--skipped", "show_skipped", is_flag=True, help="Also list the skipped rows of each run.")
@click.pass_obj
def runs(state: CliState, source_name: str | None, limit: int, as_json: bool, show_skipped: bool) -> None:
    """List recent sync runs with their counts and errors."""
    from pmsync.store import Store

    config = state.config()
    with Store.open(config.store_url()) as store:
        entries = store.sync_runs(limit=limit, source_name=source_name)
    configured = [s.name for s in config.sources]
    if source_name is not None and not entries and source_name not in configured:
        # a typo must not read as "no runs yet" (a removed source's old runs are still listed)
        raise ConfigError(
            f"no source named {source_name!r} and no runs of one",
            record="--source",
            hint=choices_hint(source_name, configured, "configured sources"),
        )
    if as_json:
        click.echo(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    if not entries:
        click.echo("no sync runs yet; run `pmsync sync`")
        return
    click.echo(HEADER)
    for entry in entries:
        click.echo(format_run(entry))
        if entry.error:
            click.echo(f"       error: {without_source(entry.error, entry.source_name)}")
        for note in entry.notes:
            click.echo(f"       note: {note}")
        if show_skipped:
            for row in entry.skipped:
                click.echo(f"       skipped {row.where}: {row.reason}")
            if entry.skipped_count > len(entry.skipped):
                click.echo(f"       ... and {entry.skipped_count - len(entry.skipped)} more skipped rows")
