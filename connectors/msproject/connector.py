"""``MSProjectConnector``: schedules from a folder, a single file, a URL, or a SharePoint library.

A file is re-read only when its content changed: the cursor keeps each file's SHA-256, and an
unchanged file yields nothing. A changed file yields all its records and then
``SnapshotComplete(scope=<source>:<file>)``, so the sweep of disappeared tasks is limited to that
file; a file that disappeared yields only the ``SnapshotComplete`` of its scope (everything it held
is marked deleted). A ``Checkpoint`` follows every file, so a long folder resumes where it stopped.

In a SharePoint library (:mod:`.sharepoint_source`) the cursor also keeps each file's QuickXorHash
(``versions``), so an unchanged file is not even downloaded.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError, model_validator

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    ConnectorContext,
    Cursor,
    ExtractItem,
    SkippedRow,
    SnapshotComplete,
)
from pmsync.connector_kit import FileSourceConnector, MappingFile, file_sha256
from pmsync.errors import PmsyncError, SourceDataError
from pmsync.http import as_connector_error, call_with_retries, raise_for_api_status
from pmsync.logs import redact
from pmsync.microsoft.graph import odata_moment

from .detect import MPXJ_FORMATS, detect
from .mapping import MSProjectMapping
from .mpxj_bridge import mpxj_problem, read_with_mpxj
from .mspdi import read_mspdi
from .records import FileIdentity, ScheduleRecords
from .schedule import Schedule
from .sharepoint_source import SharePointLibrary, SharePointScheduleLibrary, remote_version

_XML_SUFFIXES = frozenset({".xml"})
#: the format a file's suffix promises; a file whose content says otherwise is mislabelled
_MPXJ_SUFFIX_FORMATS = {".mpp": "mpp", ".mpt": "mpp", ".xer": "xer", ".mpx": "mpx", ".zip": "zip"}
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.\-]+")


class MSProjectConfig(ConnectorConfig):
    """``sources[]`` block of ``type: msproject``; give ``path``, ``url`` or ``sharepoint``."""

    #: a schedule file, or a folder of them (relative paths are relative to pmsync.yaml)
    path: Path | None = None
    #: an http(s) URL of one schedule file (e.g. a SharePoint download link)
    url: str | None = None
    #: a SharePoint document library folder, with the Microsoft sign-in keys
    sharepoint: SharePointLibrary | None = None
    #: file name patterns read from a folder or library
    include: list[str] = Field(default_factory=lambda: ["*.xml", "*.mpp", "*.mpx", "*.xer", "*.mpt"])
    #: also read sub-folders
    recursive: bool = False
    #: ``auto`` picks the reader by each file's content (MSPDI natively; .mpp, P6 PMXML/XER, MPX
    #: through MPXJ); ``mpxj`` sends every file to MPXJ; ``mspdi`` only the native reader
    reader: str = Field(default="auto", pattern="^(auto|mspdi|mpxj)$")
    mapping: str = "msproject.yaml"
    #: list a broken file as skipped and go on with the others, instead of stopping the run
    skip_bad_files: bool = False
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _one_location(self) -> MSProjectConfig:
        given = [v for v in (self.path, self.url, self.sharepoint) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'path' (a file or folder), 'url' or 'sharepoint'")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("'url' must be an http:// or https:// URL")
        return self


def project_key_for(file_key: str, links: dict[str, str] | None = None) -> str:
    """The pmsync project key of a file: from ``projects[].links`` (by path, name or stem), else
    a key made from the file name (``ERP Upgrade v3.xml`` → ``ERP-Upgrade-v3``)."""
    name = PurePosixPath(file_key).name
    stem = PurePosixPath(file_key).stem
    for candidate in (file_key, name, stem):
        if links and candidate in links:
            return links[candidate]
    key = _KEY_CHARS.sub("-", stem).strip("-._")
    return key or "msproject"


class MSProjectConnector(FileSourceConnector[MSProjectConfig]):
    """Microsoft Project schedules: MSPDI XML natively, .mpp/.mpx/.xer through MPXJ."""

    system: ClassVar[str] = "msproject"
    Config: ClassVar[type[ConnectorConfig]] = MSProjectConfig
    mapping = MappingFile(MSProjectMapping)
    file_noun = "schedule file"
    path_hint = "set 'path' to a schedule file or a folder of them"

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        config = self.config
        self.library = (
            None
            if config.sharepoint is None
            else SharePointScheduleLibrary(
                config.sharepoint, source=self.source, base_dir=context.base_dir, include=config.include
            )
        )

    def _read(self, path: Path, file_key: str) -> tuple[Schedule, str]:
        """Read one file with the reader its *content* calls for (see :mod:`.detect`)."""
        if self.config.reader == "mpxj":
            return read_with_mpxj(path, file_key)
        detected = detect(path, file_key)
        suffix = PurePosixPath(file_key).suffix.lower() or path.suffix.lower()
        if self.config.reader == "mspdi" or (
            detected.format not in MPXJ_FORMATS and (detected.format != "unknown" or suffix in _XML_SUFFIXES)
        ):
            # MSPDI, and XML or text that is no known schedule: the native reader says what is wrong
            return read_mspdi(path, file_key)
        if detected.format == "unknown" or _MPXJ_SUFFIX_FORMATS.get(suffix) == detected.format:
            # named as what it is (or unrecognisable, named .mpp/.xer/...): MPXJ reads it or says why
            # not, and a missing extra is a setup problem (ConfigError) as for any .mpp
            return read_with_mpxj(path, file_key)
        problem = mpxj_problem()
        if problem is not None:
            if detected.format == "mpp" and suffix == ".xml":
                message = "not XML (looks like an .mpp; use type msproject with the mpp extra)"
            else:
                message = f"{detected.description}: reading it needs MPXJ"
            raise SourceDataError(
                f"{message}: {problem}",
                source=self.source,
                record=file_key,
                hint="pip install 'pmsync[mpp]' and a Java 11+ runtime, or save the schedule from "
                "Project as XML",
            )
        return read_with_mpxj(path, file_key)

    # -- doctor -----------------------------------------------------------------------------------

    def source_checks(self) -> list[CheckResult]:
        if self.config.url is not None:
            return [self._check_url()]
        files: list[tuple[str, Path]] = []
        if self.library is not None:
            results, names = self.library.check()
        else:
            results, files = self.files_check()
            if results[0].status == "fail":
                return results
            names = [key for key, _ in files]
        needs_mpxj = self.config.reader == "mpxj" or any(
            PurePosixPath(name).suffix.lower() not in _XML_SUFFIXES for name in names
        )
        if self.library is None and self.config.reader == "auto" and not needs_mpxj:
            # a .xml may really be an .mpp or a P6 export: ask its content
            needs_mpxj = any(_needs_mpxj(path) for _, path in files)
        if needs_mpxj:
            problem = mpxj_problem()
            if problem:
                results.append(
                    CheckResult("mpxj", "fail", problem, "or save the schedules as XML from Project")
                )
            else:
                results.append(CheckResult("mpxj", "ok", "MPXJ and Java are available for .mpp/.mpx/.xer"))
        return results

    def _check_url(self) -> CheckResult:
        assert self.config.url is not None
        try:
            with self.http_session(
                ca_bundle=self.config.ca_bundle, timeout=self.config.timeout_seconds
            ) as session:
                response = session.get(self.config.url, stream=True)
                raise_for_api_status(response, source=self.source, record=_url_key(self.config.url))
                response.close()
        except PmsyncError as exc:
            return CheckResult("url", "fail", str(exc), exc.hint or "check the URL and its permissions")
        except OSError as exc:
            return CheckResult("url", "fail", redact(str(exc)), "check the URL and the network")
        return CheckResult("url", "ok", redact(_url_key(self.config.url)))

    # -- extract ----------------------------------------------------------------------------------

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        if self.config.url is not None:
            yield from self._extract_url(cursor)
            return
        if self.library is not None:
            yield from self._extract_sharepoint(self.library, cursor)
            return
        known: dict[str, str] = dict(cursor.get("files") or {})
        present = self.files()
        for file_key, path in present:
            if file_key in known:
                try:
                    digest = file_sha256(path)
                except OSError as exc:
                    raise SourceDataError(
                        f"cannot read the file: {exc.strerror}",
                        source=self.source,
                        record=file_key,
                    ) from None
                if known[file_key] == digest:
                    continue  # unchanged since the last run: nothing to re-read, nothing to sweep
            parsed = yield from self._extract_file(path, file_key, _mtime(path))
            if parsed is None:
                continue
            known[file_key] = parsed
            yield Checkpoint({"files": dict(known)})
        present_keys = {key for key, _ in present}
        yield from self._sweep_removed(known, present_keys, {})

    def _sweep_removed(
        self, known: dict[str, str], present: set[str], versions: dict[str, str]
    ) -> Iterator[ExtractItem]:
        for file_key in sorted(set(known) - present):
            # the file is gone: a complete snapshot of nothing marks everything it held as deleted
            yield SnapshotComplete(scope=self._identity(file_key).scope)
            del known[file_key]
            versions.pop(file_key, None)
            yield Checkpoint(_cursor(known, versions))

    def _extract_sharepoint(
        self, library: SharePointScheduleLibrary, cursor: Cursor
    ) -> Iterator[ExtractItem]:
        known: dict[str, str] = dict(cursor.get("files") or {})
        versions: dict[str, str] = dict(cursor.get("versions") or {})
        present: set[str] = set()
        with tempfile.TemporaryDirectory(prefix="pmsync-msproject-") as tmp:
            for item in library.files():
                file_key = str(item["name"])
                present.add(file_key)
                version = remote_version(item)
                if file_key in known and version is not None and versions.get(file_key) == version:
                    continue  # same content hash as last time: not even downloaded
                target = Path(tmp) / f"download{PurePosixPath(file_key).suffix.lower()}"
                digest = library.download(item, target)
                if known.get(file_key) != digest:
                    modified = odata_moment(item.get("lastModifiedDateTime"))
                    parsed = yield from self._extract_file(target, file_key, modified)
                    if parsed is None:
                        continue
                    known[file_key] = parsed
                if version is not None:
                    versions[file_key] = version
                yield Checkpoint(_cursor(known, versions))
        yield from self._sweep_removed(known, present, versions)

    def _identity(self, file_key: str, modified: datetime | None = None) -> FileIdentity:
        return FileIdentity(
            source_name=self.source,
            file_key=file_key,
            project_key=project_key_for(file_key, dict(self.context.project_links)),
            modified=modified,
        )

    def _extract_file(
        self, path: Path, file_key: str, modified: datetime | None
    ) -> Generator[ExtractItem, None, str | None]:
        """Yield one file's records then its SnapshotComplete; return its hash (None if skipped)."""
        try:
            schedule, digest = self._read(path, file_key)
            _refuse_duplicate_uids(schedule, file_key)
        except SourceDataError as exc:
            exc.source = self.source
            if not self.config.skip_bad_files:
                raise
            yield SkippedRow(where=file_key, reason=str(exc))
            return None
        identity = self._identity(file_key, modified)
        builder = ScheduleRecords(schedule, identity, self.mapping)
        try:
            yield from builder.records()
        except ValidationError as exc:
            # Nothing of this file is committed: the engine commits at the Checkpoint that follows.
            problem = exc.errors()[0]
            where = ".".join(map(str, problem["loc"]))
            raise SourceDataError(
                f"a value does not fit pmsync's model: {where}: {problem['msg']}",
                source=self.source,
                record=file_key,
            ) from None
        yield SnapshotComplete(scope=identity.scope)
        return digest

    def _extract_url(self, cursor: Cursor) -> Iterator[ExtractItem]:
        assert self.config.url is not None
        url = self.config.url
        file_key = _url_key(url)
        known: dict[str, str] = dict(cursor.get("files") or {})
        etags: dict[str, str] = dict(cursor.get("etags") or {})
        source = self.source
        with tempfile.TemporaryDirectory(prefix="pmsync-msproject-") as tmp:
            suffix = PurePosixPath(urlsplit(url).path).suffix or ".xml"
            target = Path(tmp) / f"download{suffix}"
            session = self.http_session(ca_bundle=self.config.ca_bundle, timeout=self.config.timeout_seconds)

            def download() -> tuple[str | None, str | None]:
                headers = (
                    {"If-None-Match": etags[file_key]} if file_key in etags and file_key in known else {}
                )
                try:
                    response = session.get(url, stream=True, headers=headers)
                except OSError as exc:
                    raise as_connector_error(exc, source=source, record=file_key) from None
                with response:
                    if response.status_code == 304:
                        return None, response.headers.get("ETag")
                    raise_for_api_status(response, source=source, record=file_key)
                    digest = hashlib.sha256()
                    with target.open("wb") as out:
                        for block in response.iter_content(1 << 20):
                            digest.update(block)
                            out.write(block)
                    return digest.hexdigest(), response.headers.get("ETag")

            with session:
                digest, etag = call_with_retries(download)
            if digest is None or known.get(file_key) == digest:
                return  # 304 Not Modified, or the same bytes again
            parsed = yield from self._extract_file(target, file_key, None)
            if parsed is None:
                return
            known[file_key] = parsed
            if etag:
                etags[file_key] = etag
            yield Checkpoint({"files": known, "etags": etags})


def _refuse_duplicate_uids(schedule: Schedule, file_key: str) -> None:
    """Policy: a task UID on two rows stops the file (nothing of it is stored), naming the rows.

    Records are keyed by UID, so storing the file would keep one row and drop the other without a
    word; which one is "right" only the scheduler can say.
    """
    duplicates = schedule.duplicate_uids()
    if not duplicates:
        return
    uid, rows = next(iter(duplicates.items()))
    more = f" (and {len(duplicates) - 1} more duplicated UIDs)" if len(duplicates) > 1 else ""
    raise SourceDataError(
        f"task UID {uid} is used by {len(rows)} rows (IDs {', '.join(str(r) for r in rows)}){more}; "
        "a UID must be unique, or one task would silently replace the other",
        record=file_key,
        hint="open the file in MS Project and save it again (Project renumbers duplicate UIDs), or fix "
        "the tool that wrote it",
    )


def _needs_mpxj(path: Path) -> bool:
    try:
        return detect(path).format in MPXJ_FORMATS
    except SourceDataError:
        return False  # unreadable: the sync says so with the file's name


def _cursor(known: dict[str, str], versions: dict[str, str]) -> Cursor:
    cursor: Cursor = {"files": dict(known)}
    if versions:
        cursor["versions"] = dict(versions)
    return cursor


def _url_key(url: str) -> str:
    """A URL without its query and fragment (which may hold access tokens)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None
