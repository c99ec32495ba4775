"""The shared Graph/OData client: paging, retries, and what a broken answer turns into."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pmsync.errors import AuthError, RetriableSourceError, SourceDataError
from pmsync.http import retrying
from pmsync.microsoft.auth import token_provider
from pmsync.microsoft.graph import ODataClient
from pmsync.sandbox.faults import Garbage, ServerError, Status, Truncate
from pmsync.sandbox.server import SandboxServer


def graph_client(ms, settings, **kwargs: Any) -> ODataClient:
    return ODataClient(
        base_url=settings.graph_base(),
        scope=settings.graph_scope(),
        tokens=token_provider(settings, source="graph"),
        source="graph",
        **kwargs,
    )


def plan_tasks_path(ms) -> str:
    plan = next(iter(ms.graph_state.planner.plans))
    return f"planner/plans/{plan}/tasks"


def test_items_follow_next_links(tmp_path):
    from pmsync.microsoft.auth import MicrosoftAppSettings
    from pmsync.sandbox.microsoft import microsoft_sandbox

    with microsoft_sandbox(tmp_path, page_size=2) as small:
        settings = MicrosoftAppSettings.model_validate(small.settings())
        client = graph_client(small, settings)
        titles = [t["title"] for t in client.items(plan_tasks_path(small))]
        assert len(titles) == len(set(titles)) == 12
        assert client.requests_sent == 6


def test_truncated_body_and_503_are_retried(ms, ms_settings):
    path = "/v1.0/" + plan_tasks_path(ms)
    ms.graph.faults.add(Truncate(keep=30), path=path, times=1)
    ms.graph.faults.add(ServerError(503, retry_after=0), path=path, times=1)
    tasks = list(graph_client(ms, ms_settings).items(plan_tasks_path(ms)))
    assert len(tasks) == 12
    assert ms.graph.faults.served() == 2


def test_retries_give_up_with_a_retriable_error(ms, ms_settings):
    ms.graph.faults.add(ServerError(503, retry_after=0), times=-1)
    client = graph_client(ms, ms_settings, policy=lambda: retrying(attempts=2, sleep=lambda s: None))
    with pytest.raises(RetriableSourceError, match="HTTP 503"):
        list(client.items(plan_tasks_path(ms)))


def test_a_body_that_is_not_json_is_a_clear_data_error(ms, ms_settings):
    ms.graph.faults.add(Garbage(b"<html>proxy error</html>"), times=1)
    with pytest.raises(SourceDataError, match="not JSON.*proxy error"):
        list(graph_client(ms, ms_settings).items(plan_tasks_path(ms)))


def test_403_names_the_permission_hint(ms, ms_settings):
    body = {"error": {"code": "Forbidden", "message": "Missing role permissions on the request."}}
    ms.graph.faults.add(Status(403, body), times=1)
    client = graph_client(ms, ms_settings, permission_hint="grant Tasks.Read.All")
    with pytest.raises(AuthError) as caught:
        list(client.items(plan_tasks_path(ms)))
    assert "Missing role permissions" in str(caught.value) and "grant Tasks.Read.All" in str(caught.value)


def test_404_is_a_data_error_naming_the_record(ms, ms_settings):
    with pytest.raises(SourceDataError, match="plan nope.*HTTP 404"):
        graph_client(ms, ms_settings).get_json("planner/plans/nope", record="plan nope")


def test_a_repeated_next_link_stops_instead_of_looping(ms, ms_settings):
    def looping(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = json.dumps({"value": [{"id": "1"}], "@odata.nextLink": f"{server.url}/v1.0/things?page=2"})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]

    with SandboxServer(looping, ssl_context=ms.tls.server_context()) as server:
        client = ODataClient(
            base_url=f"{server.url}/v1.0",
            scope=ms_settings.graph_scope(),
            tokens=token_provider(ms_settings, source="graph"),
            source="graph",
        )
        with pytest.raises(SourceDataError, match="same @odata.nextLink twice"):
            list(client.items("things"))
