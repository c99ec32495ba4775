"""What the Microsoft sources (Planner, Dataverse, SharePoint lists) share: sign-in, the OData client
and the doctor's sign-in line, on top of :class:`~pmsync.connector_kit.SourceConnector`.

A Microsoft connector's config extends :class:`~pmsync.microsoft.auth.MicrosoftAppSettings`; the
connector names the permissions it needs (the first is the one to ask an admin for) and, when it does
not read Microsoft Graph, the API's base URL, token scope and default headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import ClassVar, TypeVar

from pmsync.connector import CheckResult
from pmsync.connector_kit import SourceConnector
from pmsync.microsoft.auth import MicrosoftAppSettings, token_provider
from pmsync.microsoft.checks import sign_in_check
from pmsync.microsoft.graph import ODataClient

__all__ = ["MicrosoftSourceConnector"]

SettingsT = TypeVar("SettingsT", bound=MicrosoftAppSettings)


class MicrosoftSourceConnector(SourceConnector[SettingsT]):
    """A source read through an OData API (Microsoft Graph by default) with Microsoft sign-in."""

    #: permissions that let the app read this source; ``pmsync doctor`` checks the token for one
    permissions: ClassVar[tuple[str, ...]] = ()
    #: what to do when the API refuses (403): which permission or role the app needs
    permission_hint: ClassVar[str] = ""

    def api_base(self) -> str:
        """The API's base URL (default: Microsoft Graph v1.0 of the configured cloud)."""
        return self.config.graph_base()

    def api_scope(self) -> str:
        """The ``.default`` scope tokens are asked for."""
        return self.config.graph_scope()

    def default_headers(self) -> Mapping[str, str]:
        return {}

    @cached_property
    def client(self) -> ODataClient:
        """The OData client, signed in on first use (paging, batching, retries, envelope checks)."""
        return ODataClient(
            base_url=self.api_base(),
            scope=self.api_scope(),
            tokens=token_provider(self.config, source=self.source, base_dir=self.context.base_dir),
            source=self.source,
            default_headers=self.default_headers() or None,
            permission_hint=self.permission_hint or None,
        )

    def sign_in_check(self) -> tuple[CheckResult, str | None]:
        """The doctor's sign-in line (with the permissions checked), and the token when it worked."""
        return sign_in_check(
            self.config,
            source=self.source,
            scope=self.api_scope(),
            base_dir=self.context.base_dir,
            needed=self.permissions,
        )
