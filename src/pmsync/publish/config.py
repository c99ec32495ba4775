"""The ``publish:`` section of pmsync.yaml: named targets, validated here (pmsync.config keeps the
section as a raw dict so that publishing owns its keys).

    publish:
      targets:
        - name: committee
          type: sharepoint
          site_url: https://contoso.sharepoint.com/sites/PMO
          library: Documents
          folder: Oversight/{period}
          tenant_id: ...
          client_id: ...
          client_secret: ${PMSYNC_GRAPH_SECRET}
        - name: archive
          type: folder
          path: ./published
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, field_validator

from pmsync.config import PmsyncConfig
from pmsync.errors import ConfigError
from pmsync.logs import register_secret
from pmsync.microsoft.auth import MicrosoftAppSettings
from pmsync.microsoft.sharepoint_sites import check_site_url, site_host_and_path
from pmsync.suggest import choices_hint
from pmsync.validation import describe_validation_error

CHUNK_UNIT = 320 * 1024
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibraryColumns(_Strict):
    """Internal names of the document library's metadata columns (None = do not set it)."""

    period: str | None = "Period"
    project: str | None = "Project"
    overall_status: str | None = "OverallStatus"
    #: a single-line text column for the SHA-256 of the file pmsync sent (None = not kept): SharePoint
    #: rewrites Office files, so their stored hash never matches; this column lets pmsync recognise
    #: its own report even without the store's ledger (another machine, a new database)
    content_hash: str | None = None


class StatusListColumns(_Strict):
    """Internal names of the "Project Status" list's columns."""

    title: str = "Title"
    project: str = "Project"
    period: str = "Period"
    schedule: str = "ScheduleRAG"
    cost: str = "CostRAG"
    scope: str = "ScopeRAG"
    risk: str = "RiskRAG"
    overall: str = "OverallRAG"
    key_variances: str = "KeyVariances"
    report_url: str = "ReportLink"


class StatusList(_Strict):
    name: str = "Project Status"
    columns: StatusListColumns = Field(default_factory=StatusListColumns)
    #: create the list (with these columns, Project and Period indexed) when the site lacks it
    create: bool = True


class SharePointTarget(MicrosoftAppSettings):
    """A SharePoint document library folder (and optionally a status list) on one site."""

    name: str = Field(pattern=_NAME)
    type: Literal["sharepoint"]
    enabled: bool = True
    site_url: str
    library: str = "Documents"
    #: folder inside the library; ``{period}`` and ``{project}`` are filled in per file
    folder: str = ""
    #: what to do when the file exists: keep it as a previous version, or upload under a new name
    on_conflict: Literal["version", "rename"] = "version"
    #: files up to this size go in one PUT; larger ones through a resumable upload session
    simple_upload_max_bytes: int = Field(default=4 * 1024 * 1024, ge=0, le=250 * 1024 * 1024)
    #: upload-session fragment size; SharePoint requires a multiple of 320 KiB, at most 60 MiB
    chunk_bytes: int = Field(default=32 * CHUNK_UNIT, gt=0, le=60 * 1024 * 1024)
    #: quickxor: compare SharePoint's QuickXorHash with the local file's; download: fetch the file
    #: back and compare SHA-256 as well
    verify: Literal["quickxor", "download"] = "quickxor"
    metadata_columns: LibraryColumns = Field(default_factory=LibraryColumns)
    #: the per-project status list; null disables it
    status_list: StatusList | None = Field(default_factory=StatusList)

    @field_validator("chunk_bytes")
    @classmethod
    def _multiple_of_320k(cls, value: int) -> int:
        if value % CHUNK_UNIT:
            raise ValueError(f"must be a multiple of 320 KiB ({CHUNK_UNIT} bytes), e.g. {10 * CHUNK_UNIT}")
        return value

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return check_site_url(value)

    def site_host_and_path(self) -> tuple[str, str]:
        return site_host_and_path(self.site_url)


class FolderTarget(_Strict):
    """A local (or mounted network) folder."""

    name: str = Field(pattern=_NAME)
    type: Literal["folder"]
    enabled: bool = True
    path: Path
    #: subfolder; ``{period}`` and ``{project}`` are filled in per file
    folder: str = ""
    on_conflict: Literal["version", "rename"] = "version"


TargetConfig = Annotated[SharePointTarget | FolderTarget, Field(discriminator="type")]


class PublishSection(_Strict):
    targets: list[TargetConfig] = Field(default_factory=list)

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: list[TargetConfig]) -> list[TargetConfig]:
        names = [t.name for t in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"target name {name!r} is used twice")
        return value


_SECTION = TypeAdapter(PublishSection)


def publish_section(config: PmsyncConfig) -> PublishSection:
    """Validate ``config.publish``; a mistake names the key path (``publish.targets[0].chunk_bytes``)."""
    # Interpolated here, not when pmsync.yaml is loaded: only commands that publish need its secrets.
    raw: dict[str, Any] = config.interpolate(config.publish or {}, "publish")
    try:
        section = _SECTION.validate_python(raw)
    except ValidationError as exc:
        where = str(config.path) if config.path else "pmsync.yaml"
        raise ConfigError(f"{where}: {describe_validation_error(exc, prefix='publish')}") from None
    for target in section.targets:
        if isinstance(target, SharePointTarget):
            for secret in (target.client_secret, target.certificate_password):
                if isinstance(secret, SecretStr):
                    register_secret(secret.get_secret_value())
    return section


def select_targets(section: PublishSection, names: tuple[str, ...] = ()) -> list[TargetConfig]:
    """The targets named (all enabled ones when none are); an unknown name is a ConfigError."""
    if not names:
        chosen = [t for t in section.targets if t.enabled]
        if not chosen:
            raise ConfigError(
                "no publish targets are configured",
                record="publish.targets",
                hint="add a target (type: sharepoint or folder) to the publish: section; see docs/publish.md",
            )
        return chosen
    by_name = {t.name: t for t in section.targets}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(
            f"no publish target named {unknown[0]!r}",
            record="--target",
            hint=choices_hint(unknown[0], by_name, "targets"),
        )
    return [by_name[n] for n in names]


def fill_folder(template: str, *, period: str | None, project: str | None) -> str:
    """``Oversight/{period}`` → ``Oversight/2026-11``; placeholders without a value are dropped."""
    text = template.replace("{period}", period or "").replace("{project}", project or "")
    return "/".join(part for part in text.split("/") if part.strip())
