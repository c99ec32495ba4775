"""Fetching issues with several requests in flight, in the order the JQL asks for.

A far-away Jira answers each request in a few hundred milliseconds; one request after another,
10^5 issues take minutes. Here (issue 25, point 2):

- **Cloud**: ids first -- ``POST search/jql`` with ``fields: ["id"]`` lists up to 5,000 ids per page
  (Atlassian's reference for "Search for issues using JQL enhanced search": "the greatest number of
  items returned per page is achieved when requesting ``id`` or ``key`` only ... max 5000") -- then
  ``POST issue/bulkfetch`` of 100 issues each ("You can request up to 100 issues"), ``concurrency``
  at a time, with the 40 most recent histories inline (``expand: [changelog]``). Issues whose
  inline changelog may be cut short get their whole history from ``POST changelog/bulkfetch``, one
  request per group of up to 1,000 issues (its limit), filtered to the fields pmsync reads.
- **Data Center**: the first ``startAt`` page gives ``total``; the remaining pages are asked for
  concurrently, each re-reading the last issue of the page before, so a result that shifted under
  the paging is still detected (:class:`~.client.PagingShifted`) exactly as when paging serially.

Pages are handed over in the order of the search, whatever order the answers arrive in, so the
store sees the same records and checkpoints as with ``concurrency: 1``. At most a bounded number of
pages are in flight, so memory does not grow with the number of issues.

Rate limits (Atlassian, "Rate limiting", developer.atlassian.com/cloud/jira/platform/rate-limiting):
a 429 or 503 with ``Retry-After`` pauses **every** worker until it has passed, not only the one that
got it; ``X-RateLimit-NearLimit: true`` (under 20 % of the budget left) drops to one request in
flight; ``X-RateLimit-Remaining: 0`` pauses until ``X-RateLimit-Reset``.

A failing request fails the run (after the retry policy in :mod:`.client`): the other workers are
cancelled, and the error names the source and the request; pages before it were already handed
over (and checkpointed), pages after it never are.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import requests
from jira import JIRAError
from requests.adapters import HTTPAdapter

from pmsync import clock
from pmsync.errors import RetriableSourceError, SourceDataError
from pmsync.http import MAX_RETRY_AFTER, parse_retry_after

from .client import JiraClient, PagingShifted, prefetched
from .normalize import changelog_incomplete

T = TypeVar("T")
Histories = dict[str, list[dict[str, Any]]]
#: one page as handed to the connector: raw issues in search order, and the whole histories (by
#: issue id) of those whose inline changelog may be cut short, or ``None`` when they are read
#: only for the issues the connector keeps (:meth:`Fetcher.histories`)
Page = tuple[list[dict[str, Any]], Histories | None]

#: Cloud's caps: ids per id-only search page, issues per issue bulkfetch, issues per changelog bulkfetch
IDS_PER_PAGE = 5000
ISSUES_PER_BULK = 100
ISSUES_PER_CHANGELOG_BULK = 1000


class Cancelled(Exception):
    """The run stopped (another worker failed, or the consumer went away) while this one waited."""


class Gate:
    """What every worker passes before a request: a shared pause (``Retry-After``, an exhausted
    rate-limit budget) and, near the limit, one request at a time."""

    def __init__(self, *, waits: bool = True) -> None:
        #: ``False`` in tests that switch off real sleeping (the retry policy's sleep is a no-op)
        self.waits = waits
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._until = 0.0
        self._serial = threading.Lock()
        self.near_limit = False
        #: how many times a pause was set, for the run's log and tests
        self.pauses = 0

    def sleep(self, seconds: float) -> None:
        """The retry policy's wait inside a worker: cut short (and the worker ended) when the run
        stops, so no worker sleeps out a long ``Retry-After`` after the run has failed."""
        if self.stop.wait(seconds):
            raise Cancelled

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + min(seconds, MAX_RETRY_AFTER))
            self.pauses += 1

    def wait_open(self) -> None:
        while self.waits:
            with self._lock:
                remaining = self._until - time.monotonic()
            if remaining <= 0:
                break
            if self.stop.wait(remaining):
                raise Cancelled
        if self.stop.is_set():
            raise Cancelled

    def run(self, func: Callable[[], requests.Response]) -> requests.Response:
        """One attempt of one request, through the gate; reads the rate-limit headers it returns."""
        self.wait_open()
        try:
            if self.near_limit:
                with self._serial:
                    response = func()
            else:
                response = func()
        except JIRAError as exc:
            answer = exc.response
            if answer is not None and answer.status_code in (429, 503):
                wait = parse_retry_after(answer.headers.get("Retry-After"))
                if wait is not None:
                    self.pause(wait)
            raise
        self.note(response.headers)
        return response

    def note(self, headers: Any) -> None:
        self.near_limit = str(headers.get("X-RateLimit-NearLimit", "")).lower() == "true"
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is not None and str(remaining).strip() == "0":
            reset = _parse_reset(headers.get("X-RateLimit-Reset"))
            if reset is not None:
                self.pause(max(0.0, (reset - clock.now()).total_seconds()))


def _parse_reset(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Fetcher:
    """Concurrent issue pages for one connector run (one pool, one gate)."""

    def __init__(
        self,
        client: JiraClient,
        *,
        concurrency: int,
        history_fields: Callable[[], list[str]],
        waits: bool = True,
    ) -> None:
        self.client = client
        self.source = client.source
        self.concurrency = concurrency
        self.history_fields = history_fields
        self.gate = Gate(waits=waits)
        if concurrency > 10:  # requests keeps 10 connections per host: enough for up to 10 workers
            for adapter in client.client._session.adapters.values():
                if isinstance(adapter, HTTPAdapter):
                    adapter.poolmanager.clear()
                    adapter.init_poolmanager(concurrency, concurrency)

    @contextmanager
    def _interruptible(self) -> Iterator[None]:
        """While a concurrent pass runs, the client's retry waits end when the run stops."""
        policy = self.client._policy_args
        if not self.gate.waits or "sleep" in policy:  # tests pass their own (no-op) sleep
            yield
            return
        policy["sleep"] = self.gate.sleep
        try:
            yield
        finally:
            del policy["sleep"]

    # -- requests ---------------------------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any], what: str, check: Callable[[Any], T]) -> T:
        """POST ``body`` under the retry policy and the gate; ``check`` runs inside the attempt, so a
        malformed answer is asked for again before it is believed."""
        jira = self.client.client
        url = jira._get_url(path)
        send = partial(jira._session.post, url, data=json.dumps(body))

        def attempt() -> T:
            # json.loads on the bytes: requests' Response.json() first guesses the text encoding and
            # decodes to str, a sixth more CPU on answers of half a megabyte (Jira sends UTF-8 JSON,
            # which json.loads detects itself); a body that is not JSON raises ValueError either way
            return check(json.loads(self.gate.run(send).content))

        return self.client.call(attempt, what)

    # -- Cloud ------------------------------------------------------------------------------------
    def cloud_pages(
        self, jql: str, *, fields: list[str], expand: str | None, page_size: int = ISSUES_PER_BULK
    ) -> Iterator[Page]:
        """Ids first, then bulkfetch of ``page_size`` (at most 100) issues per request."""
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="jira-fetch")
        interruptible = self._interruptible()
        interruptible.__enter__()
        chunks = self._id_chunks(jql, max(1, min(page_size, ISSUES_PER_BULK)))
        pending: deque[tuple[list[str], Future[list[dict[str, Any]]]]] = deque()
        groups: deque[tuple[list[list[dict[str, Any]]], Future[Histories] | None]] = deque()
        chunk_size = max(1, min(page_size, ISSUES_PER_BULK))
        limit = ISSUES_PER_CHANGELOG_BULK // chunk_size + 2 * self.concurrency
        exhausted = False
        wanted = [part for part in (expand or "").split(",") if part]
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    ids = next(chunks, None)
                    if ids is None:
                        exhausted = True
                        break
                    pending.append((ids, pool.submit(self._bulk_issues, ids, fields, wanted)))
                group_size = max(1, ISSUES_PER_CHANGELOG_BULK // chunk_size)
                if pending and (len(pending) >= group_size or exhausted):
                    pages = [
                        self._ordered(ids, future.result()) for ids, future in _take(pending, group_size)
                    ]
                    cut = [
                        str(raw.get("id"))
                        for page in pages
                        for raw in page
                        if "changelog" in wanted and changelog_incomplete(raw, cloud=True)
                    ]
                    later = pool.submit(self._bulk_changelogs, cut) if cut else None
                    groups.append((pages, later))
                    if len(groups) < 2 and not exhausted:
                        continue  # let this group's changelogs run while the next one is formed
                if not groups:
                    if exhausted and not pending:
                        return
                    continue
                pages, later = groups.popleft()
                histories = later.result() if later is not None else {}
                for page in pages:
                    yield page, histories
        finally:
            self.gate.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            chunks.close()
            interruptible.__exit__(None, None, None)

    def _id_chunks(self, jql: str, size: int) -> Generator[list[str]]:
        """Issue ids in search order, ``size`` at a time (the id pages fetched one ahead)."""
        for page in prefetched(self._id_pages(jql)):
            ids = [str(raw.get("id") or "") for raw in page]
            if not all(i.isdigit() for i in ids):
                raise SourceDataError(
                    "search: an id-only page lists an issue without a numeric id", source=self.source
                )
            for first in range(0, len(ids), size):
                yield ids[first : first + size]

    def _id_pages(self, jql: str) -> Iterator[list[dict[str, Any]]]:
        """The client's token loop, ids only, each request through the gate."""
        return self.client.token_pages(
            jql, fields=["id"], expand=None, page_size=IDS_PER_PAGE, post=self.post
        )

    def _bulk_issues(self, ids: list[str], fields: list[str], expand: list[str]) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"issueIdsOrKeys": ids, "fields": fields, "fieldsByKeys": False}
        if expand:
            body["expand"] = expand
        what = f"issue bulkfetch ({len(ids)} issues from id {ids[0]})"

        def check(answer: Any) -> list[dict[str, Any]]:
            issues = answer.get("issues") if isinstance(answer, dict) else None
            errors = answer.get("issueErrors") if isinstance(answer, dict) else None
            if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
                raise SourceDataError(f"{what}: Jira's answer has no `issues` list", source=self.source)
            if errors:
                # "a retriable error or payload constraint": asked again by the retry policy
                first = errors[0] if isinstance(errors[0], dict) else {}
                raise RetriableSourceError(
                    f"{what}: Jira could not return {len(errors)} issue(s), e.g. id "
                    f"{first.get('id')}: {first.get('errorMessage')}",
                    source=self.source,
                )
            if ids and not issues:
                # Every issue listed a moment ago gone at once: a permission or index problem far more
                # often than a mass deletion; never let a full pass sweep them.
                raise SourceDataError(
                    f"{what}: Jira returned none of the {len(ids)} issues its search had just listed",
                    source=self.source,
                    record=f"issue {ids[0]}",
                    hint="check the account still has Browse Projects; then sync again",
                )
            return issues

        return self.post("issue/bulkfetch", body, what, check)

    def _ordered(self, ids: list[str], issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The bulkfetch answer (ascending id) back in search order; issues deleted since the
        search are simply absent, an issue that was not asked for is an error."""
        by_id = {str(raw.get("id")): raw for raw in issues}
        extra = set(by_id) - set(ids)
        if extra:
            raise SourceDataError(
                f"issue bulkfetch returned issue {sorted(extra)[0]}, which was not asked for",
                source=self.source,
            )
        return [by_id[i] for i in ids if i in by_id]

    def _bulk_changelogs(self, ids: list[str]) -> Histories:
        return self.client.bulk_changelogs(ids, self.history_fields(), post=self.post)

    # -- Data Center ------------------------------------------------------------------------------
    def offset_pages(
        self, jql: str, *, fields: list[str], expand: str | None, page_size: int
    ) -> Iterator[Page]:
        """``startAt`` pages, the first alone (for ``total``), then ``concurrency`` at a time; each
        later page starts one issue early and must begin with the last issue of the page before."""
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="jira-fetch")
        interruptible = self._interruptible()
        interruptible.__enter__()

        def ask(start: int, size: int) -> tuple[list[dict[str, Any]], int, int]:
            return self.client.offset_page(
                jql, fields=fields, expand=expand, start=start, size=size, post=self.post
            )

        try:
            first, total, served_cap = ask(0, page_size)
            size = max(2, min(page_size, served_cap))
            yield first, None
            if len(first) < size or len(first) >= total:
                return
            last_key = str(first[-1].get("key"))
            start = len(first) - 1  # the next page re-reads the last issue of this one
            in_flight: deque[Future[tuple[list[dict[str, Any]], int, int]]] = deque()
            planned = start
            while True:
                while len(in_flight) < 2 * self.concurrency and planned + 1 < total:
                    in_flight.append(pool.submit(ask, planned, size))
                    planned += size - 1
                if not in_flight:
                    return
                issues, total_now, _ = in_flight.popleft().result()
                if not issues or issues[0].get("key") != last_key:
                    raise PagingShifted(last_key)
                issues = issues[1:]
                if issues:
                    yield issues, None
                    last_key = str(issues[-1].get("key"))
                if len(issues) < size - 1:
                    if in_flight:
                        # a short page before the planned end: the result shrank under us
                        raise PagingShifted(last_key)
                    return
                total = max(total, total_now)
        finally:
            self.gate.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            interruptible.__exit__(None, None, None)

    # -- serial -----------------------------------------------------------------------------------
    def search_pages(
        self, jql: str, *, fields: list[str], expand: str | None, page_size: int
    ) -> Iterator[Page]:
        """Cloud's token pages one after another (the next fetched while the store writes): for
        incremental syncs, whose few changed issues fit a page or two -- and a sync with nothing
        changed stays one request, where listing ids first would cost two."""
        for page in self.client.search_pages(jql, fields=fields, expand=expand, page_size=page_size):
            yield page, None

    def histories(self, fresh: list[dict[str, Any]], found: Histories | None) -> Histories:
        """Whole histories, by issue id, of the issues in ``fresh`` whose inline changelog may be
        cut short: taken from ``found`` when the fetch already read them (ids-first), else read
        now for these issues only (unchanged re-reads of the overlap window cost nothing): one
        changelog bulkfetch on Cloud, one ``GET issue?expand=changelog`` per issue on Data Center
        (which has no bulk changelog resource, and whose search carries whole changelogs anyway)."""
        if found is not None:
            ids = _ids(fresh)
            return {i: h for i, h in found.items() if i in ids}
        cloud = self.client.cloud
        cut = [raw for raw in fresh if changelog_incomplete(raw, cloud=cloud)]
        if not cut:
            return {}
        if cloud:
            return self.client.bulk_changelogs([str(raw.get("id")) for raw in cut], self.history_fields())
        return {str(raw.get("id")): self.client.full_changelog(str(raw.get("key"))) for raw in cut}


def _take(queue: deque[T], count: int) -> list[T]:
    return [queue.popleft() for _ in range(min(count, len(queue)))]


def _ids(page: list[dict[str, Any]]) -> set[str]:
    return {str(raw.get("id")) for raw in page}
