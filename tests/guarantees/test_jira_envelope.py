"""A 200 from Jira that is not a real search page never reads as success (issue 21, Jira's part).

Through the real ``jira`` client, the connector and the sync engine, against the sandbox's
:class:`~pmsync.sandbox.jira.BrokenPage` switches: ``{}``, a page without ``issues`` or with
``issues`` as a string, an empty page with no ``isLast``, "no issues, last page" for a project that
has issues, an empty page where more was promised. Each stops the run with pmsync's error; nothing
is deleted and the cursor stays where the last good page left it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.jira import BROKEN_ANSWERS, JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import clean_dump, dump, jira_source, load, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
#: what the failed run's error says, per broken answer
WORDS = {
    "empty-object": "no `issues` list",
    "issues-missing": "no `issues` list",
    "issues-string": "not a list of issues",
    "issues-empty": "neither `isLast` nor `nextPageToken`",
    "issues-empty-last": "found no issues in project",
    "issues-empty-more": "empty page",
}
DC_WORDS = {**WORDS, "issues-empty": "no usable `total`"}


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP", "PORTAL"], 30, seed=6, anchor=ANCHOR, flavor=request.param) as sandbox:
        yield sandbox


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}")
    try:
        yield opened
    finally:
        opened.close()


def source(jira: JiraSandbox) -> dict[str, object]:
    # scan for deletions on every incremental run; two attempts per request keep failures quick
    return jira_source(jira, deletion_scan_hours=0, retry_attempts=2)


def words(jira: JiraSandbox, answer: str) -> str:
    return (WORDS if jira.flavor.cloud else DC_WORDS)[answer]


@pytest.mark.parametrize("answer", BROKEN_ANSWERS)
def test_a_broken_deletion_scan_deletes_nothing_and_keeps_the_cursor(
    answer: str, jira: JiraSandbox, store: Store, tmp_path: Path
) -> None:
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    [first] = sync_sources(config, store)
    assert first.status == "ok", first.error
    before, cursor = dump(store), store.cursor("jira")

    rule = jira.break_search(answer, jql_contains="ORDER BY key", times=-1)
    [broken] = sync_sources(config, store)
    assert rule.served >= 1  # the scan really met the broken answer
    assert broken.status == "failed"
    assert broken.error and words(jira, answer) in broken.error
    assert broken.counts.deleted == 0
    assert dump(store)["records"] == before["records"]
    assert store.cursor("jira") == cursor

    jira.app.hooks.broken_pages.clear()
    [healed] = sync_sources(config, store)
    assert healed.status == "ok", healed.error
    assert healed.counts.deleted == 0 and dump(store)["records"] == before["records"]


@pytest.mark.parametrize("answer", [a for a in BROKEN_ANSWERS if a != "issues-empty-last"])
def test_a_broken_page_partway_through_a_search_stops_after_the_last_good_page(
    answer: str, jira: JiraSandbox, store: Store, tmp_path: Path
) -> None:
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    jira.break_search(answer, jql_contains="ORDER BY updated", after=2, times=-1)  # the third page
    [broken] = sync_sources(config, store)
    assert broken.status == "failed"
    assert broken.error and words(jira, answer) in broken.error
    # two pages of ten were committed with their cursor; nothing after them was believed (Data
    # Center's second page starts with the first page's last issue, re-read as a paging guard)
    good = 20 if jira.flavor.cloud else 19
    assert broken.counts.inserted == good and len(dump(store)["records"]) == good
    assert store.cursor("jira") == broken.cursor_after

    jira.app.hooks.broken_pages.clear()
    [rerun] = sync_sources(config, store)
    assert rerun.status == "ok", rerun.error
    assert dump(store)["records"] == clean_dump(tmp_path / "clean", jira, source(jira))["records"]


def test_a_scan_that_loses_only_the_risk_log_deletes_no_risk(
    jira: JiraSandbox, store: Store, tmp_path: Path
) -> None:
    """ "No issues" for the risks alone (a permission scheme hiding one issue type, say) is as
    suspicious as for the whole project: the risk records are kept."""
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    [first] = sync_sources(config, store)
    assert first.status == "ok", first.error
    before = dump(store)
    rule = jira.break_search("issues-empty-last", jql_contains='issuetype in ("Risk")', times=-1)
    [broken] = sync_sources(config, store)
    assert rule.served >= 1 and broken.status == "failed"
    assert broken.error and "(risk records)" in broken.error
    assert broken.counts.deleted == 0 and dump(store)["records"] == before["records"]


def test_an_empty_last_page_after_a_token_is_asked_for_again_not_believed(
    store: Store, tmp_path: Path
) -> None:
    """Cloud: "no more issues" on a page reached by a token, where the previous page promised more,
    is retried; a transient one costs one more request and loses nothing."""
    with jira_sandbox(["ERP"], 30, seed=6, anchor=ANCHOR) as jira:
        config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
        rule = jira.break_search("issues-empty-last", jql_contains="ORDER BY updated", after=1, times=1)
        [run] = sync_sources(config, store)
        assert rule.served == 1
        assert run.status == "ok", run.error
        assert run.counts.inserted == 30
