"""Fixtures for the Microsoft tests: a fresh sandbox tenant (identity, Graph, Dataverse over TLS).

``ms`` is a started :class:`~pmsync.sandbox.microsoft.MicrosoftSandbox`; ``ms_settings`` the sign-in
keys for its demo app. MSAL applications are cached per process, so each test starts without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pmsync.microsoft.auth import MicrosoftAppSettings, forget_token_providers
from pmsync.sandbox.microsoft import MicrosoftSandbox, microsoft_sandbox


@pytest.fixture(autouse=True)
def _fresh_token_providers() -> Iterator[None]:
    forget_token_providers()
    yield
    forget_token_providers()


@pytest.fixture
def ms(tmp_path: Path) -> Iterator[MicrosoftSandbox]:
    with microsoft_sandbox(tmp_path) as sandbox:
        yield sandbox


@pytest.fixture
def ms_settings(ms: MicrosoftSandbox) -> MicrosoftAppSettings:
    return MicrosoftAppSettings.model_validate(ms.settings())
