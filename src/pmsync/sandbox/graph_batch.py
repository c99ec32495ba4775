"""Graph JSON batching (``POST /v1.0/$batch``) for the sandbox: up to 20 requests in one round trip.

Each inner request runs through the same routes, token check and fault plan as a direct call (so a
test can throttle one inner request), and answers as Graph does: ``{"responses": [{"id", "status",
"headers", "body"}]}``, not necessarily in request order.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.faults import FaultInjector, FaultPlan, WSGIApp

MAX_BATCH = 20


def handle_batch(
    request: Request,
    route: WSGIApp,
    faults: FaultPlan | None,
    error_body: Callable[[int], dict[str, Any]],
    graph_error: Callable[[int, str, str], Response],
    on_inner: Callable[[], None] = lambda: None,
) -> Response:
    """Answer a ``$batch`` request by running each inner request through ``route``."""
    try:
        payload = json.loads(request.get_data() or b"{}")
        inner = payload["requests"]
        assert isinstance(inner, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        return graph_error(400, "BadRequest", "Invalid batch payload format.")
    if len(inner) > MAX_BATCH:
        return graph_error(400, "BadRequest", f"Number of batch requests exceeds the limit of {MAX_BATCH}.")
    app = FaultInjector(route, faults, error_body) if faults is not None else route
    responses = []
    for item in inner:
        if not isinstance(item, dict) or "id" not in item or "url" not in item:
            return graph_error(400, "BadRequest", "Each batch request needs an id, a method and a url.")
        on_inner()
        responses.append({"id": str(item["id"]), **_run(app, request, item)})
    # Graph does not promise order; answer in reverse so clients must match by id.
    responses.reverse()
    return Response(json.dumps({"responses": responses}), status=200, content_type="application/json")


def _run(app: WSGIApp, outer: Request, item: dict[str, Any]) -> dict[str, Any]:
    url = urlsplit(str(item["url"]))
    path = url.path if url.path.startswith("/") else f"/{url.path}"
    environ = dict(outer.environ)
    environ.update(
        {
            "REQUEST_METHOD": str(item.get("method", "GET")).upper(),
            "PATH_INFO": f"/v1.0{path}",
            "QUERY_STRING": url.query,
            "CONTENT_LENGTH": "0",
            "wsgi.input": io.BytesIO(b""),
        }
    )
    for name, value in (item.get("headers") or {}).items():
        environ[f"HTTP_{name.upper().replace('-', '_')}"] = str(value)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = int(status.split()[0]), headers
        return lambda data: None

    body = b"".join(app(environ, start_response))
    headers = {k: v for k, v in captured["headers"] if k.lower() in ("retry-after", "content-type", "etag")}
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    return {"status": captured["status"], "headers": headers, "body": parsed}
