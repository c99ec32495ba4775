"""Sandbox SharePoint lists over Graph v1.0: lists, columns, and list items with ``fields``
(``$expand=fields``, ``$filter`` on ``fields/X eq 'v'`` clauses joined by ``and`` — refused on a
non-indexed column unless the client sends ``Prefer: HonorNonIndexedQueriesWarningMayFailRandomly``,
as SharePoint does — ``$top`` paging with ``@odata.nextLink``, POST, PATCH with ``If-Match``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.graph_sharepoint_state import (
    Column,
    ColumnType,
    ListItem,
    SharePointState,
    Site,
    SpList,
    iso,
    now,
)
from pmsync.sandbox.graph_sharepoint_wire import GraphError, json_response, read_json

NON_INDEXED_PREFER = "HonorNonIndexedQueriesWarningMayFailRandomly"
_FILTER_CLAUSE = re.compile(
    r"^fields/(?P<field>\w+)\s+eq\s+(?:'(?P<text>(?:[^']|'')*)'|(?P<num>-?\d+(?:\.\d+)?))$"
)


def column_json(column: Column) -> dict[str, Any]:
    facet: dict[str, Any] = {"text": {}}
    if column.type == "note":
        facet = {"text": {"allowMultipleLines": True}}
    elif column.type != "text":
        facet = {column.type: {}}
    return {"id": column.id, "name": column.name, "displayName": column.display_name or column.name,
            "indexed": column.indexed, **facet}  # fmt: skip


def list_json(state: SharePointState, sp_list: SpList) -> dict[str, Any]:
    site = state.sites[sp_list.site_id]
    return {
        "id": sp_list.id,
        "name": sp_list.display_name.replace(" ", ""),
        "displayName": sp_list.display_name,
        "webUrl": f"{site.web_url}/Lists/{quote(sp_list.display_name.replace(' ', ''))}",
        "list": {"template": sp_list.template, "hidden": False, "contentTypesEnabled": False},
    }


def create_list(state: SharePointState, site: Site, body: dict[str, Any]) -> Response:
    name = str(body.get("displayName") or "")
    if not name:
        raise GraphError(400, "invalidRequest", "displayName is required")
    if state.list_by_id_or_title(site, name) is not None:
        raise GraphError(409, "nameAlreadyExists", f"A list named '{name}' already exists")
    columns = []
    for spec in body.get("columns") or []:
        kind: ColumnType = "text"
        for facet in ("number", "choice", "dateTime"):
            if facet in spec:
                kind = facet
        if kind == "text" and (spec.get("text") or {}).get("allowMultipleLines"):
            kind = "note"
        columns.append(Column(str(spec["name"]), kind, bool(spec.get("indexed", False))))
    return json_response(list_json(state, state.add_list(site, name, columns=tuple(columns))), 201)


def list_route(state: SharePointState, request: Request, sp_list: SpList, rest: str) -> Response:
    if rest == "":
        return json_response(list_json(state, sp_list))
    if rest == "/columns":
        return json_response({"value": [column_json(c) for c in sp_list.columns.values()]})
    if rest == "/items" and request.method == "GET":
        return _list_items(state, request, sp_list)
    if rest == "/items" and request.method == "POST":
        fields = read_json(request).get("fields") or {}
        validate_fields(sp_list, fields)
        created = ListItem(sp_list.next_item_id, dict(fields))
        sp_list.items[created.id] = created
        sp_list.next_item_id += 1
        return json_response(_list_item_json(state, sp_list, created, expand=True), 201)
    match = re.match(r"^/items/(?P<id>\d+)(?P<rest>/fields)?$", rest)
    item = sp_list.items.get(int(match["id"])) if match else None
    if match is None or item is None:
        raise GraphError(404, "itemNotFound", "The list item could not be found")
    if match["rest"] is None and request.method == "GET":
        return json_response(
            _list_item_json(state, sp_list, item, expand="fields" in request.args.get("$expand", ""))
        )
    if match["rest"] is None and request.method == "DELETE":
        wanted = request.headers.get("If-Match")
        if wanted and wanted != "*" and wanted != item.etag:
            raise GraphError(412, "resourceModified", "ETag does not match current item's value")
        del sp_list.items[item.id]
        return Response(status=204)
    if match["rest"] and request.method == "PATCH":
        wanted = request.headers.get("If-Match")
        if wanted and wanted != "*" and wanted != item.etag:
            raise GraphError(412, "resourceModified", "ETag does not match current item's value")
        updates = read_json(request)
        validate_fields(sp_list, updates)
        item.fields.update(updates)
        item.version += 1
        item.modified = now()
        return json_response(_list_item_fields(item))
    if match["rest"] and request.method == "GET":
        return json_response(_list_item_fields(item))
    raise GraphError(405, "invalidRequest", f"{request.method} {rest} is not supported")


def _list_items(state: SharePointState, request: Request, sp_list: SpList) -> Response:
    items = list(sp_list.items.values())
    raw_filter = request.args.get("$filter", "").strip()
    if raw_filter:
        allow_unindexed = NON_INDEXED_PREFER in request.headers.get("Prefer", "")
        for clause in re.split(r"\s+and\s+", raw_filter):
            match = _FILTER_CLAUSE.match(clause.strip())
            if match is None:
                raise GraphError(400, "invalidRequest", f"Invalid filter clause: {clause}")
            column = sp_list.columns.get(match["field"])
            if column is None:
                raise GraphError(400, "invalidRequest", f"Field '{match['field']}' is not recognized")
            if not column.indexed and not allow_unindexed:
                raise GraphError(
                    400,
                    "invalidRequest",
                    f"Field '{column.name}' cannot be referenced in filter or orderby as it is not indexed. "
                    f"Provide the 'Prefer: {NON_INDEXED_PREFER}' header to allow this, but be warned "
                    "that such queries may fail on large lists.",
                )
            value: Any = (
                match["text"].replace("''", "'") if match["text"] is not None else float(match["num"])
            )
            items = [i for i in items if i.fields.get(column.name) == value]
    top = int(request.args.get("$top", "200"))
    skip = int(request.args.get("$skiptoken", "0"))
    page = items[skip : skip + top]
    expand = "fields" in request.args.get("$expand", "")
    body: dict[str, Any] = {"value": [_list_item_json(state, sp_list, i, expand=expand) for i in page]}
    if skip + top < len(items):
        query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
        query["$skiptoken"] = str(skip + top)
        body["@odata.nextLink"] = f"{request.base_url}?{urlencode(query, safe='$/', quote_via=quote)}"
    return json_response(body)


def _list_item_fields(item: ListItem) -> dict[str, Any]:
    return {"@odata.etag": item.etag, "id": str(item.id), "Modified": iso(item.modified),
            "Created": iso(item.created), **item.fields}  # fmt: skip


def _list_item_json(
    state: SharePointState, sp_list: SpList, item: ListItem, *, expand: bool
) -> dict[str, Any]:
    web = list_json(state, sp_list)["webUrl"]
    body: dict[str, Any] = {
        "@odata.etag": item.etag,
        "eTag": item.etag,
        "id": str(item.id),
        "createdDateTime": iso(item.created),
        "lastModifiedDateTime": iso(item.modified),
        "webUrl": f"{web}/DispForm.aspx?ID={item.id}",
        "contentType": {"id": "0x0100", "name": "Item"},
    }
    if item.modified_by:
        # Graph's listItem (a baseItem) names its last editor as an identitySet
        body["lastModifiedBy"] = {"user": {"displayName": item.modified_by}}
    if expand:
        body["fields"] = _list_item_fields(item)
    return body


def validate_fields(sp_list: SpList, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        column = sp_list.columns.get(name)
        if column is None:
            raise GraphError(400, "invalidRequest", f"Field '{name}' is not recognized")
        if column.type == "number" and value is not None and not isinstance(value, int | float):
            raise GraphError(400, "invalidRequest", f"Field '{name}' expects a number")
