"""pmsync.yaml: load, interpolate secrets from the environment, validate, and explain errors.

Secrets never live in the file: a value may be ``${JIRA_TOKEN}`` (read from the environment;
``${VAR:-default}`` gives a default), and connectors may also accept ``*_file`` keys naming a file
that holds the secret. A validation error names the exact key path (``sources[1].token``) and what
was expected.

Only what a command touches is resolved: a source's own keys (everything but ``name``, ``type`` and
``enabled``) are interpolated when that source is used (:func:`connector_config`), and the
``publish:`` section when something is published, so ``pmsync report`` under cron needs no source
secret and ``pmsync sync --source jira`` needs only Jira's. A source whose variables are all set is
still validated when the file is loaded, so a typo shows up at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url

from pmsync import yaml_text
from pmsync.connector import Connector, ConnectorConfig, ConnectorContext, load_connector_class
from pmsync.errors import ConfigError
from pmsync.logs import register_secret
from pmsync.model import Tier
from pmsync.oversight.config import ProjectOversight, oversight_settings
from pmsync.store import DEFAULT_MAX_SHARE, DEFAULT_MIN_RECORDS
from pmsync.suggest import choices_hint
from pmsync.validation import describe_validation_error, looks_secret

DEFAULT_CONFIG_NAME = "pmsync.yaml"
CONFIG_ENV_VAR = "PMSYNC_CONFIG"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreConfig(_Strict):
    #: SQLAlchemy URL; default is ``sqlite:///<folder of pmsync.yaml>/pmsync.db``
    url: str | None = None


class DeletionGuardConfig(_Strict):
    """How much of a scope one sync run may delete (see :mod:`pmsync.store.deletion_guard`)."""

    #: a run may not shrink a scope by more than this share of its live records...
    max_share: float = Field(default=DEFAULT_MAX_SHARE, ge=0, le=1)
    #: ...once it loses more than this many records (a run may never empty a scope)
    min_records: int = Field(default=DEFAULT_MIN_RECORDS, ge=0)


class SyncSettings(_Strict):
    """``sync:`` in pmsync.yaml: safety limits of every sync run."""

    deletion_guard: DeletionGuardConfig = Field(default_factory=DeletionGuardConfig)


class PortfolioConfig(_Strict):
    name: str = "Portfolio"
    currency: str = "USD"
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


class ReportingConfig(_Strict):
    """The agency's reporting calendar: how periods are cut, which day is the status date, in which
    time zone, and how long a closed period stays "the period to report" (its close window).

    Period boundaries and status dates are local dates in ``time_zone``, never UTC dates: the November
    report of an agency in Honolulu closes at midnight in Honolulu."""

    #: one report per calendar month, or per calendar quarter
    cadence: Literal["monthly", "quarterly"] = "monthly"
    #: IANA time zone name, e.g. ``America/Los_Angeles``
    time_zone: str = "UTC"
    #: ``last_day`` of the period, ``last_working_day`` (Monday-Friday, not a holiday), or a fixed day of
    #: the period's last month (1-31; clipped to the month's length)
    status_date: Literal["last_day", "last_working_day"] | int = "last_day"
    #: working days after a period ends during which ``pmsync report`` without ``--period`` still
    #: reports it (the committee pack for November is built in early December)
    close_working_days: int = Field(default=10, ge=0, le=60)
    #: agency holidays: not working days for the status date rule and the close window
    holidays: list[date] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone name (e.g. America/New_York, Europe/Berlin, UTC)"
            ) from None
        return value

    @field_validator("status_date")
    @classmethod
    def _day_in_month(cls, value: object) -> object:
        if isinstance(value, int) and not 1 <= value <= 31:
            raise ValueError("a fixed status date is a day of the month, 1-31")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class ProjectConfig(_Strict):
    key: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    name: str
    program: str | None = None
    tier: Tier | None = None
    sponsor: str | None = None
    manager: str | None = None
    #: the approved budget; a negative one is refused (a credit is not a budget)
    approved_budget: Decimal | None = Field(default=None, ge=0)
    currency: str | None = None
    #: keys of this project in each source, by source name or source type, e.g.
    #: ``{jira: [ERP], finance_file: [P-100, P-101], msproject: [erp-upgrade.xml]}``
    links: dict[str, list[str]] = Field(default_factory=dict)
    #: a text file with the PM's narrative for the executive summary (never invented)
    narrative_file: Path | None = None
    #: lifecycle state; unset, pmsync derives planning / executing / closing from the work
    lifecycle: Literal["planning", "executing", "on_hold", "closing", "closed", "cancelled"] | None = None
    #: criticality answers, gates, funding, contracts, staffing and benefits plans (docs/report.md)
    oversight: ProjectOversight = Field(default_factory=ProjectOversight)

    @field_validator("links", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class SourceConfig(BaseModel):
    """One configured source; keys other than these belong to the connector's own config model."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    type: str = Field(min_length=1)
    enabled: bool = True
    #: this source's own deletion guard (default: ``sync.deletion_guard``)
    deletion_guard: DeletionGuardConfig | None = None

    def connector_settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PmsyncConfig(_Strict):
    store: StoreConfig = Field(default_factory=StoreConfig)
    #: a folder of the user's mapping files, searched before the shipped defaults
    mappings_dir: Path | None = None
    portfolio: PortfolioConfig = Field(default_factory=PortfolioConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    projects: list[ProjectConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    # Sections owned by reconcile / report / publish; validated by their own modules.
    governance: dict[str, Any] = Field(default_factory=dict)
    reports: dict[str, Any] = Field(default_factory=dict)
    publish: dict[str, Any] = Field(default_factory=dict)
    #: the oversight rules (a jurisdiction preset and overrides); see pmsync.oversight.config
    oversight: dict[str, Any] = Field(default_factory=dict)

    #: where the file was read from (not a YAML key)
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    path: Path | None = Field(default=None, exclude=True)
    #: the environment ``${VAR}`` references are read from when a deferred part is used
    _env: Mapping[str, str] | None = PrivateAttr(default=None)

    def interpolate(self, value: Any, path: str) -> Any:
        """``value`` (a deferred part of the file, at key ``path``) with its ``${VAR}`` references
        resolved; a variable that is not set is a :class:`ConfigError` naming it and the key."""
        return _interpolate(value, path, os.environ if self._env is None else self._env)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return value

    def store_url(self) -> str:
        """The store's URL; a relative SQLite path is relative to pmsync.yaml's folder, not the
        current directory, so cron jobs and interactive runs share one store."""
        if not self.store.url:
            return f"sqlite:///{(self.base_dir / 'pmsync.db').resolve()}"
        url = make_url(self.store.url)
        database = url.database or ""
        if url.drivername.startswith("sqlite") and database and database != ":memory:":
            path = Path(database).expanduser()
            if not path.is_absolute() and not database.startswith("file:"):
                return url.set(database=str((self.base_dir / path).resolve())).render_as_string(
                    hide_password=False
                )
        return self.store.url

    def mapping_dirs(self) -> tuple[Path, ...]:
        dirs: list[Path] = []
        if self.mappings_dir is not None:
            dirs.append(self.resolve_path(self.mappings_dir))
        dirs.append(shipped_mappings_dir())
        return tuple(dirs)

    def resolve_path(self, path: Path | str) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(
            f"no source named {name!r}",
            hint=choices_hint(name, [s.name for s in self.sources], "configured sources"),
        )

    def project_links(self, source: SourceConfig) -> dict[str, str]:
        """Keys of projects in ``source`` (by source name or type) → pmsync project key."""
        links: dict[str, str] = {}
        for project in self.projects:
            for key in project.links.get(source.name, []) + project.links.get(source.type, []):
                links[key] = project.key
        return links


def shipped_mappings_dir() -> Path:
    """The folder of mapping files shipped inside the package (``pmsync.mappings``)."""
    return Path(str(resources.files("pmsync.mappings")))


def _interpolate(value: Any, path: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(
                f"environment variable {name} is not set",
                record=path or "(top level)",
                hint=f"export {name}=... before running pmsync",
            )

        result = _ENV_REF.sub(replace, value)
        if result != value and looks_secret(path):
            register_secret(result)
        return result
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", env) for i, v in enumerate(value)]
    return value


def find_config_path(explicit: Path | None = None) -> Path:
    """``--config``, else ``$PMSYNC_CONFIG``, else ``./pmsync.yaml``."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_config(path: Path, env: Mapping[str, str] | None = None) -> PmsyncConfig:
    """Read, interpolate and validate pmsync.yaml (connector blocks are validated too)."""
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(path)!r} not found", hint="run `pmsync init` to write a starter config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from exc
    try:
        raw = yaml_text.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    raw = {
        key: value if key in _DEFERRED_SECTIONS or key == "sources" else _interpolate(value, key, env)
        for key, value in raw.items()
    }
    if isinstance(raw.get("sources"), list):
        raw["sources"] = [_interpolate_source_frame(s, i, env) for i, s in enumerate(raw["sources"])]
    try:
        config = PmsyncConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc, model=PmsyncConfig)}") from None
    config.base_dir = path.resolve().parent
    config.path = path.resolve()
    config._env = env
    check_projects(config)
    oversight_settings(config.oversight, where=str(path))
    for index, source in enumerate(config.sources):
        if not _unset_variables(source.connector_settings(), env):
            connector_config(config, source, index=index)
    return config


def check_projects(config: PmsyncConfig) -> None:
    """Refuse what would misallocate silently: two projects with one key, and one key of a source
    (a finance code, a Jira project, a schedule) linked to two projects, whose records would all go
    to whichever project came last."""
    where = str(config.path) if config.path else DEFAULT_CONFIG_NAME
    first: dict[str, int] = {}
    for index, project in enumerate(config.projects):
        folded = project.key.casefold()
        if folded in first:
            raise ConfigError(
                f"{where}: projects[{index}].key: the project key {project.key!r} is already used by "
                f"projects[{first[folded]}]",
                hint="give each project its own key (keys are compared ignoring case)",
            )
        first[folded] = index
    for source in config.sources:
        owners: dict[str, list[str]] = {}
        for project in config.projects:
            for key in dict.fromkeys(project.links.get(source.name, []) + project.links.get(source.type, [])):
                owners.setdefault(key, []).append(project.key)
        for key, projects in owners.items():
            if len(projects) > 1:
                raise ConfigError(
                    f"{where}: {key!r} of source {source.name!r} is linked to the projects "
                    f"{' and '.join(map(repr, projects))}; all its records would go to {projects[-1]!r}",
                    source=source.name,
                    hint="link each source key to one project (splitting one key between projects is "
                    "not supported: split it at the source, e.g. one finance code per project)",
                )


#: top-level sections interpolated only when a command uses them
_DEFERRED_SECTIONS = frozenset({"publish"})
#: a source's own keys (its connector's settings) are interpolated when that source is used
_SOURCE_FRAME_KEYS = ("name", "type", "enabled")


def _interpolate_source_frame(source: Any, index: int, env: Mapping[str, str]) -> Any:
    if not isinstance(source, dict):
        return source
    return {
        key: _interpolate(value, f"sources[{index}].{key}", env) if key in _SOURCE_FRAME_KEYS else value
        for key, value in source.items()
    }


def _unset_variables(value: Any, env: Mapping[str, str]) -> list[str]:
    """``${VAR}`` references in ``value`` that have no value and no default."""
    if isinstance(value, str):
        return [m.group(1) for m in _ENV_REF.finditer(value) if m.group(1) not in env and m.group(2) is None]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _unset_variables(item, env)]
    if isinstance(value, list):
        return [name for item in value for name in _unset_variables(item, env)]
    return []


def connector_config(
    config: PmsyncConfig, source: SourceConfig, *, index: int | None = None
) -> ConnectorConfig:
    """Validate a source's block with its connector's config model."""
    if index is None:
        index = config.sources.index(source)
    try:
        cls = load_connector_class(source.type)
    except ConfigError as exc:
        exc.record = f"sources[{index}].type"
        raise
    values = config.interpolate(source.connector_settings(), f"sources[{index}]")
    # `name`, `type` and `enabled` are pmsync's keys of every block; a Config that declares one of them
    # gets its value too (docs/connectors.md), one that does not is not told about them.
    for key in ("name", "type", "enabled"):
        if key in cls.Config.model_fields:
            values[key] = getattr(source, key)
    try:
        settings = cls.Config.model_validate(values)
    except ValidationError as exc:
        where = str(config.path) if config.path else DEFAULT_CONFIG_NAME
        raise ConfigError(
            f"{where}: {describe_validation_error(exc, prefix=f'sources[{index}]', model=cls.Config)}",
            source=source.name,
        ) from None
    for value in settings.model_dump().values():
        if isinstance(value, SecretStr):
            register_secret(value.get_secret_value())
    return settings


def build_connector(
    config: PmsyncConfig, source: SourceConfig, *, full_refresh: bool = False, allow_deletions: bool = False
) -> Connector:
    """Instantiate the connector for a configured source (``full_refresh``, ``allow_deletions``: see
    ConnectorContext)."""
    cls = load_connector_class(source.type)
    context = ConnectorContext(
        source_name=source.name,
        config=connector_config(config, source),
        mapping_dirs=config.mapping_dirs(),
        base_dir=config.base_dir,
        project_links=config.project_links(source),
        fiscal_year_start_month=config.portfolio.fiscal_year_start_month,
        time_zone=config.reporting.time_zone,
        full_refresh=full_refresh,
        allow_deletions=allow_deletions,
    )
    return cls(context)


def read_secret(value: SecretStr | None, file: Path | None, *, what: str, base_dir: Path) -> str:
    """A secret from its ``${ENV}``-interpolated value or from a file (first line, stripped)."""
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if file is not None:
        path = file if file.is_absolute() else base_dir / file
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {what} from {str(path)!r}: {exc.strerror}") from None
        register_secret(secret)
        return secret
    raise ConfigError(f"no {what} configured", hint="set it from an environment variable or a file")
