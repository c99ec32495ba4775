"""The connector kit: an optional base that does a connector's set-up, so a connector is its reading.

:class:`~pmsync.connector.Connector` is only a protocol; every connector needs the same plumbing
around it. :class:`SourceConnector` holds it once:

- the validated config, typed (``SourceConnector[MyConfig]``; the wrong config type is a
  :class:`~pmsync.errors.ConfigError`, not an ``assert``);
- mapping files declared as class attributes (``mapping = MappingFile(MyMapping)``), loaded on first
  use and validated by pydantic, with their ``pmsync doctor`` line (:meth:`SourceConnector.check`);
- secrets: a ``SecretStr`` value (``${ENV}`` resolved by the config loader) or a file beside
  pmsync.yaml, registered for redaction (:meth:`SourceConnector.secret`);
- paths relative to pmsync.yaml's folder (:meth:`SourceConnector.path`);
- source references (:meth:`SourceConnector.ref`) and errors that name the source
  (:meth:`SourceConnector.data_error`);
- HTTP: a ``requests`` session with pmsync's timeouts and trust decision, and JSON reads on the shared
  tenacity retry policy (429/5xx retried honouring ``Retry-After``; 401/403 an
  :class:`~pmsync.errors.AuthError`) — :meth:`SourceConnector.http_session`, :meth:`SourceConnector.get_json`.

:class:`FileSourceConnector` adds what file sources share: the file or folder named by ``path``, its
files by pattern (Office lock files and hidden files left out), content hashes for the cursor, and the
doctor line for the folder. Paging helpers are in :mod:`pmsync.paging`; the conformance suite a
connector runs in its CI is :mod:`pmsync.testing`.

A connector subclasses the base, sets ``system`` and ``Config``, and writes ``extract`` (and, if it has
more to check than its mappings, ``source_checks``). See docs/connectors.md.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast, overload
from zoneinfo import ZoneInfo

import requests
from pydantic import BaseModel, SecretStr

from pmsync.config import read_secret
from pmsync.connector import CheckResult, ConnectorConfig, ConnectorContext, Cursor, ExtractItem
from pmsync.errors import ConfigError, PmsyncError, SourceDataError
from pmsync.http import as_connector_error, call_with_retries, make_session, raise_for_api_status
from pmsync.mapping import load_mapping
from pmsync.model import SourceRef

__all__ = ["FileSourceConnector", "MappingFile", "SourceConnector", "file_sha256"]

ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)
M = TypeVar("M", bound=BaseModel)


class MappingFile(Generic[M]):
    """A mapping file of a connector, declared on its class: ``mapping = MappingFile(MyMapping)``.

    The file's name is the config's ``mapping`` key (or what ``name`` returns for the config); it is
    searched in the user's mappings folder, then the shipped defaults, loaded on first use, and
    validated by ``model`` (errors name the file, the key and the allowed values).
    """

    def __init__(self, model: type[M], *, name: Callable[[Any], str] | None = None) -> None:
        self.model = model
        self.file_name = name or (lambda config: str(config.mapping))
        self.attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    @overload
    def __get__(self, connector: None, owner: type) -> MappingFile[M]: ...

    @overload
    def __get__(self, connector: SourceConnector[Any], owner: type) -> M: ...

    def __get__(self, connector: SourceConnector[Any] | None, owner: type) -> MappingFile[M] | M:
        if connector is None:
            return self
        cache = connector.__dict__.setdefault("_mappings", {})
        if self.attribute not in cache:
            name = self.file_name(connector.config)
            cache[self.attribute] = load_mapping(name, self.model, connector.context.mapping_dirs)
        loaded: M = cache[self.attribute]
        return loaded


class SourceConnector(Generic[ConfigT]):
    """Optional base of a connector: config, mappings, secrets, paths, errors and HTTP done once."""

    system: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]

    def __init__(self, context: ConnectorContext) -> None:
        if not isinstance(context.config, self.Config):
            raise ConfigError(
                f"the {self.system} connector needs a {self.Config.__name__}, "
                f"not a {type(context.config).__name__}",
                source=context.source_name,
            )
        self.context = context
        self.config: ConfigT = cast(ConfigT, context.config)
        self.source: str = context.source_name

    # -- what every connector uses ---------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        """The agency's time zone (pmsync.yaml ``reporting.time_zone``): what day a date-only value
        of the source means."""
        return ZoneInfo(self.context.time_zone)

    def ref(self, external_id: str) -> SourceRef:
        """The source reference of a record of this source."""
        return SourceRef(system=self.system, instance=self.source, external_id=external_id)

    def project_for(self, *keys: str, mapped: Mapping[str, str] | None = None) -> str | None:
        """The pmsync project key of a source's project known by any of ``keys`` (its id, its name):
        pmsync.yaml's ``projects[].links`` first, then the mapping's own table ``mapped``."""
        for key in keys:
            if key in self.context.project_links:
                return self.context.project_links[key]
            if mapped is not None and key in mapped:
                return mapped[key]
        return None

    def path(self, path: Path) -> Path:
        """``path`` (``~`` expanded) relative to pmsync.yaml's folder."""
        path = path.expanduser()
        return path if path.is_absolute() else self.context.base_dir / path

    def secret(self, value: SecretStr | None, file: Path | None, *, what: str) -> str:
        """A secret from its config value or a file beside pmsync.yaml; registered for redaction."""
        return read_secret(value, file, what=what, base_dir=self.context.base_dir)

    def data_error(
        self, message: str, *, record: str | None = None, hint: str | None = None
    ) -> SourceDataError:
        """A :class:`SourceDataError` naming this source (raise it)."""
        return SourceDataError(message, source=self.source, record=record, hint=hint)

    # -- HTTP ------------------------------------------------------------------------------------

    def http_session(self, *, ca_bundle: Path | None = None, timeout: float = 60.0) -> requests.Session:
        """A session with pmsync's User-Agent, timeouts and trust decision (``ca_bundle``)."""
        return make_session(ca_bundle=None if ca_bundle is None else self.path(ca_bundle), timeout=timeout)

    def get_json(
        self,
        session: requests.Session,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        record: str | None = None,
    ) -> Any:
        """GET ``url`` as JSON on the shared retry policy; failures become pmsync errors naming this
        source and ``record``."""

        def attempt() -> Any:
            try:
                response = session.get(url, params=params)
            except (OSError, requests.RequestException) as exc:
                raise as_connector_error(exc, source=self.source, record=record) from None
            raise_for_api_status(response, source=self.source, record=record)
            try:
                return response.json()
            except ValueError:
                raise self.data_error("the answer is not JSON", record=record) from None

        return call_with_retries(attempt)

    # -- doctor ----------------------------------------------------------------------------------

    def mapping_checks(self) -> list[CheckResult]:
        """One doctor line per declared mapping file: loads and validates it."""
        results = []
        for attribute, declared in _mapping_files(type(self)):
            name = declared.file_name(self.config)
            try:
                loaded = getattr(self, attribute)
            except PmsyncError as exc:
                results.append(CheckResult("mapping", "fail", str(exc), "fix the mapping file"))
            else:
                results.append(CheckResult("mapping", "ok", getattr(loaded, "description", None) or name))
        return results

    def source_checks(self) -> list[CheckResult]:
        """What ``pmsync doctor`` checks beyond the mappings (reachability, sign-in, files)."""
        return []

    def check(self) -> list[CheckResult]:
        return [*self.mapping_checks(), *self.source_checks()]

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        raise NotImplementedError(f"{type(self).__name__} must define extract(cursor)")


def _mapping_files(cls: type) -> Iterator[tuple[str, MappingFile[Any]]]:
    seen: set[str] = set()
    for klass in cls.__mro__:
        for attribute, value in vars(klass).items():
            if isinstance(value, MappingFile) and attribute not in seen:
                seen.add(attribute)
                yield attribute, value


class FileSourceConnector(SourceConnector[ConfigT]):
    """Base of a connector reading a file, or a folder of files, named by its config's ``path``."""

    #: file name patterns read from a folder (matched case-insensitively); a config's ``include``
    #: key, when it has one, overrides them
    patterns: ClassVar[Sequence[str]] = ("*",)
    #: what the files are called in doctor lines ("3 schedule file(s) in ...")
    file_noun: ClassVar[str] = "file"
    #: what ``path`` should name, for the error when it does not exist
    path_hint: ClassVar[str] = "point path at a file or a folder of them"

    @property
    def root(self) -> Path:
        """The configured file or folder."""
        configured: Path = getattr(self.config, "path")  # noqa: B009 - the file sources' shared key
        return self.path(configured)

    def files(self) -> list[tuple[str, Path]]:
        """(name relative to the folder, path) of every file to read, sorted by name."""
        root = self.root
        if root.is_file():
            return [(root.name, root)]
        if not root.is_dir():
            raise ConfigError(
                f"{str(root)!r} does not exist", source=self.source, record="path", hint=self.path_hint
            )
        patterns = [p.lower() for p in getattr(self.config, "include", None) or self.patterns]
        found = root.rglob("*") if getattr(self.config, "recursive", False) else root.iterdir()
        files = []
        for path in found:
            # Office's lock files (~$Plan.xlsx) and hidden files are never inputs
            if not path.is_file() or path.name.startswith(("~$", ".")):
                continue
            if any(fnmatch.fnmatch(path.name.lower(), pattern) for pattern in patterns):
                files.append((path.relative_to(root).as_posix(), path))
        return sorted(files)

    def files_check(self) -> tuple[list[CheckResult], list[tuple[str, Path]]]:
        """The doctor line for ``path`` and the files found (none when it failed)."""
        try:
            files = self.files()
        except PmsyncError as exc:
            return [CheckResult("files", "fail", str(exc), exc.hint or "")], []
        if not files:
            patterns = ", ".join(getattr(self.config, "include", None) or self.patterns)
            return [CheckResult("files", "warn", f"no files matching {patterns} in {self.root}")], []
        return [CheckResult("files", "ok", f"{len(files)} {self.file_noun}(s) in {self.root}")], files

    def source_checks(self) -> list[CheckResult]:
        return self.files_check()[0]

    def read_bytes(self, name: str, path: Path) -> bytes:
        """A file's content; an unreadable (or vanished) file is a :class:`SourceDataError`."""
        try:
            return path.read_bytes()
        except OSError as exc:
            raise self.data_error(f"cannot read the file: {exc.strerror or exc}", record=name) from None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content, read in blocks (the cursor's change test for files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
