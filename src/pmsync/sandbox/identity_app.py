"""The sandbox identity platform as a WSGI app: its routes (token, device code, OpenID discovery, the
managed identity endpoint) over :class:`~pmsync.sandbox.identity.IdentityState`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from pmsync.sandbox.faults import WSGIApp
from pmsync.sandbox.identity import IdentityState
from pmsync.sandbox.identity_wire import aad_error, json_response

#: the platform's managed identity endpoint (on App Service it is a local URL given in IDENTITY_ENDPOINT)
MANAGED_IDENTITY_PATH = "/msi/token"

_TENANT_PATH = re.compile(
    r"^/(?P<tenant>[^/]+)/(?P<rest>v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/"
    r"(?:token|devicecode|authorize)|discovery/v2\.0/keys)$"
)


def make_identity_app(state: IdentityState, base_url: Callable[[], str]) -> WSGIApp:
    """The identity platform as a WSGI app; ``base_url()`` gives the server's public https URL."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == MANAGED_IDENTITY_PATH:
            return state.managed_identity_endpoint(request)(environ, start_response)
        match = _TENANT_PATH.match(request.path)
        if match is None:
            response = json_response(
                404, {"error": "not_found", "error_description": f"no route {request.path}"}
            )
            return response(environ, start_response)
        tenant, rest = match.group("tenant"), match.group("rest")
        root = base_url()
        state.issuer_base = root
        if not state.knows_tenant(tenant):
            response = aad_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                "signing into the correct cloud. Check with your subscription administrator, this may "
                "happen if there are no active subscriptions for the tenant.",
            )
        elif rest.endswith("openid-configuration"):
            response = json_response(200, _openid_configuration(root, tenant, state.tenant_id))
        elif rest == "discovery/v2.0/keys":
            response = json_response(200, {"keys": []})
        elif request.method != "POST":
            response = aad_error(405, "invalid_request", 900561, "The endpoint only accepts POST requests.")
        elif rest.endswith("/token"):
            response = state.token_endpoint(request, tenant)
        elif rest.endswith("/devicecode"):
            response = state.device_code_endpoint(request, f"{root}/devicelogin")
        else:
            response = aad_error(400, "invalid_request", 900144, "Interactive sign-in is not supported here.")
        return response(environ, start_response)

    return app


def _openid_configuration(root: str, tenant: str, tenant_id: str) -> dict[str, Any]:
    # Shape of https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration
    return {
        "token_endpoint": f"{root}/{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/{tenant_id}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{root}/oidc/userinfo",
        "authorization_endpoint": f"{root}/{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/{tenant}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/{tenant}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "tid", "ver", "oid"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }
