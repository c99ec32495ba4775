"""PostgreSQL's ``COPY`` text format, written and read in Python.

The writer sends rows to PostgreSQL with ``COPY ... FROM STDIN`` in this format, formatted here
rather than by psycopg's ``write_row``, which dumps value by value: formatting a first load's
10^6 ``records`` rows took the writer 3.6 s, the f-strings here 1.4 s; and the writer and the
database take turns, so that time is the load's. The format: fields separated by a tab, rows ended
by a line end, ``\\N`` for a null, and a backslash, tab or line end inside a field escaped with a
backslash (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format").
"""

from __future__ import annotations

import re
from datetime import datetime

#: a null field
NULL = "\\N"

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escaped(text: str) -> str:
    """``text`` as a field (backslash, tab and line ends escaped)."""
    return (
        text.translate(_COPY_ESCAPES)
        if ("\\" in text or "\t" in text or "\n" in text or "\r" in text)
        else text
    )


def copy_fields(text: str) -> list[str]:
    """The fields of a ``COPY`` text line (without its line end), unescaped: :func:`copy_escaped`
    reversed."""
    if "\\" not in text:
        return text.split("\t")
    return [_ESCAPED.sub(_unescaped, field) for field in text.split("\t")]


#: a backslash and the character it escapes: itself, but for t, n and r (what copy_escaped writes)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_CONTROLS = {"t": "\t", "n": "\n", "r": "\r"}


def _unescaped(escape: re.Match[str]) -> str:
    return _CONTROLS.get(escape[1], escape[1])


def copy_moment(moment: datetime | None) -> str:
    """A UTC moment as a ``timestamptz`` field (a naive one is refused, as the store refuses it)."""
    if moment is None:
        return NULL
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r} given to the store; pmsync stores UTC moments")
    return moment.isoformat()
