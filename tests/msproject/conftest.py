"""Fixtures for the MS Project tests: the hand-made MSPDI files and a JVM with MPXJ (or a skip)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.msproject import MSProjectConfig, MSProjectConnector, mpxj_problem
from pmsync.connectors.msproject.mpxj_bridge import ensure_jvm

from pmsync.connector import ConnectorContext, ExtractItem
from pmsync.model import Record

DATA = Path(__file__).resolve().parent / "data"
DATA_FILES = sorted(DATA.glob("*.xml"))


@pytest.fixture(scope="session")
def jvm() -> None:
    """MPXJ in a running JVM; tests that need it are skipped, saying why, when it cannot run."""
    problem = mpxj_problem()
    if problem:
        pytest.skip(f"MPXJ cross-check needs Java and the mpxj extra: {problem}")
    ensure_jvm()


def connector(tmp_path: Path, *, links: dict[str, str] | None = None, **settings: Any) -> MSProjectConnector:
    config = MSProjectConfig.model_validate(settings)
    from pmsync.config import shipped_mappings_dir

    context = ConnectorContext(
        source_name="schedules",
        config=config,
        mapping_dirs=(tmp_path / "mappings", shipped_mappings_dir()),
        base_dir=tmp_path,
        project_links=links or {},
    )
    return MSProjectConnector(context)


def records(items: Iterator[ExtractItem] | list[ExtractItem]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]
