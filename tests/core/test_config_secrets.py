"""Secrets are resolved only for what a command touches: a report-only cron job needs no source
secret, and syncing one source needs only that source's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.config import connector_config, load_config
from pmsync.errors import ConfigError


def write(tmp_path: Path, **jira: object) -> Path:
    config = {
        "projects": [{"key": "ERP", "name": "ERP upgrade"}],
        "store": {"url": f"sqlite:///{tmp_path / 'pmsync.db'}"},
        "sources": [
            {
                "name": "jira",
                "type": "jira",
                "url": "https://example.atlassian.net",
                "email": "pm@example.gov",
                "api_token": "${PMSYNC_TEST_JIRA_TOKEN}",
                "projects": ["ERP"],
                **jira,
            },
            {
                "name": "finance",
                "type": "finance_file",
                "path": "finance",
                "mapping": "finance-oracle-ebs.yaml",
            },
        ],
        "publish": {
            "targets": [
                {
                    "name": "sharepoint",
                    "type": "sharepoint",
                    "site_url": "https://contoso.sharepoint.com/sites/pmo",
                    "tenant_id": "00000000-0000-0000-0000-000000000001",
                    "client_id": "00000000-0000-0000-0000-000000000002",
                    "client_secret": "${PMSYNC_TEST_CLIENT_SECRET}",
                }
            ]
        },
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMSYNC_TEST_JIRA_TOKEN", raising=False)
    monkeypatch.delenv("PMSYNC_TEST_CLIENT_SECRET", raising=False)


def test_commands_that_touch_no_source_need_no_secret(tmp_path: Path) -> None:
    path = write(tmp_path)
    (tmp_path / "finance").mkdir()
    for args in (
        ["runs"],
        ["db", "status"],
        ["baseline", "list", "--project", "ERP"],
        ["sync", "-s", "finance"],
    ):
        result = CliRunner().invoke(cli, ["--config", str(path), *args])
        assert result.exit_code == 0, (args, result.output)


def test_the_command_that_touches_a_source_names_its_missing_variable(tmp_path: Path) -> None:
    path = write(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(path), "sync", "--source", "jira"])
    assert result.exit_code == 3, result.output
    assert "PMSYNC_TEST_JIRA_TOKEN is not set" in result.output and "sources[0].api_token" in result.output


def test_publish_secrets_are_read_when_publishing(tmp_path: Path) -> None:
    from pmsync.publish.config import publish_section

    config = load_config(write(tmp_path))
    with pytest.raises(ConfigError, match="PMSYNC_TEST_CLIENT_SECRET is not set"):
        publish_section(config)
    config = load_config(write(tmp_path), env={"PMSYNC_TEST_CLIENT_SECRET": "s3cret-value"})
    [target] = publish_section(config).targets
    assert target.name == "sharepoint"


def test_a_source_whose_variables_are_set_is_still_checked_at_load(tmp_path: Path) -> None:
    env = {"PMSYNC_TEST_JIRA_TOKEN": "tok-123456"}
    with pytest.raises(ConfigError, match=r"sources\[0\]\.projekts: unknown key"):
        load_config(write(tmp_path, projekts=["ERP"]), env=env)
    config = load_config(write(tmp_path), env=env)
    settings = connector_config(config, config.source("jira"))
    assert settings.api_token.get_secret_value() == "tok-123456"  # type: ignore[attr-defined]
