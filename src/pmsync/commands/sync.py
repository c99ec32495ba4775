"""``pmsync sync [--source NAME ...]``: pull each source into the store.

On a terminal a live counter per source; otherwise one summary line per source on stdout (or one JSON
log line with ``--log-format json``). The exit code says all ok / partial / all failed / locked.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pmsync.errors import ConfigError, without_source

if TYPE_CHECKING:
    from pmsync.commands.context import CliState
    from pmsync.store import SyncRunInfo
    from pmsync.sync import SyncProgress

log = logging.getLogger("pmsync.sync")


def sync_exit_code(results: Sequence[SyncRunInfo]) -> int:
    """0 all ok; 4 some ok and some failed or locked; 5 all locked; 3 none ok and every failure was a
    configuration or mapping error, or a person must sign in again; 1 none ok and something else failed."""
    from pmsync.commands.context import EXIT_CONFIG, EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL

    statuses = [r.status for r in results]
    if all(s == "ok" for s in statuses):
        return EXIT_OK
    if any(s == "ok" for s in statuses):
        return EXIT_PARTIAL
    if all(s == "locked" for s in statuses):
        return EXIT_LOCKED
    failed = [r for r in results if r.status != "locked"]
    # Nothing can sync until the config is fixed, or until a person signs in (an unattended run
    # starts no device-code sign-in).
    if all(r.failure_exit_code == EXIT_CONFIG or "sign in again:" in (r.error or "") for r in failed):
        return EXIT_CONFIG
    return EXIT_FAILURE


def summary_line(info: SyncRunInfo, live: int | None = None) -> str:
    """One line per run, in the words of the ledger and of ``--log-format json``: inserted, updated,
    deleted, unchanged, skipped, and ``in store`` (records the source has in the store, which tells a
    reader of an unchanged run that nothing was lost even when the connector skipped unchanged inputs
    and so counted none as unchanged)."""
    c = info.counts
    if info.status == "locked":
        return f"{info.source_name}: locked, skipped (another run holds its lock) [run {info.run_id}]"
    took = f" in {info.duration_seconds:.1f}s" if info.duration_seconds is not None else ""
    counts = f"{c.inserted} inserted, {c.updated} updated, {c.deleted} deleted, {c.unchanged} unchanged" + (
        f", {info.skipped_count} skipped" if info.skipped_count else ""
    )
    in_store = f"; {live} in store" if live is not None else ""
    if info.status == "ok" and c.changed == 0 and not info.skipped_count:
        return f"{info.source_name}: ok{took}: no changes ({counts}{in_store}) [run {info.run_id}]"
    if info.status == "ok":
        return f"{info.source_name}: ok{took}: {counts}{in_store} [run {info.run_id}]"
    error = without_source(info.error or "", info.source_name)
    label = "INTERRUPTED" if info.status == "interrupted" else "FAILED"
    return f"{info.source_name}: {label}{took}: {error} (kept before: {counts}) [run {info.run_id}]"


class TerminalProgress:
    """A single self-overwriting status line on stderr, refreshed at most a few times a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False

    def __call__(self, event: SyncProgress) -> None:
        now = time.monotonic()
        if now - self._last < 0.2:
            return
        self._last = now
        c = event.counts
        text = (
            f"\r{event.source_name}: {event.items} read, +{c.inserted} ~{c.updated} -{c.deleted} "
            f"={c.unchanged}"
        )
        sys.stderr.write(text.ljust(78)[:200])
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 78 + "\r")
            sys.stderr.flush()
            self._shown = False


@contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    """Schedulers stop jobs with SIGTERM: unwind normally, so the ledger says the run was terminated."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command()
@click.option(
    "--source",
    "-s",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Sync only this source (repeatable). Default: every enabled source.",
)
@click.option(
    "--allow-deletions",
    is_flag=True,
    help="Let this run delete more than the deletion guard allows (sync.deletion_guard): use once, "
    "after checking that the source really lost those records.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Re-read everything from an empty cursor: restores records the store lost, sweeps records the "
    "source lost (under the deletion guard), keeps history.",
)
@click.option(
    "--result-json",
    "result_json",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write the run's figures to FILE as JSON (exit code, and per source: status, counts, "
    "error, run id), for the step of a pipeline that runs next.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read the sources and report what would be inserted, updated and deleted; write nothing "
    "(the run happens in a transaction that is rolled back).",
)
@click.pass_obj
def sync(
    state: CliState,
    sources: tuple[str, ...],
    allow_deletions: bool = False,
    full_refresh: bool = False,
    result_json: Path | None = None,
    dry_run: bool = False,
) -> None:
    """Pull every (or the named) source into the store; a rerun continues after a crash."""
    from pmsync.store import Store
    from pmsync.sync import sync_sources

    config = state.config()
    names = list(sources) or None
    if names is not None:
        for name in names:
            try:
                config.source(name)  # unknown names are refused before anything runs
            except ConfigError as exc:
                exc.record = "--source"  # a bad option value: a usage error (exit 2)
                raise
    elif not any(s.enabled for s in config.sources):
        click.echo("no enabled sources in the config; add one under `sources:` (see `pmsync init`)")
        return
    if dry_run:
        if allow_deletions or full_refresh:
            raise click.UsageError(
                "--dry-run reads as a normal sync does; leave out --allow-deletions/--full-refresh"
            )
        _dry_run(state, names, result_json)
        return
    progress = TerminalProgress() if state.interactive else None
    with Store.open(config.store_url()) as store, _exit_on_sigterm():
        results = sync_sources(
            config, store, names, progress, allow_deletions=allow_deletions, full_refresh=full_refresh
        )
        live = {info.source_name: store.count_live(info.source_name) for info in results}
    if progress is not None:
        progress.clear()
    for info in results:
        if state.log_format == "json":
            # a lock skip is expected under overlapping schedules: a warning, not an error
            level = {"ok": logging.INFO, "locked": logging.WARNING}.get(info.status, logging.ERROR)
            log.log(
                level,
                summary_line(info, live[info.source_name]),
                extra={
                    "source": info.source_name,
                    "run_id": info.run_id,
                    "status": info.status,
                    "inserted": info.counts.inserted,
                    "updated": info.counts.updated,
                    "deleted": info.counts.deleted,
                    "unchanged": info.counts.unchanged,
                    "skipped": info.skipped_count,
                    "in_store": live[info.source_name],
                    "error": info.error,
                    "notes": info.notes,
                },
            )
        elif info.status != "ok" or state.verbosity >= 0:  # -q: only what went wrong
            click.echo(summary_line(info, live[info.source_name]))
            for note in info.notes:
                click.echo(f"  note: {note}")
    code = sync_exit_code(results)
    if result_json is not None:
        write_result_json(result_json, results, live, code)
    if code:
        click.get_current_context().exit(code)


def write_result_json(
    path: Path, results: Sequence[SyncRunInfo], live: dict[str, int], code: int, *, dry_run: bool = False
) -> None:
    """The figures of a ``pmsync sync``, in the words of the ledger (see docs/core.md)."""
    import json

    from pmsync.atomic_file import write_atomic

    runs = []
    for info in results:
        entry = info.model_dump(mode="json", exclude={"cursor_before", "cursor_after", "skipped"})
        entry["in_store"] = live[info.source_name]
        entry["duration_seconds"] = info.duration_seconds
        runs.append(entry)
    document = {"command": "sync", "dry_run": dry_run, "exit_code": code, "ok": code == 0, "runs": runs}
    write_atomic(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))


def _dry_run(state: CliState, names: list[str] | None, result_json: Path | None) -> None:
    from pmsync.dry_run import dry_run_line, dry_run_sources
    from pmsync.store import Store

    config = state.config()
    with Store.open(config.store_url()) as store:
        results = dry_run_sources(config, store, names)
        live = {info.source_name: store.count_live(info.source_name) for info in results}
    for info in results:
        click.echo(dry_run_line(info))
    code = sync_exit_code(results)
    if result_json is not None:
        write_result_json(result_json, results, live, code, dry_run=True)
    if code:
        click.get_current_context().exit(code)
