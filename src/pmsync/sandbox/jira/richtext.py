"""A risk register entry as Jira Cloud stores it: an Atlassian Document Format description that
uses every inline and block node a Jira editor produces (ADF structure reference,
developer.atlassian.com/cloud/jira/platform/apis/document/structure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pmsync.sandbox.jira.data import IssueState


def rich_description(
    text: str, state: IssueState, *, owner: tuple[str, str, str], due: str, link: str
) -> Any:
    """A mention, a date, a status lozenge, an inline card, an emoji, a hard break, a link, nested
    bullet and numbered lists, a task list, a table, a panel, a heading, a code block, a quote, a
    rule and an expand."""
    due_ms = int(datetime.fromisoformat(due).replace(tzinfo=UTC).timestamp() * 1000)
    account, name = owner[0], owner[1]

    def para(*nodes: dict[str, Any]) -> dict[str, Any]:
        return {"type": "paragraph", "content": list(nodes)}

    def words(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "text", "text": value}
        if marks:
            node["marks"] = list(marks)
        return node

    def item(*blocks: dict[str, Any]) -> dict[str, Any]:
        return {"type": "listItem", "content": list(blocks)}

    return {
        "type": "doc", "version": 1,
        "content": [
            para({"type": "text", "text": text}),
            para(
                words("Owner: "),
                {"type": "mention", "attrs": {"id": account, "text": f"@{name}", "accessLevel": ""}},
                words(" due "), {"type": "date", "attrs": {"timestamp": str(due_ms)}},
                words(". See "), {"type": "inlineCard", "attrs": {"url": link}},
                words(" status "),
                {"type": "status", "attrs": {"text": "At risk", "color": "red", "localId": "s1"}},
                words(" "), {"type": "emoji", "attrs": {"shortName": ":warning:", "text": "⚠️"}},
                {"type": "hardBreak"},
                words("Raised in the "), words("steering committee", {"type": "strong"}),
                words(" ("), words("minutes", {"type": "link", "attrs": {"href": f"{link}#minutes"}}),
                words(")."),
            ),
            {"type": "heading", "attrs": {"level": 2}, "content": [words("Mitigation")]},
            {"type": "bulletList", "content": [
                item(para(words("item one")), {"type": "orderedList", "attrs": {"order": 1}, "content": [
                    item(para(words("first step"))), item(para(words("second step"))),
                ]}),
                item(para(words("item two"))),
            ]},
            {"type": "taskList", "attrs": {"localId": "t"}, "content": [
                {"type": "taskItem", "attrs": {"localId": "t1", "state": "DONE"},
                 "content": [words("Notify sponsor")]},
                {"type": "taskItem", "attrs": {"localId": "t2", "state": "TODO"},
                 "content": [words("Update plan")]},
            ]},
            {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": [
                {"type": "tableRow", "content": [
                    {"type": "tableHeader", "content": [para(words("Impact"))]},
                    {"type": "tableHeader", "content": [para(words("Likelihood"))]},
                ]},
                {"type": "tableRow", "content": [
                    {"type": "tableCell", "content": [para(words(state.impact or "High"))]},
                    {"type": "tableCell", "content": [para(words(state.probability or "Medium"))]},
                ]},
            ]},
            {"type": "panel", "attrs": {"panelType": "warning"},
             "content": [para(words("Escalate if not mitigated by sprint end."))]},
            {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [words("SELECT 1;")]},
            {"type": "blockquote", "content": [para(words("We accept this risk until go-live."))]},
            {"type": "rule"},
            {"type": "expand", "attrs": {"title": "History"}, "content": [para(words("Raised twice."))]},
        ],
    }  # fmt: skip
