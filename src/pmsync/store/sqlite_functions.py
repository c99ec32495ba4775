"""SQL functions pmsync registers on every SQLite connection of a store's engine.

SQLite has no decimal type; summing amounts as REAL would round them. :class:`DecimalSum` adds the
decimal strings exactly (:mod:`pmsync.store.totals` calls it in its ``GROUP BY``); the totals the
writer keeps (:mod:`pmsync.store.cost_deltas`) add and negate such sums with the two scalar
functions. They live apart from both the engine, which registers them, and their users, so neither
imports the other.
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


def decimal_add(left: Any, right: Any) -> str | None:
    """SQLite ``pmsync_decimal_add(a, b)``: the exact sum of two decimal strings (NULL counts as none)."""
    if left is None or right is None:
        return None if left is None and right is None else str(left if right is None else right)
    return str(Decimal(str(left)) + Decimal(str(right)))


def decimal_neg(value: Any) -> str | None:
    """SQLite ``pmsync_decimal_neg(a)``: the decimal string with its sign turned."""
    return None if value is None else str(-Decimal(str(value)))


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Called on every new SQLite connection of a store's engine."""
    dbapi_connection.create_aggregate("pmsync_decimal_sum", 1, DecimalSum)
    dbapi_connection.create_function("pmsync_decimal_add", 2, decimal_add, deterministic=True)
    dbapi_connection.create_function("pmsync_decimal_neg", 1, decimal_neg, deterministic=True)
