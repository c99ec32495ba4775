"""The connector protocol: how a source system becomes a stream of normalized records.

A connector is a small class with:

- ``system``: the system name it reads (``jira``, ``msproject``, ``finance_file``, ...);
- ``Config``: a pydantic model of its block in pmsync.yaml (``extra="forbid"``; secrets as ``SecretStr``).
  ``name``, ``type`` and ``enabled`` are pmsync's keys of every block: they are passed to the model only
  when it declares them (the source's name is also ``context.source_name``). ``${VAR}`` references are
  resolved before validation, and only when the source is used;
- ``__init__(context)``: receives a :class:`ConnectorContext` (source name, validated config, where the
  mappings are, the store-independent helpers it may use);
- ``check()``: what ``pmsync doctor`` runs: reachability, auth, permissions, mapping validity;
- ``extract(cursor)``: a generator of :data:`ExtractItem` for the given cursor;
- optionally ``reads_in_process = True``: its extract is CPU work (parsing files), so the sync engine
  runs it in a second process beside the store's writes (:mod:`pmsync.extract_process`).

The stream contains records (upserts) and a few markers the sync engine understands:

- :class:`Checkpoint` — everything yielded so far may be committed together with this cursor. The
  engine writes records and advances the cursor in one transaction at each checkpoint, so a crash
  leaves the last consistent state and a rerun continues from the last committed cursor. The cursor of
  the last checkpoint is the run's next cursor; a connector that yields none leaves the cursor as is.
- :class:`Seen` — the record still exists at the source, unchanged (lets a connector prove presence
  without re-sending the payload, e.g. a key-only scan for deletions).
- :class:`Deleted` — the record was deleted at the source.
- :class:`SnapshotComplete` — the connector has now yielded (or marked :class:`Seen`) every record that
  exists in ``scope``; live records of that scope not yielded in this run are marked deleted.
- :class:`SkippedRow` — a bad input row the user chose to skip; listed in the run ledger.

Most connectors need not write the set-up around this protocol: :mod:`pmsync.connector_kit` is an
optional base class (config, mappings, secrets, HTTP on the retry policy, doctor lines), and
:mod:`pmsync.testing` the conformance suite that proves a connector keeps the guarantees above.

Built-in connectors are listed in :data:`BUILTIN_CONNECTORS` and imported only when a configured source
uses them. Third-party connectors register under the ``pmsync.connectors`` entry-point group, or a
source's ``type`` may be a ``package.module:Class`` path.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from pmsync.errors import ConfigError
from pmsync.model import Record, SourceRef

__all__ = [
    "BUILTIN_CONNECTORS",
    "ENTRY_POINT_GROUP",
    "CheckResult",
    "Checkpoint",
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "Cursor",
    "Deleted",
    "ExtractItem",
    "Seen",
    "SkippedRow",
    "SnapshotComplete",
    "available_connector_types",
    "load_connector_class",
]

#: a cursor is JSON-serializable connector state (e.g. ``{"updated": "2026-11-01T10:00:00+00:00"}``)
Cursor = dict[str, Any]


class ConnectorConfig(BaseModel):
    """Base for connector config models: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Checkpoint:
    cursor: Cursor


@dataclass(frozen=True)
class Seen:
    record_type: str
    source: SourceRef


@dataclass(frozen=True)
class Deleted:
    record_type: str
    source: SourceRef


@dataclass(frozen=True)
class SnapshotComplete:
    scope: str
    #: restrict the deletion sweep to these record types; ``None`` means all types in the scope
    record_types: frozenset[str] | None = None


@dataclass(frozen=True)
class SkippedRow:
    where: str
    reason: str


ExtractItem = Record | Seen | Deleted | SnapshotComplete | Checkpoint | SkippedRow


@dataclass(frozen=True)
class CheckResult:
    """One line of ``pmsync doctor``: what was checked, whether it passed, and how to fix it."""

    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str = ""
    fix: str = ""


@dataclass
class ConnectorContext:
    """What a connector gets from the core: its name, validated config, and where things are."""

    source_name: str
    config: ConnectorConfig
    #: folders searched for mapping files, user's first; the shipped defaults last
    mapping_dirs: tuple[Path, ...] = ()
    #: folder pmsync.yaml lives in; relative paths in connector configs are relative to it
    base_dir: Path = field(default_factory=Path.cwd)
    #: pmsync project keys by their key in this source system: every ``projects[].links`` entry listed
    #: under this source's *name* or its *type* (``links: {munis: [P-100]}`` gives ``{"P-100": "ERP"}``)
    project_links: Mapping[str, str] = field(default_factory=dict)
    #: first month of the fiscal year (1-12), for connectors that assign fiscal periods
    fiscal_year_start_month: int = 1
    #: the agency's IANA time zone (pmsync.yaml ``reporting.time_zone``): a source's date-only values
    #: (a due date, a posting date) are days in this zone, not UTC days
    time_zone: str = "UTC"
    #: this run re-reads everything (``pmsync sync --full-refresh``, cursor ``{}``) over a store that may
    #: hold data: a connector that skips sweeps on a first load should sweep what it restates
    full_refresh: bool = False
    #: the user confirmed this run's deletions (``pmsync sync --allow-deletions``): a connector's own
    #: guard against believing an empty answer (e.g. Jira's empty deletion scan) lets it through too
    allow_deletions: bool = False
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("pmsync.connector"))


@runtime_checkable
class Connector(Protocol):
    system: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]

    def __init__(self, context: ConnectorContext) -> None: ...

    def check(self) -> list[CheckResult]: ...

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]: ...


#: built-in connectors by source ``type``; values are import paths so nothing is imported until used
BUILTIN_CONNECTORS: dict[str, str] = {
    "jira": "pmsync.connectors.jira:JiraConnector",
    "msproject": "pmsync.connectors.msproject:MSProjectConnector",
    "planner": "pmsync.connectors.planner:PlannerConnector",
    "dataverse": "pmsync.connectors.dataverse:DataverseConnector",
    "finance_file": "pmsync.connectors.finance_file:FinanceFileConnector",
    "finance_sql": "pmsync.connectors.finance_sql:FinanceSqlConnector",
    "oversight_file": "pmsync.connectors.oversight_file:OversightFileConnector",
    "oversight_sharepoint": "pmsync.connectors.oversight_sharepoint:OversightSharePointConnector",
}

ENTRY_POINT_GROUP = "pmsync.connectors"


def available_connector_types() -> list[str]:
    """Every source ``type`` that can be configured: built-ins and installed plugins."""
    names = set(BUILTIN_CONNECTORS)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def _import_path(path: str, *, what: str) -> Any:
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ConfigError(f"{what}: {path!r} is not of the form 'package.module:Class'", record="type")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{what}: cannot import {module_name!r}: {exc}",
            hint="is the package that provides it installed?",
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ConfigError(f"{what}: {module_name!r} has no {attr!r}") from exc


def load_connector_class(type_name: str) -> type[Connector]:
    """The connector class for a source ``type``: built-in, entry point, or ``module:Class`` path."""
    if type_name in BUILTIN_CONNECTORS:
        cls = _import_path(BUILTIN_CONNECTORS[type_name], what=f"connector {type_name!r}")
    else:
        matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == type_name]
        if matches:
            cls = matches[0].load()
        elif ":" in type_name:
            cls = _import_path(type_name, what=f"connector {type_name!r}")
        else:
            raise ConfigError(
                f"unknown source type {type_name!r}",
                hint="expected one of: " + ", ".join(available_connector_types()),
            )
    if not (isinstance(cls, type) and hasattr(cls, "Config") and hasattr(cls, "extract")):
        raise ConfigError(f"{type_name!r} does not name a pmsync connector class")
    connector_class: type[Connector] = cls
    return connector_class
