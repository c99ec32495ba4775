"""Helpers for the guarantee tests: pmsync.yaml for sandbox sources, full store dumps, subprocess runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from core.helpers import dump as _dump
from core.helpers import pmsync_env

from pmsync.config import PmsyncConfig, load_config
from pmsync.sandbox.jira import JiraSandbox
from pmsync.store import Store, SyncRunInfo
from pmsync.sync import sync_sources

__all__ = [
    "dump",
    "pmsync_env",
    "pmsync",
    "start",
    "jira_source",
    "write_yaml",
    "clean_dump",
]


def dump(store: Store, source_name: str | None = None) -> dict[str, Any]:
    """Every current record, every history row and each cursor (see ``core.helpers.dump``), with the
    wall-clock times of the connector's last key-only scan and metadata read left out of the cursors:
    they differ between two otherwise identical runs, and the data read is what must match."""
    full = _dump(store, source_name)
    cursors = []
    for text in full["cursors"]:
        cursor = json.loads(text)
        if isinstance(cursor, dict):
            cursor.pop("last_scan", None)
            if isinstance(cursor.get("meta"), dict):  # when the Jira site's metadata was read
                cursor["meta"].pop("fetched", None)
        cursors.append(json.dumps(cursor, sort_keys=True))
    return {**full, "cursors": cursors}


def jira_source(sandbox: JiraSandbox, name: str = "jira", **overrides: Any) -> dict[str, Any]:
    """A ``type: jira`` source block for ``sandbox``; its token comes from ``$JIRA_TOKEN``.

    One request at a time unless ``concurrency`` is given: these tests aim faults and kills at the
    n-th search page, which only serial paging makes the n-th page of the result."""
    overrides.setdefault("concurrency", 1)
    settings = sandbox.source_settings(api_token="${JIRA_TOKEN}", page_size=10, **overrides)
    return {"name": name, "type": "jira", **settings}


def write_yaml(folder: Path, store_url: str, *sources: dict[str, Any], **extra: Any) -> Path:
    path = folder / "pmsync.yaml"
    raw = {"store": {"url": store_url}, "sources": list(sources), **extra}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def load(path: Path, sandbox: JiraSandbox) -> PmsyncConfig:
    return load_config(path, env={"JIRA_TOKEN": sandbox.api_token})


def synced(folder: Path, sandbox: JiraSandbox, source: dict[str, Any]) -> tuple[SyncRunInfo, dict[str, Any]]:
    """One sync of ``source`` into a fresh SQLite store in ``folder`` that must succeed: its run and
    the store's dump."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'clean.db'}"
    config = load(write_yaml(folder, url, source), sandbox)
    store = Store.open(url)
    try:
        [run] = sync_sources(config, store)
        assert run.status == "ok", run.error
        return run, dump(store)
    finally:
        store.close()


def clean_dump(folder: Path, sandbox: JiraSandbox, source: dict[str, Any]) -> dict[str, Any]:
    """The dump of an uninterrupted sync of ``source`` into a fresh SQLite store in ``folder``."""
    return synced(folder, sandbox, source)[1]


def _command(config: Path, args: tuple[str, ...], env: dict[str, str] | None) -> dict[str, Any]:
    return {
        "args": [sys.executable, "-m", "pmsync", "--config", str(config), *args],
        "env": {**pmsync_env(), **(env or {})},
        "text": True,
    }


def pmsync(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real ``pmsync`` command line in a new process (with extra environment variables)."""
    command = _command(config, args, env)
    return subprocess.run(command.pop("args"), capture_output=True, timeout=timeout, **command)


def start(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = _command(config, args, env)
    return subprocess.Popen(command.pop("args"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **command)


def root_conftest() -> ModuleType:
    """``tests/conftest.py`` (its PostgreSQL helpers), loaded by path under its own name.

    ``from conftest import ...`` is not safe here: tests/jira and tests/microsoft have their own
    ``conftest.py`` without a package, and whichever pytest imported last answers to ``conftest``.
    """
    name = "pmsync_tests_root_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
