"""Alembic environment: migrations always run on a connection pmsync opens (see ``pmsync.store.migrate``)."""

from __future__ import annotations

from alembic import context

from pmsync.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - pmsync always passes one
    raise RuntimeError("run migrations with `pmsync db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables when a migration needs it.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
