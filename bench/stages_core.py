"""Core benchmark stages: the store's batched upserts, as-of reads, and the sync engine end to end.

All on SQLite in the stage's work folder (the default single-PM setup). The engine stage runs a
generator connector defined here, so it measures pmsync's own overhead, not a source's.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from sqlalchemy.engine import make_url

from pmsync import clock
from pmsync.config import PmsyncConfig, SourceConfig
from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    ConnectorContext,
    Cursor,
    ExtractItem,
    SnapshotComplete,
)
from pmsync.model import SourceRef, WorkItem
from pmsync.store import Store
from pmsync.sync import sync_sources

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _items(size: int, suffix: str = "") -> Iterator[WorkItem]:
    for i in range(size):
        yield WorkItem(
            source=SourceRef(system="bench", instance="bench", external_id=f"T-{i}"),
            name=f"Task {i}{suffix}",
            project=f"P{i % 50}",
            scope="plan",
            percent_complete=float(i % 100),
            effort_estimate_hours=8.0,
            labels=("a", "b"),
        )


def _store(workdir: Path) -> Store:
    return Store.open(f"sqlite:///{workdir / 'bench.db'}")


def _write(store: Store, size: int, suffix: str = "") -> int:
    written = 0
    with store.writer("bench", run_id=1) as w:
        iterator = _items(size, suffix)
        while chunk := list(itertools.islice(iterator, 5000)):
            counts = w.upsert(chunk)
            written += counts.inserted + counts.updated + counts.unchanged
            w.commit()
    return written


def upsert_new(size: int, workdir: Path) -> dict[str, int]:
    with _store(workdir) as store:
        return {"items": _write(store, size)}


def prepare_upsert_unchanged(size: int, workdir: Path) -> None:
    with _store(workdir) as store:
        _write(store, size)


def upsert_unchanged(size: int, workdir: Path) -> dict[str, int]:
    with _store(workdir) as store:
        return {"items": _write(store, size)}


def prepare_read_as_of(size: int, workdir: Path) -> None:
    clock.set_now(T0)
    with _store(workdir) as store:
        _write(store, size)
        clock.set_now(T0 + timedelta(days=30))
        _write(store, size, " v2")
    clock.set_now(None)


def read_as_of(size: int, workdir: Path) -> dict[str, int]:
    with _store(workdir) as store:
        read = sum(1 for _ in store.iter_records(WorkItem, as_of=T0 + timedelta(days=1)))
    assert read == size
    return {"items": read}


class BenchConfig(ConnectorConfig):
    count: int
    checkpoint_every: int = 1000


class BenchConnector:
    """Yields ``count`` work items with a checkpoint every ``checkpoint_every``, then a snapshot."""

    system: ClassVar[str] = "bench"
    Config: ClassVar[type[ConnectorConfig]] = BenchConfig

    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.config, BenchConfig)
        self.config = context.config

    def check(self) -> list[CheckResult]:
        return []

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        for i, item in enumerate(_items(self.config.count), start=1):
            yield item
            if i % self.config.checkpoint_every == 0:
                yield Checkpoint({"offset": i})
        yield SnapshotComplete("plan")
        yield Checkpoint({"offset": 0})


def _config(size: int, workdir: Path) -> PmsyncConfig:
    return PmsyncConfig(
        store={"url": f"sqlite:///{workdir / 'bench.db'}"},
        sources=[SourceConfig(name="bench", type="stages_core:BenchConnector", count=size)],
        base_dir=workdir,
    )


def sync_first(size: int, workdir: Path) -> dict[str, int]:
    config = _config(size, workdir)
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    return {"items": run.counts.inserted}


def prepare_sync_again(size: int, workdir: Path) -> None:
    sync_first(size, workdir)


def sync_again(size: int, workdir: Path) -> dict[str, int]:
    config = _config(size, workdir)
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
    assert run.status == "ok" and run.counts.unchanged == size, run
    return {"items": run.counts.unchanged}


# -- PostgreSQL (the shared / scheduled setup); needs the server at $PMSYNC_BENCH_POSTGRES_URL -----------

POSTGRES_URL = os.environ.get("PMSYNC_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: one database per benchmark process, so concurrent benchmark runs never share (or drop) one
BENCH_PREFIX = "pmsync_bench_"


def _postgres_url() -> str:
    database = f"{BENCH_PREFIX}{os.getpid()}"
    return str(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=database))


def prepare_pg_upsert_new(size: int, workdir: Path) -> None:
    """A fresh, migrated database for this process; those of finished benchmark processes are dropped."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        for name in names:
            pid = name.removeprefix(BENCH_PREFIX)
            finished = pid.isdigit() and (int(pid) == os.getpid() or not Path(f"/proc/{pid}").exists())
            if name.startswith(BENCH_PREFIX) and finished:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_PREFIX}{os.getpid()}"')
    Store.open(_postgres_url()).close()


def pg_upsert_new(size: int, workdir: Path) -> dict[str, int]:
    with Store.open(_postgres_url()) as store:
        return {"items": _write(store, size)}


def prepare_pg_upsert_unchanged(size: int, workdir: Path) -> None:
    prepare_pg_upsert_new(size, workdir)
    pg_upsert_new(size, workdir)


def pg_upsert_unchanged(size: int, workdir: Path) -> dict[str, int]:
    return pg_upsert_new(size, workdir)


SIZES = [10_000, 20_000, 40_000, 80_000]
QUICK = [1_000, 2_000]

STAGES = [
    ("store: upsert new records (sqlite)", upsert_new, SIZES, QUICK),
    ("store: upsert unchanged records (sqlite)", upsert_unchanged, SIZES, QUICK),
    ("store: as-of read of history (sqlite)", read_as_of, SIZES, QUICK),
    ("sync: first sync, engine end to end (sqlite)", sync_first, SIZES, QUICK),
    ("sync: rerun, all unchanged (sqlite)", sync_again, SIZES, QUICK),
    ("store: upsert new records (postgres)", pg_upsert_new, SIZES, QUICK),
    ("store: upsert unchanged records (postgres)", pg_upsert_unchanged, SIZES, QUICK),
]
