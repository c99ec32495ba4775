"""Shared fixtures: ``store_url`` / ``store`` on SQLite and on a real PostgreSQL.

``store_url`` is parametrized: ``[sqlite]`` is a file in the test's tmp dir; ``[postgres]`` is a fresh,
uniquely named database created on the server at ``$PMSYNC_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and dropped afterwards. When the server cannot be
reached the postgres variants are skipped, saying why.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmsync import clock
from pmsync.store import Store

TESTS_DIR = str(Path(__file__).resolve().parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from suite_clock import TEST_NOW  # noqa: E402 - needs the folder on sys.path first

# The suite's pinned clock (suite_clock.TEST_NOW), for this process and every pmsync process a test
# starts (the offset crosses process boundaries).
os.environ[clock.OFFSET_ENV_VAR] = str(clock.offset_to(TEST_NOW))
os.environ.pop(clock.NOW_ENV_VAR, None)

# Test connectors are configured by import path (e.g. ``core.pmsync_testconnector:CountingConnector``),
# in this process and in ``pmsync`` subprocesses (which get this folder on PYTHONPATH), whatever
# pytest's import mode (TESTS_DIR is put on sys.path above).

POSTGRES_URL_ENV = "PMSYNC_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

_postgres_problem: str | None = None
_postgres_checked = False


def postgres_server_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


def _plain(url: str) -> str:
    """psycopg wants ``postgresql://``; SQLAlchemy URLs may say ``postgresql+psycopg://``."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or ``None`` when the server answers."""
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_checked = True
        try:
            import psycopg

            with psycopg.connect(_plain(postgres_server_url()), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:  # any failure means: skip, and say why
            _postgres_problem = (
                f"PostgreSQL not reachable at {postgres_server_url()} ({type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); set {POSTGRES_URL_ENV}"
            )
    return _postgres_problem


def create_postgres_database() -> tuple[str, str]:
    """A new empty database on the test server; returns (its SQLAlchemy URL, its name)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pmsync_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_plain(postgres_server_url()), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_plain(postgres_server_url())).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), name


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(_plain(postgres_server_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _suite_clock() -> Iterator[None]:
    """Every test starts on the suite's pinned clock, whatever an earlier test pinned."""
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store: a SQLite file, or a fresh PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pmsync.db'}"
        return
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An opened (migrated) store on ``store_url``; closed after the test."""
    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.close()
