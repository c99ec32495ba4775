"""The identity platform's wire format for the sandbox: Entra's OAuth error JSON (``error``,
``error_description`` starting ``AADSTS<n>:``, ``error_codes``) and small encoding helpers. The routes
are in :mod:`pmsync.sandbox.identity_app`."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request, Response


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def basic_auth(request: Request) -> tuple[str | None, str | None]:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return None, None
    return unquote_plus(auth.username or ""), unquote_plus(auth.password or "")


def json_response(status: int, body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=[("Cache-Control", "no-store"), *headers],
        content_type="application/json; charset=utf-8",
    )


def aad_error_body(error: str, code: int, description: str) -> dict[str, Any]:
    """Entra's OAuth error JSON (what msal hands back as a dict)."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: "
        f"{correlation_id} Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def aad_error(status: int, error: str, code: int, description: str) -> Response:
    return json_response(status, aad_error_body(error, code, description))


def identity_error_body(status: int) -> dict[str, Any]:
    """Bodies for injected faults (429/5xx) shaped as Entra shapes them."""
    if status == 429:
        return aad_error_body(
            "temporarily_unavailable",
            90055,
            "TenantThrottlingThreshold - The server is busy. Retry after the delay.",
        )
    return aad_error_body(
        "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."
    )
