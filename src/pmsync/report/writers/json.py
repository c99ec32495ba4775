"""The JSON writer: the report model itself, for dashboards, with a published JSON Schema.

Keys are sorted and the text ends with a newline, so the same report gives byte-identical files.
The schema ships as ``pmsync/report/report.schema.json`` (``pmsync report --schema`` prints it);
a test keeps the shipped file equal to the schema generated from :class:`~pmsync.report.model.Report`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pmsync.report.model import Report

SCHEMA_RESOURCE = "report.schema.json"
SCHEMA_ID = "https://pmsync.invalid/report.schema.json"


def report_dict(report: Report) -> dict[str, Any]:
    return report.model_dump(mode="json")


def json_text(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def json_bytes(report: Report) -> bytes:
    return json_text(report).encode("utf-8")


def schema_dict() -> dict[str, Any]:
    """The JSON Schema of the report's JSON (serialization mode: money is a number)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema


def schema_text() -> str:
    return json.dumps(schema_dict(), indent=2, sort_keys=True) + "\n"


def shipped_schema_text() -> str:
    return resources.files("pmsync.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
