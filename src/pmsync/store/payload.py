"""Records to stored rows and back: the source key, the JSON payload and its content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any

from pydantic import ValidationError

from pmsync.errors import SourceDataError, StoreError
from pmsync.model import RECORD_TYPES, CostLine, Record, record_type_of
from pmsync.store.cost_groups import LINE_PATHS, NO_MOMENT_NOR_HISTORY, LineFacts, line_facts

#: (record_type, system, instance, external_id)
RecordKey = tuple[str, str, str, str]
#: joins the key parts in ``records.source_key``; the unit separator does not occur in ids
KEY_SEPARATOR = "\x1f"


def source_key(key: RecordKey) -> str:
    """The single-column form of a record key (``records.source_key``)."""
    return KEY_SEPARATOR.join(key)


class EncodedJson:
    """A JSON document serialized once, canonically; the store's engine binds ``text`` as is.

    Serializing is the costliest step of an upsert, and a record's JSON is needed three times (its
    hash, its ``records`` row, its history row), so it is done once here.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def serialize_json(value: Any) -> str:
    """The engine's ``json_serializer``: pre-encoded documents pass through, anything else is dumped."""
    if isinstance(value, EncodedJson):
        return value.text
    return json.dumps(value)


@dataclass(frozen=True)
class StoredRow:
    key: RecordKey
    project: str | None
    scope: str
    payload: EncodedJson
    content_hash: str
    source_modified: datetime | None
    #: what the writer's cost totals read of a cost line, when made with its document (the writer
    #: otherwise parses the document again: a tenth of a first load's writing)
    facts: LineFacts | None = None


#: one encoder for every payload: ``json.dumps`` with options builds a new encoder per call
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(payload: dict[str, Any]) -> str:
    return _CANONICAL(payload)


def content_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: the same record always hashes the same, whatever the key order."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def to_row(record: Record) -> StoredRow:
    text = facts = None
    if type(record) is CostLine:
        text = _cost_line_json(record)
        facts = None if text is None else _cost_line_facts(record)
    if text is None:
        text = canonical_json(record.model_dump(mode="json"))
    source = record.source
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise _unpaired_surrogate(record) from None
    return StoredRow(
        key=(record_type_of(record), source.system, source.instance, source.external_id),
        project=record.project,
        scope=record.scope,
        payload=EncodedJson(text),
        content_hash=hashlib.sha256(encoded).hexdigest(),
        source_modified=record.source_modified,
        facts=facts,
    )


def _cost_line_facts(line: CostLine) -> LineFacts:
    """:func:`~pmsync.store.cost_groups.facts_of_document` of the document :func:`_cost_line_json`
    wrote for ``line`` (which has no moments and no history), read from the line itself.

    Runs in the reading process for every line of an export: the values are read in one call."""
    period, posting = line.period, line.posting_date
    return line_facts(
        line.project,
        str(line.amount),
        None if posting is None else posting.isoformat(),
        None if period is None else period.isoformat(),
        _LINE_VALUES(line) + NO_MOMENT_NOR_HISTORY,
    )


#: the line's own values of :data:`~pmsync.store.cost_groups.LINE_PATHS`, in that order
_LINE_VALUES = attrgetter(*LINE_PATHS)


#: the fields :func:`_cost_line_json` writes; a CostLine with other fields takes the general path
_COST_LINE_FIELDS = frozenset(
    {
        "source", "source_modified", "project", "scope", "url", "created_at", "history", "record_type",
        "kind", "amount", "currency", "period", "posting_date", "fiscal_year", "fiscal_period",
        "project_code", "account", "category", "vendor", "po_number", "task_code", "description",
    }
)  # fmt: skip
_COST_LINE_FAST = set(CostLine.model_fields) == _COST_LINE_FIELDS


def _cost_line_json(line: CostLine) -> str | None:
    """A cost line's canonical JSON written directly, the same text as ``canonical_json(line.
    model_dump(mode="json"))`` (a test compares the two on generated lines): a first load of 10^6
    finance lines spent a tenth of its time in pydantic's serializer and the generic encoder.

    ``None`` (the general path) for anything this does not write the way pydantic does: a moment
    (``source_modified``, ``created_at``), history, or values of other types than validation gives
    (a ``model_construct`` bypasses it); and for every line if ``CostLine`` gained a field.
    Written out field by field, without helpers: this runs once per line of a million-line export."""
    if not _COST_LINE_FAST or line.source_modified is not None or line.created_at is not None or line.history:
        return None
    amount, year, number = line.amount, line.fiscal_year, line.fiscal_period
    period, posting = line.period, line.posting_date
    if (
        type(amount) is not Decimal
        or (year is not None and type(year) is not int)
        or (number is not None and type(number) is not int)
        or (period is not None and type(period) is not date)
        or (posting is not None and type(posting) is not date)
    ):
        return None
    source, q = line.source, encode_basestring
    account, category, description = line.account, line.category, line.description
    po_number, project, project_code = line.po_number, line.project, line.project_code
    task_code, url, vendor = line.task_code, line.url, line.vendor
    try:
        return (
            f'{{"account":{"null" if account is None else q(account)},"amount":"{amount}",'
            f'"category":{"null" if category is None else q(category)},"currency":{q(line.currency)},'
            f'"description":{"null" if description is None else q(description)},'
            f'"fiscal_period":{"null" if number is None else number},'
            f'"fiscal_year":{"null" if year is None else year},"kind":{q(line.kind)},'
            f'"period":{"null" if period is None else q(period.isoformat())},'
            f'"po_number":{"null" if po_number is None else q(po_number)},'
            f'"posting_date":{"null" if posting is None else q(posting.isoformat())},'
            f'"project":{"null" if project is None else q(project)},'
            f'"project_code":{"null" if project_code is None else q(project_code)},'
            f'"record_type":"cost_line","scope":{q(line.scope)},"source":{{"external_id":'
            f'{q(source.external_id)},"instance":{q(source.instance)},"system":{q(source.system)}}},'
            f'"source_modified":null,"task_code":{"null" if task_code is None else q(task_code)},'
            f'"url":{"null" if url is None else q(url)},"vendor":{"null" if vendor is None else q(vendor)}}}'
        )
    except TypeError:  # a text field holding something else (model_construct)
        return None


def model_for(record_type: type[Record] | str) -> type[Record]:
    if isinstance(record_type, str):
        try:
            return RECORD_TYPES[record_type]
        except KeyError:
            raise StoreError(
                f"unknown record type {record_type!r}",
                hint="one of: " + ", ".join(sorted(RECORD_TYPES)),
            ) from None
    return record_type


def type_name(model: type[Record]) -> str:
    field = model.model_fields.get("record_type")
    if field is None or not isinstance(field.default, str):
        raise StoreError(f"{model.__name__} is not a concrete record type (it has no record_type)")
    return field.default


def from_payload(model: type[Record], payload: dict[str, Any], where: str) -> Record:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise StoreError(
            f"stored payload no longer matches the model: {exc.error_count()} problem(s), first: "
            f"{exc.errors()[0]['msg']}",
            record=where,
            hint="a newer pmsync may be needed, or re-sync the source",
        ) from exc


def first_string_path(value: Any, holds: Callable[[str], bool], path: str = "") -> str | None:
    """The path (``fields.summary``, ``history[2].note``) of the first string in a JSON-like value
    for which ``holds`` is true, or ``None``: to name the field of a record a store cannot hold."""
    if isinstance(value, str):
        return (path or "(value)") if holds(value) else None
    if isinstance(value, dict):
        items: Iterable[tuple[str, Any]] = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub_path, item in items:
        found = first_string_path(item, holds, sub_path)
        if found is not None:
            return found
    return None


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unpaired_surrogate(record: Record) -> SourceDataError:
    """Text that cannot be UTF-8 holds half of a surrogate pair: an answer whose text was cut in the
    middle of a character (half an emoji) and escaped as ``\\ud83d``. JSON decoders accept it; no
    store can hold it. Refused like a NUL, naming the record and the field, before anything is
    written (it used to surface as a bare UnicodeEncodeError naming neither)."""
    external_id = record.source.external_id
    path = first_string_path(record.model_dump(mode="json"), _not_utf8) or "(unknown)"
    return SourceDataError(
        f"{record_type_of(record)} {external_id!r}: field {path} holds half of a character (an "
        "unpaired surrogate, as when text is cut in the middle of an emoji), which no store can hold",
        record=external_id,
        hint="fix the value at the source; nothing of this batch was written",
    )
