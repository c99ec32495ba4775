"""Publish report files to a SharePoint document library through Microsoft Graph.

For each file: hash it (SHA-256 and QuickXorHash); if the ledger says this exact content was already
published to this destination and the item is still there unchanged, do nothing. Otherwise make sure
the folder exists, upload (one PUT, or a resumable session for large files), check SharePoint's
size and QuickXorHash against the local file (optionally download it back and compare SHA-256), set
the library's metadata columns, and only then record the publication. An existing file is never
overwritten silently: ``on_conflict: version`` keeps it as a previous version, ``rename`` uploads
beside it under a new name.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pmsync.connector import CheckResult
from pmsync.errors import PmsyncError, PublishError, SourceDataError
from pmsync.http import retrying
from pmsync.microsoft.auth import TokenProvider, token_provider
from pmsync.microsoft.sharepoint_sites import find_library, find_site
from pmsync.publish.config import SharePointTarget, fill_folder
from pmsync.publish.graph_upload import GraphUploader, PublishGraphClient, UploadFailed
from pmsync.publish.hashing import FileDigest
from pmsync.publish.models import (
    ProjectStatusRow,
    PublicationLedger,
    PublishResult,
    ReportFile,
    TargetUnavailable,
)
from pmsync.publish.office import is_office_file, same_office_content
from pmsync.publish.sharepoint_list import StatusListWriter, find_list
from pmsync.store import PublicationInfo

log = logging.getLogger(__name__)

PERMISSION_HINT = "the app needs the Sites.ReadWrite.All application permission, admin-consented"


class SharePointPublisher:
    """One ``type: sharepoint`` target."""

    def __init__(
        self,
        config: SharePointTarget,
        ledger: PublicationLedger,
        *,
        base_dir: Path,
        tokens: TokenProvider | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = config.name
        self.config = config
        self.ledger = ledger
        tokens = tokens or token_provider(config, source=config.name, base_dir=base_dir)
        self.client = PublishGraphClient(
            base_url=config.graph_base(),
            scope=config.graph_scope(),
            tokens=tokens,
            source=config.name,
            permission_hint=PERMISSION_HINT,
            policy=lambda: retrying(sleep=sleep),
        )
        self.uploader = GraphUploader(
            self.client,
            target=config.name,
            simple_max_bytes=config.simple_upload_max_bytes,
            chunk_bytes=config.chunk_bytes,
            sleep=sleep,
        )
        self._site: dict[str, Any] | None = None
        self._drive: dict[str, Any] | None = None
        self._folders: dict[str, str] = {}

    # -- where ----------------------------------------------------------------------------------

    def site(self) -> dict[str, Any]:
        if self._site is None:
            site = find_site(self.client, self.config.site_url)
            if site is None:
                raise TargetUnavailable(
                    "the SharePoint site was not found",
                    source=self.name,
                    record=self.config.site_url,
                    hint="check site_url (open it in a browser; copy the address up to the site name)",
                )
            self._site = site
        return self._site

    def drive(self) -> dict[str, Any]:
        if self._drive is None:
            drive, names = find_library(self.client, self.site(), self.config.library)
            if drive is None:
                raise TargetUnavailable(
                    f"the site has no document library named {self.config.library!r}",
                    source=self.name,
                    record=self.config.site_url,
                    hint=f"set library: to one of {', '.join(map(repr, names)) or 'none'}",
                )
            self._drive = drive
        return self._drive

    def folder_id(self, folder: str) -> str:
        """The id of ``folder`` in the library, creating the missing folders one level at a time."""
        if folder in self._folders:
            return self._folders[folder]
        drive_id = self.drive()["id"]
        parent = str(self.client.get_json(f"drives/{drive_id}/root", record=self.config.library)["id"])
        walked: list[str] = []
        for segment in [s for s in folder.split("/") if s]:
            walked.append(segment)
            path = "/".join(walked)
            if path in self._folders:
                parent = self._folders[path]
                continue
            found = self.client.get_optional(f"drives/{drive_id}/root:/{quote(path)}", record=path)
            if found is None:
                body = {"name": segment, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
                try:
                    found = self.client.request(
                        "POST", f"drives/{drive_id}/items/{parent}/children", json=body, record=path
                    ).json()
                except SourceDataError:
                    # Another run created it between our look and our POST (409): use theirs.
                    found = self.client.get_optional(f"drives/{drive_id}/root:/{quote(path)}", record=path)
                    if found is None:
                        raise
            if "folder" not in found:
                raise PublishError(
                    f"{path!r} exists in the library but is a file, not a folder",
                    source=self.name,
                    record=path,
                    hint="rename that file or change folder: for this target",
                )
            parent = str(found["id"])
            self._folders[path] = parent
        self._folders[folder] = parent
        return parent

    def destination(self, folder: str, name: str) -> str:
        return "/".join(p for p in (self.config.site_url, self.config.library, folder, name) if p)

    # -- files ----------------------------------------------------------------------------------

    def publish_file(self, file: ReportFile) -> PublishResult:
        name = file.target_name
        try:
            digest = FileDigest.of_file(file.path)
        except OSError as exc:
            raise PublishError(
                f"cannot read {str(file.path)!r}: {exc.strerror}", source=self.name, record=name
            ) from None
        folder = fill_folder(self.config.folder, period=file.period, project=file.project)
        destination = self.destination(folder, name)
        previous = self.ledger.find_publication(destination, digest.sha256)
        if previous is not None and self._still_there(previous):
            log.info("%s: %s unchanged since %s", self.name, name, previous.published_at)
            return self._unchanged(name, digest, previous.url, previous.item_id)
        parent = self.folder_id(folder)
        drive_id = self.drive()["id"]
        # What is at that name now decides "created" or "new version" (Graph does not promise 200 vs
        # 201 for a replace), and lets pmsync's own hash column make a lost ledger harmless.
        existing = self.client.get_optional(f"drives/{drive_id}/items/{parent}:/{quote(name)}", record=name)
        if existing is not None and "file" in existing and self._has_our_hash(existing, digest, name):
            self._record(destination, existing, digest, name, *_stored(existing))
            return self._unchanged(name, digest, existing.get("webUrl"), str(existing["id"]))
        conflict = "replace" if self.config.on_conflict == "version" else "rename"
        item, _status = self.uploader.upload(
            file.path,
            drive_id=drive_id,
            parent_id=parent,
            name=name,
            size=digest.size,
            conflict=conflict,
            before=existing,
        )
        self._check_item(item, existing, name)
        if FileDigest.of_file(file.path).sha256 != digest.sha256:
            raise UploadFailed(
                "the file changed while it was being uploaded",
                source=self.name,
                record=name,
                hint="nothing was recorded as published; run `pmsync publish` again once it is written",
            )
        rewritten = self._verify(item, digest, file.path, name)
        item_id = str(item["id"])
        if self._set_metadata(item_id, file, digest):
            # Setting columns makes SharePoint demote them into an Office file: report what it keeps.
            item = self.client.get_json(f"drives/{drive_id}/items/{item_id}", record=name)
        stored_size, stored_hash = _stored(item)
        rewritten = rewritten or (
            is_office_file(name) and (stored_size, stored_hash) != (digest.size, digest.quickxor)
        )
        action, detail = "created", ""
        if item.get("name") != name:
            action, detail = "renamed", f"as {item.get('name')!r}"
        elif existing is not None:
            action, detail = "new_version", self._version_label(item_id)
        if rewritten:
            note = (
                f"SharePoint rewrote the Office file as libraries do: it keeps {stored_size} bytes, "
                f"quickXorHash {stored_hash}; pmsync sent {digest.size} bytes, SHA-256 {digest.sha256[:12]}…"
            )
            log.info("%s: %s: %s", self.name, name, note)
            detail = f"{detail}; {note}" if detail else note
        self._record(destination, item, digest, name, stored_size, stored_hash)
        return PublishResult(
            target=self.name,
            what=name,
            action=action,
            url=item.get("webUrl"),
            item_id=item_id,
            content_hash=digest.sha256,
            detail=detail,
            stored_size=stored_size,
            stored_hash=stored_hash,
            rewritten=rewritten,
        )

    def _unchanged(
        self, name: str, digest: FileDigest, url: str | None, item_id: str | None
    ) -> PublishResult:
        return PublishResult(
            target=self.name,
            what=name,
            action="unchanged",
            url=url,
            item_id=item_id,
            content_hash=digest.sha256,
        )

    def _record(
        self,
        destination: str,
        item: dict[str, Any],
        digest: FileDigest,
        name: str,
        stored_size: int | None = None,
        stored_hash: str | None = None,
    ) -> None:
        """The ledger row: pmsync's SHA-256 (what idempotency compares) and, beside it, the size and
        quickXorHash of the copy SharePoint keeps (they differ when it rewrote an Office file)."""
        self.ledger.record_publication(
            destination=destination,
            file_name=str(item.get("name") or name),
            content_hash=digest.sha256,
            url=item.get("webUrl"),
            item_id=str(item["id"]),
            stored_size=stored_size,
            stored_hash=stored_hash,
        )

    def _has_our_hash(self, existing: dict[str, Any], digest: FileDigest, name: str) -> bool:
        """The library item already holds this exact report: pmsync's hash column says so (when one
        is configured), or the stored bytes are the local file's."""
        if _stored(existing) == (digest.size, digest.quickxor):
            return True
        column = self.config.metadata_columns.content_hash
        if not column:
            return False
        fields = self.client.get_optional(
            f"drives/{self.drive()['id']}/items/{existing['id']}/listItem/fields", record=name
        )
        return fields is not None and fields.get(column) == digest.sha256

    def _still_there(self, previous: PublicationInfo) -> bool:
        """The item we published is still in the library (nobody deleted it), so publishing the same
        bytes again would change nothing. Its hash is deliberately not compared: SharePoint writes
        the library columns into Office files (property demotion), which changes their bytes."""
        if not previous.item_id:
            return False
        item = self.client.get_optional(
            f"drives/{self.drive()['id']}/items/{previous.item_id}", record=previous.file_name
        )
        return item is not None

    def _check_item(self, item: dict[str, Any], existing: dict[str, Any] | None, name: str) -> None:
        """The upload completed into the item pmsync named: a file, at that name (or the free name
        SharePoint picked for ``rename``), the same item when a version was added."""
        problem = None
        if not item.get("id") or "file" not in item:
            problem = "the service's answer names no file"
        elif self.config.on_conflict == "version" and str(item.get("name", "")).casefold() != name.casefold():
            problem = f"the service stored it as {item.get('name')!r}"
        elif self.config.on_conflict == "version" and existing is not None and item["id"] != existing["id"]:
            problem = "the service created another item instead of a new version of the existing one"
        if problem:
            raise UploadFailed(
                f"the upload did not land where asked: {problem}",
                source=self.name,
                record=name,
                hint="nothing was recorded as published; run `pmsync publish` again",
            )

    def _verify(self, item: dict[str, Any], digest: FileDigest, path: Path, name: str) -> bool:
        """Check the stored file against the local one; True when SharePoint rewrote an Office file
        (its content parts still checked with ``verify: download``)."""
        stored_size, stored_hash = _stored(item)
        same = stored_size == digest.size and (stored_hash is None or stored_hash == digest.quickxor)
        problem = None
        rewritten = False
        if not same and is_office_file(name):
            rewritten = True
        elif not same and stored_size != digest.size:
            problem = f"SharePoint holds {stored_size} bytes, the file has {digest.size}"
        elif not same:
            problem = "SharePoint's QuickXorHash differs from the local file's"
        if problem is None and self.config.verify == "download":
            stored = self._download(str(item["id"]))
            if rewritten:
                problem = same_office_content(path.read_bytes(), stored)
            elif hashlib.sha256(stored).hexdigest() != digest.sha256:
                problem = (
                    f"the downloaded copy has SHA-256 {hashlib.sha256(stored).hexdigest()}, "
                    f"the file {digest.sha256}"
                )
        if problem:
            raise UploadFailed(
                f"the uploaded file does not match: {problem}",
                source=self.name,
                record=name,
                hint="nothing was recorded as published; run `pmsync publish` again",
            )
        return rewritten

    def _download(self, item_id: str) -> bytes:
        url = self.client.url(f"drives/{self.drive()['id']}/items/{item_id}/content")
        token = self.client.tokens.token(self.client.scope)
        # requests drops the Authorization header when the redirect leaves the Graph host.
        with self.client.tokens.session.get(
            url, headers={"Authorization": f"Bearer {token}"}, stream=True
        ) as response:
            if response.status_code != 200:
                raise UploadFailed(
                    f"download for verification failed: HTTP {response.status_code}",
                    source=self.name,
                    record=item_id,
                )
            return b"".join(response.iter_content(1 << 20))

    def _set_metadata(self, item_id: str, file: ReportFile, digest: FileDigest) -> bool:
        """Set the library columns; True when any was set."""
        columns = self.config.metadata_columns
        fields = {
            column: value
            for column, value in (
                (columns.period, file.period),
                (columns.project, file.project),
                (columns.overall_status, file.overall_status),
                (columns.content_hash, digest.sha256),
            )
            if column and value is not None
        }
        if not fields:
            return False
        try:
            self.client.request(
                "PATCH",
                f"drives/{self.drive()['id']}/items/{item_id}/listItem/fields",
                json=fields,
                record=file.target_name,
            )
        except SourceDataError as exc:
            raise PublishError(
                f"could not set the library columns {', '.join(fields)}: {exc.message}",
                source=self.name,
                record=file.target_name,
                hint=f"add these columns to the {self.config.library!r} library, or rename them under "
                "metadata_columns (null skips one); nothing was recorded as published",
            ) from None
        return True

    def _version_label(self, item_id: str) -> str:
        versions = list(
            self.client.items(f"drives/{self.drive()['id']}/items/{item_id}/versions", record=item_id)
        )
        return f"version {versions[0].get('id')}" if versions else ""

    # -- status list ----------------------------------------------------------------------------

    def upsert_status_rows(
        self, rows: Iterable[ProjectStatusRow], report_urls: dict[str, str]
    ) -> Iterator[PublishResult]:
        if self.config.status_list is None:
            return
        writer = StatusListWriter(
            self.client,
            site=self.site(),
            config=self.config.status_list,
            ledger=self.ledger,
            target=self.name,
        )
        yield from writer.upsert(rows, report_urls)

    # -- doctor ---------------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """For ``pmsync doctor``: sign-in, site, library, its metadata columns, the status list."""
        results: list[CheckResult] = []
        try:
            site = self.site()
            results.append(CheckResult(f"{self.name}: site", "ok", str(site.get("webUrl", ""))))
            drive = self.drive()
            results.append(CheckResult(f"{self.name}: library", "ok", str(drive.get("webUrl", ""))))
            have = {str(c.get("name")) for c in self.client.items(f"drives/{drive['id']}/list/columns")}
            wanted = [c for c in self.config.metadata_columns.model_dump().values() if c]
            missing = [c for c in wanted if c not in have]
            results.append(
                CheckResult(
                    f"{self.name}: library columns",
                    "warn" if missing else "ok",
                    f"missing: {', '.join(missing)}" if missing else ", ".join(wanted) or "none set",
                    f"add them to the {self.config.library!r} library or change metadata_columns"
                    if missing
                    else "",
                )
            )
            if self.config.status_list is not None:
                results.append(self._check_status_list(site))
        except PmsyncError as exc:
            results.append(CheckResult(f"{self.name}: SharePoint", "fail", str(exc), exc.hint or ""))
        return results

    def _check_status_list(self, site: dict[str, Any]) -> CheckResult:
        status_list = self.config.status_list
        assert status_list is not None
        name = f"{self.name}: list {status_list.name!r}"
        found = find_list(self.client, str(site["id"]), status_list.name)
        if found is None:
            if status_list.create:
                return CheckResult(name, "ok", "missing; the first publish creates it")
            return CheckResult(
                name, "fail", "the list does not exist", "create it or set status_list.create: true"
            )
        columns = self.client.items(
            f"sites/{site['id']}/lists/{found['id']}/columns", record=status_list.name
        )
        have = {str(c.get("name")) for c in columns}
        missing = [c for c in status_list.columns.model_dump().values() if c not in have]
        if missing:
            return CheckResult(
                name, "fail", f"missing columns: {', '.join(missing)}", "add them or map status_list.columns"
            )
        return CheckResult(name, "ok", f"{len(have)} columns")


def _stored(item: dict[str, Any]) -> tuple[int | None, str | None]:
    """Size and QuickXorHash of a driveItem as SharePoint reports them."""
    size = item.get("size")
    quickxor = ((item.get("file") or {}).get("hashes") or {}).get("quickXorHash")
    return (size if isinstance(size, int) else None), (str(quickxor) if quickxor else None)
