"""What cost line totals group by, read out of a stored line's document on either dialect.

Shared by the totals a report reads (:mod:`pmsync.store.totals`) and the totals the writer keeps
(:mod:`pmsync.store.cost_deltas`), so that both group lines by the same fields, spelled the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import func, literal_column, type_coerce
from sqlalchemy.types import JSON, String

from pmsync.store.copy_text import copy_escaped

#: what totals are for: ``period`` (cost, earned value, phasing), ``task_code`` (cross-checks: actuals
#: and commitments), ``spend`` (contract burn and funding: actuals)
TotalsBy = Literal["period", "task_code", "spend"]
PURPOSES: tuple[TotalsBy, ...] = ("period", "task_code", "spend")

#: every total carries these (the valid-time rules read the last two)
_ALWAYS = ("kind", "currency", "source.system", "source.instance", "created_at", "history")
#: the payload fields each purpose groups by, besides the date buckets
KEY_SETS: dict[TotalsBy, tuple[str, ...]] = {
    "period": (*_ALWAYS, "category", "fiscal_year", "fiscal_period"),
    "task_code": (*_ALWAYS, "task_code"),
    "spend": (*_ALWAYS, "vendor", "po_number", "account", "fiscal_year"),
}
#: the kinds each purpose sums (``None``: all)
KINDS: dict[TotalsBy, tuple[str, ...] | None] = {
    "period": None,
    "task_code": ("actual", "commitment"),
    "spend": ("actual",),
}


#: every field some purpose groups by, in the order a line's values are kept: those read off a
#: validated line first (:data:`LINE_PATHS`), then the two a line of the direct path never has
#: (``created_at`` and ``history``, :data:`NO_MOMENT_NOR_HISTORY`)
_CONSTANT_PATHS = (("created_at",), ("history",))
LINE_PATHS: tuple[str, ...] = tuple(
    sorted(
        {path for purpose in KEY_SETS for path in KEY_SETS[purpose]}
        - {".".join(steps) for steps in _CONSTANT_PATHS},
        key=lambda path: (path.count("."), path),
    )
)
FACT_PATHS: tuple[tuple[str, ...], ...] = (*(tuple(p.split(".")) for p in LINE_PATHS), *_CONSTANT_PATHS)
#: the values of ``created_at`` and ``history`` on a line without either
NO_MOMENT_NOR_HISTORY: tuple[None, bool] = (None, False)
_HISTORY = FACT_PATHS.index(("history",))
#: where the line's kind is among its values
KIND_AT = FACT_PATHS.index(("kind",))

#: what the totals read of one cost line: its amount (decimal text), the date it counts from (its
#: posting date, else its period; ISO text or None) and the groups it falls in, one per purpose of
#: :data:`PURPOSES` that sums its kind, each as the ``COPY`` text of its :data:`GROUP_COLUMNS`.
#:
#: Made in the reading process for every line of an export: the writer of a first load waits on the
#: database and the database on it, so their work is the load's critical path, while the reading
#: process has time to spare. Given a line's groups as text, the writer's part is a dictionary
#: update per group (:class:`pmsync.store.cost_deltas.PendingTotals`).
LineFacts = tuple[str, str | None, tuple[str, ...]]

#: per purpose: the kinds it sums (``None``: all; then it is also by period month), and where its
#: fields are among a line's values
_PICKS: tuple[tuple[TotalsBy, tuple[str, ...] | None, Any], ...] = tuple(
    (
        purpose,
        KINDS[purpose],
        itemgetter(*(FACT_PATHS.index(tuple(path.split("."))) for path in KEY_SETS[purpose])),
    )
    for purpose in PURPOSES
)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def key_text(fields: Sequence[Any]) -> str:
    """A group's fields as a JSON array: the same text for the same values on both dialects (what
    ``json.dumps`` gives, spelled out for the common types, since it runs per line)."""
    parts = []
    for value in fields:
        if value is None:
            parts.append("null")
        elif value is True or value is False:
            parts.append("true" if value else "false")
        elif type(value) is str:
            parts.append(encode_basestring(value))
        elif type(value) is int:
            parts.append(str(value))
        else:
            parts.append(_JSON(value))
    return "[" + ",".join(parts) + "]"


# -- a group as text: the columns of a ``cost_deltas`` row that name the group ---------------------

#: the ``cost_deltas`` columns a group's text (:data:`LineFacts`) holds, in its order
GROUP_COLUMNS = ("purpose", "k", "month", "period_month", "project")


def line_facts(
    project: str | None, amount: str, posted: str | None, period: str | None, values: Sequence[Any]
) -> LineFacts:
    """:data:`LineFacts` of a line of ``project`` whose :data:`FACT_PATHS` are ``values``."""
    day = period if posted is None else posted
    period_day = posted if period is None else period
    month = "" if day is None else day[:7]
    period_month = "" if period_day is None else period_day[:7]
    kind = values[KIND_AT]
    owner = "" if project is None else copy_escaped(project)
    # each group as the tab-separated COPY text of GROUP_COLUMNS
    groups = tuple(
        f"{purpose}\t{_copy_key(pick(values))}\t{month}\t{period_month if kinds is None else ''}\t{owner}"
        for purpose, kinds, pick in _PICKS
        if kinds is None or kind in kinds
    )
    return (amount, day, groups)


#: keys already written as COPY text (most lines share theirs with many others); emptied when this
#: large
_KEYS_KEPT = 100_000
_keys: dict[tuple[Any, ...], str] = {}


def _copy_key(fields: tuple[Any, ...]) -> str:
    text = _keys.get(fields)
    if text is None:
        if len(_keys) >= _KEYS_KEPT:
            _keys.clear()
        text = _keys[fields] = copy_escaped(key_text(fields))
    return text


def facts_of_document(payload: Mapping[str, Any], project: str | None) -> LineFacts:
    """:data:`LineFacts` of a stored line's JSON document, held by ``project`` (its ``records`` row's)."""
    values = []
    for steps in FACT_PATHS:
        node: Any = payload
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
        values.append(node)
    values[_HISTORY] = bool(values[_HISTORY])
    return line_facts(
        project, str(payload.get("amount")), payload.get("posting_date"), payload.get("period"), values
    )


def payload_field(payload: Any, path: str, sqlite: bool) -> Any:
    """A field of the stored JSON as text (``->>``), on either dialect."""
    if sqlite:
        return payload.op("->>", return_type=String())(f"$.{path}")
    node: Any = payload
    for step in path.split("."):
        node = node[step]
    return node.as_string()


def group_key(payload: Any, paths: Sequence[str], sqlite: bool) -> Any:
    """The grouped fields as one JSON array (SQLite parses the document once for all of them)."""
    if sqlite:
        return func.json_extract(payload, *(f"$.{p}" for p in paths))
    parts = []
    for path in paths:
        node: Any = payload
        for step in path.split("."):
            node = node[step]
        parts.append(node)
    return type_coerce(func.jsonb_build_array(*parts), JSON)


def line_day(payload: Any) -> Any:
    """The date a line counts from (posting date, else period), as ISO text.

    Spelled ``payload ->> 'posting_date'`` on both dialects (SQLite reads a bare label as ``$.label``)
    and with literal labels, not parameters: it is the very expression of the index of cost lines by
    date (:data:`pmsync.store.schema.records`), and SQLite and PostgreSQL use an index on an
    expression only for a query that repeats it."""
    return func.coalesce(
        payload.op("->>", return_type=String())(literal_column("'posting_date'")),
        payload.op("->>", return_type=String())(literal_column("'period'")),
    )
