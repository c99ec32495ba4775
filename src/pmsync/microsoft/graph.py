"""A small OData client for Microsoft Graph and the Dataverse Web API, over ``requests``.

- every call gets a bearer token from a :class:`~pmsync.microsoft.auth.TokenProvider` (MSAL caches
  it) and runs under the shared retry policy (:func:`pmsync.http.retrying`), so 429/503 with
  ``Retry-After`` — from the API or from the token endpoint — are waited out, then retried;
- a 401 saying the token is invalid or expired drops the cached token and tries once more with a
  fresh one (keys roll over, tokens get revoked) — except Graph's 401 for a token that carries no
  permission at all ("Either scp or roles claim need to be present in the token"), which is what an
  app without admin consent gets from Entra: a fresh token would be just as empty, so that 401 is
  at once an :class:`~pmsync.errors.AuthError` naming the application permission to grant;
- errors become pmsync errors: Graph's ``{"error": {"code", "message"}}`` is quoted, and a 403 names
  the permission the caller needs (``permission_hint``);
- :meth:`ODataClient.get_batch` sends many GETs as Graph JSON batches (20 per round trip);
- :meth:`ODataClient.pages` follows ``@odata.nextLink`` exactly as given (Graph and Dataverse put
  opaque ``$skiptoken`` values in it) and refuses to loop on a repeated link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import requests
from tenacity import Retrying

from pmsync.errors import AuthError, ConnectorError, RetriableSourceError, SourceDataError
from pmsync.http import as_connector_error, parse_retry_after, raise_for_api_status, retrying
from pmsync.logs import redact
from pmsync.microsoft.auth import TokenProvider
from pmsync.paging import NextLinkPaginator

#: most requests Graph accepts in one JSON batch
BATCH_LIMIT = 20
#: Graph error codes that mean "this token is no good" (as opposed to "you may not do this")
_BAD_TOKEN_CODES = {"InvalidAuthenticationToken", "0x80072243"}
#: the words of Graph's 401 for a token without ``roles`` or ``scp`` (an app lacking admin consent)
_NO_PERMISSION_TEXT = "scp or roles claim"


class ServiceRefused(AuthError):
    """The service itself refused a signed-in call (401/403): a permission is missing, as opposed to
    signing in having failed. Callers that can do without the answer (people's names) catch this."""


class ODataClient:
    """Calls one OData service (Graph v1.0 or a Dataverse environment) as one app or user."""

    def __init__(
        self,
        *,
        base_url: str,
        scope: str,
        tokens: TokenProvider,
        source: str,
        default_headers: Mapping[str, str] | None = None,
        permission_hint: str | None = None,
        policy: Callable[[], Retrying] = retrying,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.scope = scope
        self.tokens = tokens
        self.source = source
        self.default_headers = dict(default_headers or {})
        self.permission_hint = permission_hint
        self.policy = policy
        #: HTTP requests sent (including retries), for benchmarks and tests
        self.requests_sent = 0

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
        retry: bool = True,
    ) -> requests.Response:
        """Send one request (with retries); returns the successful response or raises a pmsync error.

        ``retry=False`` sends it once: for a create whose first attempt may have landed though its
        answer was lost, the caller looks the object up before trying again."""
        url = self.url(path_or_url)
        merged = {"Accept": "application/json", **self.default_headers, **(headers or {})}

        def attempt() -> requests.Response:
            response = self._send(method, url, params, json, merged, record)
            if stale_token(response):
                # A cached token the service no longer accepts: fetch a new one, once.
                self.tokens.invalidate()
                response = self._send(method, url, params, json, merged, record)
            self._raise_for_status(response, record)
            return response

        return attempt() if not retry else self.policy()(attempt)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Any,
        headers: dict[str, str],
        record: str | None,
    ) -> requests.Response:
        token = self.tokens.token(self.scope)
        self.requests_sent += 1
        try:
            return self.tokens.session.request(
                method,
                url,
                params=params,
                json=body,
                headers={**headers, "Authorization": f"Bearer {token}"},
            )
        except requests.RequestException as exc:
            raise as_connector_error(exc, source=self.source, record=record or url) from None

    def _raise_for_status(self, response: requests.Response, record: str | None) -> None:
        if no_permission_in_token(response):
            raise self.no_permission_error(_graph_message(response), record)
        if response.status_code == 403 or (
            response.status_code == 401 and _graph_code(response) not in _BAD_TOKEN_CODES
        ):
            what = f"HTTP {response.status_code} from {response.request.method} {redact(response.url)}"
            raise ServiceRefused(
                f"{what}: {_graph_message(response)}",
                source=self.source,
                record=record,
                hint=self.permission_hint or "check that the app has the needed permission (admin-consented)",
            )
        raise_for_api_status(response, source=self.source, record=record)

    def no_permission_error(self, service_message: str, record: str | None) -> AuthError:
        """The error for a token that carries no permission: what Entra does for an app whose
        application permissions were never admin-consented (it still issues a token, without
        ``roles``)."""
        return ServiceRefused(
            f"the app's token carries no permission at all, so the service refused it ({service_message}); "
            "the app registration's application permissions have not been granted admin consent",
            source=self.source,
            record=record,
            hint=(self.permission_hint or "grant the app the application permission it needs")
            + "; an administrator must then click 'Grant admin consent' (Entra admin center > App "
            "registrations > API permissions)",
        )

    def get_json(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> dict[str, Any]:
        response = self.request("GET", path_or_url, params=params, headers=headers, record=record)
        return self._json(response, record)

    def get_optional(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> dict[str, Any] | None:
        """The JSON at ``path``, or None when the service answers 404 (lookups of sites, folders,
        lists and items that may not exist)."""
        url = self.url(path)
        merged = {"Accept": "application/json", **(headers or {})}

        def attempt() -> requests.Response | None:
            response = self._send("GET", url, params, None, merged, record)
            if stale_token(response):
                self.tokens.invalidate()
                response = self._send("GET", url, params, None, merged, record)
            if response.status_code == 404:
                return None
            self._raise_for_status(response, record)
            return response

        response = self.policy()(attempt)
        return None if response is None else self._json(response, record)

    def download(self, path_or_url: str, target: Path, *, record: str | None = None) -> str:
        """Stream the bytes at ``path_or_url`` (e.g. a driveItem's ``/content``, which redirects to
        the file) into ``target``, 1 MiB at a time; returns their SHA-256 (hex).

        Retried like every call; a retry starts the file again, so ``target`` never holds a mix of
        two attempts.
        """
        url = self.url(path_or_url)

        def attempt() -> str:
            response = self._send_streamed(url, record)
            if stale_token(response):
                response.close()
                self.tokens.invalidate()
                response = self._send_streamed(url, record)
            with response:
                self._raise_for_status(response, record)
                digest = hashlib.sha256()
                try:
                    with target.open("wb") as out:
                        for block in response.iter_content(1 << 20):
                            digest.update(block)
                            out.write(block)
                except requests.RequestException as exc:
                    raise as_connector_error(exc, source=self.source, record=record or url) from None
                return digest.hexdigest()

        return self.policy()(attempt)

    def _send_streamed(self, url: str, record: str | None) -> requests.Response:
        token = self.tokens.token(self.scope)
        self.requests_sent += 1
        try:
            # requests drops the Authorization header when a redirect leaves the Graph host, as the
            # pre-authenticated download URL of a file needs.
            return self.tokens.session.get(
                url, headers={**self.default_headers, "Authorization": f"Bearer {token}"}, stream=True
            )
        except requests.RequestException as exc:
            raise as_connector_error(exc, source=self.source, record=record or url) from None

    def _json(self, response: requests.Response, record: str | None) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise SourceDataError(
                f"{response.request.method} {redact(response.url)} answered HTTP {response.status_code} "
                f"with a body that is not JSON: {redact(response.text[:120])!r}",
                source=self.source,
                record=record,
                hint="a proxy or gateway may be answering instead of the service; retry later",
            ) from None
        if not isinstance(body, dict):
            raise SourceDataError(
                f"{redact(response.url)} answered with JSON that is not an object",
                source=self.source,
                record=record,
            )
        return body

    def pages(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page's ``value`` list, following ``@odata.nextLink`` until there is none.

        The envelope is checked, so an incomplete answer is never taken for a complete one (a proxy
        answering ``{}``, a gateway's truncated page): a page without a ``value`` list, an item that
        is not an object, an empty page reached through a ``@odata.nextLink`` that ends the paging
        (Graph returns a next link only "when there's at least one more page of data available",
        learn.microsoft.com/graph/paging), and fewer items than the last page's ``@odata.count``
        are errors. A bad page is asked for once more; if it stays bad the read fails with a
        :class:`~pmsync.errors.RetriableSourceError` and the caller's cursor does not move."""
        paging = NextLinkPaginator(self.url(path_or_url), source=self.source, what=record or path_or_url)
        query = params
        received = 0
        promised = False  # this page was reached through a next link
        while not paging.finished:
            url = paging.current
            try:
                body, value = self._page(url, query, headers, record, promised)
            except RetriableSourceError:
                body, value = self._page(url, query, headers, record, promised)  # once more, then fail
            received += len(value)
            yield value
            paging.advance(body)  # refuses a next link already followed
            count = body.get("@odata.count")
            if (
                paging.finished
                and isinstance(count, int)
                and not isinstance(count, bool)
                and received < count
            ):
                raise RetriableSourceError(
                    f"{redact(url)} said @odata.count {count} but its pages held {received} items: an "
                    "incomplete answer",
                    source=self.source,
                    record=record,
                    hint="the next sync asks again; nothing was deleted on this evidence",
                )
            query = None  # the next link carries the query options itself
            promised = True

    def _page(
        self,
        url: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        record: str | None,
        promised: bool,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One page's body and items, with its envelope checked (see :meth:`pages`)."""
        body = self._json(self.request("GET", url, params=query, headers=headers, record=record), record)
        value = body.get("value")
        if not isinstance(value, list):
            got = "no 'value'" if "value" not in body else f"a {type(value).__name__} as 'value'"
            raise RetriableSourceError(
                f"{redact(url)} answered with {got} instead of a list of items: an incomplete answer "
                "(a proxy or gateway answering for the service?)",
                source=self.source,
                record=record,
                hint="the next sync asks again; nothing was deleted on this evidence",
            )
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise SourceDataError(
                    f"{redact(url)}: item {index} of the page is a {type(item).__name__}, not an object",
                    source=self.source,
                    record=record,
                )
        if promised and not value and not body.get("@odata.nextLink"):
            raise RetriableSourceError(
                f"{redact(url)} answered an empty last page although the previous page's @odata.nextLink "
                "promised more: an incomplete answer",
                source=self.source,
                record=record,
                hint="the next sync asks again; nothing was deleted on this evidence",
            )
        return body, value

    def items(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged collection, one at a time."""
        for page in self.pages(path_or_url, params=params, headers=headers, record=record):
            yield from page

    def get_batch(
        self, paths: Sequence[str], *, record: str | None = None, missing_ok: bool = False
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path, body)`` for each GET of ``paths`` (relative to the version root, e.g.
        ``planner/tasks/{id}/details``), in order, sent as Graph JSON batches of up to 20.

        An inner request throttled or failing transiently is sent again, in the next batch, after the
        longest Retry-After among them; any other inner failure raises its pmsync error, except a 404
        with ``missing_ok`` (a lookup of something that may be gone), whose body is ``{}``.
        """
        for start in range(0, len(paths), BATCH_LIMIT):
            chunk = list(paths[start : start + BATCH_LIMIT])
            bodies: dict[str, dict[str, Any]] = {}
            refreshed: list[bool] = [False]

            def attempt(
                chunk: list[str] = chunk,
                bodies: dict[str, dict[str, Any]] = bodies,
                refreshed: list[bool] = refreshed,
            ) -> None:
                pending = [p for p in chunk if p not in bodies]
                payload = {
                    "requests": [
                        {"id": str(i), "method": "GET", "url": f"/{p.lstrip('/')}"}
                        for i, p in enumerate(pending)
                    ]
                }
                answer = self._json(self.request("POST", "$batch", json=payload, record=record), record)
                retry: list[float | None] = []
                token_rejected = False
                for item in answer.get("responses") or []:
                    index = int(str(item.get("id", "-1"))) if str(item.get("id", "")).isdigit() else -1
                    if not 0 <= index < len(pending):
                        continue
                    status, body = int(item.get("status", 0)), item.get("body")
                    if 200 <= status < 300 and isinstance(body, dict):
                        bodies[pending[index]] = body
                        continue
                    if status == 404 and missing_ok:
                        bodies[pending[index]] = {}
                        continue
                    if status == 401 and _NO_PERMISSION_TEXT in str(body):
                        raise self.no_permission_error(_inner_message(body), pending[index])
                    if status == 401 and _inner_code(body) in _BAD_TOKEN_CODES and not refreshed[0]:
                        token_rejected = True  # the token expired while the batch ran
                        continue
                    error = self._inner_error(status, item.get("headers") or {}, body, pending[index])
                    if not isinstance(error, RetriableSourceError):
                        raise error
                    retry.append(error.retry_after)
                if token_rejected:
                    # As for a direct request: a token the service no longer accepts is replaced once,
                    # and what it refused is sent again (a second refusal is then an AuthError).
                    refreshed[0] = True
                    self.tokens.invalidate()
                    attempt(chunk, bodies)
                    return
                missing = [p for p in pending if p not in bodies]
                if missing:
                    known = [r for r in retry if r is not None]
                    raise RetriableSourceError(
                        f"{len(missing)} request(s) in a Graph batch were throttled or failed transiently",
                        source=self.source,
                        record=record,
                        retry_after=max(known) if known else None,
                    )

            self.policy()(attempt)
            for path in chunk:
                yield path, bodies[path]

    def _inner_error(self, status: int, headers: Mapping[str, Any], body: Any, path: str) -> ConnectorError:
        error = body.get("error") if isinstance(body, dict) else None
        message = redact(
            str(error.get("message") or error.get("code")) if isinstance(error, dict) else str(body)
        )
        text = f"HTTP {status} from GET {path} (in a batch): {message}"
        if status == 429 or status >= 500:
            retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            return RetriableSourceError(
                text, source=self.source, record=path, retry_after=parse_retry_after(str(retry_after or ""))
            )
        if status in (401, 403):
            return ServiceRefused(text, source=self.source, record=path, hint=self.permission_hint)
        return SourceDataError(text, source=self.source, record=path)


def _graph_error(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _inner_code(body: Any) -> str:
    """The Graph error code of an inner batch response's body."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def _inner_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return redact(str(error.get("message") or error.get("code")) if isinstance(error, dict) else str(body))


def no_permission_in_token(response: requests.Response) -> bool:
    """Graph's 401 for a valid token with neither ``scp`` nor ``roles``: signing in again gives the
    same empty token, so it is not worth a refresh."""
    return response.status_code == 401 and _NO_PERMISSION_TEXT in _graph_message(response)


def stale_token(response: requests.Response) -> bool:
    """A 401 for a token the service no longer accepts (expired, revoked, rolled-over keys): worth
    one fresh token."""
    return (
        response.status_code == 401
        and _graph_code(response) in _BAD_TOKEN_CODES
        and not no_permission_in_token(response)
    )


def _graph_code(response: requests.Response) -> str:
    return str(_graph_error(response).get("code") or "")


def _graph_message(response: requests.Response) -> str:
    error = _graph_error(response)
    text = str(error.get("message") or error.get("code") or response.text[:200] or response.reason)
    return redact(text)


def odata_moment(value: Any) -> datetime | None:
    """A Graph / Dataverse ``Edm.DateTimeOffset`` (``2026-10-01T08:00:00Z``) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def odata_day(value: Any, zone: tzinfo = UTC) -> date | None:
    """The calendar day in ``zone`` of an ``Edm.DateTimeOffset`` instant (a completion time, a
    modification time): what the agency calls that day."""
    moment = odata_moment(value)
    return moment.astimezone(zone).date() if moment else None


def date_only_day(value: Any, zone: tzinfo = UTC) -> date | None:
    """The day a date-only value stored as an instant means, read in the agency's zone ``zone``.

    Planner (and Dataverse "user local" date columns) keep a due or start *date* as an instant: the
    midnight that began that day in the time zone of whoever set it. ``2026-11-20`` set in Berlin is
    ``2026-11-19T23:00:00Z``, whose UTC date is a day early; set in Los Angeles it is
    ``2026-11-20T08:00:00Z``. The day meant is the one whose midnight in the agency's zone is nearest
    to the instant, which is right for anyone within 12 hours of the agency's zone. A bare date
    (``2026-11-20``, Dataverse "date only") is taken as it is.
    """
    if not value:
        return None
    text = str(value)
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    moment = odata_moment(value)
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return local.date() + timedelta(days=1) if local.hour >= 12 else local.date()
