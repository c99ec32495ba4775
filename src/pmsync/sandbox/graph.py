"""The sandbox Microsoft Graph v1.0: one WSGI app that checks the bearer token and dispatches by path.

- ``POST /v1.0/$batch`` → :mod:`pmsync.sandbox.graph_batch` (JSON batching, up to 20 inner requests);
- ``/v1.0/groups/{id}/planner/plans`` and ``/v1.0/planner/...`` → :mod:`pmsync.sandbox.graph_planner`;
- ``/v1.0/users/{id}`` → :mod:`pmsync.sandbox.graph_users` (names for Planner's user ids);
- ``/v1.0/sites/...``, ``/v1.0/drives/...`` and the pre-authenticated ``/_sandbox/sharepoint/...``
  upload/download URLs → the SharePoint app from :mod:`pmsync.sandbox.graph_sharepoint`
  (``make_sharepoint_app(SharePointState)``), its data on ``state.sharepoint``. This module checks the
  token and the ``Sites.*`` permission before SharePoint sees a Graph call.

Errors use Graph's JSON shape: ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}``. Every request needs a valid access token whose audience is Graph; each route
names the application permissions (``roles``) that let a caller in, as Graph's permission tables do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.faults import FaultPlan, WSGIApp
from pmsync.sandbox.graph_batch import handle_batch
from pmsync.sandbox.identity import GRAPH_RESOURCE, IdentityState, InvalidBearer, TokenClaims

GRAPH_PREFIX = "/v1.0"
#: SharePoint's pre-authenticated upload-session and download URLs (graph_sharepoint.UPLOAD_PREFIX...)
PREAUTHENTICATED_PREFIX = "/_sandbox/sharepoint/"


class GraphState:
    """Everything the sandbox Graph serves: who may call it, Planner data, SharePoint data."""

    def __init__(self, identity: IdentityState, *, page_size: int = 100) -> None:
        from pmsync.sandbox.graph_planner import PlannerData

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


#: application permissions that open SharePoint through Graph (read routes accept the read ones too)
SHAREPOINT_WRITE = ("Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
SHAREPOINT_READ = ("Sites.Read.All", *SHAREPOINT_WRITE)


def _mount_sharepoint(state: GraphState) -> WSGIApp | None:
    """The SharePoint routes from :mod:`pmsync.sandbox.graph_sharepoint`, behind the same token and
    permission check as every Graph route; ``None`` while that module does not exist."""
    try:
        from pmsync.sandbox import graph_sharepoint
    except ImportError:
        return None
    if state.sharepoint is None:
        state.sharepoint = graph_sharepoint.SharePointState()
    inner = graph_sharepoint.make_sharepoint_app(state.sharepoint)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        # Upload-session and download URLs are pre-authenticated: no bearer token, as in SharePoint.
        if path.startswith(PREAUTHENTICATED_PREFIX):
            return inner(environ, start_response)
        request = Request(environ)
        reading = request.method in ("GET", "HEAD")
        claims = require_roles(request, state, SHAREPOINT_READ if reading else SHAREPOINT_WRITE)
        if isinstance(claims, Response):
            return claims(environ, start_response)
        return inner(environ, start_response)

    return app


def make_graph_app(state: GraphState, base_url: Callable[[], str]) -> WSGIApp:
    """Graph v1.0 as a WSGI app; ``base_url()`` gives the server's public https URL."""
    from pmsync.sandbox.graph_planner import make_planner_app
    from pmsync.sandbox.graph_users import make_users_app

    planner = make_planner_app(state)
    users = make_users_app(state)
    sharepoint = _mount_sharepoint(state)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        state.base_url = base_url()
        path: str = environ.get("PATH_INFO", "")
        if path == f"{GRAPH_PREFIX}/$batch" and environ.get("REQUEST_METHOD") == "POST":
            batch = handle_batch(
                Request(environ), recording, state.faults, fault_error_body, graph_error, on_inner=count_inner
            )
            return batch(environ, start_response)
        if path.startswith(f"{GRAPH_PREFIX}/planner/") or (
            path.startswith(f"{GRAPH_PREFIX}/groups/") and "/planner/" in path
        ):
            return planner(environ, start_response)
        if path.startswith(f"{GRAPH_PREFIX}/users/"):
            return users(environ, start_response)
        if sharepoint is not None and path.startswith(
            (f"{GRAPH_PREFIX}/sites", f"{GRAPH_PREFIX}/drives", f"{GRAPH_PREFIX}/drive")
        ):
            return sharepoint(environ, start_response)
        # Upload-session and download URLs live outside /v1.0 (on the tenant's host in real life).
        if sharepoint is not None and path.startswith(PREAUTHENTICATED_PREFIX):
            return sharepoint(environ, start_response)
        response = graph_error(
            400, "BadRequest", f"Resource not found for the segment '{path.rsplit('/', 1)[-1] or path}'."
        )
        return response(environ, start_response)

    def count_inner() -> None:
        state.batched_requests += 1

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if state.recorded is None:
            return app(environ, start_response)
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=int(status[:3]), headers=dict(headers))
            return start_response(status, headers, exc_info)

        body = b"".join(app(environ, capture))
        if "json" in str(seen.get("headers", {}).get("Content-Type", "")) and body:
            method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
            state.recorded.append((method, path, seen["status"], json.loads(body)))
        return [body]

    return recording
