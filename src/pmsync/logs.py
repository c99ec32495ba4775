"""Logging: text on a terminal, JSON lines under cron, and secrets redacted in one place.

Every secret pmsync reads (from the environment, a file, or a token endpoint) is registered with
:func:`register_secret`; the :class:`RedactingFilter` installed on the root handler replaces any
registered value, and credentials embedded in URLs, before a record is formatted.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "redact",
    "register_secret",
]

_SECRETS: set[str] = set()
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<cred>[^/@\s:]+(:[^/@\s]*)?)@", re.I)
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic)\s+[^\s'\",}]+")
REDACTED = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is never written to a log line or error message."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret, URL credential and Authorization value replaced."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)} {REDACTED}", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus any ``extra={...}`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["traceback"] = record.exc_text
        return redact(json.dumps(payload, default=str))


def configure_logging(*, verbosity: int = 0, log_format: str = "text") -> None:
    """Set up the root logger once per process (``-v`` → debug, ``-q`` → warnings only)."""
    level = logging.INFO
    if verbosity > 0:
        level = logging.DEBUG
    elif verbosity < 0:
        level = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_pmsync", False):
            root.removeHandler(old)
    handler._pmsync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # pmsync's own loggers follow the root: a level left on them by an embedding program or an earlier
    # call (a test asking for DEBUG) would otherwise outlive this configuration, and a later command
    # without -v would print debug tracebacks.
    logging.getLogger("pmsync").setLevel(logging.NOTSET)
    # Third-party HTTP clients log request URLs and headers at debug level; keep them at warning.
    for noisy in ("urllib3", "msal", "jira", "requests_oauthlib", "alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
