"""In-memory SharePoint for the sandbox: sites, document libraries (drives) with their items, versions
and metadata columns, upload sessions, and lists with items. :mod:`pmsync.sandbox.graph_sharepoint`
serves it over HTTP in Graph v1.0's shapes; tests seed and inspect it directly.

All mutation goes through one lock: the sandbox server is threaded.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pmsync import clock
from pmsync.publish.hashing import quickxor_b64
from pmsync.sandbox.graph_sharepoint_office import demote_properties

ColumnType = Literal["text", "note", "number", "choice", "dateTime"]
DropMode = Literal["disconnect", "discard", "expire"]


def now() -> datetime:
    return clock.now().replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Column:
    name: str
    type: ColumnType = "text"
    indexed: bool = False
    display_name: str | None = None
    #: columnDefinition's key (a GUID in SharePoint)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Site:
    id: str
    hostname: str
    path: str  # server-relative, e.g. "/sites/PMO"
    display_name: str

    @property
    def web_url(self) -> str:
        return f"https://{self.hostname}{self.path}"


@dataclass
class FileVersion:
    id: str  # "1.0", "2.0", ... as SharePoint numbers major versions
    content: bytes | bytearray
    modified: datetime


@dataclass
class DriveItem:
    id: str
    drive_id: str
    parent_id: str | None
    name: str
    is_folder: bool
    created: datetime = field(default_factory=now)
    modified: datetime = field(default_factory=now)
    #: a completed upload session's buffer is kept as is (no copy of a large file)
    content: bytes | bytearray = b""
    #: bumped on any change (eTag); content_version only when the bytes change (cTag)
    version: int = 1
    content_version: int = 1
    versions: list[FileVersion] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    #: the file's row in the library's list: its listItem / fieldValueSet id ("1", "2", ...)
    list_item_id: int = 0

    @property
    def etag(self) -> str:
        return f'"{{{self.id.upper()}}},{self.version}"'

    @property
    def ctag(self) -> str:
        return f'"c:{{{self.id.upper()}}},{self.content_version}"'


@dataclass
class Drive:
    id: str
    site_id: str
    name: str
    url_name: str  # the library's URL segment, e.g. "Shared Documents"
    root_id: str
    list_id: str


@dataclass
class ListItem:
    id: int
    fields: dict[str, Any]
    created: datetime = field(default_factory=now)
    modified: datetime = field(default_factory=now)
    version: int = 1
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: who last changed it, as Graph's ``lastModifiedBy.user.displayName`` (served when known)
    modified_by: str | None = None

    @property
    def etag(self) -> str:
        return f'"{self.guid},{self.version}"'


@dataclass
class SpList:
    id: str
    site_id: str
    display_name: str
    columns: dict[str, Column]
    template: str = "genericList"
    items: dict[int, ListItem] = field(default_factory=dict)
    next_item_id: int = 1


@dataclass
class UploadSession:
    id: str
    drive_id: str
    parent_id: str
    name: str
    conflict_behavior: str
    expires: datetime
    if_match: str | None = None
    total: int | None = None
    received: bytearray = field(default_factory=bytearray)

    def next_expected_ranges(self) -> list[str]:
        # Fragments arrive in order, so what is missing is always one open range.
        return [f"{len(self.received)}-"]


@dataclass
class _Drop:
    mode: DropMode
    after: int
    times: int
    seen: int = 0
    served: int = 0


_DEFAULT_LIBRARY_COLUMNS = (Column("Title"),)
_DEFAULT_LIST_COLUMNS = (Column("Title", indexed=True),)


class SharePointState:
    """The sandbox tenant's SharePoint content. Seed with :meth:`add_site`, :meth:`add_library`,
    :meth:`add_list`; inject a dropped upload fragment with :meth:`drop_chunks`."""

    def __init__(self, hostname: str = "contoso.sharepoint.com") -> None:
        self.hostname = hostname
        self.lock = threading.RLock()
        self.sites: dict[str, Site] = {}
        self.drives: dict[str, Drive] = {}
        self.items: dict[str, DriveItem] = {}
        self.lists: dict[str, SpList] = {}
        self.sessions: dict[str, UploadSession] = {}
        self._drops: list[_Drop] = []
        self._ids = itertools.count(1)
        #: SharePoint rewrites Office files it stores (property promotion/demotion), changing their
        #: bytes, size and hash; False stores exactly what was sent (see graph_sharepoint_office)
        self.rewrite_office_files = True

    # --- seeding -------------------------------------------------------------------------------

    def add_site(self, path: str, display_name: str | None = None) -> Site:
        """A site at ``path`` (e.g. ``/sites/PMO``) with its default "Documents" library."""
        with self.lock:
            site_id = f"{self.hostname},{uuid.uuid4()},{uuid.uuid4()}"
            site = Site(
                site_id, self.hostname, "/" + path.strip("/"), display_name or path.rsplit("/", 1)[-1]
            )
            self.sites[site_id] = site
            self.add_library(site, "Documents", url_name="Shared Documents")
            return site

    def add_library(
        self, site: Site, name: str, *, url_name: str | None = None, columns: tuple[Column, ...] = ()
    ) -> Drive:
        with self.lock:
            library = self.add_list(site, name, columns=_DEFAULT_LIBRARY_COLUMNS + columns)
            library.template = "documentLibrary"
            drive_id = "b!" + uuid.uuid4().hex + uuid.uuid4().hex[:18]
            root = DriveItem(self._new_item_id(), drive_id, None, "root", is_folder=True)
            self.items[root.id] = root
            drive = Drive(drive_id, site.id, name, url_name or name, root.id, library.id)
            self.drives[drive_id] = drive
            return drive

    def add_list(self, site: Site, display_name: str, *, columns: tuple[Column, ...] = ()) -> SpList:
        with self.lock:
            merged = {c.name: c for c in _DEFAULT_LIST_COLUMNS + columns}
            sp_list = SpList(str(uuid.uuid4()), site.id, display_name, merged)
            self.lists[sp_list.id] = sp_list
            return sp_list

    def drop_chunks(self, *, times: int = 1, after: int = 0, mode: DropMode = "disconnect") -> None:
        """Lose upload-session fragments: after ``after`` fragments, the next ``times`` are thrown
        away. ``disconnect``: the connection drops with no answer (the client must ask the session
        where to resume); ``discard``: the service answers 202 but its ``nextExpectedRanges`` still
        asks for the lost range; ``expire``: the session expires as the fragment arrives (404)."""
        with self.lock:
            self._drops.append(_Drop(mode, after, times))

    def expire_sessions(self) -> None:
        """Make every open upload session expire now (SharePoint's last for a limited time)."""
        with self.lock:
            for session in self.sessions.values():
                session.expires = now() - timedelta(seconds=1)

    def take_drop(self) -> DropMode | None:
        with self.lock:
            for drop in self._drops:
                if drop.served >= drop.times:
                    continue
                drop.seen += 1
                if drop.seen <= drop.after:
                    continue
                drop.served += 1
                return drop.mode
            return None

    def drops_served(self) -> int:
        with self.lock:
            return sum(drop.served for drop in self._drops)

    # --- lookups -------------------------------------------------------------------------------

    def site_by_path(self, hostname: str, path: str) -> Site | None:
        wanted = "/" + path.strip("/")
        for site in self.sites.values():
            if site.hostname.lower() == hostname.lower() and site.path.lower() == wanted.lower():
                return site
        return None

    def site_by_id(self, site_id: str) -> Site | None:
        if site_id in self.sites:
            return self.sites[site_id]
        if site_id == "root":
            return next(iter(self.sites.values()), None)
        # Graph also accepts "hostname,siteGuid" without the web id, and "hostname:/path"
        if ":" in site_id:
            host, _, path = site_id.partition(":")
            return self.site_by_path(host, path.rstrip(":"))
        return next((s for s in self.sites.values() if s.id.startswith(site_id + ",")), None)

    def list_by_id_or_title(self, site: Site, key: str) -> SpList | None:
        for sp_list in self.lists.values():
            if sp_list.site_id == site.id and key in (sp_list.id, sp_list.display_name):
                return sp_list
        return None

    def children(self, parent_id: str) -> list[DriveItem]:
        return [item for item in self.items.values() if item.parent_id == parent_id]

    def child_named(self, parent_id: str, name: str) -> DriveItem | None:
        folded = name.casefold()  # SharePoint names are case-insensitive
        return next((i for i in self.children(parent_id) if i.name.casefold() == folded), None)

    def item_by_path(self, drive: Drive, path: str) -> DriveItem | None:
        item: DriveItem | None = self.items[drive.root_id]
        for segment in [s for s in path.split("/") if s]:
            assert item is not None
            item = self.child_named(item.id, segment)
            if item is None:
                return None
        return item

    def path_of(self, item: DriveItem) -> list[str]:
        names: list[str] = []
        current: DriveItem | None = item
        while current is not None and current.parent_id is not None:
            names.append(current.name)
            current = self.items.get(current.parent_id)
        return list(reversed(names))

    def file_content(self, drive_id: str, path: str) -> bytes:
        """The bytes of the file at ``path`` in a drive (for tests)."""
        with self.lock:
            item = self.item_by_path(self.drives[drive_id], path)
            if item is None or item.is_folder:
                raise KeyError(path)
            return bytes(item.content)

    # --- mutation ------------------------------------------------------------------------------

    def _new_item_id(self) -> str:
        return f"01SANDBOX{next(self._ids):06d}{uuid.uuid4().hex[:17].upper()}"

    def new_folder(self, drive: Drive, parent: DriveItem, name: str) -> DriveItem:
        folder = DriveItem(self._new_item_id(), drive.id, parent.id, name, is_folder=True)
        self.items[folder.id] = folder
        return folder

    def free_name(self, parent_id: str, name: str) -> str:
        """SharePoint's ``rename`` conflict behaviour: "report.html" → "report 1.html", ..."""
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        for n in itertools.count(1):
            candidate = f"{stem} {n}{dot}{ext}"
            if self.child_named(parent_id, candidate) is None:
                return candidate
        raise AssertionError("unreachable")

    def write_file(
        self, drive: Drive, parent: DriveItem, name: str, content: bytes | bytearray
    ) -> tuple[DriveItem, bool]:
        """Create ``name`` under ``parent`` or add a new version of it; True when created."""
        existing = self.child_named(parent.id, name)
        moment = now()
        if existing is None:
            item = DriveItem(self._new_item_id(), drive.id, parent.id, name, is_folder=False)
            library = self.lists[drive.list_id]
            item.list_item_id = library.next_item_id
            library.next_item_id += 1
            item.content = self.stored_bytes(drive, item, content)
            item.versions.append(FileVersion("1.0", item.content, moment))
            self.items[item.id] = item
            return item, True
        content = self.stored_bytes(drive, existing, content)
        existing.content = content
        existing.version += 1
        existing.content_version += 1
        existing.modified = moment
        existing.versions.append(FileVersion(f"{len(existing.versions) + 1}.0", content, moment))
        return existing, False

    def stored_bytes(self, drive: Drive, item: DriveItem, content: bytes | bytearray) -> bytes | bytearray:
        """What SharePoint keeps for ``content`` saved as ``item``: an Office file is rewritten with
        the item's column values (unless :attr:`rewrite_office_files` is off)."""
        if not self.rewrite_office_files:
            return content
        return demote_properties(item.name, content, item.fields, library_id=drive.list_id, stamp=iso(now()))

    def set_file_fields(self, drive: Drive, item: DriveItem, updates: dict[str, Any]) -> None:
        """Change an item's library columns; SharePoint demotes them into an Office file's bytes."""
        item.fields.update(updates)
        item.version += 1  # metadata changes the eTag
        rewritten = self.stored_bytes(drive, item, item.content)
        if rewritten is not item.content:
            item.content = rewritten
            item.content_version += 1  # and, through demotion, the bytes (cTag) of an Office file

    def quickxor(self, item: DriveItem) -> str:
        return quickxor_b64(item.content)
