"""One typed model of Project's custom fields (Text1, Cost3, Enterprise Duration2, Outline Code1, ...)
for both readers.

The two readers met custom fields differently: from MSPDI, enterprise costs stayed raw strings
("900" for 9.00) and durations ``PT8H0M0S``; through MPXJ, enterprise fields were dropped and every
task got ``Cost1``-``Cost10 = 0``, durations ``1.0d``. Now both produce a :class:`CustomFieldValue`
of one :data:`CustomKind`, and the records turn it into one representation:

- text and outline codes: text;
- numbers: numbers; costs: currency units (MSPDI stores hundredths, like every MSPDI currency);
- flags: true/false; dates (Date, Start, Finish fields): ``YYYY-MM-DD``;
- durations: working days at the schedule's hours per day (elapsed durations in calendar days),
  as every other duration pmsync reads.

A value equal to its kind's default (0, false, empty) is kept only when the file defines the field
(an alias, a definition in MSPDI's ``ExtendedAttributes``): .mpp files answer 0 for every cost and
number field whether or not anyone used it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from .schedule import CustomDuration, CustomFieldValue, CustomKind, iso_duration_minutes

__all__ = [
    "KIND_BY_MPXJ_TYPE",
    "TASK_FIELD_NAMES",
    "CustomDuration",
    "CustomFieldValue",
    "CustomKind",
    "is_default",
    "kind_of",
    "parse_mspdi",
]

_KIND_BY_NAME: dict[str, CustomKind] = {
    "text": "text",
    "number": "number",
    "cost": "cost",
    "flag": "flag",
    "date": "date",
    "start": "date",
    "finish": "date",
    "duration": "duration",
    "outlinecode": "outline_code",
}
_NAME = re.compile(r"^(?:enterprise\s*)?(?:project\s*)?([a-z ]+?)\s*\d+$")

#: MPXJ DataType name → kind, for fields whose name does not say (enterprise custom fields)
KIND_BY_MPXJ_TYPE: dict[str, CustomKind] = {
    "STRING": "text",
    "NUMERIC": "number",
    "INTEGER": "number",
    "SHORT": "number",
    "CURRENCY": "cost",
    "BOOLEAN": "flag",
    "DATE": "date",
    "DURATION": "duration",
}


#: Project's task custom field ids (the ``PjField`` enumeration MSPDI's ``FieldID`` uses), as runs of
#: (first id, field family, first number, count, id step): ``Text1`` is 188743731, ``Text2`` 3 later.
#: An MSPDI file may carry values of fields it has no ``ExtendedAttributes`` definition for (enterprise
#: fields published from Project Server); this names them. Checked against MPXJ's field table.
_TASK_FIELD_RUNS: tuple[tuple[int, str, int, int, int], ...] = (
    (188743731, "Text", 1, 6, 3),
    (188743732, "Start", 1, 5, 3),
    (188743733, "Finish", 1, 5, 3),
    (188743747, "Text", 7, 4, 1),
    (188743752, "Flag", 1, 10, 1),
    (188743767, "Number", 1, 5, 1),
    (188743783, "Duration", 1, 3, 1),
    (188743786, "Cost", 1, 3, 1),
    (188743938, "Cost", 4, 7, 1),
    (188743945, "Date", 1, 10, 1),
    (188743955, "Duration", 4, 7, 1),
    (188743962, "Start", 6, 5, 2),
    (188743963, "Finish", 6, 5, 2),
    (188743972, "Flag", 11, 10, 1),
    (188743982, "Number", 6, 15, 1),
    (188743997, "Text", 11, 20, 1),
    (188744096, "Outline Code", 1, 10, 2),
    (188744279, "Enterprise Cost", 1, 10, 1),
    (188744289, "Enterprise Date", 1, 30, 1),
    (188744319, "Enterprise Duration", 1, 10, 1),
    (188744339, "Enterprise Flag", 1, 20, 1),
    (188744379, "Enterprise Number", 1, 40, 1),
    (188744419, "Enterprise Outline Code", 1, 30, 2),
    (188744479, "Enterprise Text", 1, 40, 1),
)
TASK_FIELD_NAMES: dict[int, str] = {
    first + step * k: f"{family}{number + k}"
    for first, family, number, count, step in _TASK_FIELD_RUNS
    for k in range(count)
}


def kind_of(field_name: str) -> CustomKind:
    """The kind a field name says (``Enterprise Cost3`` → cost, ``Outline Code1`` → outline code);
    text when it says none (named enterprise fields)."""
    match = _NAME.match(field_name.strip().lower())
    if match is None:
        return "text"
    return _KIND_BY_NAME.get(match.group(1).replace(" ", ""), "text")


def parse_mspdi(
    kind: CustomKind,
    text: str,
    elapsed: bool = False,
    duration: Callable[[str], float] = iso_duration_minutes,
) -> CustomFieldValue:
    """An MSPDI ``ExtendedAttribute/Value`` as a typed value; text when it does not parse as its kind
    (a value Project would not write is shown as written rather than lost)."""
    raw = text.strip()
    try:
        if kind == "number":
            return float(raw)
        if kind == "cost":
            return Decimal(raw) / 100
        if kind == "flag":
            return raw.lower() in ("1", "true", "yes")
        if kind == "date":
            return datetime.fromisoformat(raw)
        if kind == "duration":
            return CustomDuration(duration(raw), elapsed)
    except (ValueError, InvalidOperation):
        return text
    return text


def is_default(value: CustomFieldValue) -> bool:
    """0, false, an empty text or a zero duration: what an unused field reads as."""
    if isinstance(value, CustomDuration):
        return value.minutes == 0
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, datetime):
        return False
    return value == 0
