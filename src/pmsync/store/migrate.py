"""Schema migrations with Alembic, run on the store's own connection.

The scripts live inside the package (``pmsync/store/migrations``) so they ship in the wheel.
:func:`upgrade` is what ``Store.open`` and ``pmsync db upgrade`` call; it holds the store-wide
migration lock so two processes opening a fresh database at once do not both create tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from pmsync.errors import StoreError
from pmsync.store.engine import write_transaction
from pmsync.store.lock import store_wide_lock

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # configparser interpolation: a '%' in the install path must be doubled
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the revision the database is now at."""
    current = current_revision(engine)
    if revision == "head" and current == head_revision():
        return current
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the store is at schema revision {current!r}, which this pmsync does not know",
            record=engine.url.render_as_string(hide_password=True),
            hint="a newer pmsync wrote it: upgrade pmsync (pip install -U pmsync)",
        )
    with store_wide_lock(engine, "migrate"), write_transaction(engine) as conn:
        command.upgrade(alembic_config(conn), revision)
    now = current_revision(engine)
    assert now is not None
    return now
