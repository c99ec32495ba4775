"""Schedules kept in a SharePoint document library, read through Microsoft Graph.

The library folder is listed (drive item children, paged via ``@odata.nextLink``); a file whose
QuickXorHash (else its eTag/cTag) is the one recorded in the cursor is skipped without downloading
it. A changed file is streamed from ``/content`` into a temporary file and then read exactly like a
file from a folder. Site, library and folder are found with the publisher's lookups
(:mod:`pmsync.microsoft.sharepoint_sites`) and the shared Graph client.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from pydantic import SecretStr, field_validator

from pmsync.connector import CheckResult
from pmsync.errors import ConfigError, PmsyncError
from pmsync.logs import register_secret
from pmsync.microsoft.auth import MicrosoftAppSettings, token_provider
from pmsync.microsoft.checks import sign_in_check
from pmsync.microsoft.graph import ODataClient
from pmsync.microsoft.sharepoint_sites import check_site_url, find_item, find_library, find_site

#: application permissions that let an app read a document library (the first is the one to ask for)
SHAREPOINT_READ_PERMISSIONS = (
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Sites.Manage.All",
    "Sites.FullControl.All",
)
PERMISSION_HINT = (
    "the app needs the Microsoft Graph application permission Sites.Read.All (or Sites.ReadWrite.All) "
    "with admin consent"
)


class SharePointLibrary(MicrosoftAppSettings):
    """``sharepoint:`` of a ``type: msproject`` source: where the schedules are, and how to sign in."""

    #: the site's address, e.g. https://contoso.sharepoint.com/sites/PMO
    site_url: str
    #: the document library's name as shown in SharePoint
    library: str = "Documents"
    #: folder inside the library ("" = its top level); sub-folders are not read
    folder: str = ""

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return check_site_url(value)

    def secrets(self) -> list[str]:
        return [
            s.get_secret_value()
            for s in (self.client_secret, self.certificate_password)
            if isinstance(s, SecretStr)
        ]


def remote_version(item: dict[str, Any]) -> str | None:
    """What tells that a file's content changed without downloading it: its QuickXorHash, else its
    cTag (content tag) or eTag."""
    hashes = (item.get("file") or {}).get("hashes") or {}
    if hashes.get("quickXorHash"):
        return f"quickXorHash:{hashes['quickXorHash']}"
    tag = item.get("cTag") or item.get("eTag")
    return str(tag) if tag else None


class SharePointScheduleLibrary:
    """One library folder: lists its schedule files and downloads the changed ones."""

    def __init__(self, config: SharePointLibrary, *, source: str, base_dir: Path, include: list[str]):
        self.config = config
        self.source = source
        self.base_dir = base_dir
        self.include = [pattern.casefold() for pattern in include]
        for secret in config.secrets():
            register_secret(secret)  # nested in sharepoint:, so the config loader does not see it
        self._client: ODataClient | None = None
        self._folder: tuple[str, str] | None = None

    @property
    def client(self) -> ODataClient:
        if self._client is None:
            tokens = token_provider(self.config, source=self.source, base_dir=self.base_dir)
            self._client = ODataClient(
                base_url=self.config.graph_base(),
                scope=self.config.graph_scope(),
                tokens=tokens,
                source=self.source,
                permission_hint=PERMISSION_HINT,
            )
        return self._client

    def where(self) -> str:
        return "/".join(
            p for p in (self.config.site_url, self.config.library, self.config.folder.strip("/")) if p
        )

    def folder(self) -> tuple[str, str]:
        """(drive id, folder item id) of the configured folder; a ConfigError names what is missing."""
        if self._folder is not None:
            return self._folder
        config = self.config
        site = find_site(self.client, config.site_url)
        if site is None:
            raise ConfigError(
                "the SharePoint site was not found",
                source=self.source,
                record=config.site_url,
                hint="check sharepoint.site_url (open it in a browser; copy the address up to the site name)",
            )
        drive, names = find_library(self.client, site, config.library)
        if drive is None:
            raise ConfigError(
                f"the site has no document library named {config.library!r}",
                source=self.source,
                record=config.site_url,
                hint=f"set sharepoint.library to one of {', '.join(map(repr, names)) or 'none'}",
            )
        drive_id = str(drive["id"])
        item = find_item(self.client, drive_id, config.folder)
        if item is None or "folder" not in item:
            raise ConfigError(
                f"the library {config.library!r} has no folder {config.folder!r}",
                source=self.source,
                record=self.where(),
                hint="check sharepoint.folder (a path inside the library, e.g. Schedules/2026)",
            )
        self._folder = (drive_id, str(item["id"]))
        return self._folder

    def files(self) -> Iterator[dict[str, Any]]:
        """The schedule files directly in the folder (drive items), page by page."""
        drive_id, folder_id = self.folder()
        select = "id,name,eTag,cTag,file,size,lastModifiedDateTime"
        for item in self.client.items(
            f"drives/{drive_id}/items/{folder_id}/children",
            params={"$select": select, "$top": "200"},
            record=self.where(),
        ):
            name = str(item.get("name") or "")
            if "file" not in item or name.startswith(("~$", ".")):  # folders; Office lock files
                continue
            if any(fnmatch(name.casefold(), pattern) for pattern in self.include):
                yield item

    def download(self, item: dict[str, Any], target: Path) -> str:
        """Stream the file's bytes into ``target``; returns their SHA-256."""
        drive_id, _ = self.folder()
        return self.client.download(
            f"drives/{drive_id}/items/{item['id']}/content", target, record=str(item.get("name"))
        )

    def check(self) -> tuple[list[CheckResult], list[str]]:
        """``pmsync doctor``: sign-in (and the permission in the token), site, library, folder, files;
        and the names of the schedule files found (for the MPXJ check)."""
        signed_in, token = sign_in_check(
            self.config,
            source=self.source,
            scope=self.config.graph_scope(),
            base_dir=self.base_dir,
            needed=SHAREPOINT_READ_PERMISSIONS,
        )
        results = [signed_in]
        if token is None or signed_in.status != "ok":
            return results, []
        try:
            self.folder()
            results.append(CheckResult("sharepoint", "ok", f"site, library and folder found: {self.where()}"))
            names = [str(item["name"]) for item in self.files()]
        except PmsyncError as exc:
            results.append(CheckResult("sharepoint", "fail", exc.message, exc.hint or ""))
            return results, []
        if names:
            results.append(CheckResult("files", "ok", f"{len(names)} schedule file(s) in {self.where()}"))
        else:
            results.append(
                CheckResult("files", "warn", f"no files matching {', '.join(self.include)} in {self.where()}")
            )
        return results, names
