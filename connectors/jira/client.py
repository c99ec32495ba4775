"""Talking to Jira through the ``jira`` package, with pmsync's retry policy and error sorting.

Retries are deterministic and in one place: the ``jira`` package's own ``ResilientSession`` retry
(which sleeps up to 60 s per attempt with random jitter and only knows 429/503) is switched off with
``max_retries=0``, and every call goes through :func:`pmsync.http.retrying`: 429 and 5xx are retried,
waiting what ``Retry-After`` asks or backing off exponentially; connection drops and truncated or
malformed JSON bodies are retried too; other 4xx (bad JQL, unknown project, 401/403) never are.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from pmsync.errors import AuthError, ConnectorError, RetriableSourceError, SourceDataError
from pmsync.http import USER_AGENT, as_connector_error, raise_for_api_status, retrying
from pmsync.logs import redact
from pmsync.paging import TokenPaginator

from .config import JiraConfig
from .envelope import check_cloud_page, check_offset_page

T = TypeVar("T")
log = logging.getLogger("pmsync.connectors.jira")
#: sends one POST of a JSON body: (path, body, what, check of the decoded answer) -> the checked answer
PostJson = Callable[[str, dict[str, Any], str, Callable[[Any], Any]], Any]


class PagingShifted(Exception):
    """Data Center's offset paging moved under us: an issue before the page boundary changed."""


_DONE = object()


def prefetched(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """Fetch the next page while the caller processes (and the store writes) the current one.

    One page ahead at most, so memory stays flat; an error from a later request surfaces only after
    every earlier page was handed over (and could be committed). Requests from the caller's thread
    meanwhile (changelogs, worklogs) share the session's thread-safe connection pool.
    """
    ahead: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        """Hand ``item`` over unless the consumer has gone away."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            offer(exc)

    worker = threading.Thread(target=fetch, name="jira-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # A worker still inside a request is a daemon; the closed session ends it.
        worker.join(timeout=5)


class JiraClient:
    """One authenticated ``jira.JIRA`` per connector run, plus the paging pmsync needs."""

    def __init__(
        self,
        config: JiraConfig,
        auth: dict[str, Any],
        *,
        source: str,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.cloud = config.deployment == "cloud"
        self._policy_args: dict[str, Any] = {"attempts": config.retry_attempts}
        if sleep is not None:
            self._policy_args["sleep"] = sleep
        self.client: JIRA = self.call(lambda: self._connect(auth), "serverInfo")

    def _connect(self, auth: dict[str, Any]) -> JIRA:
        options: dict[str, Any] = {
            "server": self.config.url.rstrip("/"),
            "rest_api_version": "3" if self.cloud else "2",
            "headers": {"User-Agent": USER_AGENT},
        }
        if self.config.ca_bundle is not None:
            options["verify"] = str(self.config.ca_bundle)
        return JIRA(
            options=options,
            # serverInfo only tells the jira package what pmsync's config already says (Cloud or
            # Data Center): skipping it saves a request per run.
            get_server_info=False,
            max_retries=0,
            timeout=self.config.timeout_seconds,
            logging=False,
            **auth,
        )

    # -- calls ------------------------------------------------------------------------------------
    def call(self, func: Callable[[], T], what: str) -> T:
        """Run one request under the retry policy, turning every failure into a pmsync error."""

        def attempt() -> T:
            try:
                return func()
            except JIRAError as exc:
                raise self._error(exc, what) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                error = as_connector_error(exc, source=self.source)
                if isinstance(error, RetriableSourceError):
                    error.message = f"{what}: connection to Jira failed: {redact(str(exc))}"
                raise error from None  # a refused connection is final at once, naming host and port
            except ValueError as exc:  # a 200 whose body is not JSON (proxy page, cut-off body)
                raise RetriableSourceError(
                    f"{what}: Jira sent a response that is not valid JSON ({exc})", source=self.source
                ) from None

        return retrying(**self._policy_args)(attempt)

    def _error(self, exc: JIRAError, what: str) -> ConnectorError:
        response = exc.response
        if response is None:
            return RetriableSourceError(f"{what}: {redact(str(exc.text or exc))}", source=self.source)
        denied = response.headers.get("X-Authentication-Denied-Reason", "")
        if response.status_code == 403 and "CAPTCHA" in denied:
            return AuthError(
                "Jira refuses basic auth for this account until a CAPTCHA is answered "
                "(too many failed logins)",
                source=self.source,
                record=what,
                hint="log in to Jira once in a browser, then check the password, "
                "or use a personal access token",
            )
        try:
            raise_for_api_status(response, source=self.source, record=what)
        except AuthError as error:
            if response.status_code == 401:
                error.hint = (
                    "check `email` and `api_token` (an Atlassian API token, not the password)"
                    if self.cloud
                    else "check `pat` (a personal access token) or `username`/`password`"
                )
            return error
        except ConnectorError as error:
            return error
        return SourceDataError(f"{what}: unexpected answer HTTP {response.status_code}", source=self.source)

    # -- resources --------------------------------------------------------------------------------
    def server_info(self) -> dict[str, Any]:
        return self.call(self.client.server_info, "serverInfo")

    def myself(self) -> dict[str, Any]:
        return self.call(self.client.myself, "myself")

    def fields(self) -> list[dict[str, Any]]:
        return self.call(self.client.fields, "field")

    def statuses(self) -> list[dict[str, Any]]:
        return [s.raw for s in self.call(self.client.statuses, "status")]

    def issue_type_names(self) -> list[str]:
        return [str(t.raw.get("name")) for t in self.call(self.client.issue_types, "issuetype")]

    def project(self, key: str) -> dict[str, Any]:
        return dict(self.call(lambda: self.client.project(key), f"project {key}").raw)

    def full_changelog(self, key: str) -> list[dict[str, Any]]:
        """Every history entry of ``key`` on Data Center, where ``GET issue?expand=changelog``
        carries the whole changelog (Data Center has no paginated changelog resource)."""
        issue = self.call(lambda: self.client.issue(key, fields="status", expand="changelog"), key)
        return list(issue.raw.get("changelog", {}).get("histories", []))

    def bulk_changelogs(
        self, issue_ids: list[str], field_ids: list[str], *, post: PostJson | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Cloud: the histories of many issues at once, touching only ``field_ids``, by issue id.

        ``POST /rest/api/3/changelog/bulkfetch`` takes up to 1000 issues per request and pages by
        ``nextPageToken``; one request per page of search results instead of one per issue.
        ``post``: how to send each request (the concurrent fetcher passes its own, which goes
        through its shared rate-limit gate); by default the client's retry policy alone.
        """
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in issue_ids}
        for first in range(0, len(issue_ids), 1000):
            chunk = issue_ids[first : first + 1000]
            paging = TokenPaginator(source=self.source, what="changelog bulkfetch", last_key=None)
            while not paging.finished:
                body: dict[str, Any] = {"issueIdsOrKeys": chunk, "fieldIds": field_ids, "maxResults": 10000}
                if paging.current:
                    body["nextPageToken"] = paging.current
                page = self.post_json("changelog/bulkfetch", body, "changelog bulkfetch", _as_is, post)
                logs = page.get("issueChangeLogs") if isinstance(page, dict) else None
                if not isinstance(logs, list):
                    raise SourceDataError(
                        "changelog bulkfetch: Jira's answer has no `issueChangeLogs` list",
                        source=self.source,
                    )
                for log in logs:
                    histories = log.get("changeHistories") if isinstance(log, dict) else None
                    issue_id = str(log.get("issueId")) if isinstance(log, dict) else ""
                    if issue_id not in out or not isinstance(histories, list):
                        raise SourceDataError(
                            f"changelog bulkfetch: an entry for issue {issue_id or '?'} that was not "
                            "asked for, or without changeHistories",
                            source=self.source,
                        )
                    out[issue_id].extend(histories)
                paging.advance(page)  # a repeated token is an error, not a loop
        return out

    def project_versions(self, key: str) -> list[dict[str, Any]]:
        """Every version (release) of project ``key`` (``GET project/{key}/versions``, unpaged)."""
        versions = self.call(partial(self.client._get_json, f"project/{key}/versions"), f"{key} versions")
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise SourceDataError(
                f"{key} versions: Jira's answer is not a list of versions", source=self.source
            )
        return versions

    def worklogs(self, key: str) -> list[dict[str, Any]]:
        """Every worklog of an issue (raw), for its total and its ``started`` dates."""
        logs = self.call(lambda: self.client.worklogs(key), f"{key} worklogs")
        return [dict(w.raw) for w in logs]

    # -- search -----------------------------------------------------------------------------------
    def search_pages(
        self, jql: str, *, fields: list[str], expand: str | None, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of raw issues for ``jql``, in the order the JQL asks for.

        Cloud pages by ``nextPageToken`` (a repeated token is an error, not a loop). Data Center pages
        by ``startAt``, re-reading the last issue of the previous page: if it is no longer there, the
        result shifted under us and :class:`PagingShifted` is raised so the caller can resume safely.
        """
        if self.cloud:
            pages = self.token_pages(jql, fields=fields, expand=expand, page_size=page_size)
        else:
            pages = self._offset_pages(jql, fields, expand, page_size)
        yield from prefetched(pages)

    def post_json(
        self, path: str, body: dict[str, Any], what: str, check: Callable[[Any], T], post: PostJson | None
    ) -> T:
        """POST one JSON body and check the answer inside the retried attempt, so a malformed page is
        asked for again before it is believed or the run stops. ``post``: how to send it (the
        concurrent fetcher's goes through its shared rate-limit gate); by default the retry policy."""
        if post is not None:
            checked: T = post(path, body, what, check)
            return checked
        return self.call(lambda: check(self.client._get_json(path, params=body, use_post=True)), what)

    def token_pages(
        self,
        jql: str,
        *,
        fields: list[str],
        expand: str | None,
        page_size: int,
        post: PostJson | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Cloud's ``search/jql`` pages, one after another (a repeated token is an error, not a loop);
        the fetcher's id listing is the same loop with ``fields=["id"]`` and its own ``post``."""
        paging = TokenPaginator(source=self.source, what="search")
        while not paging.finished:
            # Cloud's SearchAndReconcileRequestBean takes `expand` as one comma-separated string.
            body: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": list(fields)}
            if expand:
                body["expand"] = expand
            if paging.current:
                body["nextPageToken"] = paging.current
            check = partial(_checked_cloud_page, continuing=paging.current is not None, source=self.source)
            issues, page = self.post_json("search/jql", body, "search", check, post)
            yield issues
            paging.advance(page)  # a repeated token is an error, not a loop

    def offset_page(
        self,
        jql: str,
        *,
        fields: list[str],
        expand: str | None,
        start: int,
        size: int,
        post: PostJson | None = None,
    ) -> tuple[list[dict[str, Any]], int, int]:
        """One Data Center ``startAt`` page: its issues, the result's ``total`` and the page size the
        server applied (its ``maxResults``), for the serial loop here and the fetcher's concurrent one.

        Data Center's SearchRequestBean declares `fields` and `expand` as lists: a string there is
        refused with Jackson's 400 "Can not deserialize instance of java.util.ArrayList out of
        VALUE_STRING token" (the jira package sends the string it is given)."""
        body: dict[str, Any] = {"jql": jql, "startAt": start, "maxResults": size, "fields": list(fields)}
        if expand:
            body["expand"] = [part for part in expand.split(",") if part]

        def check(answer: Any) -> tuple[list[dict[str, Any]], int, int]:
            issues, total = check_offset_page(answer, start=start, source=self.source, what="search")
            return issues, total, int(answer.get("maxResults") or size)

        return self.post_json("search", body, "search", check, post)

    def _offset_pages(
        self, jql: str, fields: list[str], expand: str | None, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        start = 0
        last_key: str | None = None
        while True:
            ask = start - 1 if last_key else start
            issues, total, limit = self.offset_page(
                jql, fields=fields, expand=expand, start=ask, size=page_size
            )
            served = len(issues)
            if last_key is not None:
                if not issues or issues[0].get("key") != last_key:
                    raise PagingShifted(last_key)
                issues = issues[1:]
            if issues:
                yield issues
            start = ask + served
            if not issues or served < limit or start >= total:
                return
            last_key = str(issues[-1].get("key"))

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]


def _checked_cloud_page(answer: Any, *, continuing: bool, source: str) -> tuple[list[dict[str, Any]], Any]:
    return check_cloud_page(answer, continuing=continuing, source=source, what="search"), answer


def _as_is(answer: Any) -> Any:
    return answer
