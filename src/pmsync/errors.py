"""One error hierarchy for pmsync.

Every error carries *where* it happened (the source, and the record or file concerned) and *what the
user should do*, so the CLI can print one clear line and pick an exit code without a traceback.

    PmsyncError
    ├── ConfigError            pmsync.yaml is missing, malformed, or names something that does not exist
    ├── MappingError           a mappings/*.yaml file is malformed or names an unknown field/value
    ├── ConnectorError         talking to a source system failed
    │   ├── AuthError          401/403, bad or expired credentials, missing permission: fix credentials
    │   ├── RetriableSourceError  429/5xx/timeouts: the same call may work later (carries retry_after)
    │   └── SourceDataError    the source sent something pmsync cannot read (bad file, bad row, bad JSON)
    │       └── MassDeletionError  a run would delete too much of a scope (an empty or partial answer?)
    ├── StoreError             the database could not be read or written (includes lock contention)
    │   └── SourceLockedError  another run holds the lock for this source
    ├── ReconcileError         baselines / measures could not be computed (e.g. no approved baseline)
    ├── ReportError            a report could not be built or rendered
    │   └── ReportIncompleteError  data missing at the status date: written, not published
    └── PublishError           a report could not be published to its destination
"""

from __future__ import annotations

import pickle

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "MappingError",
    "MassDeletionError",
    "PmsyncError",
    "PublishError",
    "ReconcileError",
    "ReportError",
    "ReportIncompleteError",
    "RetriableSourceError",
    "SourceDataError",
    "SourceLockedError",
    "StoreError",
    "survives_pickling",
    "without_source",
]


class PmsyncError(Exception):
    """Root of every error pmsync raises on purpose.

    ``source`` names the configured source (or target) concerned, ``record`` the record, file, row or
    key concerned, and ``hint`` what the user can do about it. ``str(error)`` gives one line that says
    all three, suitable for a log line or the CLI.
    """

    #: process exit code the CLI uses when this error ends a command
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.record = record
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(f"source {self.source!r}")
        if self.record:
            where.append(str(self.record))
        text = f"{': '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class ConfigError(PmsyncError):
    """pmsync.yaml (or an option) is wrong; ``record`` is the key path, e.g. ``sources[0].url``."""

    exit_code = 3


class MappingError(PmsyncError):
    """A mapping file is wrong; ``record`` is ``file: key`` and the message lists allowed values."""

    exit_code = 3


class ConnectorError(PmsyncError):
    """A source system could not be read."""


class AuthError(ConnectorError):
    """Credentials were refused, expired, or lack a permission (the message names it)."""


class RetriableSourceError(ConnectorError):
    """Throttling, a transient server error or a timeout; ``retry_after`` is in seconds when known."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, source=source, record=record, hint=hint)
        self.retry_after = retry_after


class SourceDataError(ConnectorError):
    """The source returned data pmsync cannot read; ``record`` names the file/row/issue."""


class MassDeletionError(SourceDataError):
    """A run would empty a scope or shrink it beyond ``sync.deletion_guard``; nothing was deleted."""


class StoreError(PmsyncError):
    """The store could not be read or written."""


class SourceLockedError(StoreError):
    """Another sync run holds the lock for this source; this run did nothing."""


class ReconcileError(PmsyncError):
    """A measure or baseline operation could not be done."""


class ReportError(PmsyncError):
    """A report could not be built or rendered."""


class ReportIncompleteError(ReportError):
    """The report has projects or sources with no data valid at its status date; it was written but
    not published (``--allow-incomplete`` publishes it anyway)."""

    exit_code = 6


class PublishError(PmsyncError):
    """A report could not be published."""


def without_source(text: str, source: str) -> str:
    """``text`` without the leading ``source 'NAME': `` an error adds, for a line that already starts
    with the source's name (``jira: FAILED: ...``), so no line says the source twice."""
    return text.removeprefix(f"source {source!r}: ")


def survives_pickling(exc: BaseException) -> bool:
    """Whether ``exc`` comes out of a pipe to another process as itself (pmsync's errors do, with
    source, record and hint); a child process describes one that does not instead of sending it."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return type(copy) is type(exc) and str(copy) == str(exc)
