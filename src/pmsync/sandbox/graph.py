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
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.faults import WSGIApp
from pmsync.sandbox.graph_batch import handle_batch
from pmsync.sandbox.graph_planner import make_planner_app
from pmsync.sandbox.graph_users import make_users_app
from pmsync.sandbox.graph_wire import (
    GraphState,
    bearer_claims,
    fault_error_body,
    graph_error,
    graph_error_body,
    graph_json,
    require_roles,
)

__all__ = [
    "GraphState",
    "bearer_claims",
    "fault_error_body",
    "graph_error",
    "graph_error_body",
    "graph_json",
    "make_graph_app",
    "require_roles",
]

GRAPH_PREFIX = "/v1.0"
#: SharePoint's pre-authenticated upload-session and download URLs (graph_sharepoint.UPLOAD_PREFIX...)
PREAUTHENTICATED_PREFIX = "/_sandbox/sharepoint/"


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
