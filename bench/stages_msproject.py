"""MS Project benchmark stages: one generated MSPDI schedule per size (realistic, as Project 2019 saves
it: ~3.5 KB per task with two baselines, links, assignments and custom fields).

- read (pmsync): the msproject connector on the file: parse, validate, build every record;
- parse only (pmsync): the native streaming reader alone, to show where the time goes;
- read (MPXJ): MPXJ's ``UniversalProjectReader`` on the same file (JVM started in prepare, not timed),
  which compares with "parse only": both end with the schedule in memory, in their own model;
- read (connector, reader: mpxj): the connector with MPXJ reading the file, which compares with
  "read (pmsync)": both end with the same records;
- sync into SQLite: the connector through the sync engine, at smaller sizes;
- compute slack: the parse plus the critical path computation pmsync runs for files without
  TotalSlack, every task's value compared with the one the generator wrote (they must all agree).

The issue's targets: at least as fast as MPXJ on the same 10^5-task file, memory under 4x the file;
and (issue 26) the connector's memory growth while reading the largest file within about the file's
size (``rss_before_mb`` is the process before the read: interpreter and libraries).
Inputs are written by ``prepare_*`` (not timed) with :mod:`pmsync.sandbox.mspdi_gen`.
Run: ``python bench/run.py --stage msproject``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pmsync.connectors.msproject import MSProjectConfig, MSProjectConnector, read_mspdi
from pmsync.connectors.msproject.network import compute_slack

from pmsync.config import load_config, shipped_mappings_dir
from pmsync.connector import ConnectorContext
from pmsync.model import Record, WorkItem
from pmsync.sandbox.mspdi_gen import ScheduleSpec, advance, write_schedule
from pmsync.store import Store
from pmsync.sync import sync_sources


def _schedule(size: int, workdir: Path) -> Path:
    return workdir / "schedules" / f"programme-{size}.xml"


def _write(size: int, workdir: Path) -> Path:
    path = _schedule(size, workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_schedule(advance(ScheduleSpec(tasks=size, seed=42, baselines=(0, 1)), 8), path)
    return path


def _file_mb(path: Path) -> float:
    return round(path.stat().st_size / 2**20, 1)


def prepare_read_pmsync(size: int, workdir: Path) -> None:
    _write(size, workdir)


def _rss_mb() -> float:
    """This process's resident memory now (Linux), to tell the read's growth from the interpreter's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def read_pmsync(size: int, workdir: Path, reader: str = "mspdi") -> dict[str, Any]:
    path = _schedule(size, workdir)
    before = _rss_mb()  # interpreter, pmsync and pydantic already loaded: the peak less this is the read
    context = ConnectorContext(
        source_name="schedules",
        config=MSProjectConfig(path=path, reader=reader),
        mapping_dirs=(shipped_mappings_dir(),),
        base_dir=workdir,
    )
    tasks = records = 0
    for item in MSProjectConnector(context).extract({}):
        if isinstance(item, Record):
            records += 1
            tasks += isinstance(item, WorkItem)
    assert tasks == size + 1, tasks
    return {"items": tasks, "records": records, "file_mb": _file_mb(path), "rss_before_mb": round(before, 1)}


def prepare_parse_pmsync(size: int, workdir: Path) -> None:
    _write(size, workdir)


def parse_pmsync(size: int, workdir: Path) -> dict[str, Any]:
    path = _schedule(size, workdir)
    schedule, _ = read_mspdi(path)
    assert len(schedule.tasks) == size + 1
    return {"items": len(schedule.tasks), "file_mb": _file_mb(path)}


def prepare_read_mpxj(size: int, workdir: Path) -> None:
    from pmsync.connectors.msproject.mpxj_bridge import ensure_jvm

    _write(size, workdir)
    ensure_jvm()


def read_mpxj(size: int, workdir: Path) -> dict[str, Any]:
    import jpype

    path = _schedule(size, workdir)
    project: Any = jpype.JClass("org.mpxj.reader.UniversalProjectReader")().read(str(path))
    tasks = int(project.getTasks().size())
    assert tasks == size + 1, tasks
    return {"items": tasks, "file_mb": _file_mb(path)}


def prepare_read_connector_mpxj(size: int, workdir: Path) -> None:
    prepare_read_mpxj(size, workdir)


def read_connector_mpxj(size: int, workdir: Path) -> dict[str, Any]:
    """The same connector and records, the file read by MPXJ (``reader: mpxj``): like for like."""
    return read_pmsync(size, workdir, reader="mpxj")


def _plan_file(size: int, workdir: Path) -> Path:
    return workdir / "plans" / f"plan-{size}.xml"


def prepare_slack_crosscheck(size: int, workdir: Path) -> None:
    path = _plan_file(size, workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # as planned (not advanced): the generator's progress moves Must Start On tasks past their
    # dates, which Project (honouring constraints) would not write
    write_schedule(ScheduleSpec(tasks=size, seed=42, baselines=(0,)), path)


def slack_crosscheck(size: int, workdir: Path) -> dict[str, Any]:
    """Total slack computed from the logic (as for files without TotalSlack) against the file's."""
    schedule, _ = read_mspdi(_plan_file(size, workdir))
    computed = compute_slack(schedule)
    assert computed is not None
    per_day = schedule.properties.minutes_per_day or 480
    compared = agree = 0
    for task in schedule.tasks:
        if task.summary or task.total_slack_minutes is None or task.uid not in computed.total_slack_days:
            continue
        compared += 1
        agree += abs(task.total_slack_minutes / per_day - computed.total_slack_days[task.uid]) < 0.01
    assert agree == compared, f"computed slack differs from the file's on {compared - agree} of {compared}"
    return {"items": compared, "agree": agree}


def prepare_sync_sqlite(size: int, workdir: Path) -> None:
    _write(size, workdir)
    config = {
        "store": {"url": f"sqlite:///{workdir / 'pmsync.db'}"},
        "sources": [{"name": "schedules", "type": "msproject", "path": "schedules/"}],
    }
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(config))


def sync_sqlite(size: int, workdir: Path) -> dict[str, Any]:
    config = load_config(workdir / "pmsync.yaml")
    with Store.open(config.store_url()) as store:
        [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    return {"items": size + 1, "records": run.counts.inserted}


# -- the XML scan alone: the standard library's C iterparse vs a hardened lxml (issue 25, point 6) --

_ROWS = ("Task", "Resource", "Assignment", "Calendar")


def _scan(events: Any) -> int:
    """The reader's loop without the conversion: each row element's children counted, then cleared."""
    rows = {"{http://schemas.microsoft.com/project}" + name for name in _ROWS}
    fields = 0
    for _event, elem in events:
        if elem.tag in rows:
            fields += len(elem)
            elem.clear()
    return fields


prepare_scan_stdlib = prepare_parse_pmsync


def scan_stdlib(size: int, workdir: Path) -> dict[str, Any]:
    from xml.etree.ElementTree import iterparse

    path = _schedule(size, workdir)
    with path.open("rb") as handle:
        fields = _scan(iterparse(handle, events=("end",)))
    return {"items": size, "fields": fields, "file_mb": _file_mb(path)}


prepare_scan_lxml = prepare_parse_pmsync


def scan_lxml(size: int, workdir: Path) -> dict[str, Any]:
    """lxml hardened as the issue asks: no entity resolution, no network, no DTD, no huge trees."""
    from lxml import etree

    path = _schedule(size, workdir)
    with path.open("rb") as handle:
        events = etree.iterparse(
            handle,
            events=("end",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        fields = _scan(events)
    return {"items": size, "fields": fields, "file_mb": _file_mb(path)}


STAGES = [
    (
        "msproject: read MSPDI (pmsync connector)",
        read_pmsync,
        [12_500, 25_000, 50_000, 100_000],
        [1_000, 2_000],
    ),
    ("msproject: parse MSPDI only (pmsync reader)", parse_pmsync, [12_500, 25_000, 50_000, 100_000], [1_000]),
    (
        "msproject: read MSPDI (MPXJ, for comparison)",
        read_mpxj,
        [12_500, 25_000, 50_000, 100_000],
        [1_000, 2_000],
    ),
    (
        "msproject: read MSPDI (pmsync connector, reader: mpxj)",
        read_connector_mpxj,
        [12_500, 25_000, 50_000, 100_000],
        [1_000],
    ),
    ("msproject: sync MSPDI into SQLite", sync_sqlite, [5_000, 10_000, 20_000], [1_000]),
    (
        "msproject: parse + compute slack, cross-checked with the file's",
        slack_crosscheck,
        [12_500, 25_000, 50_000, 100_000],
        [1_000],
    ),
]

try:  # lxml is not a dependency of pmsync (pikepdf, of the pdf extra, brings it): compared where present
    import lxml  # noqa: F401

    STAGES += [
        ("msproject: XML scan only, standard library iterparse", scan_stdlib, [25_000, 100_000], [1_000]),
        ("msproject: XML scan only, hardened lxml iterparse", scan_lxml, [25_000, 100_000], [1_000]),
    ]
except ImportError:
    pass
