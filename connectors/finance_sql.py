"""Finance lines from a reporting database: one read-only query against any SQLAlchemy URL.

The query's values come only through bound parameters (``:fiscal_year`` in the SQL, ``params`` in
pmsync.yaml); nothing is formatted into the SQL text. Rows are streamed (server-side cursor where the
driver has one, ``yield_per`` batches), and the session is made read-only where the database allows
(PostgreSQL ``SET TRANSACTION READ ONLY``, SQLite ``PRAGMA query_only``); the query itself must be a
single ``SELECT`` or ``WITH``.

Each run reads the whole result: it is the complete statement of every (project code, kind, month)
it contains, which replaces older lines of those scopes (see :mod:`pmsync.connectors.finance.lines`).
Scopes the query returned last time and no longer returns are emptied too, unless
``delete_vanished_periods: false`` (for queries over a rolling window of periods).
A bad row fails the run before its checkpoint, so nothing of it is committed, unless
``skip_bad_rows``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    Cursor,
    ExtractItem,
    SkippedRow,
    SnapshotComplete,
)
from pmsync.errors import ConfigError, ConnectorError, PmsyncError, SourceDataError
from pmsync.logs import redact, register_secret

from .finance.lines import DuplicateColumns, LineBuilder, MissingColumns, RowError
from .finance.passes import LISTED_PROBLEMS
from .finance.source import COST_LINE, FinanceSource, FinanceSourceConfig

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)

ParamValue = str | int | float | bool | date | None


class FinanceSqlConfig(FinanceSourceConfig):
    #: SQLAlchemy URL, e.g. postgresql+psycopg://reporter@db/finance (password: below or ${ENV})
    url: str
    password: SecretStr | None = None
    password_file: Path | None = None
    #: the SQL, or a file holding it (relative to pmsync.yaml's folder)
    query: str | None = None
    query_file: Path | None = None
    #: values of the query's :named parameters
    params: dict[str, ParamValue] = Field(default_factory=dict)
    delete_vanished_periods: bool = True
    fetch_size: int = Field(default=5000, ge=1)

    @model_validator(mode="after")
    def _one_query(self) -> FinanceSqlConfig:
        if (self.query is None) == (self.query_file is None):
            raise ValueError("give either query or query_file")
        return self


def check_read_only_sql(sql: str) -> str:
    """The query, if it is one SELECT/WITH statement; raises :class:`ConfigError` otherwise."""
    bare = _COMMENTS.sub(" ", sql).strip().rstrip(";").strip()
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first not in ("SELECT", "WITH") or ";" in bare:
        raise ConfigError(
            "the finance query must be a single SELECT (or WITH ... SELECT) statement",
            record="query",
            hint="pmsync only reads; put values in params and refer to them as :name",
        )
    return sql


def _identity_hash(identity: str) -> int:
    return int.from_bytes(hashlib.blake2b(identity.encode("utf-8"), digest_size=8).digest(), "big")


class FinanceSqlConnector(FinanceSource[FinanceSqlConfig]):
    system: ClassVar[str] = "finance_sql"
    Config: ClassVar[type[ConnectorConfig]] = FinanceSqlConfig

    def _url(self) -> URL:
        try:
            url = make_url(self.config.url)
        except ArgumentError as exc:
            raise ConfigError(f"not a database URL: {exc}", source=self.source, record="url") from None
        register_secret(url.password if isinstance(url.password, str) else None)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # the driver pmsync ships (psycopg 3)
        if self.config.password is not None or self.config.password_file is not None:
            password = self.secret(self.config.password, self.config.password_file, what="database password")
            url = url.set(password=password)
        return url

    def _query(self) -> str:
        if self.config.query is not None:
            return check_read_only_sql(self.config.query)
        assert self.config.query_file is not None
        path = self.path(self.config.query_file)
        try:
            return check_read_only_sql(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"cannot read query_file {str(path)!r}: {exc.strerror}", source=self.source
            ) from None

    def _engine(self) -> Engine:
        url = self._url()
        try:
            # NullPool: the connection (and any session setting made on it) ends with the run
            return create_engine(url, poolclass=NullPool)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(
                f"cannot use a {url.drivername} database: {exc}",
                source=self.source,
                record="url",
                hint="install the database's SQLAlchemy driver (e.g. pip install oracledb)",
            ) from None

    def _where(self) -> str:
        return self._url().render_as_string(hide_password=True)

    def _read_only(self, conn: Connection) -> None:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(text("SET TRANSACTION READ ONLY"))
        elif dialect == "sqlite":
            conn.execute(text("PRAGMA query_only = ON"))

    def _db_error(self, exc: SQLAlchemyError, doing: str) -> ConnectorError:
        detail = redact(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
        return ConnectorError(
            f"{doing} failed: {detail}",
            source=self.source,
            record=self._where(),
            hint="check the URL, the credentials, the query and its params",
        )

    def check(self) -> list[CheckResult]:
        try:
            builder = self.line_builder()
            query = self._query()
            engine = self._engine()
        except PmsyncError as exc:
            return [CheckResult("config", "fail", str(exc), exc.hint or "")]
        try:
            with engine.connect() as conn:
                self._read_only(conn)
                result = conn.execution_options(stream_results=True).execute(text(query), self.config.params)
                try:
                    columns = list(result.keys())
                finally:
                    result.close()
        except SQLAlchemyError as exc:
            error = self._db_error(exc, "running the query")
            return [CheckResult("query", "fail", str(error), error.hint or "")]
        finally:
            engine.dispose()
        try:
            builder.bind(columns)
        except MissingColumns as exc:
            return [
                CheckResult(
                    "columns",
                    "fail",
                    f"the query returns no column {', '.join(exc.missing)} (it returns {', '.join(columns)})",
                    "alias the query's columns or edit the mapping",
                )
            ]
        return [
            CheckResult("query", "ok", f"{self._where()}: {len(columns)} columns, all mapped ones present")
        ]

    def _bind(self, builder: LineBuilder, columns: list[str]) -> None:
        """Map the query's columns, or say which column the query lacks or repeats."""
        try:
            builder.bind(columns)
        except DuplicateColumns as exc:
            raise SourceDataError(
                f"the query returns {exc}",
                source=self.source,
                record="query",
                hint="alias the columns so each name is returned once",
            ) from None
        except MissingColumns as exc:
            raise SourceDataError(
                f"the query returns no column {', '.join(exc.missing)} (it returns {', '.join(columns)})",
                source=self.source,
                record="query",
                hint='alias the query\'s columns (AS "Column Name") or edit the mapping',
            ) from None

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        builder = self.line_builder()
        query = self._query()
        engine = self._engine()
        scopes: set[str] = set()
        problems: list[str] = []
        bad_rows = 0
        rows = 0
        try:
            with engine.connect() as conn:
                self._read_only(conn)
                result = conn.execution_options(
                    stream_results=True, yield_per=self.config.fetch_size
                ).execute(text(query), self.config.params)
                try:
                    self._bind(builder, list(result.keys()))
                    seen: set[int] = set()
                    repeats: dict[str, int] = {}
                    for rows, row in enumerate(result, start=1):
                        try:
                            lines = builder.parse(tuple(row))
                        except RowError as exc:
                            bad_rows += 1
                            where = f"query row {rows}"
                            reason = f"column {exc.column!r}: value {exc.value!r} {exc.message}"
                            if self.config.skip_bad_rows:
                                yield SkippedRow(where=where, reason=reason)
                            elif len(problems) < LISTED_PROBLEMS:
                                problems.append(f"{where}, {reason}")
                            continue
                        if bad_rows and not self.config.skip_bad_rows:
                            continue  # keep reading only to list the bad rows; nothing more is yielded
                        for line in lines:
                            identity = line.identity()
                            key = _identity_hash(identity)
                            occurrence = 1
                            if key in seen:
                                occurrence = repeats.get(identity, 1) + 1
                                repeats[identity] = occurrence
                            else:
                                seen.add(key)
                            scopes.add(builder.scope(line))
                            yield builder.record(line, occurrence)
                finally:
                    result.close()  # a server-side cursor must not outlive its connection
        except SQLAlchemyError as exc:
            raise self._db_error(exc, "reading the finance query") from None
        finally:
            engine.dispose()
        if bad_rows and not self.config.skip_bad_rows:
            more = bad_rows - len(problems)
            raise SourceDataError(
                f"{bad_rows} bad row(s), nothing loaded: "
                + "; ".join(problems)
                + (f"; ... and {more} more" if more > 0 else ""),
                source=self.source,
                record="query",
                hint="fix the data or the mapping, or set skip_bad_rows: true to load the good rows",
            )
        previous: list[str] = cursor.get("scopes", [])
        known = set(previous)
        for scope in sorted(scopes):
            if scope in known:  # a scope never loaded before has no older lines to replace
                yield SnapshotComplete(scope, COST_LINE)
        if self.config.delete_vanished_periods:
            for scope in previous:
                if scope not in scopes:
                    yield SnapshotComplete(scope, COST_LINE)
            kept = sorted(scopes)
        else:
            kept = sorted(scopes | set(previous))
        yield Checkpoint({"scopes": kept, "rows": rows})
