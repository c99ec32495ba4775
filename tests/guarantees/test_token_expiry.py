"""A Microsoft access token that stops being valid in the middle of a Planner sync, through the real
msal and requests clients: Graph answers 401 ``InvalidAuthenticationToken`` (its own validation, not a
canned answer: the sandbox's token-signing key rolls over mid-run). pmsync signs in again and carries
on, or -- when signing in again fails too -- stops cleanly, and a rerun converges to a clean sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.microsoft.auth import forget_token_providers
from pmsync.sandbox.faults import Fault, FaultPlan
from pmsync.sandbox.microsoft import DEMO_CLIENT_ID, MicrosoftSandbox, microsoft_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import dump, write_yaml


class KeyRollover(FaultPlan):
    """Serves no faults; at the ``at``-th Graph request rolls the identity platform's signing key
    over (every token issued so far becomes invalid) and, if ``revoke``, expires the app's secret."""

    ms: MicrosoftSandbox
    at = 0
    revoke = False

    def take(self, method: str, path: str) -> Fault | None:
        fault = super().take(method, path)
        if self.at and len(self.requests) == self.at:
            self.ms.identity_state._signing_key = f"rolled-over-signing-key-{self.at:032d}".encode()  # noqa: SLF001
            if self.revoke:
                self.ms.identity_state.apps[DEMO_CLIENT_ID].secret_expired = True
        return fault


@pytest.fixture
def ms(tmp_path: Path) -> Iterator[MicrosoftSandbox]:
    forget_token_providers()
    with microsoft_sandbox(tmp_path / "ms", page_size=2) as sandbox:
        plan = sandbox.graph.faults
        plan.__class__ = KeyRollover  # the running server keeps this very plan object
        assert isinstance(plan, KeyRollover)
        plan.ms = sandbox
        yield sandbox
    forget_token_providers()


def sync_into(ms: MicrosoftSandbox, folder: Path) -> tuple[Store, str, str | None]:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'pmsync.db'}"
    config = load_config(write_yaml(folder, url, ms.planner_source()))
    store = Store.open(url)
    [run] = sync_sources(config, store)
    return store, run.status, run.error


# Graph requests of the sync: plans, plan details, buckets, task pages (2 per page), then a $batch of
# task details and one of user names, whose inner requests count too, then the second plan (from 29).
ROLLOVER_POINTS = {"paging-tasks": 6, "inside-a-batch": 15}


@pytest.mark.parametrize("point", list(ROLLOVER_POINTS))
def test_a_token_rejected_mid_sync_is_replaced_and_nothing_is_lost_or_doubled(
    point: str, ms: MicrosoftSandbox, tmp_path: Path
) -> None:
    clean, status, error = sync_into(ms, tmp_path / "clean")
    assert status == "ok", error
    expected = dump(clean)
    clean.close()
    forget_token_providers()
    issued = ms.identity_state.tokens_issued[DEMO_CLIENT_ID]

    plan = ms.graph.faults
    assert isinstance(plan, KeyRollover)
    plan.clear()
    plan.at = ROLLOVER_POINTS[point]
    store, status, error = sync_into(ms, tmp_path / "rolled")
    try:
        assert status == "ok", error
        assert ms.identity_state.tokens_issued[DEMO_CLIENT_ID] == issued + 2  # first sign-in, then again
        assert dump(store) == expected
    finally:
        store.close()


def test_a_revoked_app_mid_sync_stops_cleanly_and_a_rerun_converges(
    ms: MicrosoftSandbox, tmp_path: Path
) -> None:
    clean, status, error = sync_into(ms, tmp_path / "clean")
    assert status == "ok", error
    expected = dump(clean)
    clean.close()
    forget_token_providers()

    plan = ms.graph.faults
    assert isinstance(plan, KeyRollover)
    plan.clear()
    plan.at, plan.revoke = 31, True  # paging the second plan, after the first one committed
    store, status, error = sync_into(ms, tmp_path / "again")
    try:
        assert status == "failed"
        assert error and "planner" in error and "expired" in error
        assert ms.credentials.client_secret not in error
        partial = dump(store)
        assert 0 < len(partial["records"]) < len(expected["records"])

        plan.at = 0
        ms.identity_state.apps[DEMO_CLIENT_ID].secret_expired = False  # the admin renews the secret
        forget_token_providers()
        config = load_config(tmp_path / "again" / "pmsync.yaml")
        [rerun] = sync_sources(config, store)
        assert rerun.status == "ok", rerun.error
        assert dump(store) == expected
    finally:
        store.close()
