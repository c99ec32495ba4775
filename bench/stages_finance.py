"""Finance benchmark stages: one large Oracle-EBS-style CSV export (the issue's 10^6-line target).

- read: the finance_file connector alone (both passes: validate every row, then yield records);
- sync: the same file through the sync engine into a SQLite store (what ``pmsync sync`` does), and
  into a fresh PostgreSQL database (``$PMSYNC_BENCH_POSTGRES_URL``, as in ``stages_core``);
- XLSX read: the connector on an .xlsx export (openpyxl read-only streaming), at smaller sizes;
- re-sync (issue 25): the export loaded once (not timed), then re-exported with its first line's
  amount corrected, or every 100th line's (1 %), and synced again into SQLite or PostgreSQL. A
  corrected amount gives a line a new identity, so the run inserts and deletes one line per change.
  The changed file's read time (the connector alone) is measured in the same process before the
  timed run, and the verdict compares the two (target: re-sync within 1.2x the read).

Inputs are written by ``prepare_*`` (not timed) with :mod:`pmsync.sandbox.finance_gen`.
Run: ``python bench/run.py --stage finance``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from pmsync.connectors.finance_file import FinanceFileConfig, FinanceFileConnector

from pmsync.config import load_config, shipped_mappings_dir
from pmsync.connector import ConnectorContext
from pmsync.model import CostLine
from pmsync.sandbox.finance_gen import write_large_export
from pmsync.store import Store
from pmsync.sync import sync_sources

MAPPING = "finance-oracle-ebs.yaml"


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user and system) of this process, and of its finished children (a sync's
    reading process); the database server's own work is in neither."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _cpu_since(before: tuple[float, float]) -> dict[str, float]:
    """CPU seconds since ``before``: in all, and of the reading process when a child did work."""
    own, children = (now - then for now, then in zip(_cpu_seconds(), before, strict=True))
    figures = {"cpu_seconds": round(own + children, 2)}
    if children > 0.01:
        figures["cpu_reader_seconds"] = round(children, 2)
    return figures


def _export(size: int, workdir: Path) -> Path:
    return workdir / "exports" / f"pa-costs-{size}.csv"


def _connector(path: Path) -> FinanceFileConnector:
    context = ConnectorContext(
        source_name="finance",
        config=FinanceFileConfig(path=path, mapping=MAPPING),
        mapping_dirs=(shipped_mappings_dir(),),
        base_dir=path.parent,
        fiscal_year_start_month=7,
    )
    return FinanceFileConnector(context)


def prepare_read_csv(size: int, workdir: Path) -> None:
    path = _export(size, workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_large_export(path, size)


def read_csv(size: int, workdir: Path) -> dict[str, int]:
    lines = sum(isinstance(item, CostLine) for item in _connector(_export(size, workdir)).extract({}))
    assert lines == size, lines
    return {"items": lines}


def prepare_sync_csv(size: int, workdir: Path, store_url: str | None = None) -> None:
    prepare_read_csv(size, workdir)
    config = {
        "store": {"url": store_url or f"sqlite:///{workdir / 'pmsync.db'}"},
        "portfolio": {"fiscal_year_start_month": 7},
        "projects": [
            {"key": f"PRJ{i}", "name": f"Project {i}", "links": {"finance_file": f"P-{100 + i}"}}
            for i in range(200)
        ],
        "sources": [{"name": "finance", "type": "finance_file", "path": "exports/", "mapping": MAPPING}],
    }
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(config))
    Store.open(config["store"]["url"]).close()  # schema creation is not part of the load


def sync_csv(size: int, workdir: Path) -> dict[str, float]:
    cpu = _cpu_seconds()
    config = load_config(workdir / "pmsync.yaml")
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
    assert run.status == "ok" and run.counts.inserted == size, run
    return {"items": run.counts.inserted, **_cpu_since(cpu)}


def prepare_sync_csv_postgres(size: int, workdir: Path) -> None:
    """The same load into a fresh PostgreSQL database (the shared setup): the server does the index
    and WAL work in its own process, on the machine's other core."""
    from stages_core import _postgres_url, prepare_pg_upsert_new

    prepare_pg_upsert_new(size, workdir)
    prepare_sync_csv(size, workdir, store_url=_postgres_url())


def sync_csv_postgres(size: int, workdir: Path) -> dict[str, float]:
    # its own function, not an alias of sync_csv: run.py finds a stage's prepare_<name> by the
    # function's __name__, and an alias ran prepare_sync_csv, i.e. measured SQLite under this title
    return sync_csv(size, workdir)


def _xlsx(size: int, workdir: Path) -> Path:
    return workdir / "exports" / f"pa-costs-{size}.xlsx"


def prepare_read_xlsx(size: int, workdir: Path) -> None:
    import openpyxl

    prepare_read_csv(size, workdir)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Cost Lines")
    with _export(size, workdir).open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    book.save(_xlsx(size, workdir))
    _export(size, workdir).unlink()


def read_xlsx(size: int, workdir: Path) -> dict[str, int]:
    lines = sum(isinstance(item, CostLine) for item in _connector(_xlsx(size, workdir)).extract({}))
    assert lines == size, lines
    return {"items": lines}


STAGES = [
    (
        "finance: read CSV export (connector)",
        read_csv,
        [125_000, 250_000, 500_000, 1_000_000],
        [2_000, 4_000],
    ),
    (
        "finance: sync CSV export into SQLite",
        sync_csv,
        [125_000, 250_000, 500_000, 1_000_000],
        [2_000],
    ),
    (
        "finance: sync CSV export into PostgreSQL",
        sync_csv_postgres,
        [125_000, 250_000, 500_000, 1_000_000],
        [2_000],
    ),
    ("finance: read XLSX export (connector)", read_xlsx, [25_000, 50_000, 100_000], [1_000]),
]


# -- re-sync: the same export with k lines changed ------------------------------------------------


def _change_lines(path: Path, every: int | None) -> int:
    """Rewrite the export with some lines' amounts corrected (+1.00): the first data line only
    (``every`` None), or every ``every``-th line. A corrected amount gives the line a new identity,
    so a re-sync inserts the corrected line and deletes the old one."""
    changed_path = path.with_suffix(".tmp")
    changed = 0
    with (
        path.open(encoding="utf-8", newline="") as source,
        changed_path.open("w", encoding="utf-8", newline="") as target,
    ):
        rows = csv.reader(source)
        out = csv.writer(target)
        data = -1
        for row in rows:
            if data >= 0:
                data += 1
                if (every is None and data == 1) or (every is not None and data % every == 0):
                    amount = float(row[7].replace(",", "")) + 1.0
                    row[7] = f"{amount:,.2f}"
                    changed += 1
            elif row and row[0] == "Project Number":
                data = 0
            out.writerow(row)
    changed_path.replace(path)
    return changed


def _prepare_resync(size: int, workdir: Path, every: int | None, store_url: str | None = None) -> None:
    """First load (not timed), then the export with lines changed; the changed file's read time is
    measured here too, in the same process, so the stage can state its ratio to it."""
    import time

    prepare_sync_csv(size, workdir, store_url=store_url)
    sync_csv(size, workdir)
    changed = _change_lines(_export(size, workdir), every)
    started = time.perf_counter()
    read = sum(isinstance(item, CostLine) for item in _connector(_export(size, workdir)).extract({}))
    read_seconds = time.perf_counter() - started
    assert read == size, read
    (workdir / "resync.yaml").write_text(yaml.safe_dump({"changed": changed, "read_seconds": read_seconds}))


def _resync(workdir: Path) -> dict[str, object]:
    facts = yaml.safe_load((workdir / "resync.yaml").read_text())
    config = load_config(workdir / "pmsync.yaml")
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
    changed = facts["changed"]
    assert run.status == "ok", run
    assert run.counts.inserted == changed and run.counts.deleted == changed, run.counts
    return {"items": changed, "changed": changed, "read_seconds": round(facts["read_seconds"], 2)}


def prepare_resync_one_sqlite(size: int, workdir: Path) -> None:
    _prepare_resync(size, workdir, None)


def resync_one_sqlite(size: int, workdir: Path) -> dict[str, object]:
    return _resync(workdir)


def prepare_resync_share_sqlite(size: int, workdir: Path) -> None:
    _prepare_resync(size, workdir, 100)


def resync_share_sqlite(size: int, workdir: Path) -> dict[str, object]:
    return _resync(workdir)


def prepare_resync_one_postgres(size: int, workdir: Path) -> None:
    from stages_core import _postgres_url, prepare_pg_upsert_new

    prepare_pg_upsert_new(size, workdir)
    _prepare_resync(size, workdir, None, store_url=_postgres_url())


def resync_one_postgres(size: int, workdir: Path) -> dict[str, object]:
    return _resync(workdir)


def prepare_resync_share_postgres(size: int, workdir: Path) -> None:
    from stages_core import _postgres_url, prepare_pg_upsert_new

    prepare_pg_upsert_new(size, workdir)
    _prepare_resync(size, workdir, 100, store_url=_postgres_url())


def resync_share_postgres(size: int, workdir: Path) -> dict[str, object]:
    return _resync(workdir)


RESYNC_SIZES = [100_000, 1_000_000]
STAGES += [
    ("finance: re-sync, 1 line changed, SQLite", resync_one_sqlite, RESYNC_SIZES, [20_000]),
    ("finance: re-sync, 1 % of lines changed, SQLite", resync_share_sqlite, RESYNC_SIZES, [20_000]),
    ("finance: re-sync, 1 line changed, PostgreSQL", resync_one_postgres, RESYNC_SIZES, [20_000]),
    ("finance: re-sync, 1 % of lines changed, PostgreSQL", resync_share_postgres, RESYNC_SIZES, [20_000]),
]


# -- the bare loop: what reading the export and inserting its rows costs with nothing of pmsync ------


def _bare_rows(path: Path, source_name: str) -> object:
    """Each data row as a ``records`` row: the row's text as payload, no parsing, validation,
    normalized model, canonical JSON or hashing; the key is the row number."""
    import json
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        for row in rows:
            if row and row[0] == "Project Number":
                break
        for number, row in enumerate(rows):
            key = f"bare/{number}"
            yield (
                "cost_line", "bare", source_name, key, key, source_name, row[0], row[0],
                json.dumps(row), "", None, 1, 1, now,
            )  # fmt: skip


_BARE_COLUMNS = (
    "record_type, system, instance, external_id, source_key, source_name, project, scope, payload, "
    "content_hash, source_modified, first_seen_run, last_changed_run, updated_at"
)


def bare_loop_sqlite(size: int, workdir: Path) -> dict[str, float]:
    """``csv.reader`` + the driver's ``executemany`` into the store's ``records`` table, batches of
    500 in one transaction: the floor a first load is compared with (issue 25, point 4)."""
    import sqlite3
    from itertools import islice

    cpu = _cpu_seconds()
    connection = sqlite3.connect(workdir / "pmsync.db")
    marks = ", ".join("?" for _ in _BARE_COLUMNS.split(","))
    rows = (
        r[:-1] + (r[-1].replace(tzinfo=None).isoformat(sep=" "),)
        for r in _bare_rows(_export(size, workdir), "bare")
    )
    count = 0
    with connection:
        while batch := list(islice(rows, 500)):
            connection.executemany(f"INSERT INTO records ({_BARE_COLUMNS}) VALUES ({marks})", batch)
            count += len(batch)
    connection.close()
    assert count == size, count
    return {"items": count, **_cpu_since(cpu)}


prepare_bare_loop_sqlite = prepare_sync_csv


def prepare_bare_loop_postgres(size: int, workdir: Path) -> None:
    prepare_sync_csv_postgres(size, workdir)


def bare_loop_postgres(size: int, workdir: Path) -> dict[str, float]:
    """The same bare loop into PostgreSQL with psycopg's ``executemany`` (pipelined)."""
    from itertools import islice

    cpu = _cpu_seconds()
    import psycopg
    from sqlalchemy import make_url
    from stages_core import _postgres_url

    url = make_url(_postgres_url()).set(drivername="postgresql")
    rows = _bare_rows(_export(size, workdir), "bare")
    marks = ", ".join("%s" for _ in _BARE_COLUMNS.split(","))
    count = 0
    with (
        psycopg.connect(url.render_as_string(hide_password=False)) as connection,
        connection.cursor() as cursor,
    ):
        while batch := list(islice(rows, 500)):
            cursor.executemany(f"INSERT INTO records ({_BARE_COLUMNS}) VALUES ({marks})", batch)
            count += len(batch)
    assert count == size, count
    return {"items": count, **_cpu_since(cpu)}


STAGES += [
    (
        "finance: bare loop (csv.reader + executemany), SQLite",
        bare_loop_sqlite,
        [125_000, 1_000_000],
        [2_000],
    ),
    (
        "finance: bare loop (csv.reader + executemany), PostgreSQL",
        bare_loop_postgres,
        [125_000, 1_000_000],
        [2_000],
    ),
]
