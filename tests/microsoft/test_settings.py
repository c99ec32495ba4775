"""The shared Microsoft sign-in keys: clouds, and config mistakes caught when pmsync.yaml loads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pmsync.microsoft.settings import MicrosoftAppSettings

BASE = {"tenant_id": "contoso.onmicrosoft.us", "client_id": "app", "client_secret": "s3cr3t-value"}


@pytest.mark.parametrize(
    "cloud,authority,graph",
    [
        ("public", "https://login.microsoftonline.com/", "https://graph.microsoft.com/v1.0"),
        ("usgov", "https://login.microsoftonline.us/", "https://graph.microsoft.us/v1.0"),
        ("usgov_dod", "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us/v1.0"),
    ],
)
def test_each_cloud_has_its_sign_in_host_and_graph(cloud, authority, graph):
    settings = MicrosoftAppSettings.model_validate({**BASE, "cloud": cloud})
    assert settings.authority() == authority + "contoso.onmicrosoft.us"
    assert settings.graph_base() == graph
    assert settings.graph_scope() == graph.removesuffix("/v1.0") + "/.default"


def test_overrides_for_a_private_endpoint():
    settings = MicrosoftAppSettings.model_validate(
        {**BASE, "authority_host": "https://127.0.0.1:8443/", "graph_url": "https://127.0.0.1:8444"}
    )
    assert settings.authority() == "https://127.0.0.1:8443/contoso.onmicrosoft.us"
    assert settings.graph_base() == "https://127.0.0.1:8444/v1.0"
    assert settings.graph_scope() == "https://127.0.0.1:8444/.default"


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"client_secret": None}, "exactly one of client_secret, client_secret_file, certificate_file"),
        ({"certificate_file": "app.pem"}, "got: client_secret, certificate_file"),
        ({"sign_in": "device_code"}, "device_code sign-in uses no app credential; remove client_secret"),
        ({"authority_host": "http://login.internal"}, "must be an https:// URL"),
        ({"cloud": "china"}, "Input should be 'public', 'usgov' or 'usgov_dod'"),
        ({"client_secrets": "typo"}, "Extra inputs are not permitted"),
    ],
)
def test_config_mistakes_are_named(changes, message):
    keys = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        MicrosoftAppSettings.model_validate(keys)


def test_the_secret_is_not_shown_in_the_settings():
    settings = MicrosoftAppSettings.model_validate(BASE)
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings.model_dump())
