"""Sign-in that needs no secret (managed identity, workload identity federation) and unattended runs
that never wait for a device code: the real msal against the sandbox identity platform."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.errors import AuthError, ConfigError
from pmsync.microsoft.auth import MicrosoftAppSettings, SignInRequired, token_provider
from pmsync.microsoft.checks import token_claims
from pmsync.sandbox.microsoft import MANAGED_SYSTEM, MANAGED_USER, MicrosoftSandbox


def keys(ms: MicrosoftSandbox, **changes: object) -> dict[str, object]:
    settings = ms.settings()
    del settings["client_secret"]
    return {**settings, **changes}


def device_settings(ms: MicrosoftSandbox, tmp_path: Path) -> MicrosoftAppSettings:
    return MicrosoftAppSettings.model_validate(
        keys(
            ms,
            client_id=ms.credentials.public_client_id,
            sign_in="device_code",
            token_cache_file=str(tmp_path / "cache.json"),
        )
    )


# -- unattended runs -------------------------------------------------------------------------------


def test_an_unattended_run_never_starts_a_device_code_sign_in(ms, tmp_path, monkeypatch):
    monkeypatch.setenv("PMSYNC_NON_INTERACTIVE", "1")
    settings = device_settings(ms, tmp_path)
    prompts: list[str] = []
    started = time.monotonic()

    with pytest.raises(SignInRequired) as caught:
        token_provider(settings, source="planner", prompt=prompts.append).token(settings.graph_scope())

    assert time.monotonic() - started < 5 and prompts == []
    assert str(caught.value).startswith("source 'planner': token for") and "sign in again:" in str(
        caught.value
    )
    assert caught.value.exit_code == 3 and "pmsync doctor" in (caught.value.hint or "")
    assert not [p for _, p in ms.identity.faults.requests if p.endswith("/devicecode")]


def test_without_a_terminal_the_default_prompt_is_never_shown(ms, tmp_path, monkeypatch):
    monkeypatch.delenv("PMSYNC_NON_INTERACTIVE", raising=False)
    settings = device_settings(ms, tmp_path)  # pytest's stdin is not a terminal
    with pytest.raises(SignInRequired):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_an_unattended_run_still_uses_a_saved_sign_in(ms, tmp_path, monkeypatch):
    settings = device_settings(ms, tmp_path)
    attended = token_provider(settings, source="planner", prompt=lambda m: None, interactive=lambda: True)
    first = attended.token(settings.graph_scope())
    from pmsync.microsoft.auth import forget_token_providers

    forget_token_providers()
    monkeypatch.setenv("PMSYNC_NON_INTERACTIVE", "1")

    again = token_provider(settings, source="planner").token(settings.graph_scope())

    assert token_claims(again)["upn"] == token_claims(first)["upn"]


def test_sync_non_interactive_exits_3_saying_sign_in_again(ms, tmp_path, monkeypatch):
    monkeypatch.delenv("PMSYNC_NON_INTERACTIVE", raising=False)
    source = {
        **keys(ms, client_id=ms.credentials.public_client_id, sign_in="device_code"),
        "name": "planner",
        "type": "planner",
        "token_cache_file": str(tmp_path / "cache.json"),
        "group_ids": list(ms.graph_state.planner.groups),
    }
    config = tmp_path / "pmsync.yaml"
    config.write_text(
        yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path / 'pmsync.db'}"}, "sources": [source]}),
        encoding="utf-8",
    )

    result = CliRunner().invoke(cli, ["--config", str(config), "--non-interactive", "sync"])

    assert result.exit_code == 3, result.output
    assert "sign in again:" in result.output


# -- managed identity ------------------------------------------------------------------------------


def test_system_assigned_managed_identity(ms, monkeypatch):
    for name, value in ms.managed_identity_environment().items():
        monkeypatch.setenv(name, value)
    settings = MicrosoftAppSettings.model_validate(keys(ms, client_id=None, sign_in="managed_identity"))

    provider = token_provider(settings, source="planner")
    token = provider.token(settings.graph_scope())

    assert token_claims(token)["appid"] == MANAGED_SYSTEM[0]
    assert "Tasks.Read.All" in token_claims(token)["roles"]
    assert provider.token(settings.graph_scope()) == token  # msal's cache, no second request
    calls = [p for _, p in ms.identity.faults.requests if p == "/msi/token"]
    assert len(calls) == 1


def test_user_assigned_managed_identity_reads_planner(ms, monkeypatch):
    from pmsync.connectors.planner import PlannerConfig, PlannerConnector

    from pmsync.config import shipped_mappings_dir
    from pmsync.connector import ConnectorContext
    from pmsync.model import WorkItem

    for name, value in ms.managed_identity_environment().items():
        monkeypatch.setenv(name, value)
    config = PlannerConfig.model_validate(
        {
            **keys(ms, client_id=MANAGED_USER[0], sign_in="managed_identity"),
            "group_ids": list(ms.graph_state.planner.groups),
        }
    )
    connector = PlannerConnector(
        ConnectorContext(
            source_name="planner",
            config=config,
            mapping_dirs=(shipped_mappings_dir(),),
            project_links={"Case Management Modernization": "CMM"},
        )
    )

    items = list(connector.extract({}))

    assert any(isinstance(i, WorkItem) for i in items)
    assert ms.identity_state.tokens_issued[MANAGED_USER[0]] == 1


def test_an_unknown_user_assigned_identity_is_named(ms, monkeypatch):
    for name, value in ms.managed_identity_environment().items():
        monkeypatch.setenv(name, value)
    settings = MicrosoftAppSettings.model_validate(
        keys(ms, client_id="11111111-0000-0000-0000-000000000000", sign_in="managed_identity")
    )
    with pytest.raises(AuthError) as caught:
        token_provider(settings, source="planner").token(settings.graph_scope())
    assert "11111111-0000-0000-0000-000000000000" in str(caught.value)
    assert "No managed identity found" in str(caught.value)


# -- workload identity federation ------------------------------------------------------------------


def test_workload_identity_reads_the_rotated_token_file_each_time(ms, tmp_path, monkeypatch):
    token_file = ms.write_federated_token(tmp_path / "azure-identity-token")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    settings = MicrosoftAppSettings.model_validate(keys(ms, sign_in="workload_identity"))

    provider = token_provider(settings, source="planner")
    token = provider.token(settings.graph_scope())
    assert token_claims(token)["appid"] == ms.credentials.client_id

    # The platform rotates the file; the next sign-in must present the new token, not a copy.
    ms.write_federated_token(token_file, subject="system:serviceaccount:other:intruder")
    provider.invalidate()
    with pytest.raises(AuthError) as caught:
        provider.token(settings.graph_scope())
    assert "no federated credential matching" in str(caught.value)
    assert "system:serviceaccount:other:intruder" in str(caught.value)


def test_an_expired_federated_token_is_explained(ms, tmp_path):
    token_file = ms.write_federated_token(tmp_path / "token", lifetime=-120)
    settings = MicrosoftAppSettings.model_validate(
        keys(ms, sign_in="workload_identity", client_assertion_file=str(token_file))
    )
    with pytest.raises(AuthError, match="expired or not yet valid"):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_workload_identity_without_a_token_file_is_a_config_error(ms, monkeypatch):
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    settings = MicrosoftAppSettings.model_validate(keys(ms, sign_in="workload_identity"))
    with pytest.raises(ConfigError, match="AZURE_FEDERATED_TOKEN_FILE"):
        token_provider(settings, source="planner")


def test_secretless_sign_ins_refuse_a_secret(ms):
    with pytest.raises(ValueError, match="managed_identity sign-in uses no app credential"):
        MicrosoftAppSettings.model_validate({**ms.settings(), "sign_in": "managed_identity"})


def test_publish_non_interactive_exits_3_saying_sign_in_again(ms, tmp_path, monkeypatch):
    from pmsync.sandbox.graph_sharepoint import seed_demo

    monkeypatch.delenv("PMSYNC_NON_INTERACTIVE", raising=False)
    seed_demo(ms.graph_state.sharepoint)
    target = {
        **keys(ms, client_id=ms.credentials.public_client_id, sign_in="device_code"),
        "name": "committee",
        "type": "sharepoint",
        "site_url": "https://contoso.sharepoint.com/sites/PMO",
        "token_cache_file": str(tmp_path / "cache.json"),
    }
    config = tmp_path / "pmsync.yaml"
    config.write_text(
        yaml.safe_dump(
            {"store": {"url": f"sqlite:///{tmp_path / 'pmsync.db'}"}, "publish": {"targets": [target]}}
        ),
        encoding="utf-8",
    )
    report = tmp_path / "report.html"
    report.write_text("<html></html>")

    result = CliRunner().invoke(cli, ["--config", str(config), "--non-interactive", "publish", str(report)])

    assert result.exit_code == 3, result.output
    assert "sign in again:" in result.output and "FAILED" in result.output


def test_managed_identity_off_azure_fails_fast_and_says_why(ms, monkeypatch):
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # msal asks the VM's instance metadata service; here nothing listens there
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    settings = MicrosoftAppSettings.model_validate(keys(ms, client_id=None, sign_in="managed_identity"))
    started = time.monotonic()

    with pytest.raises(AuthError) as caught:
        token_provider(settings, source="planner").token(settings.graph_scope())

    assert time.monotonic() - started < 15
    assert "cannot reach the managed identity endpoint" in str(caught.value)
    assert "managed identity assigned" in (caught.value.hint or "")
