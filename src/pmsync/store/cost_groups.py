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


#: every field some purpose groups by (those at the top of a line's document first)
FACT_PATHS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(path.split(".")) for purpose in KEY_SETS for path in KEY_SETS[purpose]},
        key=lambda steps: (len(steps), steps),
    )
)
_TOP = tuple(steps[0] for steps in FACT_PATHS if len(steps) == 1)
_NESTED = tuple(steps for steps in FACT_PATHS if len(steps) > 1)
_HISTORY = FACT_PATHS.index(("history",))

#: what the totals read of one cost line: its kind, amount (decimal text), posting date and period
#: (ISO text or None) and, per purpose of :data:`PURPOSES`, its key (:func:`key_text`; ``None``
#: where the purpose does not sum the line's kind)
LineFacts = tuple[Any, str, str | None, str | None, tuple[str | None, ...]]

#: where each purpose's fields are among :data:`FACT_PATHS`
_PICKS = tuple(
    itemgetter(*(FACT_PATHS.index(tuple(path.split("."))) for path in KEY_SETS[purpose]))
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


def line_facts(
    kind: Any, amount: str, posted: str | None, period: str | None, values: Sequence[Any]
) -> LineFacts:
    """:data:`LineFacts` of a line whose :data:`FACT_PATHS` are ``values``."""
    keys = tuple(
        None
        if KINDS[purpose] is not None and kind not in (KINDS[purpose] or ())
        else _cached_key(pick(values))
        for purpose, pick in zip(PURPOSES, _PICKS, strict=True)
    )
    return (kind, amount, posted, period, keys)


#: keys already written as text (most lines share theirs with many others); emptied when this large
_KEYS_KEPT = 100_000
_keys: dict[tuple[Any, ...], str] = {}


def _cached_key(fields: tuple[Any, ...]) -> str:
    text = _keys.get(fields)
    if text is None:
        if len(_keys) >= _KEYS_KEPT:
            _keys.clear()
        text = _keys[fields] = key_text(fields)
    return text


def facts_of_document(payload: Mapping[str, Any]) -> LineFacts:
    """:data:`LineFacts` of a stored line's JSON document."""
    values = list(map(payload.get, _TOP))
    for steps in _NESTED:
        node: Any = payload
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
        values.append(node)
    values[_HISTORY] = bool(values[_HISTORY])
    kind, amount = payload.get("kind"), str(payload.get("amount"))
    return line_facts(kind, amount, payload.get("posting_date"), payload.get("period"), values)


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
