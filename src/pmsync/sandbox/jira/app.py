"""The sandbox Jira as a WSGI app: the REST endpoints pmsync and the ``jira`` client call.

- ``GET /rest/api/{2,3}/serverInfo``, ``myself``, ``field``, ``project``, ``project/{key}``;
- Cloud: ``GET/POST /rest/api/{2,3}/search/jql`` with ``nextPageToken`` paging (the old
  ``/search`` answers 410 Gone, as Cloud does since 2025);
- Data Center: ``GET/POST /rest/api/2/search`` with ``startAt``/``maxResults``/``total``;
- ``issue/{key}``, ``issue/{key}/changelog`` (paginated), ``issue/{key}/worklog``;
- Cloud: ``POST /rest/api/{2,3}/issue/bulkfetch`` (up to 100 issues per request, in ascending id order).

``latency`` (seconds) delays every answer, outside the data lock, as a distant Jira would: off in
tests, on in the bench, so concurrent clients are measured where users wait. Every request is counted
per User-Agent (:attr:`JiraApp.agents`), so a bench can tell one client's requests from another's.

Paging under change behaves as the real products do: Cloud's token continues after the last issue
it returned (an issue updated between pages shows up again, later), while Data Center's ``startAt`` is
an offset into the live result, so an issue updated or deleted between pages shifts the rest left and
the issue at the page boundary is never returned — unless the client guards against it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pmsync.sandbox.jira.broken import BrokenPage
from pmsync.sandbox.jira.data import ISSUE_TYPES, STATUSES, USERS, Hit, IssueState, JiraData, SortKey
from pmsync.sandbox.jira.jql import JqlError, Query, parse_jql
from pmsync.sandbox.jira.render import ID_ONLY_FIELDS, Flavor, Renderer, field_list, select_fields

SEARCH_PATHS = ("/search/jql", "/search")
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


def error_body(messages: Iterable[str], errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"errorMessages": list(messages), "errors": errors or {}}


def jira_error_body(status: int) -> dict[str, Any]:
    """How Jira words the bodies of injected faults (429, 5xx)."""
    if status == 429:
        return error_body(["Rate limit exceeded."])
    return error_body([f"Jira is temporarily unavailable (HTTP {status}). Please try again later."])


@dataclass
class Account:
    login: str  # Cloud: e-mail address; Data Center: user name
    secret: str  # Cloud: API token; Data Center: password
    user: int = 0  # index into USERS
    pats: tuple[str, ...] = ()  # Data Center personal access tokens


@dataclass
class SearchHooks:
    """Callbacks run after each search page is served (``page`` counts from 1): tests use them to
    change data between pages."""

    after_page: list[Callable[[int], None]] = field(default_factory=list)
    pages_served: int = 0
    #: issue key -> fields served in place of the generated ones (``None`` values: field null, the
    #: :data:`MISSING` value: field left out) -- malformed or unusual data for robustness tests
    field_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: fault switches for 200 answers that are not a normal search page
    broken_pages: list[BrokenPage] = field(default_factory=list)


#: a :attr:`SearchHooks.field_overrides` value that removes the field from the issue
MISSING: Any = object()


class _JsonResponse(Response):
    default_mimetype = "application/json"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return _JsonResponse(json.dumps(body, separators=(",", ":")), status=status, headers=headers)


class JiraApp:
    """WSGI app; all state lives in :class:`JiraData`, so one app can be rebuilt around it."""

    def __init__(
        self,
        data: JiraData,
        flavor: Flavor,
        accounts: list[Account],
        *,
        timezone: str = "UTC",
        base_url: str = "",
    ) -> None:
        self.data = data
        self.flavor = flavor
        self.accounts = {a.login: a for a in accounts}
        self.pats = {pat: a for a in accounts for pat in a.pats}
        self.tz = ZoneInfo(timezone)
        self.renderer = Renderer(data, flavor, base_url, self.tz)
        self.hooks = SearchHooks()
        self.failed_logins: dict[str, int] = {}
        self._offsets: OrderedDict[tuple[str, int], tuple[SortKey, int]] = OrderedDict()
        self._lock = threading.Lock()
        #: when a list: every (method, path, status, body) answered, for tests that check each answer
        #: against Atlassian's OpenAPI spec
        self.exchanges: list[tuple[str, str, int, bytes]] | None = None
        #: requests per hour window before Cloud answers 429 (Atlassian's points budget, simplified)
        self.rate_limit = 65_000
        self._window: datetime | None = None
        self._used = 0
        #: seconds every answer is delayed (outside the data lock: concurrent requests overlap)
        self.latency = 0.0
        #: requests seen, per User-Agent
        self.agents: Counter[str] = Counter()
        #: (monotonic arrival time, method, path, status) of every answer, when a list (tests of pacing)
        self.timeline: list[tuple[float, str, str, int]] | None = None
        #: the next requests to answer 429 with this Retry-After (seconds), after skipping some
        self._throttles: list[list[float]] = []
        api = "/rest/api/<any('2','3'):v>"
        self.routes = Map(
            [
                Rule(f"{api}/serverInfo", endpoint="server_info"),
                Rule(f"{api}/myself", endpoint="myself"),
                Rule(f"{api}/field", endpoint="fields"),
                Rule(f"{api}/project", endpoint="projects"),
                Rule(f"{api}/status", endpoint="statuses"),
                Rule(f"{api}/issuetype", endpoint="issue_types"),
                Rule(f"{api}/project/search", endpoint="project_search"),
                Rule(f"{api}/project/<key>/versions", endpoint="project_versions"),
                Rule(f"{api}/project/<key>", endpoint="project"),
                Rule(f"{api}/search/jql", endpoint="search_jql", methods=["GET", "POST"]),
                Rule(f"{api}/search", endpoint="search", methods=["GET", "POST"]),
                Rule(f"{api}/issue/bulkfetch", endpoint="bulk_issues", methods=["POST"]),
                Rule(f"{api}/issue/<key>", endpoint="issue"),
                Rule(f"{api}/issue/<key>/changelog", endpoint="changelog"),
                Rule(f"{api}/issue/<key>/worklog", endpoint="worklog"),
                Rule(f"{api}/changelog/bulkfetch", endpoint="bulk_changelog", methods=["POST"]),
            ]
        )

    def set_base_url(self, url: str) -> None:
        self.renderer.base = url

    # -- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        arrived = time.monotonic()
        with self._lock:
            self.agents[request.headers.get("User-Agent", "")] += 1
        if self.latency > 0:
            time.sleep(self.latency)
        limited, quota = self.rate_limited(request)
        response = limited if limited is not None else self.dispatch(request)
        response.headers.update(quota)
        if self.timeline is not None:
            with self._lock:
                self.timeline.append((arrived, request.method, request.path, response.status_code))
        if self.exchanges is not None:
            self.exchanges.append((request.method, request.path, response.status_code, response.get_data()))
        return response(environ, start_response)

    def rate_limited(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        """Jira Cloud's rate limit headers on every answer, and its 429 once the budget is spent.

        Atlassian's "Rate limiting" guide (developer.atlassian.com/cloud/jira/platform/rate-limiting):
        each response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``,
        ``X-RateLimit-Reset`` (ISO 8601, when the window resets) and ``X-RateLimit-NearLimit: true``
        below 20 % remaining; a refused request gets 429 with ``Retry-After`` (seconds) and
        ``RateLimit-Reason``. The sandbox counts requests per hour window against
        :attr:`rate_limit` (a test lowers it to meet the 429); Data Center sends none of these.
        """
        if not self.flavor.cloud:
            return None, {}
        now = self.data.clock()
        window = now.replace(minute=0, second=0, microsecond=0)
        with self._lock:
            if window != self._window:
                self._window, self._used = window, 0
            self._used += 1
            used = self._used
        reset = window + timedelta(hours=1)
        remaining = max(0, self.rate_limit - used)
        quota = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        if remaining < self.rate_limit * 0.2:
            quota["X-RateLimit-NearLimit"] = "true"
        throttled = self._take_throttle()
        if throttled is not None:
            refused = _json(
                error_body(["Rate limit exceeded."]),
                429,
                {"Retry-After": _seconds(throttled), "RateLimit-Reason": "jira-burst-based"},
            )
            return refused, quota
        if used <= self.rate_limit:
            return None, quota
        wait = max(1, int((reset - now).total_seconds()))
        refused = _json(
            error_body(["Rate limit exceeded."]),
            429,
            {"Retry-After": str(wait), "RateLimit-Reason": "jira-quota-global-based"},
        )
        return refused, quota

    def spend(self, requests: int) -> None:
        """Count ``requests`` against this hour's budget, as other clients of the site would."""
        window = self.data.clock().replace(minute=0, second=0, microsecond=0)
        with self._lock:
            if window != self._window:
                self._window, self._used = window, 0
            self._used += requests

    def throttle(self, retry_after: float, *, after: int = 0) -> None:
        """Answer one request, after ``after`` more, with Cloud's burst 429 and ``Retry-After``."""
        with self._lock:
            self._throttles.append([float(after), retry_after])

    def _take_throttle(self) -> float | None:
        with self._lock:
            for rule in self._throttles:
                if rule[0] > 0:
                    rule[0] -= 1
                    continue
                self._throttles.remove(rule)
                return rule[1]
        return None

    def dispatch(self, request: Request) -> Response:
        adapter = self.routes.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return _json(error_body(["null for uri: " + request.url]), 404)
        except HTTPException as exc:
            return _json(error_body([exc.description or "error"]), exc.code or 400)
        account, denied = self.authenticate(request)
        if denied is not None:
            return denied
        if account is None and endpoint != "server_info":
            return _json(
                error_body(["You are not authenticated. Authentication required to perform this operation."]),
                401,
            )
        handler: Callable[..., Response] = getattr(self, f"do_{endpoint}")
        with self.data.lock:
            return handler(request, account, **args)

    def authenticate(self, request: Request) -> tuple[Account | None, Response | None]:
        """The account, or the 401/403 Jira sends for refused credentials (no header: anonymous)."""
        header = request.headers.get("Authorization", "")
        if not header:
            return None, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None, self._unauthorized()
            account = self.accounts.get(login)
            if not self.flavor.cloud and self.failed_logins.get(login, 0) >= 3:
                # Data Center asks for a CAPTCHA after repeated failures and refuses basic auth.
                return None, Response(
                    "",
                    status=403,
                    headers={
                        "X-Authentication-Denied-Reason": (
                            f"CAPTCHA_CHALLENGE; login-url={self.renderer.base}/login.jsp"
                        ),
                        "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
                    },
                )
            if account is not None and account.secret == secret:
                self.failed_logins.pop(login, None)
                return account, None
            self.failed_logins[login] = self.failed_logins.get(login, 0) + 1
            return None, self._unauthorized()
        if scheme.lower() == "bearer" and not self.flavor.cloud and value in self.pats:
            return self.pats[value], None
        return None, self._unauthorized()

    def _unauthorized(self) -> Response:
        headers = {
            "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
            "WWW-Authenticate": 'Basic realm="protected-area"',
        }
        if self.flavor.cloud:
            # Cloud answers a refused API token with a plain-text body.
            return Response(
                "Client must be authenticated to access this resource.", 401, headers, mimetype="text/plain"
            )
        return _json(
            error_body(["You are not authenticated. Authentication required to perform this operation."]),
            401,
            headers,
        )

    # -- simple resources -------------------------------------------------------------------------
    def do_server_info(self, request: Request, account: Account | None, v: str) -> Response:
        version = self.flavor.version
        numbers = [int(p) for p in version.split("-")[0].split(".")]
        return _json(
            {
                "baseUrl": self.renderer.base, "version": version, "versionNumbers": numbers,
                "deploymentType": self.flavor.deployment_type, "buildNumber": 100265,
                "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": self.renderer.timestamp(self.data.now_ms()),
                "scmInfo": "sandbox", "serverTitle": "pmsync sandbox Jira",
            }
        )  # fmt: skip

    def do_myself(self, request: Request, account: Account | None, v: str) -> Response:
        assert account is not None
        user = dict(self.renderer.user(account.user) or {})
        if self.flavor.cloud:
            user["emailAddress"] = account.login
        user["timeZone"] = str(self.tz)
        user["locale"] = "en_AU"
        return _json(user)

    def do_fields(self, request: Request, account: Account | None, v: str) -> Response:
        return _json(field_list(self.renderer.fields))

    def do_statuses(self, request: Request, account: Account | None, v: str) -> Response:
        return _json([self.renderer.status(name) for name in STATUSES])

    def do_issue_types(self, request: Request, account: Account | None, v: str) -> Response:
        return _json([self.renderer.issuetype(name) for name in ISSUE_TYPES])

    def do_projects(self, request: Request, account: Account | None, v: str) -> Response:
        return _json([self.renderer.project(key) for key in self.data.specs])

    def do_project_search(self, request: Request, account: Account | None, v: str) -> Response:
        values = [self.renderer.project(key) for key in self.data.specs]
        return _json({"startAt": 0, "maxResults": 50, "total": len(values), "isLast": True, "values": values})

    def do_project(self, request: Request, account: Account | None, v: str, key: str) -> Response:
        if key not in self.data.specs:
            return _json(error_body([f"No project could be found with key '{key}'."]), 404)
        return _json(self.renderer.project(key))

    def do_project_versions(self, request: Request, account: Account | None, v: str, key: str) -> Response:
        """``GET project/{key}/versions``: every version (release) of the project, unpaged."""
        if key not in self.data.specs:
            return _json(error_body([f"No project could be found with key '{key}'."]), 404)
        return _json(self.renderer.versions(key))

    def _issue_or_404(self, key: str) -> IssueState | Response:
        state = self.data.find(key)
        if state is None:
            return _json(error_body(["Issue does not exist or you do not have permission to see it."]), 404)
        return state

    def do_issue(self, request: Request, account: Account | None, v: str, key: str) -> Response:
        state = self._issue_or_404(key)
        if isinstance(state, Response):
            return state
        fields = request.args.getlist("fields") or ["*all"]
        expand = set(request.args.get("expand", "").split(","))
        # GET issue?expand=changelog carries the whole history, unlike search results
        return _json(self._issue(state, fields, expand, complete=True))

    def do_changelog(self, request: Request, account: Account | None, v: str, key: str) -> Response:
        state = self._issue_or_404(key)
        if isinstance(state, Response):
            return state
        start, size = _int(request.args, "startAt", 0), min(_int(request.args, "maxResults", 100), 100)
        values = self.renderer.histories(state)
        page = values[start : start + size]
        return _json(
            {
                "self": request.url, "maxResults": size, "startAt": start, "total": len(values),
                "isLast": start + size >= len(values), "values": page,
            }
        )  # fmt: skip

    def do_bulk_changelog(self, request: Request, account: Account | None, v: str) -> Response:
        """``POST /rest/api/3/changelog/bulkfetch`` (Cloud only): histories of up to 1000 issues per
        request, filtered to ``fieldIds`` (at most 10), ``maxResults`` histories per page (default
        1000, at most 10000), continued by ``nextPageToken`` -- as the v3 spec's
        ``BulkChangelogRequestBean`` / ``BulkChangelogResponseBean`` describe."""
        if not self.flavor.cloud:
            return _json(error_body(["null for uri: " + request.url]), 404)
        try:
            body = _request_body(request)
        except _BadRequest as exc:
            return _json(error_body(list(exc.args)), 400)
        keys = body.get("issueIdsOrKeys") if isinstance(body, dict) else None
        field_ids = body.get("fieldIds") or None
        if not isinstance(keys, list) or not 1 <= len(keys) <= 1000:
            return _json(error_body(["issueIdsOrKeys must list between 1 and 1000 issues."]), 400)
        if field_ids is not None and (not isinstance(field_ids, list) or len(field_ids) > 10):
            return _json(error_body(["fieldIds must list at most 10 fields."]), 400)
        size = body.get("maxResults", 1000)
        if not isinstance(size, int) or not 1 <= size <= 10000:
            return _json(error_body(["maxResults must be between 1 and 10000."]), 400)
        skip = 0
        token = body.get("nextPageToken")
        if token:
            try:
                skip = int(base64.urlsafe_b64decode(str(token).encode()).decode())
            except (ValueError, binascii.Error):
                return _json(error_body(["The provided next page token is invalid or expired."]), 400)
        wanted = frozenset(str(f) for f in field_ids) if field_ids else None
        logs: list[dict[str, Any]] = []
        position = served = 0
        for key in keys:
            state = self.data.find(str(key)) or self._by_id(str(key))
            if state is None:
                continue  # issues the caller cannot see are left out, not an error
            histories = self.renderer.histories(state, wanted)
            chosen = []
            for history in histories:
                if position >= skip and served < size:
                    chosen.append(history)
                    served += 1
                position += 1
            if chosen:
                logs.append({"issueId": self.renderer.issue_id(state), "changeHistories": chosen})
        answer: dict[str, Any] = {"issueChangeLogs": logs}
        if position > skip + served:
            answer["nextPageToken"] = base64.urlsafe_b64encode(str(skip + served).encode()).decode()
        return _json(answer)

    def do_bulk_issues(self, request: Request, account: Account | None, v: str) -> Response:
        """``POST /rest/api/3/issue/bulkfetch`` (Cloud only), as the v3 spec's
        ``BulkFetchIssueRequestBean`` / ``BulkIssueResults`` and Atlassian's reference ("Bulk fetch
        issues", developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues) describe: up
        to 100 ids or keys; ``fields`` and ``expand`` are lists; issues come back in ascending ``id``
        order, whatever order they were asked in; issues that are gone or hidden are left out
        without an error; ``expand: [changelog]`` carries at most the 40 most recent histories."""
        if not self.flavor.cloud:
            return _json(error_body(["null for uri: " + request.url]), 404)
        try:
            body = _request_body(request)
        except _BadRequest as exc:
            return _json(error_body(list(exc.args)), 400)
        if not isinstance(body, dict):
            return _json(error_body(["The request body must be a JSON object."]), 400)
        unknown = sorted(set(body) - {"issueIdsOrKeys", "fields", "expand", "fieldsByKeys", "properties"})
        if unknown:
            return _json(error_body([f'Unrecognized field "{unknown[0]}".']), 400)
        keys = body.get("issueIdsOrKeys")
        if not isinstance(keys, list) or not 1 <= len(keys) <= 100:
            return _json(error_body(["issueIdsOrKeys must list between 1 and 100 issues."]), 400)
        for name in ("fields", "expand"):
            if name in body and not isinstance(body[name], list):
                return _json(error_body([f"`{name}` must be a list of strings."]), 400)
        fields = [str(f) for f in body.get("fields") or []] or ["*navigable"]
        expand = {str(e) for e in body.get("expand") or []}
        states: dict[int, IssueState] = {}
        for key in keys:
            state = self.data.find(str(key)) or self._by_id(str(key))
            if state is not None:
                states[int(self.renderer.issue_id(state))] = state
        issues = [self._issue(states[i], fields, expand) for i in sorted(states)]
        return _json({"issues": issues, "issueErrors": []})

    def _by_id(self, issue_id: str) -> IssueState | None:
        if not issue_id.isdigit():
            return None
        index, number = divmod(int(issue_id) - 10_000, 1_000_000)
        for key, spec in self.data.specs.items():
            if spec.index == index:
                return self.data.find(f"{key}-{number}")
        return None

    def do_worklog(self, request: Request, account: Account | None, v: str, key: str) -> Response:
        state = self._issue_or_404(key)
        if isinstance(state, Response):
            return state
        start, size = _int(request.args, "startAt", 0), min(_int(request.args, "maxResults", 5000), 5000)
        logs = [self.renderer.worklog(state, w) for w in state.worklogs]
        return _json(
            {"startAt": start, "maxResults": size, "total": len(logs), "worklogs": logs[start : start + size]}
        )

    # -- search -------------------------------------------------------------------------------------
    def _search_params(self, request: Request) -> MultiDict[str, Any]:
        if request.method == "POST":
            body = _request_body(request)
            self._check_bean(body)
            params: MultiDict[str, Any] = MultiDict()
            for name, value in (body or {}).items():
                if value is None:
                    continue
                if isinstance(value, list):
                    for item in value:
                        params.add(name, item)
                else:
                    params.add(name, value)
            return params
        return MultiDict(request.args)

    def _check_bean(self, body: Any) -> None:
        """Refuse a POST body whose types do not fit the request bean, in Jackson's words.

        Data Center's ``SearchRequestBean`` declares ``fields`` and ``expand`` as ``List<String>``;
        Jackson refuses a plain string there with 400 "Can not deserialize instance of
        java.util.ArrayList out of VALUE_STRING token" (the answer a real Jira Server gave pmsync's
        ``"expand": "changelog"``). Cloud's ``SearchAndReconcileRequestBean`` declares ``expand`` as
        one comma-separated string (v3 spec) and refuses an array there the same way.
        """
        if not isinstance(body, dict):
            raise _BadRequest("Can not deserialize the request body: expected a JSON object.")
        bean = "SearchAndReconcileRequestBean" if self.flavor.cloud else "SearchRequestBean"
        package = "com.atlassian.jira.rest.v2.search"
        for name in ("fields", "expand"):
            value = body.get(name)
            wants_list = not (self.flavor.cloud and name == "expand")
            if wants_list and isinstance(value, str):
                raise _BadRequest(
                    "Can not deserialize instance of java.util.ArrayList out of VALUE_STRING token\n"
                    f" at [Source: org.apache.catalina.connector.CoyoteInputStream; line: 1] "
                    f'(through reference chain: {package}.{bean}["{name}"])'
                )
            if not wants_list and isinstance(value, list):
                raise _BadRequest(
                    "Cannot deserialize value of type `java.lang.String` from Array value "
                    f'(token `JsonToken.START_ARRAY`) (through reference chain: {bean}["{name}"])'
                )

    def _query(self, params: MultiDict[str, Any], *, bounded: bool) -> Query:
        jql = params.get("jql")
        if not jql:
            if bounded:
                raise _BadRequest(UNBOUNDED)
            raise _BadRequest("The JQL query is missing.")
        query = parse_jql(str(jql), self.tz, now=self.data.clock())
        if bounded and not query.projects and query.since is None and query.keys is None:
            raise _BadRequest(UNBOUNDED)
        if query.keys is not None and not query.projects:
            query.projects = sorted({k.rpartition("-")[0] for k in query.keys} & set(self.data.specs))
        unknown = [p for p in query.projects if p not in self.data.specs]
        if unknown:
            raise _BadRequest(*[f"The value '{p}' does not exist for the field 'project'." for p in unknown])
        known_types = {t.lower() for t in ISSUE_TYPES}
        for name in sorted((query.types_in or set()) | query.types_not_in):
            if name not in known_types:
                raise _BadRequest(f"The value '{name}' does not exist for the field 'issuetype'.")
        if not query.projects:
            query.projects = list(self.data.specs)
        return query

    def _stream(self, query: Query, after: SortKey | None = None) -> Iterator[tuple[SortKey, Hit]]:
        since_ms = int(query.since.timestamp() * 1000) if query.since else -(2**62)
        if query.since is not None and not query.since_inclusive:
            since_ms += 60_000  # "updated > 10:05" means from 10:06 at minute precision
        stream = (
            self.data.by_updated(query.projects, since_ms, after)
            if query.order == "updated"
            else self.data.by_key(query.projects, after)
        )
        for sort_key, hit in stream:
            if not _type_ok(query, hit.type) or (query.since is not None and hit.updated_ms < since_ms):
                continue
            if query.until is not None:
                until_ms = int(query.until.timestamp() * 1000)
                if hit.updated_ms > until_ms or (hit.updated_ms == until_ms and not query.until_inclusive):
                    continue
            if query.versions is not None and not self._in_versions(query, hit.state):
                continue
            if query.keys is not None and hit.key not in query.keys:
                continue
            yield sort_key, hit

    def _page_size(self, params: MultiDict[str, Any], fields: list[str], default: int, cap: int) -> int:
        wanted = select_fields(fields)
        if self.flavor.cloud and wanted is not None and not (wanted - ID_ONLY_FIELDS):
            cap = 5000
        size = _int(params, "maxResults", default)
        return max(0, min(size, cap))

    def do_search_jql(self, request: Request, account: Account | None, v: str) -> Response:
        if not self.flavor.cloud:
            return _json(error_body(["null for uri: " + request.url]), 404)
        try:
            params = self._search_params(request)
            query = self._query(params, bounded=True)
            fields = [str(f) for f in params.getlist("fields")] or ["id"]
            size = self._page_size(params, fields, 50, 100)
            token = params.get("nextPageToken")
            after = _decode_token(str(token), str(params.get("jql"))) if token else None
        except (JqlError, _BadRequest) as exc:
            return _json(error_body(exc.args), 400)
        broken = self._broken(str(params.get("jql")), 0, size, query)
        if broken is not None:
            return broken
        items = list(islice(self._stream(query, after), size + 1))
        page, more = items[:size], len(items) > size
        expand = set(str(params.get("expand") or "").split(","))
        body: dict[str, Any] = {
            "issues": [self._issue(s, fields, expand) for _, s in page],
            "isLast": not more,
        }
        if more and page:
            body["nextPageToken"] = _encode_token(page[-1][0], str(params.get("jql")))
        self._after_page()
        return _json(body)

    def do_search(self, request: Request, account: Account | None, v: str) -> Response:
        if self.flavor.cloud:
            return _json(
                error_body(
                    ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]
                ),
                410,
            )
        try:
            params = self._search_params(request)
            query = self._query(params, bounded=False)
            fields = [str(f) for f in params.getlist("fields")] or ["*navigable"]
            size = self._page_size(params, fields, 50, 1000)
            start = max(0, _int(params, "startAt", 0))
        except (JqlError, _BadRequest) as exc:
            return _json(error_body(exc.args), 400)
        jql = str(params.get("jql"))
        broken = self._broken(jql, start, size, query)
        if broken is not None:
            return broken
        page = self._offset_page(query, jql, start, size)
        total = self._count(query)
        expand = set(str(params.get("expand") or "").split(","))
        self._after_page()
        return _json(
            {
                "expand": "schema,names", "startAt": start, "maxResults": size, "total": total,
                "issues": [self._issue(s, fields, expand) for _, s in page],
            }
        )  # fmt: skip

    def _broken(self, jql: str, start: int, size: int, query: Query) -> Response | None:
        for rule in self.hooks.broken_pages:
            if rule.take(jql):
                total = 0 if self.flavor.cloud else self._count(query)
                return _json(rule.body(self.flavor.cloud, start, size, total))
        return None

    def _offset_page(self, query: Query, jql: str, start: int, size: int) -> list[tuple[SortKey, Hit]]:
        """Items ``start .. start+size`` of the live result — an offset, as Data Center pages.

        Continuing where the previous page of the same query ended is the common case; rather than
        re-scan from the top, the app remembers where that page ended and counts how many issues
        before that point moved away since (updated to the end, or deleted): that many issues are
        skipped, exactly as a real offset into a changed result skips them.
        """
        with self._lock:
            remembered = self._offsets.get((jql, start))
        if remembered is not None and start > 0:
            last, seq = remembered
            shifted = sum(
                1
                for m in self.data.mutations[seq:]
                if m.project in query.projects and _type_ok(query, m.type) and _position(query, m.old) <= last
                and (query.order != "key" or m.deleted)
            )  # fmt: skip
            page = list(islice(self._stream(query, last), shifted, shifted + size))
        else:
            page = list(islice(self._stream(query), start, start + size))
        if page:
            with self._lock:
                self._offsets[(jql, start + len(page))] = (page[-1][0], len(self.data.mutations))
                while len(self._offsets) > 256:
                    self._offsets.popitem(last=False)
        return page

    def _in_versions(self, query: Query, state: IssueState) -> bool:
        version = self.renderer.fix_version(state)
        return version is not None and bool(
            {version["id"], version["name"].lower()} & (query.versions or set())
        )

    def _count(self, query: Query) -> int:
        if (
            query.versions is not None or query.until is not None or query.keys is not None
        ):  # count what the filters let through
            return sum(1 for _ in self._stream(query))
        since_ms = int(query.since.timestamp() * 1000) if query.since else -(2**62)
        total = 0
        for project in query.projects:
            spec = self.data.specs[project]
            first = self.data.first_base_number(spec, since_ms) if query.since else 1
            total += _count_types(first, spec.size, query)
        for (project, n), state in self.data.overrides.items():
            if project not in query.projects:
                continue
            spec = self.data.specs[project]
            in_range = query.since is None or self.data.base_updated(spec, n) >= since_ms
            if n <= spec.size and in_range and _type_ok(query, self.data.generate(spec, n).type):
                total -= 1  # the base issue is replaced by its override
            if state.alive and state.updated_ms >= since_ms and _type_ok(query, state.type):
                total += 1
        return total

    def _issue(
        self, state: Hit | IssueState, fields: list[str], expand: set[str], **kw: Any
    ) -> dict[str, Any]:
        issue = self.renderer.issue(state, fields, expand, **kw)
        overrides = self.hooks.field_overrides.get(str(issue.get("key")))
        if overrides and isinstance(issue.get("fields"), dict):
            for name, value in overrides.items():
                if value is MISSING:
                    issue["fields"].pop(name, None)
                else:
                    issue["fields"][name] = value
        return issue

    def _after_page(self) -> None:
        self.hooks.pages_served += 1
        for hook in list(self.hooks.after_page):
            hook(self.hooks.pages_served)


class _BadRequest(Exception):
    pass


def _request_body(request: Request) -> Any:
    """The JSON body of a POST (an empty body reads as ``{}``), or Jira's 400 for one that is not JSON."""
    try:
        return json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise _BadRequest("Unexpected character in the request body: not valid JSON.") from None


def _type_ok(query: Query, kind: str) -> bool:
    name = kind.lower()
    if query.types_in is not None and name not in query.types_in:
        return False
    return name not in query.types_not_in


def _position(query: Query, old: SortKey) -> SortKey:
    return old if query.order == "updated" else (0, old[1], old[2])


def _count_types(first: int, last: int, query: Query) -> int:
    """How many issue numbers in ``first..last`` have a type the query accepts (types repeat every 80)."""
    if last < first:
        return 0
    from pmsync.sandbox.jira.data import issue_type_of

    if query.types_in is None and not query.types_not_in:
        return last - first + 1
    period = 80
    accepted = [_type_ok(query, issue_type_of(n)) for n in range(1, period + 1)]
    per_period = sum(accepted)

    def upto(n: int) -> int:  # accepted numbers in 1..n
        full, rest = divmod(n, period)
        return full * per_period + sum(accepted[:rest])

    return upto(last) - upto(first - 1)


def _int(params: MultiDict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _BadRequest(f"The '{name}' parameter must be a number.") from None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _encode_token(after: SortKey, jql: str) -> str:
    raw = json.dumps([list(after), abs(hash(jql)) % 10**9]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, jql: str) -> SortKey:
    try:
        after, digest = json.loads(base64.urlsafe_b64decode(token.encode()))
        if digest != abs(hash(jql)) % 10**9:
            raise ValueError
        return (int(after[0]), str(after[1]), int(after[2]))
    except (ValueError, TypeError, IndexError, binascii.Error):
        raise _BadRequest("The provided next page token is invalid or expired.") from None


DEFAULT_USER = USERS[0]
