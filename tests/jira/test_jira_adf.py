"""Jira Cloud's rich text (ADF) is read without loss: everything a reader sees in Jira is in the text."""

from __future__ import annotations

from typing import Any

from pmsync.connectors.jira.adf import adf_to_text

from pmsync.model import Risk
from pmsync.sandbox.jira import JiraSandbox
from pmsync.sandbox.jira.data import USERS


def test_a_risk_description_keeps_every_node_jira_renders(jira_cloud: JiraSandbox, connect: Any) -> None:
    risks = [r for r in connect(jira_cloud, projects=["ERP"]).extract({}) if isinstance(r, Risk)]
    assert risks
    risk = risks[0]
    state = jira_cloud.data.find(risk.source.external_id)
    assert state is not None and risk.description is not None
    due = state.due_date
    link = f"{jira_cloud.url}/browse/{state.key}"
    expected_first = (
        f"Owner: @{USERS[state.reporter][1]} due {due}. See {link} status [AT RISK] ⚠️\n"
        f"Raised in the steering committee (minutes ({link}#minutes))."
    )
    text = risk.description
    assert expected_first in text
    for fragment in (
        "## Mitigation",
        "- item one\n  1. first step\n  2. second step\n- item two",
        "- [x] Notify sponsor\n- [ ] Update plan",
        f"| Impact | Likelihood |\n|---|---|\n| {state.impact} | {state.probability} |",
        "Warning: Escalate if not mitigated by sprint end.",
        "```sql\nSELECT 1;\n```",
        "> We accept this risk until go-live.",
        "---",
        "History\nRaised twice.",
    ):
        assert fragment in text, fragment


def test_unknown_and_odd_nodes_keep_their_text() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "a"},
                {"type": "futureInlineThing", "attrs": {"text": "kept"}},
                {"type": "mention", "attrs": {"id": "5b10"}},
                {"type": "date", "attrs": {"timestamp": "not a number"}},
                {"type": "mediaInline", "attrs": {"filename": "plan.pdf"}},
            ]},
            {"type": "futureBlock", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "inside"}
            ]}]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"alt": "diagram.png"}}]},
        ],
    }  # fmt: skip
    assert adf_to_text(doc) == (
        "akept@5b10not a number[attachment: plan.pdf]\n\ninside\n\n[attachment: diagram.png]"
    )
    assert adf_to_text({"type": "doc", "content": []}) is None
    assert adf_to_text("wiki *markup*") == "wiki *markup*"
