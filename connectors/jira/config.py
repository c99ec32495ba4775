"""The ``type: jira`` block of pmsync.yaml, and the credentials it resolves to."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from pmsync.config import read_secret
from pmsync.connector import ConnectorConfig
from pmsync.errors import ConfigError


class JiraConfig(ConnectorConfig):
    """One Jira instance. Cloud signs in with ``email`` + ``api_token``; Data Center with a personal
    access token (``pat``), or ``username`` + ``password`` where basic auth is still allowed.
    Secrets come from ``${ENV}`` references or from ``*_file`` keys naming a file."""

    url: str = Field(pattern=r"^https?://[^\s/]+")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    #: Jira project keys to sync (map them to pmsync projects with ``projects[].links.jira``)
    projects: list[str] = Field(min_length=1)
    email: str | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    pat: SecretStr | None = None
    pat_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    #: mapping file name (searched in the user's mappings folder, then the shipped ones)
    mapping: str | None = None
    #: issues per search request (Jira Cloud caps full pages at 100, Data Center at 1000)
    page_size: int = Field(default=100, ge=1, le=1000)
    #: incremental syncs re-read issues updated this long before the cursor (index lag, clock skew)
    overlap_minutes: float = Field(default=5.0, ge=0)
    #: how often a key-only scan looks for deleted / moved issues (0: every run)
    deletion_scan_hours: float = Field(default=24.0, ge=0)
    #: how long the site's field list, statuses, issue types and time zone are reused (kept in the
    #: cursor) before being read again; 0 reads them on every run
    metadata_ttl_hours: float = Field(default=24.0, ge=0)
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    #: requests in flight at once while syncing issues (Cloud: bulkfetch of 100 issues each;
    #: Data Center: search pages); 1 fetches one page after another
    concurrency: int = Field(default=8, ge=1, le=32)
    #: attempts per request for 429 / 5xx / connection failures before the run stops cleanly
    retry_attempts: int = Field(default=6, ge=1, le=20)

    @field_validator("projects")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not key or not key.replace("_", "").isalnum() or key.upper() != key:
                raise ValueError(f"{key!r} is not a Jira project key (upper-case letters and digits)")
        return value

    @model_validator(mode="after")
    def _credentials_fit_deployment(self) -> JiraConfig:
        if self.deployment == "cloud" and self.email is None:
            raise ValueError("Jira Cloud needs `email` (with `api_token` or `api_token_file`)")
        return self

    def mapping_name(self) -> str:
        return self.mapping or ("jira-cloud.yaml" if self.deployment == "cloud" else "jira-datacenter.yaml")


def resolve_auth(config: JiraConfig, base_dir: Path, source: str) -> dict[str, object]:
    """Keyword arguments for ``jira.JIRA`` (``basic_auth`` or ``token_auth``); secrets are read here,
    at the last moment, and never stored on the connector."""
    try:
        if config.deployment == "cloud":
            token = read_secret(
                config.api_token, config.api_token_file, what="Jira API token", base_dir=base_dir
            )
            return {"basic_auth": (config.email or "", token)}
        if config.pat is not None or config.pat_file is not None:
            pat = read_secret(
                config.pat, config.pat_file, what="Jira personal access token", base_dir=base_dir
            )
            return {"token_auth": pat}
        if config.username:
            password = read_secret(
                config.password, config.password_file, what="Jira password", base_dir=base_dir
            )
            return {"basic_auth": (config.username, password)}
    except ConfigError as exc:
        exc.source = source
        raise
    raise ConfigError(
        "Jira Data Center needs `pat` (or `pat_file`), or `username` with `password`",
        source=source,
        hint="create a personal access token in Jira: Profile → Personal Access Tokens",
    )
