"""Finding a SharePoint site, one of its document libraries and a folder in it through Graph.

Shared by the publisher (which writes reports into a library) and the msproject connector (which
reads schedules from one). Each lookup answers None when the thing is not there, so the caller raises
the error of its own kind (a PublishError for a target, a ConfigError for a source) with its own hint.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pmsync.microsoft.graph import ODataClient


def check_site_url(value: str) -> str:
    """A site URL as pmsync.yaml should give it (``https://contoso.sharepoint.com/sites/PMO``);
    raises ValueError (a pydantic validation message) otherwise."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be the site's https URL, e.g. https://contoso.sharepoint.com/sites/PMO")
    return value.rstrip("/")


def site_host_and_path(site_url: str) -> tuple[str, str]:
    """``https://contoso.sharepoint.com/sites/PMO`` → ``("contoso.sharepoint.com", "/sites/PMO")``."""
    parts = urlsplit(site_url)
    return parts.hostname or "", parts.path or "/"


def find_site(client: ODataClient, site_url: str) -> dict[str, Any] | None:
    """The Graph ``site`` at ``site_url`` (addressed by host name and server-relative path)."""
    host, path = site_host_and_path(site_url)
    return client.get_optional(f"sites/{host}:{quote(path)}", record=site_url)


def find_library(
    client: ODataClient, site: dict[str, Any], library: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """The ``drive`` of the document library named ``library`` (its display name, or the name in its
    URL, which differs once a library is renamed), and the names of all libraries (for a hint)."""
    wanted = library.casefold()
    names: list[str] = []
    for drive in client.items(f"sites/{site['id']}/drives", record=str(site.get("webUrl") or library)):
        url_name = unquote(str(drive.get("webUrl", "")).rstrip("/").rsplit("/", 1)[-1])
        if wanted in (str(drive.get("name", "")).casefold(), url_name.casefold()):
            return drive, names
        names.append(str(drive.get("name")))
    return None, names


def find_item(client: ODataClient, drive_id: str, path: str) -> dict[str, Any] | None:
    """The ``driveItem`` at ``path`` inside the library (the root for an empty path)."""
    segments = "/".join(s for s in path.split("/") if s)
    if not segments:
        return client.get_json(f"drives/{drive_id}/root", record=path or "/")
    return client.get_optional(f"drives/{drive_id}/root:/{quote(segments)}", record=segments)
