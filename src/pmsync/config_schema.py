"""The JSON Schema of ``pmsync.yaml``, generated from the same pydantic models that validate it.

Editors use it for completion and inline errors (VS Code's YAML extension: ``# yaml-language-server:
$schema=...`` at the top of the file, see docs/core.md). Each ``sources[]`` entry is one of the
installed connectors' ``Config`` models, chosen by its ``type``; the ``governance``, ``reports`` and
``publish`` sections use the models their modules validate them with. A ``${VAR}`` reference is not
known to the schema, so a field whose value is one shows a type warning in an editor only when that
field is not a string (secrets are strings).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from pmsync.config import PmsyncConfig
from pmsync.connector import available_connector_types, load_connector_class
from pmsync.errors import ConfigError

SCHEMA_ID = "https://pmsync.invalid/schema/pmsync.yaml.json"


def _part(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` moved into the shared ``defs``."""
    for name, definition in schema.pop("$defs", {}).items():
        defs.setdefault(name, definition)
    return schema


def _source_schema(type_name: str, config: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    schema = _part(config.model_json_schema(), defs)
    properties = {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", "description": "unique name"},
        "type": {"const": type_name},
        "enabled": {"type": "boolean", "default": True},
        **schema.get("properties", {}),
    }
    return {
        "title": f"source of type {type_name}",
        "type": "object",
        "properties": properties,
        "required": ["name", "type", *schema.get("required", [])],
        "additionalProperties": False,
    }


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole ``pmsync.yaml``."""
    from pmsync.publish.config import PublishSection
    from pmsync.reconcile.governance import GovernanceConfig
    from pmsync.report.settings import ReportsConfig

    defs: dict[str, Any] = {}
    schema = _part(PmsyncConfig.model_json_schema(), defs)
    sources = []
    for type_name in available_connector_types():
        try:
            cls = load_connector_class(type_name)
        except ConfigError:  # a plugin that cannot be imported here: leave it out of the schema
            continue
        sources.append(_source_schema(type_name, cls.Config, defs))
    properties = schema["properties"]
    properties["sources"] = {
        "type": "array",
        "items": {"oneOf": sources},
        "description": "the sources to sync",
    }
    properties["governance"] = _part(GovernanceConfig.model_json_schema(), defs)
    properties["reports"] = _part(ReportsConfig.model_json_schema(), defs)
    properties["publish"] = _part(TypeAdapter(PublishSection).json_schema(), defs)
    for hidden in ("base_dir", "path"):
        properties.pop(hidden, None)
    # `links: {jira: ERP}` is read as `{jira: [ERP]}` (ProjectConfig's before-validator): allow both.
    links = defs.get("ProjectConfig", {}).get("properties", {}).get("links")
    if links is not None:
        links["additionalProperties"] = {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        }
    defs.pop("SourceConfig", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "pmsync.yaml",
        **schema,
        "$defs": dict(sorted(defs.items())),
    }


def config_schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=False) + "\n"
