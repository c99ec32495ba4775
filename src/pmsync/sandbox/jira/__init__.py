"""The sandbox Jira: a Jira Cloud or Data Center REST API on 127.0.0.1, seeded with generated projects.

    with JiraSandbox(projects=["ERP", "PORTAL"], issues_per_project=500, seed=7) as jira:
        jira.url, jira.email, jira.api_token        # Cloud credentials (basic auth)
        jira.touch(10)                              # ten issues move on through their workflow
        jira.delete(2); jira.move_out(1)            # ...and some disappear from scope
        jira.server.faults.add(Throttle(retry_after=1), path="/rest/api/3/search/jql")
        jira.break_search("issues-empty-last", jql_contains="ORDER BY key")  # a scan answered "none"

``flavor="datacenter"`` serves Data Center instead (``/rest/api/2/search``, bearer PATs in
``jira.pat``). Everything is deterministic for a given ``seed`` (and ``anchor`` time).
"""

from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

from pmsync import clock as pmsync_clock
from pmsync.sandbox.faults import FaultPlan
from pmsync.sandbox.jira.app import SEARCH_PATHS, Account, JiraApp, jira_error_body
from pmsync.sandbox.jira.broken import BROKEN_ANSWERS, BrokenPage
from pmsync.sandbox.jira.data import JiraData
from pmsync.sandbox.jira.render import FLAVORS, Flavor
from pmsync.sandbox.server import SandboxServer
from pmsync.sandbox.tls import generate_sandbox_tls

__all__ = ["JiraSandbox", "jira_sandbox", "DEMO_PROJECTS", "BrokenPage", "BROKEN_ANSWERS"]

#: issue and project keys in a request path, counted together by :meth:`JiraSandbox.requests_by_endpoint`
_KEYS = re.compile(r"/(issue|project)/[A-Z][A-Z0-9_]*(?:-\d+)?(?=/|$)")

DEMO_PROJECTS: tuple[tuple[str, str], ...] = (
    ("ERP", "ERP modernisation"),
    ("PORTAL", "Citizen portal"),
    ("GRANTS", "Grants management system"),
    ("DATA", "Data platform"),
)


class JiraSandbox:
    """A running (once started) sandbox Jira and the API to change its data between syncs."""

    email = "pm@agency.example"
    api_token = "sandbox-api-token-7f3a9c"  # noqa: S105 - a fixed sandbox credential, not a secret
    username = "pm"
    password = "sandbox-password"  # noqa: S105
    pat = "sandbox-pat-NjQ1MzIxOTg3"  # noqa: S105

    def __init__(
        self,
        projects: Sequence[str | tuple[str, str]] = DEMO_PROJECTS,
        issues_per_project: int = 200,
        *,
        seed: int = 1,
        flavor: str | Flavor = "cloud",
        anchor: datetime | None = None,
        timezone: str = "Australia/Sydney",
        clock: Callable[[], datetime] | None = None,
        faults: FaultPlan | None = None,
        tls: bool = False,
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        """``port``: where to serve on 127.0.0.1 (0: any free port); ``latency``: seconds each
        answer is delayed (0 in tests; the bench sets 0.2, a far-away Cloud site)."""
        named = [(p, f"Project {p}") if isinstance(p, str) else p for p in projects]
        self.flavor = FLAVORS[flavor] if isinstance(flavor, str) else flavor
        self.data = JiraData(
            named, issues_per_project, seed=seed, anchor=anchor, clock=clock or pmsync_clock.now
        )
        accounts = [
            Account(self.email, self.api_token, 0)
            if self.flavor.cloud
            else Account(self.username, self.password, 0, pats=(self.pat,))
        ]
        self.app = JiraApp(self.data, self.flavor, accounts, timezone=timezone)
        self.app.latency = latency
        #: with ``tls=True``: https with a throwaway CA, written here (clients that insist on https,
        #: such as tap-jira, trust it through REQUESTS_CA_BUNDLE; pmsync through ``ca_bundle``)
        self.ca_bundle: Path | None = None
        context = None
        if tls:
            material = generate_sandbox_tls()
            self._tls_dir = tempfile.TemporaryDirectory(prefix="pmsync-jira-tls-")
            self.ca_bundle = material.write_ca_bundle(Path(self._tls_dir.name) / "sandbox-ca.pem")
            context = material.server_context()
        self.server = SandboxServer(
            self.app, faults=faults, error_body=jira_error_body, ssl_context=context, port=port
        )
        self.app.set_base_url(self.server.url)
        self._rng = random.Random(seed * 7919 + 17)

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    @property
    def project_keys(self) -> list[str]:
        return list(self.data.specs)

    def start(self) -> JiraSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        tls_dir = getattr(self, "_tls_dir", None)
        if tls_dir is not None:
            tls_dir.cleanup()

    def __enter__(self) -> JiraSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- advancing time -----------------------------------------------------------------------
    def touch(self, count: int, keys: Sequence[str] | None = None) -> list[str]:
        """Update ``count`` random live issues (or exactly ``keys``); returns the keys updated."""
        chosen = list(keys) if keys is not None else self.data.pick(count, rng=self._rng)
        for key in chosen:
            self.data.update(key)
        return chosen

    def delete(self, count: int, keys: Sequence[str] | None = None) -> list[str]:
        chosen = list(keys) if keys is not None else self.data.pick(count, rng=self._rng)
        for key in chosen:
            self.data.delete(key)
        return chosen

    def move_out(self, count: int, keys: Sequence[str] | None = None) -> list[str]:
        """Move issues to a project outside every configured scope (their keys stop resolving)."""
        chosen = list(keys) if keys is not None else self.data.pick(count, rng=self._rng)
        for key in chosen:
            self.data.move_out(key)
        return chosen

    def create(self, project: str, count: int = 1, kind: str = "Story") -> list[str]:
        return [self.data.create(project, kind).key for _ in range(count)]

    def update_between_pages(
        self, after_page: int = 1, count: int = 1, keys: Sequence[str] | None = None
    ) -> None:
        """After the ``after_page``-th search page from now is served, update issues: the page that
        follows is read from data that changed under the client's paging."""
        target = self.app.hooks.pages_served + after_page

        def hook(page: int) -> None:
            if page == target:
                self.touch(count, keys)

        self.app.hooks.after_page.append(hook)

    def delete_between_pages(self, after_page: int = 1, keys: Sequence[str] = ()) -> None:
        target = self.app.hooks.pages_served + after_page

        def hook(page: int) -> None:
            if page == target:
                self.delete(len(keys), keys)

        self.app.hooks.after_page.append(hook)

    def break_search(
        self, answer: str, *, jql_contains: str | None = None, after: int = 0, times: int = 1
    ) -> BrokenPage:
        """Answer matching searches with a 200 that is not a normal page (:class:`BrokenPage`);
        ``jql_contains="ORDER BY key"`` aims at the deletion scan, ``"updated"`` at the changed pass."""
        if answer not in BROKEN_ANSWERS:
            raise ValueError(f"unknown broken answer {answer!r}; one of {', '.join(BROKEN_ANSWERS)}")
        rule = BrokenPage(answer, jql_contains, after, times)
        self.app.hooks.broken_pages.append(rule)
        return rule

    def source_settings(self, **overrides: object) -> dict[str, object]:
        """The ``type: jira`` source block (minus ``name``/``type``) that reaches this sandbox."""
        settings: dict[str, object] = {"url": self.url, "projects": self.project_keys}
        if self.ca_bundle is not None:
            settings["ca_bundle"] = str(self.ca_bundle)
        if self.flavor.cloud:
            settings.update(deployment="cloud", email=self.email, api_token=self.api_token)
        else:
            settings.update(deployment="datacenter", pat=self.pat)
        settings.update(overrides)
        return settings

    def field_id(self, role: str) -> str:
        """This site's id of a custom field role (``story_points``, ``sprint``, ...)."""
        return self.app.renderer.fields[role]

    def live_keys(self) -> list[str]:
        return list(self.data.live_keys())

    # -- request accounting ----------------------------------------------------------------------
    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.server.faults.requests)

    def requests_by_agent(self) -> dict[str, int]:
        """Requests the app answered, per User-Agent (injected faults are not counted)."""
        return dict(self.app.agents)

    def requests_by_endpoint(self) -> dict[str, int]:
        """Requests seen, per ``METHOD /path`` with issue and project keys as ``KEY``: what a client
        spends its requests on (e.g. ``POST /rest/api/3/issue/bulkfetch``)."""
        counts: Counter[str] = Counter()
        for method, path in self.server.faults.requests:
            counts[method + " " + _KEYS.sub(r"/\1/KEY", path)] += 1
        return dict(counts)

    def search_requests(self) -> int:
        return sum(1 for _, path in self.server.faults.requests if path.endswith(SEARCH_PATHS))


@contextmanager
def jira_sandbox(
    projects: Sequence[str | tuple[str, str]] = DEMO_PROJECTS,
    issues_per_project: int = 200,
    **options: object,
) -> Iterator[JiraSandbox]:
    """A started :class:`JiraSandbox` for the duration of a ``with`` block (tests, bench, demo)."""
    sandbox = JiraSandbox(projects, issues_per_project, **options)  # type: ignore[arg-type]
    with sandbox:
        yield sandbox
