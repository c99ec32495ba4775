"""Sandbox Graph v1.0 users: ``GET /v1.0/users/{id | userPrincipalName}`` with ``$select``, for
turning the user ids Planner keeps (assignees, createdBy) into names.

Reading another user's profile as an app needs one of ``User.ReadBasic.All``, ``User.Read.All``,
``Directory.Read.All`` (Graph's "Get user" permission table); without it Graph answers 403
``Authorization_RequestDenied``. An id that is not a user of the tenant (someone deleted since they
were assigned) answers 404 ``Request_ResourceNotFound``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.graph_wire import GraphState, graph_error, graph_json, require_roles

USER_READ = ("User.ReadBasic.All", "User.Read.All", "Directory.Read.All")
_USER = re.compile(r"^/v1\.0/users/(?P<id>[^/]+)$")


def user_json(object_id: str, upn: str, display_name: str) -> dict[str, Any]:
    """A user as Graph's default projection shows it (the basic profile properties)."""
    return {
        "businessPhones": [],
        "displayName": display_name,
        "givenName": display_name.split(" ", 1)[0],
        "jobTitle": None,
        "mail": upn,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": display_name.split(" ", 1)[-1],
        "userPrincipalName": upn,
        "id": object_id,
    }


def make_users_app(state: GraphState) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:

    def handle(request: Request) -> Response:
        match = _USER.match(request.path)
        if match is None or request.method != "GET":
            return graph_error(400, "BadRequest", f"Resource not found for the segment '{request.path}'.")
        claims = require_roles(request, state, USER_READ)
        if isinstance(claims, Response):
            if claims.status_code == 403:
                return graph_error(
                    403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                )
            return claims
        wanted = match["id"].lower()
        user = next(
            (
                u
                for u in state.identity.users.values()
                if wanted in (u.object_id.lower(), u.user_principal_name.lower())
            ),
            None,
        )
        if user is None:
            return graph_error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{match['id']}' does not exist or one of its queried reference-property objects "
                "are not present.",
            )
        body = user_json(user.object_id, user.user_principal_name, user.display_name)
        select = [s.strip() for s in request.args.get("$select", "").split(",") if s.strip()]
        if select:
            body = {k: v for k, v in body.items() if k in select or k == "id"}
        return graph_json(
            200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", **body}
        )

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return handle(Request(environ))(environ, start_response)

    return app


def iter_entity_names() -> Iterable[tuple[str, set[str]]]:
    """(CSDL type, property names) served here, for the schema test."""
    yield "user", set(user_json("i", "u@x", "A B"))
