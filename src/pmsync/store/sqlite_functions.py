"""SQL functions pmsync registers on every SQLite connection of a store's engine.

SQLite has no decimal type; summing amounts as REAL would round them. :class:`DecimalSum` adds the
decimal strings exactly (:mod:`pmsync.store.totals` calls it in its ``GROUP BY``, and sums the
totals the writer keeps with it). It lives apart from both the engine, which registers it, and the
totals, which use it, so neither imports the other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class DecimalSum:
    """SQLite aggregate ``pmsync_decimal_sum(text)``: the exact sum of decimal strings, as text."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: Any) -> None:
        if value is not None:
            self.total += Decimal(str(value))

    def finalize(self) -> str:
        return str(self.total)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Called on every new SQLite connection of a store's engine."""
    dbapi_connection.create_aggregate("pmsync_decimal_sum", 1, DecimalSum)
