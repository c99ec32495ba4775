"""The sandbox SharePoint speaks Graph's protocol: upload-session rules, conflict behaviours, ETags,
list filtering rules, error JSON — and every property it serves exists in Graph's v1.0 schema."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from defusedxml import ElementTree

from pmsync.publish.hashing import QuickXorHash, quickxor_b64
from pmsync.sandbox.graph_sharepoint import SharePointState, graph_error_body, make_sharepoint_app, seed_demo
from pmsync.sandbox.server import SandboxServer

TOKEN = "sandbox-token"
KIB320 = 320 * 1024


class Graph:
    def __init__(self, server: SandboxServer, state: SharePointState) -> None:
        self.url = server.url + "/v1.0"
        self.state = state
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {TOKEN}"
        site = self.http.get(f"{self.url}/sites/contoso.sharepoint.com:/sites/PMO").json()
        self.site_id = site["id"]
        self.drive_id = self.http.get(f"{self.url}/sites/{self.site_id}/drives").json()["value"][0]["id"]

    def session(self, name: str, behavior: str = "replace") -> str:
        body = {"item": {"@microsoft.graph.conflictBehavior": behavior}}
        response = self.http.post(
            f"{self.url}/drives/{self.drive_id}/root:/{name}:/createUploadSession", json=body
        )
        assert response.status_code == 200, response.text
        return str(response.json()["uploadUrl"])


@pytest.fixture
def graph() -> Iterator[Graph]:
    state = SharePointState()
    seed_demo(state)
    with SandboxServer(
        make_sharepoint_app(state, require_token=TOKEN), error_body=graph_error_body
    ) as server:
        yield Graph(server, state)


def put(url: str, data: bytes, start: int, total: int, **headers: str) -> requests.Response:
    end = start + len(data) - 1
    return requests.put(url, data=data, headers={"Content-Range": f"bytes {start}-{end}/{total}", **headers})


def test_upload_session_takes_320k_fragments_in_order_and_reports_what_it_expects(graph):
    url = graph.session("big.bin")
    data = bytes(range(256)) * (3 * KIB320 // 256) + b"tail"
    total = len(data)

    misaligned = put(url, data[:1000], 0, total)
    first = put(url, data[:KIB320], 0, total)
    gap = put(url, data[2 * KIB320 : 3 * KIB320], 2 * KIB320, total)
    overlap = put(url, data[:KIB320], 0, total)
    with_token = put(url, data[KIB320 : 2 * KIB320], KIB320, total, Authorization=f"Bearer {TOKEN}")
    status = requests.get(url)
    rest = put(url, data[KIB320:], KIB320, total)

    assert misaligned.status_code == 416 and "320 KiB" in misaligned.json()["error"]["message"]
    assert first.status_code == 202 and first.json()["nextExpectedRanges"] == [f"{KIB320}-"]
    assert gap.status_code == 416 and overlap.status_code == 416
    assert with_token.status_code == 401  # the upload URL is pre-authenticated
    assert status.json()["nextExpectedRanges"] == [f"{KIB320}-"]
    assert rest.status_code == 201
    item = rest.json()
    assert item["size"] == total and item["file"]["hashes"]["quickXorHash"] == quickxor_b64(data)
    assert requests.get(url).status_code == 404  # the session ends with the upload


def test_cancelled_session_is_gone(graph):
    url = graph.session("x.bin")
    assert requests.delete(url).status_code == 204
    gone = requests.get(url)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "itemNotFound"


def test_conflict_behaviours_and_graph_error_shape(graph):
    base = f"{graph.url}/drives/{graph.drive_id}/root:/Reports/a.html:/content"
    created = graph.http.put(base, data=b"one")
    failed = graph.http.put(base, params={"@microsoft.graph.conflictBehavior": "fail"}, data=b"two")
    renamed = graph.http.put(base, params={"@microsoft.graph.conflictBehavior": "rename"}, data=b"three")
    replaced = graph.http.put(base, data=b"four")

    assert created.status_code == 201 and created.json()["parentReference"]["path"].endswith("root:/Reports")
    assert failed.status_code == 409
    assert set(failed.json()["error"]) == {"code", "message", "innerError"}
    assert failed.json()["error"]["code"] == "nameAlreadyExists"
    assert renamed.json()["name"] == "a 1.html"
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    versions = graph.http.get(f"{graph.url}/drives/{graph.drive_id}/items/{created.json()['id']}/versions")
    assert [v["id"] for v in versions.json()["value"]] == ["2.0", "1.0"]


def test_metadata_changes_the_etag_not_the_ctag_and_if_match_guards_content(graph):
    item = graph.http.put(f"{graph.url}/drives/{graph.drive_id}/root:/m.html:/content", data=b"x").json()
    items = f"{graph.url}/drives/{graph.drive_id}/items/{item['id']}"
    patched = graph.http.patch(f"{items}/listItem/fields", json={"Period": "2026-11"})
    unknown = graph.http.patch(f"{items}/listItem/fields", json={"Programme": "x"})
    after = graph.http.get(items).json()
    stale = graph.http.put(f"{items}/content", data=b"y", headers={"If-Match": item["eTag"]})
    fresh = graph.http.put(f"{items}/content", data=b"y", headers={"If-Match": after["eTag"]})

    assert patched.json()["Period"] == "2026-11"
    assert unknown.status_code == 400 and "Programme" in unknown.json()["error"]["message"]
    assert after["eTag"] != item["eTag"] and after["cTag"] == item["cTag"]
    assert stale.status_code == 412 and fresh.status_code == 200


def test_list_filters_need_an_index_or_the_prefer_header_and_page(graph):
    items = f"{graph.url}/sites/{graph.site_id}/lists/Project Status/items"
    for n in range(5):
        created = graph.http.post(
            items, json={"fields": {"Project": f"P{n}", "Period": "2026-11", "CostRAG": "red"}}
        )
        assert created.status_code == 201
    by_index = graph.http.get(items, params={"$expand": "fields", "$filter": "fields/Project eq 'P3'"})
    unindexed = graph.http.get(items, params={"$filter": "fields/CostRAG eq 'red'"})
    preferred = graph.http.get(
        items,
        params={"$filter": "fields/CostRAG eq 'red'", "$top": "2"},
        headers={"Prefer": "HonorNonIndexedQueriesWarningMayFailRandomly"},
    )

    assert [i["fields"]["Project"] for i in by_index.json()["value"]] == ["P3"]
    assert unindexed.status_code == 400 and "not indexed" in unindexed.json()["error"]["message"]
    assert len(preferred.json()["value"]) == 2 and "$skiptoken" in preferred.json()["@odata.nextLink"]


def test_list_item_if_match(graph):
    items = f"{graph.url}/sites/{graph.site_id}/lists/Project Status/items"
    item = graph.http.post(items, json={"fields": {"Project": "ERP"}}).json()
    first = graph.http.patch(
        f"{items}/{item['id']}/fields", json={"Period": "a"}, headers={"If-Match": item["@odata.etag"]}
    )
    stale = graph.http.patch(
        f"{items}/{item['id']}/fields", json={"Period": "b"}, headers={"If-Match": item["@odata.etag"]}
    )
    assert first.status_code == 200 and stale.status_code == 412


def test_a_missing_or_wrong_token_is_refused(graph):
    response = requests.get(f"{graph.url}/sites/{graph.site_id}/drives")
    assert response.status_code == 401 and response.json()["error"]["code"] == "InvalidAuthenticationToken"


# --- QuickXorHash --------------------------------------------------------------------------------


def naive_quickxor(data: bytes) -> str:
    """The algorithm as specified, bit by bit: byte i XORed in at bit (11 * i) mod 160."""
    register = [0] * 160
    for index, byte in enumerate(data):
        offset = (11 * index) % 160
        for bit in range(8):
            if byte >> bit & 1:
                register[(offset + bit) % 160] ^= 1
    out = bytearray(sum(register[8 * k + b] << b for b in range(8)) for k in range(20))
    for k, byte in enumerate(len(data).to_bytes(8, "little")):
        out[12 + k] ^= byte
    return base64.b64encode(bytes(out)).decode()


def test_quickxor_matches_the_published_vector_and_the_naive_algorithm():
    assert quickxor_b64(b"hello world") == "aCgDG9jwBhDc4Q1yawMZAAAAAAA="
    data = bytes((i * 7919 + 13) % 256 for i in range(1234))
    assert quickxor_b64(data) == naive_quickxor(data)
    split = QuickXorHash()
    for start in range(0, len(data), 97):  # pieces not aligned to the 160-byte blocks
        split.update(data[start : start + 97])
    assert split.b64digest() == naive_quickxor(data)


# --- Graph v1.0 schema ---------------------------------------------------------------------------

CSDL = Path("/work/shared/specs/msgraph-v1.0.csdl.xml")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def csdl_properties() -> dict[str, set[str]]:
    root = ElementTree.parse(CSDL).getroot()
    graph = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == "microsoft.graph")
    bases: dict[str, str | None] = {}
    own: dict[str, set[str]] = {}
    for element in graph:
        if element.tag in (f"{EDM}EntityType", f"{EDM}ComplexType"):
            name = element.get("Name", "")
            base = element.get("BaseType")
            bases[name] = base.rsplit(".", 1)[-1] if base else None
            own[name] = {
                p.get("Name", "") for p in element if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty")
            }
    result: dict[str, set[str]] = {}
    for name in own:
        names: set[str] = set()
        current: str | None = name
        while current:
            names |= own.get(current, set())
            current = bases.get(current)
        result[name] = names
    return result


def served_names(body: dict[str, Any]) -> set[str]:
    return {k for k in body if not k.startswith("@")}


@pytest.mark.skipif(not CSDL.is_file(), reason="Graph v1.0 CSDL not available")
def test_every_property_served_exists_in_graph_v1(graph):
    schema = csdl_properties()
    item = graph.http.put(f"{graph.url}/drives/{graph.drive_id}/root:/F/x.html:/content", data=b"x").json()
    folder = graph.http.get(f"{graph.url}/drives/{graph.drive_id}/root:/F").json()
    site = graph.http.get(f"{graph.url}/sites/{graph.site_id}").json()
    drive = graph.http.get(f"{graph.url}/sites/{graph.site_id}/drives").json()["value"][0]
    sp_list = graph.http.get(f"{graph.url}/sites/{graph.site_id}/lists/Project Status").json()
    columns = graph.http.get(f"{graph.url}/sites/{graph.site_id}/lists/Project Status/columns").json()[
        "value"
    ]
    list_item = graph.http.post(
        f"{graph.url}/sites/{graph.site_id}/lists/Project Status/items", json={"fields": {"Project": "A"}}
    ).json()
    version = graph.http.get(f"{graph.url}/drives/{graph.drive_id}/items/{item['id']}/versions").json()[
        "value"
    ][0]
    session = graph.http.post(
        f"{graph.url}/drives/{graph.drive_id}/root:/s.bin:/createUploadSession", json={}
    ).json()

    checks = [
        ("driveItem", item), ("driveItem", folder), ("site", site), ("drive", drive), ("list", sp_list),
        ("listItem", list_item), ("driveItemVersion", version), ("uploadSession", session),
        ("itemReference", item["parentReference"]), ("file", item["file"]),
        ("hashes", item["file"]["hashes"]), ("folder", folder["folder"]),
        ("fileSystemInfo", item["fileSystemInfo"]), ("listInfo", sp_list["list"]),
        ("siteCollection", site["siteCollection"]),
        *[("columnDefinition", c) for c in columns],
    ]  # fmt: skip
    for type_name, body in checks:
        unknown = served_names(body) - schema[type_name]
        assert not unknown, f"{type_name} has no properties {sorted(unknown)} in Graph v1.0"
