"""Helpers for the core tests: write a pmsync.yaml around the counting test connector, dump a store."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from pmsync.store import Store
from pmsync.store.schema import records, source_state
from pmsync.store.versions import versions

COUNTING = "core.pmsync_testconnector:CountingConnector"
TESTS_DIR = Path(__file__).resolve().parent.parent


def write_config(directory: Path, store_url: str, **sources: dict[str, Any]) -> Path:
    """pmsync.yaml with one counting source per keyword (name → connector settings)."""
    config = {
        "store": {"url": store_url},
        "sources": [{"name": name, "type": COUNTING, **settings} for name, settings in sources.items()],
    }
    path = directory / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def pmsync_env() -> dict[str, str]:
    """Environment for a ``pmsync`` subprocess that can import the test connector."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    return env


def run_pmsync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmsync", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=pmsync_env(),
        timeout=120,
    )


def start_pmsync(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pmsync", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=pmsync_env(),
    )


def _anonymous(payload: dict[str, Any]) -> str:
    """The payload without the source's instance name, as canonical JSON (so two sources compare)."""
    payload = {**payload, "source": {k: v for k, v in payload["source"].items() if k != "instance"}}
    return json.dumps(payload, sort_keys=True)


def dump(store: Store, source_name: str | None = None) -> dict[str, Any]:
    """Everything a user could observe about a source's data: current rows, history, cursor.

    Run ids, timestamps and the source's name are left out: they differ between two otherwise
    identical histories.
    """
    with store.engine.connect() as conn:
        query = select(records)
        all_versions = versions(source_name=source_name is not None).subquery()
        states = select(source_state)
        if source_name is not None:
            query = query.where(records.c.source_name == source_name)
            states = states.where(source_state.c.source_name == source_name)
        current = sorted(
            (r.record_type, r.system, r.external_id, _anonymous(r.payload), r.deleted_at is None)
            for r in conn.execute(query)
        )
        history = sorted(
            (
                r.record_type,
                r.payload["source"]["external_id"],
                r.op,
                _anonymous(r.payload),
                r.valid_to is None,
            )
            for r in conn.execute(select(all_versions), {"source_name": source_name})
        )
        cursors = sorted(json.dumps(r.cursor, sort_keys=True) for r in conn.execute(states))
    return {"records": current, "history": history, "cursors": cursors}


@contextlib.contextmanager
def one_cpu() -> Iterator[None]:
    """This process (and what it forks) may run on one CPU only, as under ``taskset -c 0`` or a
    container's ``--cpuset-cpus=0``; the mask it had is put back after."""
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(mask)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mask)
