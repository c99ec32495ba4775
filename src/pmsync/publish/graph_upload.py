"""Uploading a file into a SharePoint document library through Graph: one PUT for small files, a
resumable upload session for large ones.

An upload session takes the file in fragments (each a multiple of 320 KiB except the last) on a
pre-authenticated URL that must NOT carry the bearer token. After every answer the service says
which bytes it still expects (``nextExpectedRanges``); the uploader always continues from there
rather than from its own count, so a fragment the service lost is simply sent again. When a fragment
gets no answer (connection dropped, timeout), a 5xx or a 429, the uploader waits (``Retry-After``
when given), asks the session where to resume, and carries on. Only the current fragment is in
memory.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import requests

from pmsync.errors import PmsyncError, PublishError
from pmsync.http import MAX_RETRY_AFTER, as_connector_error, parse_retry_after
from pmsync.logs import redact, register_secret
from pmsync.microsoft.graph import ODataClient, stale_token
from pmsync.publish.hashing import quickxor_b64
from pmsync.publish.office import is_office_file

log = logging.getLogger(__name__)

#: consecutive failed attempts on one fragment before giving up (progress resets the count)
MAX_FRAGMENT_ATTEMPTS = 8


class UploadFailed(PublishError):
    """The upload did not complete; nothing was published (a rerun starts it again)."""


def _graph_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or error.get("code") or response.reason)
    except (ValueError, AttributeError):
        return response.reason or f"HTTP {response.status_code}"


class _SessionGone(UploadFailed):
    """The upload URL answers 404: the session expired, was cancelled, or completed."""


class PublishGraphClient(ODataClient):
    """The Graph client with the call publishing needs beyond JSON: a binary PUT (lookups that may
    answer 404 use :meth:`ODataClient.get_optional`)."""

    def put_bytes(
        self, path: str, data: bytes, *, params: Mapping[str, str], record: str, retry: bool = True
    ) -> requests.Response:
        url = self.url(path)
        headers = {"Accept": "application/json", "Content-Type": "application/octet-stream"}

        def attempt() -> requests.Response:
            response = self._send_bytes("PUT", url, params, data, headers, record)
            if stale_token(response):
                self.tokens.invalidate()  # a token the service no longer accepts: once more, fresh
                response = self._send_bytes("PUT", url, params, data, headers, record)
            self._raise_for_status(response, record)
            return response

        return self.policy()(attempt) if retry else attempt()

    def _send_bytes(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        data: bytes,
        headers: dict[str, str],
        record: str,
    ) -> requests.Response:
        token = self.tokens.token(self.scope)
        self.requests_sent += 1
        try:
            return self.tokens.session.request(
                method, url, params=params, data=data, headers={**headers, "Authorization": f"Bearer {token}"}
            )
        except requests.RequestException as exc:
            raise as_connector_error(exc, source=self.source, record=record) from None


class GraphUploader:
    """Uploads local files into a drive folder as one app, with the conflict behaviour given."""

    def __init__(
        self,
        client: PublishGraphClient,
        *,
        target: str,
        simple_max_bytes: int,
        chunk_bytes: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.target = target
        self.simple_max_bytes = simple_max_bytes
        self.chunk_bytes = chunk_bytes
        self.sleep = sleep
        #: HTTP requests sent to upload-session URLs (the client counts the rest)
        self.session_requests = 0
        self.resumes = 0
        # The token provider's session trusts the right CA and never carries the bearer token by
        # default (ODataClient adds it per request), so it is safe for the pre-authenticated URLs.
        self._http = client.tokens.session

    def upload(
        self,
        path: Path,
        *,
        drive_id: str,
        parent_id: str,
        name: str,
        size: int,
        conflict: str,
        before: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Upload ``path`` as ``name`` under folder ``parent_id``; returns (driveItem, HTTP status).
        ``before`` is what the caller found at that name just before (None: nothing), so that a PUT
        whose answer was lost is recognised as landed instead of being sent again."""
        address = f"drives/{drive_id}/items/{parent_id}:/{quote(name)}:"
        if size <= self.simple_max_bytes:
            return self._simple(path, address, name, conflict, before)
        return self._session(path, address, name, size, conflict)

    # -- one PUT ------------------------------------------------------------------------------------

    def _simple(
        self, path: Path, address: str, name: str, conflict: str, before: dict[str, Any] | None
    ) -> tuple[dict[str, Any], int]:
        data = path.read_bytes()
        sent = [False]

        def attempt() -> tuple[dict[str, Any], int]:
            # A retry after a timeout, a dropped answer or a 5xx: the first PUT may have landed, and a
            # second one would add a needless version. Look first.
            if sent[0] and (conflict == "replace" or before is None):
                landed = self._landed(address, name, data, before)
                if landed is not None:
                    log.info("%s: %s was stored by the attempt whose answer was lost", self.target, name)
                    return landed, 200
            sent[0] = True
            response = self.client.put_bytes(
                f"{address}/content",
                data,
                params={"@microsoft.graph.conflictBehavior": conflict},
                record=name,
                retry=False,
            )
            return response.json(), response.status_code

        result: tuple[dict[str, Any], int] = self.client.policy()(attempt)
        return result

    def _landed(
        self, address: str, name: str, data: bytes, before: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The item at ``name`` if it holds what was sent and changed since ``before`` was read."""
        item = self.client.get_optional(address.rstrip(":"), record=name)
        if item is None or "file" not in item:
            return None
        if before is not None and item.get("cTag") == before.get("cTag"):
            return None  # untouched since the look before the upload: the PUT did not land
        stored = ((item.get("file") or {}).get("hashes") or {}).get("quickXorHash")
        if item.get("size") == len(data) and stored == quickxor_b64(data):
            return item
        # SharePoint rewrites Office files it stores, so their bytes are not ours to compare; it
        # changed since we looked, which is what the lost PUT did.
        return item if is_office_file(name) else None

    # -- upload session -----------------------------------------------------------------------------

    def _session(
        self, path: Path, address: str, name: str, size: int, conflict: str
    ) -> tuple[dict[str, Any], int]:
        for attempt in (1, 2):
            upload_url, offset = self._open_session(address, name, conflict)
            try:
                with path.open("rb") as stream:
                    return self._send_fragments(stream, upload_url, name, size, offset)
            except _SessionGone:
                # Either the answer to the last fragment was lost and the session is gone because
                # it completed — then the file is there with our size (the caller checks its hash) —
                # or the session expired: start a new one, once.
                item = self.client.get_optional(address.rstrip(":"), record=name)
                if item is not None and item.get("size") == size and "file" in item:
                    created_now = item.get("createdDateTime") == item.get("lastModifiedDateTime")
                    return item, 201 if created_now else 200
                if attempt == 2:
                    raise self._gone(name) from None
                log.warning("%s: the upload session of %s expired; starting a new one", self.target, name)
            except BaseException:
                self._cancel(upload_url)
                raise
        raise AssertionError("unreachable")

    def _open_session(self, address: str, name: str, conflict: str) -> tuple[str, int]:
        created = self.client.request(
            "POST",
            f"{address}/createUploadSession",
            json={"item": {"@microsoft.graph.conflictBehavior": conflict}},
            record=name,
        ).json()
        upload_url = str(created["uploadUrl"])
        # SharePoint's upload URL carries its own credential (tempauth=...): never log it.
        register_secret(upload_url)
        register_secret(urlsplit(upload_url).query)
        register_secret(upload_url.split("://", 1)[-1].split("/", 1)[-1])
        return upload_url, _first_expected(created)

    def _send_fragments(
        self, stream: BinaryIO, upload_url: str, name: str, size: int, offset: int
    ) -> tuple[dict[str, Any], int]:
        failures = 0
        while True:
            if failures >= MAX_FRAGMENT_ATTEMPTS:
                raise UploadFailed(
                    f"upload stopped at byte {offset} of {size} after {failures} failed attempts",
                    source=self.target,
                    record=name,
                    hint="the service keeps failing; run `pmsync publish` again later (it starts over)",
                )
            stream.seek(offset)
            fragment = stream.read(min(self.chunk_bytes, size - offset))
            end = offset + len(fragment) - 1
            headers = {"Content-Range": f"bytes {offset}-{end}/{size}", "Content-Length": str(len(fragment))}
            self.session_requests += 1
            try:
                # No Authorization header: the upload URL is pre-authenticated and SharePoint
                # rejects a bearer token there.
                response = self._http.put(upload_url, data=fragment, headers=headers)
            except requests.RequestException as exc:
                failures += 1
                log.warning("fragment %s-%s of %s got no answer (%s); resuming", offset, end, name, exc)
                offset = self._resume_point(upload_url, name, failures)
                continue
            status = response.status_code
            if status in (200, 201):
                return response.json(), status
            if status == 202:
                next_offset = _first_expected(response.json())
                if next_offset <= offset:
                    # The service accepted the request but lost the fragment: send it again.
                    failures += 1
                    self.resumes += 1
                else:
                    failures = 0
                offset = next_offset
                continue
            if status == 429 or status >= 500 or status == 416:
                failures += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                log.warning("fragment %s-%s of %s: HTTP %s; resuming", offset, end, name, status)
                self.sleep(min(wait if wait is not None else 2.0 ** min(failures, 5), MAX_RETRY_AFTER))
                offset = self._resume_point(upload_url, name, failures)
                continue
            raise self._fatal(response, name)

    def _resume_point(self, upload_url: str, name: str, failures: int) -> int:
        """Where the session wants the next byte, asked after a failure (with a few retries)."""
        self.resumes += 1
        for attempt in range(1, MAX_FRAGMENT_ATTEMPTS + 1):
            self.session_requests += 1
            try:
                response = self._http.get(upload_url)
            except requests.RequestException:
                self.sleep(min(2.0**attempt, 30.0))
                continue
            if response.status_code == 200:
                return _first_expected(response.json())
            if response.status_code == 429 or response.status_code >= 500:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                self.sleep(min(wait if wait is not None else 2.0**attempt, MAX_RETRY_AFTER))
                continue
            raise self._fatal(response, name)
        raise UploadFailed(
            "the upload session could not be reached to resume",
            source=self.target,
            record=name,
            hint="run `pmsync publish` again later (it starts over)",
        )

    def _fatal(self, response: requests.Response, name: str) -> PmsyncError:
        message = redact(_graph_message(response))
        if response.status_code == 404:
            return _SessionGone(message, source=self.target, record=name)
        if response.status_code == 409:
            return PublishError(
                f"a file named {name!r} already exists: {message}",
                source=self.target,
                record=name,
                hint="set on_conflict: version or rename for this target",
            )
        return UploadFailed(
            f"HTTP {response.status_code} from the upload session: {message}", source=self.target, record=name
        )

    def _gone(self, name: str) -> UploadFailed:
        return UploadFailed(
            "the upload session expired or was cancelled",
            source=self.target,
            record=name,
            hint="run `pmsync publish` again; it starts a new session",
        )

    def _cancel(self, upload_url: str) -> None:
        """Best effort: tell the service to drop the partial upload."""
        with contextlib.suppress(requests.RequestException):
            self._http.delete(upload_url)


def _first_expected(body: dict[str, Any]) -> int:
    ranges = body.get("nextExpectedRanges") or []
    if not ranges:
        return 0
    return int(str(ranges[0]).split("-", 1)[0])
