"""What every sandbox Graph route shares: the server's state, Graph's JSON error shape and response
headers, and the bearer token and permission check. Kept below :mod:`pmsync.sandbox.graph` (which
mounts the routes) so the route modules (Planner, users) import it without importing the router."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.faults import FaultPlan
from pmsync.sandbox.graph_planner_data import PlannerData
from pmsync.sandbox.identity import GRAPH_RESOURCE, IdentityState, InvalidBearer, TokenClaims


class GraphState:
    """Everything the sandbox Graph serves: who may call it, Planner data, SharePoint data."""

    def __init__(self, identity: IdentityState, *, page_size: int = 100) -> None:
        self.identity = identity
        #: token audiences Graph accepts: the real Graph resource and the sandbox's own URL
        self.audiences: set[str] = {GRAPH_RESOURCE}
        self.page_size = page_size
        self.planner = PlannerData()
        #: owned by pmsync.sandbox.graph_sharepoint (created by its make_sharepoint_app)
        self.sharepoint: Any = None
        #: the server's public base URL (``https://127.0.0.1:port``), set when served
        self.base_url = ""
        #: the server's fault plan, so faults also reach requests inside a $batch
        self.faults: FaultPlan | None = None
        #: requests answered inside a $batch (also listed in the fault plan's ``requests``)
        self.batched_requests = 0
        #: when a list, every JSON response is kept here as (method, path, status, body): a test checks
        #: each against Graph's v1.0 CSDL (inner $batch requests are recorded one by one)
        self.recorded: list[tuple[str, str, int, Any]] | None = None


def graph_error_body(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rid = request_id or str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": now, "request-id": rid, "client-request-id": rid},
        }
    }


_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "itemNotFound",
    409: "nameAlreadyExists",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def fault_error_body(status: int) -> dict[str, Any]:
    """Bodies for injected faults (429/5xx), as Graph words them."""
    messages = {
        429: "Too many requests. Please retry after the time specified in the Retry-After header.",
        503: "The service is temporarily unavailable. Please retry after the time in the Retry-After header.",
    }
    return graph_error_body(_CODES.get(status, "generalException"), messages.get(status, "Service error."))


def graph_error(status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A Graph error response."""
    return graph_json(status, graph_error_body(code, message), headers)


def graph_json(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=[("request-id", str(uuid.uuid4())), *headers],
        content_type="application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
        "charset=utf-8",
    )


def bearer_claims(request: Request, state: GraphState) -> TokenClaims | Response:
    """The caller's token claims, or the 401 Graph answers with."""
    try:
        return state.identity.check_bearer(request.headers.get("Authorization"), state.audiences)
    except InvalidBearer as exc:
        return graph_error(
            exc.status,
            exc.code,
            exc.message,
            [("WWW-Authenticate", 'Bearer realm="", error="invalid_token"')],
        )


def require_roles(request: Request, state: GraphState, any_of: Iterable[str]) -> TokenClaims | Response:
    """Claims if the token carries one of the application permissions ``any_of`` (or, for a delegated
    token, one of the same-named scopes); otherwise Graph's 401/403 response."""
    claims = bearer_claims(request, state)
    if isinstance(claims, Response):
        return claims
    wanted = list(any_of)
    # Delegated scopes drop the ".All" suffix for some permissions (Tasks.ReadWrite vs Tasks.ReadWrite.All).
    granted = set(claims.roles) | set(claims.scopes) | {f"{s}.All" for s in claims.scopes}
    if granted & set(wanted):
        return claims
    if not claims.roles and not claims.scopes:
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            "Either scp or roles claim need to be present in the token.",
        )
    return graph_error(
        403,
        "Forbidden",
        f"Missing role permissions on the request. API requires one of '{', '.join(wanted)}'. Roles on the "
        f"request '{', '.join(sorted(claims.roles | claims.scopes))}'.",
    )
