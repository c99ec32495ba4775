"""The sandbox Jira speaks Jira's wire protocol: shapes, errors, auth, paging, time zones, scale."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from jira import JIRA

from pmsync.sandbox.jira import JiraSandbox, jira_sandbox

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def session(sandbox: JiraSandbox) -> requests.Session:
    s = requests.Session()
    if sandbox.flavor.cloud:
        s.auth = (sandbox.email, sandbox.api_token)
    else:
        s.headers["Authorization"] = f"Bearer {sandbox.pat}"
    return s


def search(sandbox: JiraSandbox, jql: str, **body: Any) -> requests.Response:
    path = "/rest/api/3/search/jql" if sandbox.flavor.cloud else "/rest/api/2/search"
    return session(sandbox).post(sandbox.url + path, json={"jql": jql, **body})


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (
            "project = ERP AND assignee = currentUser()",
            "supports only project, updated, issuetype and fixVersion",
        ),
        ("project = ERP OR project = PORTAL", "does not evaluate OR"),
        ('project = ERP AND updated >= "last tuesday"', "Date value 'last tuesday' for field 'updated'"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("project = ERP AND issuetype = Saga", "The value 'saga' does not exist for the field 'issuetype'"),
        ("project = ERP ORDER BY updated DESC", "ascending only"),
        ("project = ERP AND summary ~ 'a%'", "'summary' is valid JQL"),
        ("order by key", "Unbounded JQL queries are not allowed here"),
        ("project = ERP &", "reserved JQL character"),
    ],
)
def test_jql_outside_the_subset_gets_jiras_400_body(jira_cloud: JiraSandbox, jql: str, message: str) -> None:
    response = search(jira_cloud, jql)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errorMessages", "errors"} and body["errors"] == {}
    assert any(message in m for m in body["errorMessages"]), body


def test_cloud_auth_failures_look_like_cloud(jira_cloud: JiraSandbox) -> None:
    bad = requests.get(jira_cloud.url + "/rest/api/3/myself", auth=(jira_cloud.email, "wrong"))
    assert bad.status_code == 401 and bad.text == "Client must be authenticated to access this resource."
    assert bad.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    anonymous = requests.get(jira_cloud.url + "/rest/api/3/myself")
    assert anonymous.status_code == 401 and "errorMessages" in anonymous.json()
    assert requests.get(jira_cloud.url + "/rest/api/3/serverInfo").json()["deploymentType"] == "Cloud"
    pat = requests.get(jira_cloud.url + "/rest/api/3/myself", headers={"Authorization": "Bearer x"})
    assert pat.status_code == 401  # Cloud has no personal access tokens
    removed = session(jira_cloud).post(jira_cloud.url + "/rest/api/2/search", json={"jql": "project = ERP"})
    assert removed.status_code == 410 and "search/jql" in removed.json()["errorMessages"][0]


def test_data_center_speaks_pat_and_offsets(jira_dc: JiraSandbox) -> None:
    me = session(jira_dc).get(jira_dc.url + "/rest/api/2/myself").json()
    assert me["name"] == "agrant" and me["timeZone"] == "Australia/Sydney"
    first = search(jira_dc, "project = ERP ORDER BY key", maxResults=10, fields=["id"]).json()
    assert first["total"] == 120 and first["startAt"] == 0 and len(first["issues"]) == 10
    jira_dc.delete(2, ["ERP-50", "ERP-51"])
    jira_dc.touch(1, ["ERP-60"])
    risks = search(jira_dc, "project = ERP AND issuetype in (Risk)", maxResults=1).json()
    assert risks["total"] == 6
    since = search(jira_dc, "project in (ERP) ORDER BY updated", maxResults=1000, fields=["id"]).json()
    assert since["total"] == len(since["issues"]) == 118
    assert since["issues"][-1]["key"] == "ERP-60"  # updated last


def test_cloud_tokens_continue_after_the_last_issue_and_are_checked(jira_cloud: JiraSandbox) -> None:
    jql = "project in (ERP, PORTAL) ORDER BY updated, key"
    page = search(jira_cloud, jql, maxResults=30, fields=["updated"]).json()
    assert page["isLast"] is False and len(page["issues"]) == 30
    stolen = search(jira_cloud, "project = ERP ORDER BY key", nextPageToken=page["nextPageToken"])
    assert stolen.status_code == 400 and "token" in stolen.json()["errorMessages"][0]
    capped = search(jira_cloud, jql, maxResults=1000, fields=["*all"]).json()
    assert len(capped["issues"]) == 100  # Cloud caps full pages at 100
    ids = search(jira_cloud, jql, maxResults=1000, fields=["id"]).json()
    # `fields=id` (Cloud's default) lists ids and nothing else; `key` adds the key
    assert len(ids["issues"]) == 240 and set(ids["issues"][0]) == {"id"}
    keyed = search(jira_cloud, jql, maxResults=1000, fields=["key"]).json()
    assert len(keyed["issues"]) == 240 and keyed["issues"][0]["key"].startswith(("ERP-", "PORTAL-"))


def test_jql_dates_are_in_the_users_time_zone(jira_cloud: JiraSandbox) -> None:
    newest = search(jira_cloud, "project = ERP ORDER BY updated", maxResults=100, fields=["updated"]).json()
    last = newest["issues"][-1]
    updated = datetime.strptime(last["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert updated.utcoffset() in (timedelta(hours=10), timedelta(hours=11))  # Sydney, as Jira renders it
    local = updated.astimezone(ZoneInfo("Australia/Sydney"))
    at = local.strftime('"%Y/%m/%d %H:%M"')
    after = (local + timedelta(minutes=1)).strftime('"%Y/%m/%d %H:%M"')

    def keys_since(moment: str) -> set[str]:
        page = search(jira_cloud, f"project = ERP AND updated >= {moment}", fields=["key"]).json()
        return {i["key"] for i in page["issues"]}

    assert last["key"] in keys_since(at)
    assert last["key"] not in keys_since(after)
    # The same instant written in UTC is read as Sydney time: 10-11 hours earlier, many more issues.
    utc_text = updated.astimezone(UTC).strftime('"%Y/%m/%d %H:%M"')
    as_utc = search(jira_cloud, f"project = ERP AND updated >= {utc_text}", maxResults=100).json()
    assert len(as_utc["issues"]) > 1


def test_the_real_jira_client_reads_issues_changelogs_and_worklogs(jira_dc: JiraSandbox) -> None:
    client = JIRA(jira_dc.url, token_auth=jira_dc.pat, max_retries=0)
    assert client.server_info()["deploymentType"] == "Server"
    issue = client.issue("ERP-2", expand="changelog")
    assert issue.fields.summary and issue.key == "ERP-2"
    assert all(h.items[0].field == "status" for h in issue.changelog.histories)
    worked = next(k for k in jira_dc.live_keys() if jira_dc.data.find(k) and jira_dc.data.find(k).worklogs)  # type: ignore[union-attr]
    logs = client.worklogs(worked)
    assert logs and all(w.timeSpentSeconds > 0 for w in logs)
    ids = {f["id"] for f in client.fields()}
    assert ids >= {jira_dc.field_id("story_points"), jira_dc.field_id("epic_link")}
    assert not ids & {"customfield_10106", "customfield_10100", "customfield_10016"}  # per-site ids
    client.close()


def test_generation_is_deterministic_and_lazy_at_a_million_issues() -> None:
    with (
        jira_sandbox(["BIG"], 1_000_000, seed=9, anchor=ANCHOR, flavor="datacenter") as one,
        jira_sandbox(["BIG"], 1_000_000, seed=9, anchor=ANCHOR, flavor="datacenter") as two,
    ):
        recent = (ANCHOR.astimezone(ZoneInfo("Australia/Sydney")) - timedelta(hours=2)).strftime(
            "%Y/%m/%d %H:%M"
        )
        jql = f'project = BIG AND updated >= "{recent}" ORDER BY updated'
        a = search(one, jql, maxResults=50, fields=["*all"], expand=["changelog"]).json()
        b = search(two, jql, maxResults=50, fields=["*all"], expand=["changelog"]).json()
        assert json.dumps(a).replace(one.url, "URL") == json.dumps(b).replace(two.url, "URL")
        assert 0 < a["total"] < 1000
        everything = search(one, "project = BIG", maxResults=1, fields=["id"]).json()
        assert everything["total"] == 1_000_000
        assert one.data.overrides == {}
    with jira_sandbox(["BIG"], 100, seed=10, anchor=ANCHOR) as other:
        c = search(other, "project = BIG ORDER BY key", maxResults=5, fields=["summary"]).json()
    with jira_sandbox(["BIG"], 100, seed=9, anchor=ANCHOR) as same:
        d = search(same, "project = BIG ORDER BY key", maxResults=5, fields=["summary"]).json()
    assert [i["fields"] for i in c["issues"]] != [i["fields"] for i in d["issues"]]


def test_cloud_search_also_answers_get_with_comma_separated_fields(jira_cloud: JiraSandbox) -> None:
    response = session(jira_cloud).get(
        jira_cloud.url + "/rest/api/3/search/jql",
        params={"jql": "project = ERP ORDER BY key", "fields": "summary,status", "maxResults": 3},
    )
    issues = response.json()["issues"]
    assert [i["key"] for i in issues] == ["ERP-1", "ERP-2", "ERP-3"]
    assert set(issues[0]["fields"]) == {"summary", "status"}
    assert issues[0]["fields"]["status"]["statusCategory"]["key"] in ("new", "indeterminate", "done")


def test_sandbox_in_its_own_process_changes_data_on_request() -> None:
    from pmsync.sandbox.jira.process import JiraSandboxProcess

    with JiraSandboxProcess(projects=["ERP"], issues_per_project=30, seed=2, anchor=ANCHOR) as jira:
        url = jira.settings["url"]
        auth = (jira.settings["email"], jira.settings["api_token"])
        touched = jira.touch(3)
        body = {"jql": "project = ERP ORDER BY updated", "maxResults": 100, "fields": ["key"]}
        result = requests.post(f"{url}/rest/api/3/search/jql", json=body, auth=auth).json()
        assert {i["key"] for i in result["issues"][-3:]} == set(touched)  # updated last
        assert jira.requests() == (1, 1)
        for key in ("ERP-1", "ERP-2"):
            requests.get(f"{url}/rest/api/3/issue/{key}/changelog", auth=auth)
        # what a client spends its requests on, however many issues it asked about
        assert jira.requests_by_endpoint() == {
            "POST /rest/api/3/search/jql": 1,
            "GET /rest/api/3/issue/KEY/changelog": 2,
        }


def test_data_center_refuses_a_string_expand_as_jackson_does(jira_dc: JiraSandbox) -> None:
    """SearchRequestBean.expand is a List<String>: the string pmsync once sent stopped every DC sync."""
    refused = search(jira_dc, "project = ERP ORDER BY key", expand="changelog", maxResults=1)
    assert refused.status_code == 400
    assert (
        "Can not deserialize instance of java.util.ArrayList out of VALUE_STRING token"
        in (refused.json()["errorMessages"][0])
    )
    assert search(jira_dc, "project = ERP", fields="summary").status_code == 400
    listed = search(jira_dc, "project = ERP ORDER BY key", expand=["changelog"], maxResults=1).json()
    assert "changelog" in listed["issues"][0]


def test_cloud_takes_expand_as_one_string_and_lists_ids_only_by_default(jira_cloud: JiraSandbox) -> None:
    assert search(jira_cloud, "project = ERP", expand=["changelog"]).status_code == 400
    page = search(jira_cloud, "project = ERP ORDER BY key", maxResults=2).json()
    assert [set(issue) for issue in page["issues"]] == [{"id"}, {"id"}]


def test_other_clients_requests_are_served_comment_transitions_and_period_dates(
    jira_cloud: JiraSandbox,
) -> None:
    """What singer-io tap-jira asks: GET /rest/api/2/search/jql, fields=*all (which includes
    `comment`), expand=changelog,transitions, JQL with a quoted date and no project."""
    params = {
        "jql": "updated >= '2026-01-01 00:00' order by updated asc", "fields": "*all",
        "expand": "changelog,transitions", "validateQuery": "strict", "maxResults": 5,
    }  # fmt: skip
    page = session(jira_cloud).get(jira_cloud.url + "/rest/api/2/search/jql", params=params).json()
    issue = page["issues"][-1]
    assert set(issue["fields"]["comment"]) >= {"comments", "total", "startAt", "maxResults"}
    assert issue["transitions"] and all(t["to"]["name"] for t in issue["transitions"])
    # epoch milliseconds and periods counted back from now are JQL dates too
    newest = search(jira_cloud, "project = ERP ORDER BY updated", maxResults=100, fields=["updated"]).json()
    last = datetime.strptime(newest["issues"][-1]["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")
    epoch = int(last.timestamp() * 1000)
    at = search(jira_cloud, f"project = ERP AND updated >= {epoch}", fields=["key"]).json()["issues"]
    assert at[0]["key"] == newest["issues"][-1]["key"]
    assert newest["issues"][-2]["key"] not in {i["key"] for i in at}
    jira_cloud.data.clock = lambda: last + timedelta(hours=1)
    recent = search(jira_cloud, "project = ERP AND updated >= -2h", fields=["key"]).json()["issues"]
    week = search(jira_cloud, 'project = ERP AND updated >= "-1w 2d"', fields=["key"]).json()["issues"]
    assert 1 <= len(recent) < len(week)


def test_cloud_answers_carry_rate_limit_headers_and_a_429_when_the_budget_is_spent(
    jira_cloud: JiraSandbox, jira_dc: JiraSandbox
) -> None:
    answer = session(jira_cloud).get(jira_cloud.url + "/rest/api/3/myself")
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(answer.headers)
    jira_cloud.app.rate_limit = int(answer.headers["X-RateLimit-Limit"]) - int(
        answer.headers["X-RateLimit-Remaining"]
    )  # the budget is now spent
    refused = session(jira_cloud).get(jira_cloud.url + "/rest/api/3/myself")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "0" and refused.headers["X-RateLimit-NearLimit"]
    assert "X-RateLimit-Limit" not in session(jira_dc).get(jira_dc.url + "/rest/api/2/myself").headers
