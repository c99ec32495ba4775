"""What ``pmsync doctor`` checks for a Microsoft source: sign-in, and whether the app-only token
carries the application permission the source needs (named when missing)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from pmsync.connector import CheckResult
from pmsync.errors import PmsyncError
from pmsync.microsoft.auth import token_provider
from pmsync.microsoft.settings import MicrosoftAppSettings


def token_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT access token: enough to name the roles it carries.

    Never used to make a trust decision; only to explain a 403 ("the token has no Tasks.Read.All").
    """
    try:
        payload = token.split(".")[1]
        data: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def missing_permission(token: str, any_of: tuple[str, ...]) -> str | None:
    """A sentence naming the permission an app-only token lacks, or None when it has one of them.

    Delegated tokens (``scp``) are judged by the service itself; only app-only ``roles`` are checked.
    """
    claims = token_claims(token)
    if claims.get("idtyp") == "user" or "scp" in claims:
        return None
    roles = set(claims.get("roles") or [])
    if roles & set(any_of):
        return None
    granted = ", ".join(sorted(roles)) or "none"
    return (
        f"the app's token carries none of the application permissions {', '.join(any_of)} "
        f"(granted: {granted}); add {any_of[0]} to the app registration and grant admin consent"
    )


def sign_in_check(
    settings: MicrosoftAppSettings,
    *,
    source: str,
    scope: str,
    base_dir: Path | None = None,
    needed: tuple[str, ...] = (),
) -> tuple[CheckResult, str | None]:
    """``pmsync doctor``'s sign-in line for ``scope``, and the token when sign-in worked."""
    try:
        token = token_provider(settings, source=source, base_dir=base_dir).token(scope)
    except PmsyncError as exc:
        return CheckResult("sign-in", "fail", exc.message, exc.hint or ""), None
    problem = missing_permission(token, needed) if needed else None
    if problem:
        return CheckResult(
            "permission",
            "fail",
            problem,
            f"Entra admin center > App registrations > {settings.client_id} > API permissions",
        ), token
    how = {
        "device_code": "device code",
        "managed_identity": "managed identity",
        "workload_identity": "workload identity (federated)",
    }.get(settings.sign_in, "app-only")
    return CheckResult("sign-in", "ok", f"{how} token for {scope} from {settings.authority()}"), token
