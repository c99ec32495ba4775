"""Graph's wire conventions for the sandbox SharePoint: the error JSON and JSON request/response
bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.graph_sharepoint_state import iso, now


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def graph_error_body(status: int, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """Graph's error JSON; used for injected faults too."""
    codes = {401: "InvalidAuthenticationToken", 404: "itemNotFound", 429: "activityLimitReached",
             503: "serviceNotAvailable"}  # fmt: skip
    return {
        "error": {
            "code": code or codes.get(status, "generalException"),
            "message": message or f"The request failed with status {status}.",
            "innerError": {"date": iso(now()), "request-id": str(uuid.uuid4())},
        }
    }


def json_response(body: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(json.dumps(body), status=status, headers=list(headers), content_type="application/json")


def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
    return body
