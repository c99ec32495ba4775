"""Records to stored rows and back: the source key, the JSON payload and its content hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from pmsync.errors import StoreError
from pmsync.model import RECORD_TYPES, Record, record_type_of

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


def canonical_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: the same record always hashes the same, whatever the key order."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def to_row(record: Record) -> StoredRow:
    text = canonical_json(record.model_dump(mode="json"))
    source = record.source
    return StoredRow(
        key=(record_type_of(record), source.system, source.instance, source.external_id),
        project=record.project,
        scope=record.scope,
        payload=EncodedJson(text),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_modified=record.source_modified,
    )


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
