"""Checks on the envelope of Jira's search answers, before anything in them is believed.

A 200 is not proof of an answer: proxies, gateways and Jira itself under load have been seen to send
``{}``, an ``issues`` that is missing or not a list, or an empty page where the previous one promised
more. Read as success, such a page ends a search early and a deletion scan would then mark every
issue it did not list as deleted. So each page is checked here, and anything that does not fit the
shape Atlassian documents (``SearchAndReconcileResults`` for Cloud's ``/search/jql``,
``SearchResults`` for Data Center's ``/search``) is an error the caller can act on:

- :class:`~pmsync.errors.SourceDataError` when the body is not a search result at all
  (``{}``, ``issues`` missing or not a list, an issue without its id or key);
- :class:`~pmsync.errors.RetriableSourceError` when it is a search result that contradicts itself or
  the previous page (empty although more was promised, a ``total`` beyond what was served): asking
  again usually gives the real page, and if it does not the run stops before its cursor moves.
"""

from __future__ import annotations

from typing import Any

from pmsync.errors import RetriableSourceError, SourceDataError


def issues_of(body: Any, *, source: str, what: str) -> list[dict[str, Any]]:
    """The ``issues`` list of a search page, or :class:`SourceDataError` if there is none."""
    if not isinstance(body, dict):
        raise SourceDataError(
            f"{what}: Jira answered with {type(body).__name__}, not a search result",
            source=source,
        )
    if "issues" not in body:
        shown = ", ".join(sorted(body)) or "nothing"
        raise SourceDataError(
            f"{what}: Jira's answer has no `issues` list (it holds {shown}); "
            "an answer without issues is not read as 'no issues'",
            source=source,
            hint="a proxy or gateway in front of Jira may be rewriting answers",
        )
    issues = body["issues"]
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise SourceDataError(
            f"{what}: Jira's `issues` is {type(issues).__name__}, not a list of issues",
            source=source,
        )
    return issues


def check_cloud_page(body: Any, *, continuing: bool, source: str, what: str) -> list[dict[str, Any]]:
    """Issues of one ``/search/jql`` page; ``continuing`` when it was asked for by a page token."""
    issues = issues_of(body, source=source, what=what)
    token = body.get("nextPageToken")
    is_last = body.get("isLast")
    if not isinstance(is_last, bool) and not token:
        raise SourceDataError(
            f"{what}: Jira's page says neither `isLast` nor `nextPageToken`; "
            "pmsync cannot tell whether the result is complete",
            source=source,
        )
    if not issues and (continuing or token or is_last is False):
        raise RetriableSourceError(
            f"{what}: Jira sent an empty page where more issues were promised",
            source=source,
            hint="asked again; if it persists the next sync resumes from the last checkpoint",
        )
    return issues


def check_offset_page(body: Any, *, start: int, source: str, what: str) -> tuple[list[dict[str, Any]], int]:
    """Issues and ``total`` of one Data Center ``/search`` page asked for at ``start``."""
    issues = issues_of(body, source=source, what=what)
    total = body.get("total")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise SourceDataError(
            f"{what}: Jira's page has no usable `total` ({total!r}); offset paging needs it",
            source=source,
        )
    if not issues and start < total:
        raise RetriableSourceError(
            f"{what}: Jira sent an empty page at {start} of {total} issues",
            source=source,
            hint="asked again; if it persists the next sync resumes from the last checkpoint",
        )
    return issues, total


def require_keys(issues: list[dict[str, Any]], *, source: str, what: str) -> None:
    """Every issue of a page carries its ``id`` and ``key`` (asked for with ``fields=key``)."""
    for issue in issues:
        if not isinstance(issue.get("key"), str) or not issue.get("key") or not issue.get("id"):
            raise SourceDataError(
                f"{what}: Jira listed an issue without its key ({sorted(issue)!r})",
                source=source,
                record=str(issue.get("id") or "") or None,
                hint="the deletion scan asks for `fields=key`; a page of ids only proves nothing",
            )
