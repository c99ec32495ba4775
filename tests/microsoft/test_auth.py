"""Sign-in through the real msal against the sandbox identity platform: what works, and how each
failure reads to the user."""

from __future__ import annotations

import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pmsync.errors import AuthError, ConfigError, ConnectorError, RetriableSourceError
from pmsync.http import call_with_retries, retrying
from pmsync.logs import configure_logging
from pmsync.microsoft.auth import MicrosoftAppSettings, token_provider
from pmsync.microsoft.checks import token_claims
from pmsync.sandbox.faults import ServerError, Throttle
from pmsync.sandbox.identity import certificate_thumbprint_sha1
from pmsync.sandbox.microsoft import (
    DEMO_CLIENT_ID,
    MicrosoftSandbox,
    make_app_certificate,
    write_private_file,
)


def _settings(ms: MicrosoftSandbox, **changes: object) -> MicrosoftAppSettings:
    keys = ms.settings(certificate=bool(changes.pop("certificate", False)))
    keys.update(changes)
    return MicrosoftAppSettings.model_validate({k: v for k, v in keys.items() if v is not None})


def _token_path(ms: MicrosoftSandbox) -> str:
    return f"/{ms.credentials.tenant_id}/oauth2/v2.0/token"


def test_client_secret_token_carries_the_granted_permissions_and_is_cached(ms, ms_settings):
    provider = token_provider(ms_settings, source="planner")
    token = provider.token(ms_settings.graph_scope())
    assert "Tasks.Read.All" in token_claims(token)["roles"]
    # Same process, same app registration: the provider (and its msal token cache) is reused.
    again = token_provider(ms_settings, source="planner").token(ms_settings.graph_scope())
    assert again == token
    assert ms.identity_state.tokens_issued[DEMO_CLIENT_ID] == 1


def test_certificate_sign_in(ms):
    settings = _settings(ms, certificate=True)
    token = token_provider(settings, source="planner").token(settings.graph_scope())
    assert token_claims(token)["appid"] == DEMO_CLIENT_ID


def test_dataverse_has_its_own_default_scope(ms, ms_settings):
    token = token_provider(ms_settings, source="dv").token(f"{ms.dataverse_url}/.default")
    assert token_claims(token)["aud"] == ms.dataverse_url


def test_sandbox_ca_is_trusted_only_when_configured(ms, monkeypatch):
    # This machine points REQUESTS_CA_BUNDLE at the system bundle; requests would let it override
    # Session.verify. With ca_bundle set, the sandbox CA must still be the one used.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    trusted = _settings(ms)
    assert token_provider(trusted, source="planner").token(trusted.graph_scope())

    untrusted = _settings(ms, ca_bundle=None)
    with pytest.raises(ConnectorError) as caught:
        token_provider(untrusted, source="planner").token(untrusted.graph_scope())
    assert "TLS verification failed" in str(caught.value)
    assert "ca_bundle" in str(caught.value)


def test_wrong_tenant(ms):
    settings = _settings(ms, tenant_id="contoso-typo.onmicrosoft.com")
    with pytest.raises(AuthError, match="tenant 'contoso-typo.onmicrosoft.com' was not found"):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_unknown_client_id(ms):
    settings = _settings(ms, client_id="00000000-0000-0000-0000-000000000001")
    with pytest.raises(AuthError, match="client\\) id '00000000-0000-0000-0000-000000000001' was not found"):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_wrong_secret(ms):
    settings = _settings(ms, client_secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        token_provider(settings, source="planner").token(settings.graph_scope())
    assert "wrong secret" in str(caught.value)
    assert "Value (not its Secret ID)" in str(caught.value)


def test_expired_secret(ms, ms_settings):
    ms.identity_state.apps[DEMO_CLIENT_ID].secret_expired = True
    with pytest.raises(AuthError, match="client secret for app .* has expired"):
        token_provider(ms_settings, source="planner").token(ms_settings.graph_scope())


def test_expired_certificate_file_is_refused_before_signing_in(ms, tmp_path):
    past = datetime.now(UTC) - timedelta(days=3)
    key, cert = make_app_certificate("old", not_before=past - timedelta(days=365), not_after=past)
    path = write_private_file(tmp_path / "old.pem", key + cert)
    settings = _settings(ms, certificate=True, certificate_file=str(path))
    with pytest.raises(AuthError, match=f"expired on {past:%Y-%m-%d}"):
        token_provider(settings, source="planner")


def test_certificate_expired_in_the_app_registration(ms):
    app = ms.identity_state.apps[DEMO_CLIENT_ID]
    app.expired_certificates.add(certificate_thumbprint_sha1(app.certificates[0]))
    settings = _settings(ms, certificate=True)
    with pytest.raises(AuthError, match="certificate for app .* has expired"):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_certificate_not_uploaded(ms, tmp_path):
    key, cert = make_app_certificate("stranger")
    path = write_private_file(tmp_path / "stranger.pem", key + cert)
    settings = _settings(ms, certificate=True, certificate_file=str(path))
    with pytest.raises(AuthError, match="was not accepted.*upload this certificate"):
        token_provider(settings, source="planner").token(settings.graph_scope())


def test_missing_admin_consent_gives_an_app_a_token_without_roles(ms, ms_settings):
    # Entra issues the client-credentials token anyway; it is the resource that refuses it.
    ms.identity_state.apps[DEMO_CLIENT_ID].admin_consented = False
    token = token_provider(ms_settings, source="planner").token(ms_settings.graph_scope())
    claims = token_claims(token)
    assert claims["appid"] == DEMO_CLIENT_ID and "roles" not in claims and "scp" not in claims


def test_missing_admin_consent_in_a_delegated_sign_in_is_aadsts65001(ms, tmp_path):
    ms.identity_state.apps[ms.credentials.public_client_id].admin_consented = False
    keys = ms.settings()
    del keys["client_secret"]
    settings = MicrosoftAppSettings.model_validate(
        {
            **keys,
            "client_id": ms.credentials.public_client_id,
            "sign_in": "device_code",
            "token_cache_file": str(tmp_path / "c.json"),
        }
    )
    with pytest.raises(AuthError) as caught:
        token_provider(settings, source="sharepoint", prompt=lambda m: None).token(settings.graph_scope())
    assert "admin consent has not been granted" in str(caught.value)
    assert "Grant admin consent" in str(caught.value)


def test_unknown_resource(ms, ms_settings):
    with pytest.raises(AuthError, match="does not exist in tenant"):
        token_provider(ms_settings, source="dv").token("https://nowhere.crm9.dynamics.com/.default")


def test_config_needs_exactly_one_credential(ms):
    with pytest.raises(ValueError, match="exactly one of client_secret"):
        _settings(ms, certificate_file="app.pem")


def test_unreadable_secret_file_is_a_config_error(ms, tmp_path):
    keys = ms.settings()
    del keys["client_secret"]
    settings = MicrosoftAppSettings.model_validate({**keys, "client_secret_file": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="cannot read the client secret"):
        token_provider(settings, source="planner")


def test_throttled_token_endpoint_is_retriable_and_msal_replays_it(ms, ms_settings):
    ms.identity.faults.add(Throttle(retry_after=1), path=_token_path(ms), times=1)
    provider = token_provider(ms_settings, source="planner")
    with pytest.raises(RetriableSourceError) as first:
        provider.token(ms_settings.graph_scope())
    assert first.value.retry_after is not None and 0 < first.value.retry_after <= 1
    requests_before = len(ms.identity.faults.requests)
    # MSAL answers from its throttle cache until Retry-After has passed: still retriable, no new call.
    with pytest.raises(RetriableSourceError):
        provider.token(ms_settings.graph_scope())
    assert len(ms.identity.faults.requests) == requests_before
    # The shared retry policy waits as asked and then gets a token.
    token = call_with_retries(lambda: provider.token(ms_settings.graph_scope()), retrying(attempts=4))
    assert token_claims(token)["appid"] == DEMO_CLIENT_ID


def test_token_endpoint_5xx_is_retriable(ms, ms_settings):
    ms.identity.faults.add(ServerError(503, retry_after=1), path=_token_path(ms), times=1)
    provider = token_provider(ms_settings, source="planner")
    with pytest.raises(RetriableSourceError):
        provider.token(ms_settings.graph_scope())


def test_device_code_sign_in_writes_a_private_cache_and_reuses_it(ms, tmp_path):
    cache = tmp_path / "cache" / "msal.json"
    keys = ms.settings()
    del keys["client_secret"]
    settings = MicrosoftAppSettings.model_validate(
        {
            **keys,
            "client_id": ms.credentials.public_client_id,
            "sign_in": "device_code",
            "token_cache_file": str(cache),
        }
    )
    prompts: list[str] = []
    token = token_provider(settings, source="sharepoint", prompt=prompts.append).token(settings.graph_scope())
    assert len(prompts) == 1 and "enter the code" in prompts[0]
    assert token_claims(token)["upn"] == ms.credentials.user_principal_name
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600

    # A new process: the cache file signs in silently, no device code shown.
    from pmsync.microsoft.auth import forget_token_providers

    forget_token_providers()
    later: list[str] = []
    again = token_provider(settings, source="sharepoint", prompt=later.append).token(settings.graph_scope())
    assert later == []
    assert token_claims(again)["upn"] == ms.credentials.user_principal_name


def test_device_code_needs_a_public_client(ms, tmp_path):
    keys = ms.settings()
    del keys["client_secret"]
    settings = MicrosoftAppSettings.model_validate(
        {**keys, "sign_in": "device_code", "token_cache_file": str(tmp_path / "c.json")}
    )
    with pytest.raises(AuthError, match="Allow public client flows"):
        token_provider(settings, source="sharepoint", prompt=lambda m: None).token(settings.graph_scope())


def test_no_secret_reaches_the_logs(ms, capfd, tmp_path: Path):
    configure_logging(verbosity=1)
    # Let the chattiest libraries log everything they would (their levels are put back afterwards, so
    # that later tests see the logging a command sets up, not this test's DEBUG).
    chatty = {name: logging.getLogger(name).level for name in ("msal", "urllib3", "pmsync")}
    for name in chatty:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        settings = _settings(ms)
        provider = token_provider(settings, source="planner")
        token = provider.token(settings.graph_scope())
        logging.getLogger("pmsync.test").info("token %s secret %s", token, ms.credentials.client_secret)
        cert_settings = _settings(ms, certificate=True)
        token_provider(cert_settings, source="planner").token(cert_settings.graph_scope())
        with pytest.raises(AuthError) as caught:
            bad = _settings(ms, client_secret=ms.credentials.client_secret + "x")
            token_provider(bad, source="planner").token(bad.graph_scope())
        logging.getLogger("pmsync.test").error("failed: %s", caught.value)
    finally:
        configure_logging(verbosity=0)
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)
    err = capfd.readouterr().err
    assert "failed:" in err and "token ***" in err  # the log lines were written, redacted
    key_body = ms.credentials.certificate_file.read_text().splitlines()[1]
    for secret in (ms.credentials.client_secret, token, key_body):
        assert secret not in err


def test_device_code_waits_while_the_user_is_still_signing_in(ms, tmp_path):
    import re
    import threading

    state = ms.identity_state
    state.device_auto_approve = None
    user = next(iter(state.users.values()))
    keys = ms.settings()
    del keys["client_secret"]
    settings = MicrosoftAppSettings.model_validate(
        {
            **keys,
            "client_id": ms.credentials.public_client_id,
            "sign_in": "device_code",
            "token_cache_file": str(tmp_path / "c.json"),
        }
    )

    def user_signs_in_later(message: str) -> None:
        code = re.search(r"enter the code (\w+)", message)
        assert code is not None
        # The person needs a moment: the first poll sees authorization_pending.
        threading.Timer(1.2, state.approve_device_code, args=(code.group(1), user)).start()

    token = token_provider(settings, source="sharepoint", prompt=user_signs_in_later).token(
        settings.graph_scope()
    )
    assert token_claims(token)["upn"] == user.user_principal_name
    polls = [p for m, p in ms.identity.faults.requests if p.endswith("/oauth2/v2.0/token")]
    assert len(polls) >= 2


def test_ca_bundle_is_relative_to_the_config_folder_and_must_exist(ms, tmp_path):
    import shutil

    shutil.copy(ms.ca_bundle, tmp_path / "ca.pem")
    settings = _settings(ms, ca_bundle="ca.pem")
    provider = token_provider(settings, source="planner", base_dir=tmp_path)
    assert provider.token(settings.graph_scope())
    missing = _settings(ms, ca_bundle="nope.pem")
    with pytest.raises(ConfigError, match="ca_bundle .*nope.pem' does not exist"):
        token_provider(missing, source="planner", base_dir=tmp_path)
