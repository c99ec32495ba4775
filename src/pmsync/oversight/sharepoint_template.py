"""SharePoint list templates for the inputs people maintain: one Microsoft Graph "create list" body per
kind (``POST /sites/{site-id}/lists``), with a column per field of the record, so a portfolio office
can keep its CIO ratings, findings, gate decisions, benefits and staffing in SharePoint lists shaped
like the CSV templates. ``python -m pmsync.oversight.sharepoint_template <folder>`` writes them."""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmsync.model import MaintainedInput, Record
from pmsync.oversight.kinds import KINDS

#: fields every record has that a person does not type in
_INTERNAL = set(Record.model_fields) - {"project"}
_TITLES = {
    "cio_ratings": "Oversight - CIO ratings",
    "findings": "Oversight - findings",
    "gate_decisions": "Oversight - gate decisions",
    "benefits_realised": "Oversight - benefits realised",
    "staffing": "Oversight - staffing",
}


def _facet(annotation: Any) -> dict[str, Any]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        annotation = args[0]
    if annotation is datetime:
        return {"dateTime": {"format": "dateTime"}}
    if annotation is date:
        return {"dateTime": {"format": "dateOnly"}}
    if annotation in (int, Decimal, float):
        return {"number": {}}
    if typing.get_origin(annotation) is typing.Literal:
        return {"choice": {"choices": [str(v) for v in typing.get_args(annotation)]}}
    return {"text": {}}


def list_template(kind: str) -> dict[str, Any]:
    """The Graph body that creates the list for ``kind`` (a key of the connector's ``KINDS``)."""
    model: type[MaintainedInput] = KINDS[kind]
    columns: list[dict[str, Any]] = [
        {"name": "project", "text": {}, "required": True, "indexed": True},
        {"name": "id", "text": {}, "required": True, "indexed": True},
    ]
    for name, field in model.model_fields.items():
        if name in _INTERNAL or name in ("record_type", "project"):
            continue
        columns.append({"name": name, **_facet(field.annotation), "required": field.is_required()})
    return {"displayName": _TITLES[kind], "columns": columns, "list": {"template": "genericList"}}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0] if args else ".")
    folder.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        (folder / f"{kind}.sharepoint-list.json").write_text(
            json.dumps(list_template(kind), indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
