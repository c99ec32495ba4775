"""Sandbox SharePoint over Microsoft Graph v1.0: sites by path, drives, drive items (simple upload,
resumable upload sessions, folders, versions, library metadata columns) and lists with items.

Shapes follow Graph: driveItem ``eTag`` / ``cTag`` (the eTag changes on any change, the cTag only when
the content does), listItem ``@odata.etag``, ``If-Match`` → 412, errors as
``{"error": {"code", "message", "innerError"}}``. Upload sessions enforce what SharePoint enforces:
fragments in order, each a multiple of 320 KiB except the last, no ``Authorization`` header on the
pre-authenticated upload URL. Serve it with :func:`make_sharepoint_app` behind a
:class:`~pmsync.sandbox.server.SandboxServer` (pass ``error_body=graph_error_body`` so injected
faults look like Graph's).
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from pmsync.sandbox.graph_sharepoint_lists import (
    column_json,
    create_list,
    list_json,
    list_route,
    validate_fields,
)
from pmsync.sandbox.graph_sharepoint_state import (
    Column,
    Drive,
    DriveItem,
    SharePointState,
    Site,
    UploadSession,
    iso,
    now,
)
from pmsync.sandbox.graph_sharepoint_wire import GraphError, graph_error_body, json_response, read_json

__all__ = [
    "SharePointState",
    "Column",
    "make_sharepoint_app",
    "graph_error_body",
    "seed_demo",
    "UPLOAD_PREFIX",
]

CHUNK_UNIT = 320 * 1024
MAX_FRAGMENT = 60 * 1024 * 1024
SIMPLE_UPLOAD_LIMIT = 250 * 1024 * 1024
#: where pre-authenticated upload and download URLs live (the real ones are on the tenant's host)
UPLOAD_PREFIX = "/_sandbox/sharepoint/upload/"
DOWNLOAD_PREFIX = "/_sandbox/sharepoint/download/"

_ITEM_ROUTE = re.compile(
    r"^/v1\.0/drives/(?P<drive>[^/]+)/(?:root|items/(?P<item>[^/:]+))"
    r"(?::(?P<path>/[^:]*?)(?::|$))?(?P<rest>/.*)?$"
)
_SITE_BY_PATH = re.compile(r"^/v1\.0/sites/(?P<host>[^/:]+):(?P<path>/[^:]*?):?$")
_SITE_ROUTE = re.compile(r"^/v1\.0/sites/(?P<site>[^/]+)(?P<rest>/.*)?$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def make_sharepoint_app(
    state: SharePointState, *, require_token: str | None = None
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app serving ``state``. ``require_token``: a bearer token every Graph call must carry
    (when the app is mounted behind the sandbox identity check, leave it None)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = _dispatch(state, request, require_token)
        except GraphError as exc:
            response = json_response(graph_error_body(exc.status, exc.code, exc.message), exc.status)
        return response(environ, start_response)

    return app


def _dispatch(state: SharePointState, request: Request, require_token: str | None) -> Response:
    path = request.path
    if path.startswith(UPLOAD_PREFIX):
        return _upload_session(state, request, path[len(UPLOAD_PREFIX) :])
    if path.startswith(DOWNLOAD_PREFIX):
        return _download(state, path[len(DOWNLOAD_PREFIX) :])
    if require_token is not None and request.headers.get("Authorization") != f"Bearer {require_token}":
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
    with state.lock:
        if match := _SITE_BY_PATH.match(path):
            site = state.site_by_path(match["host"], match["path"])
            if site is None:
                raise GraphError(404, "itemNotFound", "Requested site could not be found")
            return json_response(_site_json(site))
        if match := _ITEM_ROUTE.match(path):
            return _drive_item_route(state, request, match)
        if match := re.match(r"^/v1\.0/drives/(?P<drive>[^/]+)(?P<rest>/list(?:/columns)?)?$", path):
            return _drive_route(state, _drive(state, match["drive"]), match["rest"] or "")
        if match := _SITE_ROUTE.match(path):
            site = state.site_by_id(match["site"])
            if site is None:
                raise GraphError(404, "itemNotFound", "Requested site could not be found")
            return _site_route(state, request, site, match["rest"] or "")
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path.rsplit('/', 1)[-1]}'.")


# --- sites and drives ----------------------------------------------------------------------------


def _site_json(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.path.rsplit("/", 1)[-1],
        "displayName": site.display_name,
        "webUrl": site.web_url,
        "siteCollection": {"hostname": site.hostname},
    }


def _drive(state: SharePointState, drive_id: str) -> Drive:
    drive = state.drives.get(drive_id)
    if drive is None:
        raise GraphError(404, "itemNotFound", "The drive cannot be found")
    return drive


def _drive_json(state: SharePointState, drive: Drive) -> dict[str, Any]:
    site = state.sites[drive.site_id]
    return {
        "id": drive.id,
        "name": drive.name,
        "driveType": "documentLibrary",
        "webUrl": f"{site.web_url}/{quote(drive.url_name)}",
    }


def _drive_route(state: SharePointState, drive: Drive, rest: str) -> Response:
    if rest == "":
        return json_response(_drive_json(state, drive))
    library = state.lists[drive.list_id]
    if rest == "/list":
        return json_response(list_json(state, library))
    return json_response({"value": [column_json(c) for c in library.columns.values()]})


def _site_route(state: SharePointState, request: Request, site: Site, rest: str) -> Response:
    if rest == "":
        return json_response(_site_json(site))
    if rest == "/drives":
        drives = [d for d in state.drives.values() if d.site_id == site.id]
        return json_response({"value": [_drive_json(state, d) for d in drives]})
    if rest == "/lists":
        if request.method == "POST":
            return create_list(state, site, read_json(request))
        lists = [sp for sp in state.lists.values() if sp.site_id == site.id]
        wanted = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", request.args.get("$filter", ""))
        if wanted:
            lists = [sp for sp in lists if sp.display_name == wanted[1].replace("''", "'")]
        return json_response({"value": [list_json(state, sp) for sp in lists]})
    match = re.match(r"^/lists/(?P<list>[^/]+)(?P<rest>/.*)?$", rest)
    if match is None:
        raise GraphError(400, "BadRequest", f"Unsupported segment '{rest}'")
    sp_list = state.list_by_id_or_title(site, match["list"])
    if sp_list is None:
        raise GraphError(404, "itemNotFound", f"List '{match['list']}' does not exist at site {site.web_url}")
    return list_route(state, request, sp_list, match["rest"] or "")


# --- drive items ---------------------------------------------------------------------------------


def _drive_item_route(state: SharePointState, request: Request, match: re.Match[str]) -> Response:
    drive = _drive(state, match["drive"])
    base = state.items[drive.root_id] if match["item"] is None else state.items.get(match["item"])
    if base is None or base.drive_id != drive.id:
        raise GraphError(404, "itemNotFound", "The resource could not be found.")
    rest, method = match["rest"] or "", request.method
    if (
        match["path"] is not None
        and rest in ("/content", "/createUploadSession")
        and method in ("PUT", "POST")
    ):
        parent, name = _parent_for_new(state, drive, base, match["path"])
        if rest == "/content":
            return _simple_upload(state, request, drive, parent, name)
        return _create_upload_session(state, request, drive, parent, name)
    item = base
    if match["path"] is not None:
        found = state.item_by_path(drive, "/".join(state.path_of(base)) + match["path"])
        if found is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        item = found
    if rest == "" and method == "GET":
        return json_response(_item_json(state, request, item))
    if rest == "" and method == "DELETE":
        _delete_item(state, item)
        return Response(status=204)
    if rest == "/children" and method == "GET":
        return json_response({"value": [_item_json(state, request, c) for c in state.children(item.id)]})
    if rest == "/children" and method == "POST":
        return _create_folder(state, request, drive, item)
    if rest == "/content" and method == "GET":
        return Response(status=302, headers=[("Location", _download_url(request, item))])
    if rest == "/content" and method == "PUT":
        parent = state.items[item.parent_id or drive.root_id]
        return _simple_upload(state, request, drive, parent, item.name)
    if rest == "/versions" and method == "GET":
        versions = [_version_json(v.id, v.modified, len(v.content)) for v in reversed(item.versions)]
        return json_response({"value": versions})
    if rest.startswith("/listItem"):
        return _library_fields(state, request, drive, item, rest)
    raise GraphError(405, "invalidRequest", f"{method} {rest or '/'} is not supported on a driveItem")


def _parent_for_new(state: SharePointState, drive: Drive, base: DriveItem, rel: str) -> tuple[DriveItem, str]:
    """Where ``PUT .../{base}:/a/b/name:/content`` writes: missing folders are created, as Graph does."""
    *folders, name = [s for s in rel.split("/") if s]
    parent = base
    for segment in folders:
        child = state.child_named(parent.id, segment)
        if child is not None and not child.is_folder:
            raise GraphError(409, "nameAlreadyExists", f"'{segment}' is a file, not a folder")
        parent = child or state.new_folder(drive, parent, segment)
    _check_name(name)
    return parent, name


def _check_name(name: str) -> None:
    if not name or any(ch in name for ch in '"*:<>?/\\|') or name.endswith("."):
        raise GraphError(
            400, "invalidRequest", f"The name '{name}' contains characters that are not allowed."
        )


def _item_json(state: SharePointState, request: Request, item: DriveItem) -> dict[str, Any]:
    drive = state.drives[item.drive_id]
    site = state.sites[drive.site_id]
    names = state.path_of(item)
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "eTag": item.etag,
        "cTag": item.ctag,
        "createdDateTime": iso(item.created),
        "lastModifiedDateTime": iso(item.modified),
        "webUrl": f"{site.web_url}/{quote('/'.join([drive.url_name, *names]))}",
        "size": len(item.content) if not item.is_folder else 0,
        "fileSystemInfo": {"createdDateTime": iso(item.created), "lastModifiedDateTime": iso(item.modified)},
    }
    if item.parent_id is not None:
        parent_path = "/".join(names[:-1])
        body["parentReference"] = {
            "driveType": "documentLibrary",
            "driveId": drive.id,
            "id": item.parent_id,
            "path": f"/drives/{drive.id}/root:" + (f"/{parent_path}" if parent_path else ""),
            "siteId": site.id,
        }
    else:
        body["root"] = {}
    if item.is_folder:
        body["folder"] = {"childCount": len(state.children(item.id))}
    else:
        mime = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        body["file"] = {"mimeType": mime, "hashes": {"quickXorHash": state.quickxor(item)}}
        body["@microsoft.graph.downloadUrl"] = _download_url(request, item)
    return body


def _version_json(version_id: str, modified: Any, size: int) -> dict[str, Any]:
    return {"id": version_id, "lastModifiedDateTime": iso(modified), "size": size}


def _download_url(request: Request, item: DriveItem) -> str:
    return f"{request.host_url.rstrip('/')}{DOWNLOAD_PREFIX}{item.id}?v={item.content_version}"


def _download(state: SharePointState, item_id: str) -> Response:
    with state.lock:
        item = state.items.get(item_id)
        if item is None or item.is_folder:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        content = item.content
    blocks = (bytes(content[i : i + (1 << 20)]) for i in range(0, len(content), 1 << 20))
    response = Response(blocks, content_type=mimetypes.guess_type(item.name)[0] or "application/octet-stream")
    response.content_length = len(content)
    return response


def _delete_item(state: SharePointState, item: DriveItem) -> None:
    for child in state.children(item.id):
        _delete_item(state, child)
    del state.items[item.id]


def _check_if_match(request: Request, item: DriveItem | None) -> None:
    wanted = request.headers.get("If-Match")
    if wanted and wanted != "*" and (item is None or wanted not in (item.etag, item.ctag)):
        raise GraphError(412, "resourceModified", "ETag does not match current item's value")


def _conflict_target(
    state: SharePointState, parent: DriveItem, name: str, behavior: str
) -> tuple[str, DriveItem | None]:
    """The name to write under ``parent`` for a ``conflictBehavior`` and the item it replaces."""
    if behavior not in ("fail", "replace", "rename"):
        raise GraphError(400, "invalidRequest", f"Invalid conflictBehavior '{behavior}'")
    existing = state.child_named(parent.id, name)
    if existing is None:
        return name, None
    if existing.is_folder or behavior == "fail":
        raise GraphError(409, "nameAlreadyExists", f"The specified item name '{name}' already exists.")
    if behavior == "rename":
        return state.free_name(parent.id, name), None
    return existing.name, existing


def _simple_upload(
    state: SharePointState, request: Request, drive: Drive, parent: DriveItem, name: str
) -> Response:
    if (request.content_length or 0) > SIMPLE_UPLOAD_LIMIT:
        raise GraphError(413, "invalidRequest", "Simple upload is limited to 250 MB; use an upload session")
    behavior = request.args.get("@microsoft.graph.conflictBehavior", "replace")
    target, existing = _conflict_target(state, parent, name, behavior)
    if existing is not None:
        _check_if_match(request, existing)
    item, created = state.write_file(drive, parent, target, request.get_data())
    return json_response(_item_json(state, request, item), 201 if created else 200)


def _create_folder(state: SharePointState, request: Request, drive: Drive, parent: DriveItem) -> Response:
    body = read_json(request)
    name = str(body.get("name") or "")
    if "folder" not in body:
        raise GraphError(400, "invalidRequest", "Only folders can be created with POST children")
    _check_name(name)
    target, existing = _conflict_target(
        state, parent, name, body.get("@microsoft.graph.conflictBehavior", "fail")
    )
    folder = (
        existing if existing is not None and existing.is_folder else state.new_folder(drive, parent, target)
    )
    return json_response(_item_json(state, request, folder), 201)


def _library_fields(
    state: SharePointState, request: Request, drive: Drive, item: DriveItem, rest: str
) -> Response:
    library = state.lists[drive.list_id]
    if rest == "/listItem/fields" and request.method == "PATCH":
        updates = read_json(request)
        validate_fields(library, updates)
        state.set_file_fields(drive, item, updates)
        return json_response(_file_fields(item))
    if rest == "/listItem/fields" and request.method == "GET":
        return json_response(_file_fields(item))
    if rest == "/listItem" and request.method == "GET":
        body: dict[str, Any] = {
            "id": str(item.list_item_id),
            "@odata.etag": item.etag,
            "webUrl": _item_json(state, request, item)["webUrl"],
        }
        if "fields" in request.args.get("$expand", ""):
            body["fields"] = _file_fields(item)
        return json_response(body)
    raise GraphError(405, "invalidRequest", f"{request.method} {rest} is not supported")


def _file_fields(item: DriveItem) -> dict[str, Any]:
    # fieldValueSet is an entity: it carries its list item's id (CSDL key), as SharePoint sends it
    return {"@odata.etag": item.etag, "id": str(item.list_item_id), "FileLeafRef": item.name, **item.fields}


# --- upload sessions -----------------------------------------------------------------------------


def _create_upload_session(
    state: SharePointState, request: Request, drive: Drive, parent: DriveItem, name: str
) -> Response:
    item = read_json(request).get("item") or {}
    behavior = str(item.get("@microsoft.graph.conflictBehavior", "replace"))
    target, existing = _conflict_target(state, parent, name, behavior)
    if existing is not None:
        _check_if_match(request, existing)
    session = UploadSession(
        id=uuid.uuid4().hex,
        drive_id=drive.id,
        parent_id=parent.id,
        name=name,
        conflict_behavior=behavior,
        expires=now() + timedelta(hours=1),
        if_match=request.headers.get("If-Match"),
    )
    state.sessions[session.id] = session
    upload_url = f"{request.host_url.rstrip('/')}{UPLOAD_PREFIX}{session.id}"
    return json_response({"uploadUrl": upload_url, "expirationDateTime": iso(session.expires),
                  "nextExpectedRanges": session.next_expected_ranges()})  # fmt: skip


def _session_status(session: UploadSession, status: int = 200) -> Response:
    return json_response(
        {"expirationDateTime": iso(session.expires), "nextExpectedRanges": session.next_expected_ranges()},
        status,
    )


def _upload_session(state: SharePointState, request: Request, session_id: str) -> Response:
    if request.headers.get("Authorization"):
        # The upload URL is pre-authenticated; SharePoint answers 401 when a bearer token is sent.
        raise GraphError(401, "unauthenticated", "Do not send an Authorization header to the upload URL")
    body = request.get_data() if request.method == "PUT" else b""
    with state.lock:
        session = state.sessions.get(session_id)
        if session is not None and session.expires < now():
            del state.sessions[session_id]
            session = None
        if session is None:
            raise GraphError(404, "itemNotFound", "The upload session was not found or has expired")
        if request.method == "GET":
            return _session_status(session)
        if request.method == "DELETE":
            del state.sessions[session_id]
            return Response(status=204)
        if request.method != "PUT":
            raise GraphError(405, "invalidRequest", "Upload sessions accept PUT, GET and DELETE")
        start, end = _check_fragment(session, request, body)
        drop = state.take_drop()
        if drop == "disconnect":
            _drop_connection(request)
        if drop == "expire":
            del state.sessions[session_id]
            raise GraphError(404, "itemNotFound", "The upload session was not found or has expired")
        if drop == "discard":
            return _session_status(session, 202)
        session.received += body
        if end + 1 < (session.total or 0):
            return _session_status(session, 202)
        return _commit(state, request, session)


def _drop_connection(request: Request) -> NoReturn:
    """Close the client's connection without an answer, as a network failure mid-fragment would."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # werkzeug treats a ConnectionError from the app as a dropped connection and sends nothing.
    raise ConnectionResetError("sandbox: upload fragment dropped")


def _check_fragment(session: UploadSession, request: Request, body: bytes) -> tuple[int, int]:
    match = _CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
    if match is None or match[3] == "*":
        raise GraphError(400, "invalidRequest", "Content-Range must be 'bytes start-end/total'")
    start, end, total = int(match[1]), int(match[2]), int(match[3])
    length = end - start + 1
    if session.total is not None and total != session.total:
        raise GraphError(
            400, "invalidRequest", f"The file size {total} differs from the declared {session.total}"
        )
    if length <= 0 or length != len(body) or end >= total:
        raise GraphError(400, "invalidRequest", "Content-Range does not match the fragment's length")
    if length > MAX_FRAGMENT:
        raise GraphError(413, "invalidRequest", "Fragments are limited to 60 MiB")
    expected = len(session.received)
    if start != expected:
        raise GraphError(
            416,
            "invalidRange",
            f"The fragment starts at {start} but the session expects {expected}- (fragments go in order)",
        )
    if end + 1 < total and length % CHUNK_UNIT:
        raise GraphError(416, "invalidRange", "Fragment size must be a multiple of 320 KiB except the last")
    session.total = total
    return start, end


def _commit(state: SharePointState, request: Request, session: UploadSession) -> Response:
    del state.sessions[session.id]
    drive = state.drives[session.drive_id]
    parent = state.items.get(session.parent_id)
    if parent is None:
        raise GraphError(404, "itemNotFound", "The destination folder no longer exists")
    target, existing = _conflict_target(state, parent, session.name, session.conflict_behavior)
    if existing is not None and session.if_match and session.if_match not in (existing.etag, existing.ctag):
        raise GraphError(412, "resourceModified", "ETag does not match current item's value")
    item, created = state.write_file(drive, parent, target, session.received)
    return json_response(_item_json(state, request, item), 201 if created else 200)


# --- demo content --------------------------------------------------------------------------------

DEMO_SITE_PATH = "/sites/PMO"
LIBRARY_COLUMNS = (Column("Period", indexed=True), Column("Project", indexed=True), Column("OverallStatus"))


def seed_demo(state: SharePointState, *, status_list: bool = True) -> Site:
    """The PMO site the demo publishes to: its "Documents" library with Period / Project /
    OverallStatus columns, and (unless ``status_list=False``) an empty "Project Status" list with
    pmsync's default columns, Project and Period indexed."""
    with state.lock:
        site = state.site_by_path(state.hostname, DEMO_SITE_PATH) or state.add_site(DEMO_SITE_PATH, "PMO")
        drive = next(d for d in state.drives.values() if d.site_id == site.id)
        state.lists[drive.list_id].columns.update({c.name: c for c in LIBRARY_COLUMNS})
        if status_list and state.list_by_id_or_title(site, "Project Status") is None:
            text = ("ScheduleRAG", "CostRAG", "ScopeRAG", "RiskRAG", "OverallRAG", "ReportLink")
            columns = (
                Column("Project", indexed=True),
                Column("Period", indexed=True),
                *(Column(name) for name in text),
                Column("KeyVariances", "note"),
            )
            state.add_list(site, "Project Status", columns=columns)
        return site
