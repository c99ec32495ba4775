"""The connector conformance suite: the guarantees every pmsync connector keeps, checked against a
connector package's own test server or files.

A :class:`Scenario` says how to run the connector (its ``sources[]`` block, the folder its pmsync.yaml
and stores go in, environment variables for ``${VAR}`` secrets, and optionally how to spoil its input).
Each check runs the connector through pmsync's real sync engine into fresh SQLite stores in that
folder, or reads its stream directly:

============================  ====================================================================
``cursor_is_json``            every checkpoint's cursor survives ``json.dumps``/``json.loads`` unchanged
``checkpoints_advance``       a run that read records leaves a different cursor than it started from;
                              a run resumed from a checkpoint re-emits no record yielded before it
``second_run_unchanged``      a second run with nothing changed at the source changes nothing stored
``snapshot_keeps_its_scope``  ``SnapshotComplete`` deletes only its own scope: a record of another
                              scope of the same source outlives two runs
``bad_input_is_pmsync_error`` spoiled input raises a :class:`~pmsync.errors.PmsyncError` naming the
                              source (and the record, file or row), and a run on it loses nothing
``kill_safe``                 a ``pmsync`` process SIGKILLed mid-run (early, midway, late: at the n-th
                              write of its stream) and then rerun leaves the same store as an
                              uninterrupted run
============================  ====================================================================

Use it from pytest by subclassing :class:`ConnectorConformance`, or call :func:`check_connector`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pmsync.config import PmsyncConfig, build_connector, load_config
from pmsync.connector import Checkpoint, CheckResult, ConnectorConfig, ConnectorContext, Cursor, ExtractItem
from pmsync.errors import PmsyncError
from pmsync.model import RECORD_TYPES, Record, SourceRef, WorkItem
from pmsync.store import Store
from pmsync.sync import SyncProgress, sync_sources

__all__ = [
    "CHECKS",
    "FOREIGN_SCOPE",
    "ConformanceError",
    "ForeignScopeConnector",
    "Scenario",
    "check_connector",
    "run_check",
]

#: the scope of the record :func:`snapshot_keeps_its_scope` plants beside the connector's own
FOREIGN_SCOPE = "pmsync-conformance:another-scope"


class ConformanceError(AssertionError):
    """A connector broke one of pmsync's guarantees; the message says which and how."""


@dataclass
class Scenario:
    """How the suite runs a connector."""

    #: the ``sources[]`` block: ``type`` (built-in, entry point or ``module:Class``) and its settings
    source: Mapping[str, Any]
    #: pmsync.yaml and the suite's stores are written here; relative paths in ``source`` start here
    folder: Path
    #: values of the ``${VAR}`` references in ``source`` (secrets)
    env: Mapping[str, str] = field(default_factory=dict)
    #: other top-level pmsync.yaml keys (``projects``, ``reporting``, ``mappings_dir``, ...)
    config: Mapping[str, Any] = field(default_factory=dict)
    #: makes the source's input bad (a malformed row, a broken file, a bad answer); ``None`` skips
    #: the bad-input check
    spoil: Callable[[], None] | None = None
    #: undoes ``spoil`` (without it, :func:`check_connector` still runs the bad-input check last)
    restore: Callable[[], None] | None = None
    #: the bad-input error names the record, file or row concerned (``record`` set)
    names_record: bool = True
    #: cursor keys that hold the wall-clock time of a run (e.g. a last scan): left out when two
    #: stores' cursors are compared
    volatile_cursor_keys: Sequence[str] = ()
    #: the source has no change marker, so every run restates all it reads (a SQL query, a short
    #: SharePoint list): its cursor need not move and a resumed run may yield earlier records again
    #: (the store finds them unchanged); the second run's "nothing written" and kill-safety still hold
    restates_everything: bool = False
    name: str = "conformance"

    def write(self, store_name: str, source: Mapping[str, Any] | None = None) -> tuple[PmsyncConfig, str]:
        """The loaded config of a pmsync.yaml for ``source`` (default: the scenario's) over a fresh
        SQLite store ``<store_name>.db``, and the store's URL."""
        self.folder.mkdir(parents=True, exist_ok=True)
        database = (self.folder / f"{store_name}.db").resolve()
        database.unlink(missing_ok=True)
        url = f"sqlite:///{database}"
        block = {"name": self.name, **(self.source if source is None else source)}
        raw = {**self.config, "store": {"url": url}, "sources": [block]}
        path = self.config_path(store_name)
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return load_config(path, env=dict(self.env)), url

    def config_path(self, store_name: str) -> Path:
        """Where :meth:`write` put the pmsync.yaml of the store ``store_name``."""
        return self.folder / f"{store_name}.pmsync.yaml"

    def stream(self, config: PmsyncConfig, cursor: Cursor) -> list[ExtractItem]:
        """Everything the connector yields from ``cursor`` (read directly, not through the engine)."""
        [source] = config.sources
        return list(build_connector(config, source).extract(dict(cursor)))


# -- helpers -------------------------------------------------------------------------------------


def _sync(scenario: Scenario, config: PmsyncConfig, store: Store, **options: Any) -> Any:
    [run] = sync_sources(config, store, **options)
    return run


def _ok(scenario: Scenario, config: PmsyncConfig, store: Store, what: str, **options: Any) -> Any:
    run = _sync(scenario, config, store, **options)
    if run.status != "ok":
        raise ConformanceError(f"{what}: the run ended {run.status}: {run.error}")
    return run


def _record_key(record: Record) -> tuple[str, str]:
    return str(getattr(record, "record_type", type(record).__name__)), record.source.external_id


def _snapshot(scenario: Scenario, store: Store) -> dict[str, Any]:
    """What a user could observe of the source in a store: every record (live or deleted, payload
    without the source's name) and the cursor without its volatile keys."""
    records = []
    for record_type in RECORD_TYPES:
        for record in store.iter_records(record_type, source_name=scenario.name, include_deleted=True):
            payload = record.model_dump(mode="json")
            payload["source"].pop("instance", None)
            records.append(json.dumps(payload, sort_keys=True))
    cursor = {k: v for k, v in store.cursor(scenario.name).items() if k not in scenario.volatile_cursor_keys}
    return {"records": sorted(records), "live": _live(scenario, store), "cursor": cursor}


def _live(scenario: Scenario, store: Store) -> list[tuple[str, str]]:
    return sorted(
        _record_key(record)
        for record_type in RECORD_TYPES
        for record in store.iter_records(record_type, source_name=scenario.name)
    )


def _stored(snapshot: dict[str, Any]) -> tuple[Any, Any]:
    """The records of a snapshot and which of them are live (a deletion changes only the latter)."""
    return snapshot["records"], snapshot["live"]


def _records(items: Sequence[ExtractItem]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


def _open(
    scenario: Scenario, name: str, source: Mapping[str, Any] | None = None
) -> tuple[PmsyncConfig, Store]:
    config, url = scenario.write(name, source)
    return config, Store.open(url)


# -- the checks ----------------------------------------------------------------------------------


def cursor_is_json(scenario: Scenario) -> None:
    config, _ = scenario.write("cursor-json")
    items = scenario.stream(config, {})
    if not _records(items):
        raise ConformanceError("the scenario's first run yielded no records: the suite has nothing to check")
    checkpoints = [item.cursor for item in items if isinstance(item, Checkpoint)]
    if not checkpoints:
        raise ConformanceError(
            "a run that read records yielded no Checkpoint: nothing would ever be committed"
        )
    for cursor in checkpoints:
        try:
            again = json.loads(json.dumps(cursor))
        except (TypeError, ValueError) as exc:
            raise ConformanceError(f"a checkpoint cursor is not JSON: {exc}: {cursor!r}") from None
        if again != cursor:
            raise ConformanceError(f"a checkpoint cursor changes through JSON: {cursor!r} became {again!r}")


def checkpoints_advance(scenario: Scenario) -> None:
    config, store = _open(scenario, "checkpoints")
    try:
        run = _ok(scenario, config, store, "first run")
        unmoved = run.cursor_after == run.cursor_before
        if run.counts.inserted and unmoved and not scenario.restates_everything:
            raise ConformanceError(
                f"the first run stored {run.counts.inserted} records but left the cursor at "
                f"{run.cursor_before!r}: the next run would read them all again"
            )
    finally:
        store.close()
    if scenario.restates_everything:
        return
    items = scenario.stream(config, {})
    emitted: set[tuple[str, str]] = set()
    for item in items:
        if isinstance(item, Record):
            emitted.add(_record_key(item))
        elif isinstance(item, Checkpoint) and emitted:
            again = sorted(emitted & {_record_key(r) for r in _records(scenario.stream(config, item.cursor))})
            if again:
                raise ConformanceError(
                    f"resumed from checkpoint {item.cursor!r}, the connector yielded again "
                    f"{len(again)} record(s) it yielded before that checkpoint, e.g. {again[0]}"
                )


def second_run_unchanged(scenario: Scenario) -> None:
    config, store = _open(scenario, "second-run")
    try:
        _ok(scenario, config, store, "first run")
        before = _snapshot(scenario, store)
        second = _ok(scenario, config, store, "second run")
        counts = second.counts
        if counts.inserted or counts.updated or counts.deleted:
            raise ConformanceError(
                "a second run with nothing changed at the source wrote: "
                f"{counts.inserted} inserted, {counts.updated} updated, {counts.deleted} deleted"
            )
        if _stored(_snapshot(scenario, store)) != _stored(before):
            raise ConformanceError("a second run with nothing changed at the source changed stored records")
    finally:
        store.close()


def snapshot_keeps_its_scope(scenario: Scenario) -> None:
    config, store = _open(scenario, "scopes")
    try:
        system = build_connector(config, config.sources[0]).system
        planted = {"type": f"{__name__}:ForeignScopeConnector", "system": system}
        seed_config, _ = _seed_config(scenario, store, planted)
        _ok(scenario, seed_config, store, "planting a record of another scope")
        foreign = SourceRef(
            system=system, instance=scenario.name, external_id=ForeignScopeConnector.EXTERNAL_ID
        )
        for what in ("first run", "second run"):
            # deletions allowed: the engine's guard against mass deletion must not hide a wrong sweep
            _ok(scenario, config, store, what, allow_deletions=True)
            if store.get_record(WorkItem, foreign) is None:
                raise ConformanceError(
                    f"the {what} deleted a record of scope {FOREIGN_SCOPE!r}, which it never read: a "
                    "SnapshotComplete must sweep only its own scope"
                )
    finally:
        store.close()


def _seed_config(scenario: Scenario, store: Store, block: Mapping[str, Any]) -> tuple[PmsyncConfig, str]:
    """A config naming the same source over ``store`` with ``block`` as its settings."""
    path = scenario.folder / "scopes-seed.pmsync.yaml"
    raw = {**scenario.config, "store": {"url": store.url}, "sources": [{"name": scenario.name, **block}]}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_config(path, env=dict(scenario.env)), store.url


def bad_input_is_pmsync_error(scenario: Scenario) -> None:
    if scenario.spoil is None:
        raise _NotApplicable("the scenario has no spoil(): no bad input to check")
    config, store = _open(scenario, "bad-input")
    try:
        _ok(scenario, config, store, "the run before the input was spoiled")
        before = _snapshot(scenario, store)
        cursor = store.cursor(scenario.name)
        scenario.spoil()
        try:
            try:
                for _ in build_connector(config, config.sources[0]).extract(dict(cursor)):
                    pass
            except PmsyncError as exc:
                if exc.source != scenario.name:
                    raise ConformanceError(
                        f"the error does not name the source {scenario.name!r} (source={exc.source!r}): {exc}"
                    ) from None
                if scenario.names_record and not exc.record:
                    raise ConformanceError(f"the error names no record, file or row: {exc}") from None
            except Exception as exc:
                raise ConformanceError(
                    f"bad input raised {type(exc).__name__}, not a PmsyncError: {exc}"
                ) from exc
            else:
                raise ConformanceError("the spoiled input was read without an error")
            run = _sync(scenario, config, store)
            if run.status != "failed":
                raise ConformanceError(f"a run on the spoiled input ended {run.status}, not failed")
            if _stored(_snapshot(scenario, store)) != _stored(before):
                raise ConformanceError(
                    "a run on the spoiled input changed stored records: it must lose nothing"
                )
        finally:
            if scenario.restore is not None:
                scenario.restore()
    finally:
        store.close()


#: run in a child process: sync the config at argv[1], SIGKILLing itself at its argv[2]-th write
_KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from pmsync.config import load_config
from pmsync.store import Store
from pmsync.sync import sync_sources

config, point, writes = load_config(Path(sys.argv[1])), int(sys.argv[2]), [0]

def kill(progress):
    writes[0] += 1
    if writes[0] == point:
        os.kill(os.getpid(), signal.SIGKILL)

with Store.open(config.store_url()) as store:
    sync_sources(config, store, progress=kill, batch_size=1)
sys.exit(f"the run ended after {writes[0]} writes, before write {point}")
"""


def _killed_run(scenario: Scenario, name: str, point: int) -> None:
    """Sync ``scenario`` into the store ``name`` in a child process SIGKILLed at its ``point``-th write
    (records are written one at a time, so a write is a record, a marker or a checkpoint)."""
    environment = {**os.environ, **scenario.env, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(scenario.config_path(name)), str(point)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != -signal.SIGKILL:
        raise ConformanceError(f"the run to be killed at write {point} was not: {done.stderr.strip()[-500:]}")


def kill_safe(scenario: Scenario, *, kill_points: int = 3) -> None:
    config, clean = _open(scenario, "uninterrupted")
    counter = _Writes()
    try:
        run = _sync(scenario, config, clean, progress=counter, batch_size=1)
        if run.status != "ok":
            raise ConformanceError(f"the uninterrupted run ended {run.status}: {run.error}")
        expected = _snapshot(scenario, clean)
    finally:
        clean.close()
    writes = counter.writes
    points = sorted({max(1, writes * n // (kill_points + 1)) for n in range(1, kill_points + 1)})
    for point in points:
        name = f"killed-at-{point}"
        config, store = _open(scenario, name)
        store.close()
        _killed_run(scenario, name, point)
        with Store.open(config.store_url()) as store:
            _ok(scenario, config, store, f"the run resumed after a kill at write {point}")
            got = _snapshot(scenario, store)
        if _stored(got) != _stored(expected):
            differ = len(set(got["records"]) ^ set(expected["records"])) + len(
                set(got["live"]) ^ set(expected["live"])
            )
            raise ConformanceError(
                f"killed at write {point} of {writes} and resumed, the store differs from an "
                f"uninterrupted run's: {differ} record(s) differ in content or in being live"
            )
        if got["cursor"] != expected["cursor"]:
            raise ConformanceError(
                f"killed at write {point} of {writes} and resumed, the cursor is {got['cursor']!r}, "
                f"not the uninterrupted run's {expected['cursor']!r}"
            )


class _Writes:
    """A progress callback counting the engine's writes."""

    def __init__(self) -> None:
        self.writes = 0

    def __call__(self, _: SyncProgress) -> None:
        self.writes += 1


class _NotApplicable(Exception):
    """The scenario does not give what a check needs (e.g. no way to spoil the input)."""


#: every check, by name, in the order :func:`check_connector` runs them
CHECKS: dict[str, Callable[[Scenario], None]] = {
    "cursor_is_json": cursor_is_json,
    "checkpoints_advance": checkpoints_advance,
    "second_run_unchanged": second_run_unchanged,
    "snapshot_keeps_its_scope": snapshot_keeps_its_scope,
    "kill_safe": kill_safe,
    # last: a scenario without restore() leaves its input spoiled
    "bad_input_is_pmsync_error": bad_input_is_pmsync_error,
}


def run_check(name: str, scenario: Scenario) -> bool:
    """Run one check; ``False`` when the scenario does not give what it needs (skipped)."""
    try:
        CHECKS[name](scenario)
    except _NotApplicable:
        return False
    return True


def check_connector(scenario: Scenario, checks: Sequence[str] | None = None) -> list[str]:
    """Run the checks (default: all); raises :class:`ConformanceError` listing every failure, else
    returns the names of the checks that ran (a check the scenario cannot feed is left out)."""
    ran, failures = [], []
    for name in checks or list(CHECKS):
        try:
            if run_check(name, scenario):
                ran.append(name)
        except ConformanceError as exc:
            failures.append(f"{name}: {exc}")
    if failures:
        raise ConformanceError("; ".join(failures))
    return ran


class ForeignScopeConnector:
    """Plants one work item of another scope under the tested source's name (see
    :func:`snapshot_keeps_its_scope`); yields no checkpoint, so the source's cursor is untouched."""

    EXTERNAL_ID = "pmsync-conformance-planted"

    class Config(ConnectorConfig):
        system: str

    system: ClassVar[str] = "pmsync_conformance"

    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.config, ForeignScopeConnector.Config)
        self.context = context
        self.config = context.config

    def check(self) -> list[CheckResult]:
        return []

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        ref = SourceRef(
            system=self.config.system, instance=self.context.source_name, external_id=self.EXTERNAL_ID
        )
        yield WorkItem(source=ref, scope=FOREIGN_SCOPE, name="planted by the conformance suite")
