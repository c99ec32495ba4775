"""Atlassian Document Format (Jira Cloud's rich text) as plain Markdown-like text, losing nothing a
reader sees in Jira.

Every node type of the ADF schema (https://developer.atlassian.com/cloud/jira/platform/apis/document/
structure/) has a rendering: mentions as ``@Name``, dates as ``YYYY-MM-DD``, status lozenges as
``[TEXT]``, inline/block cards as their URL, emoji as the character (or ``:shortname:``), hard breaks
as line breaks, lists with ``-`` / ``1.`` / ``[ ]``, tables as ``| a | b |`` rows, panels as
``Note: ...``, code blocks fenced, links as ``text (url)``, media by name. A node type this module
does not know is not dropped: its text, its ``attrs.text`` and its children are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["adf_to_text"]

_PANEL = {"info": "Info", "note": "Note", "warning": "Warning", "error": "Error", "success": "Success"}


def adf_to_text(document: Any) -> str | None:
    """The text of an ADF document (or of a plain string, returned as is); ``None`` if empty."""
    if document is None:
        return None
    if isinstance(document, str):
        return document
    text = _Renderer().block(document).strip("\n")
    return text.strip() or None


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _children(node: dict[str, Any]) -> list[Any]:
    content = node.get("content")
    return content if isinstance(content, list) else []


def _date(value: Any) -> str:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)


class _Renderer:
    def block(self, node: Any) -> str:
        """A block node as text, ending with a newline (blocks are separated by a blank line)."""
        if isinstance(node, list):
            return self.blocks(node)
        if not isinstance(node, dict):
            return str(node) if node is not None else ""
        kind = node.get("type")
        attrs = _attrs(node)
        if kind in ("doc", "layoutSection", "layoutColumn", "bodiedExtension", "listItem", "taskItem"):
            return self.blocks(_children(node))
        if kind in ("paragraph", "caption"):
            return self.inline(_children(node)) + "\n"
        if kind == "heading":
            raw_level = attrs.get("level")
            level = raw_level if isinstance(raw_level, int) else 1
            return "#" * max(1, min(6, level)) + " " + self.inline(_children(node)) + "\n"
        if kind in ("bulletList", "orderedList", "taskList", "decisionList"):
            return self.listing(node) + "\n"
        if kind == "table":
            return self.table(node)
        framed = self.framed(kind, node, attrs)
        if framed is not None:
            return framed
        # inline content at block level, or a node type added to ADF later: keep its text
        return self.inline([node]) + "\n"

    def framed(self, kind: Any, node: dict[str, Any], attrs: dict[str, Any]) -> str | None:
        """Blocks drawn around their content (code, quotes, panels, expands, media, cards), or
        ``None`` when ``kind`` is none of them."""
        if kind == "codeBlock":
            language = str(attrs.get("language") or "")
            code = "".join(str(c.get("text", "")) for c in _children(node) if isinstance(c, dict))
            return f"```{language}\n{code}\n```\n"
        if kind == "blockquote":
            inner = self.blocks(_children(node)).rstrip("\n")
            return "\n".join("> " + line if line else ">" for line in inner.split("\n")) + "\n"
        if kind == "rule":
            return "---\n"
        if kind == "panel":
            label = _PANEL.get(str(attrs.get("panelType") or ""), "Note")
            return f"{label}: " + self.blocks(_children(node)).strip("\n") + "\n"
        if kind in ("expand", "nestedExpand"):
            title = str(attrs.get("title") or "").strip()
            body = self.blocks(_children(node)).strip("\n")
            return (f"{title}\n{body}" if title else body) + "\n"
        if kind in ("mediaSingle", "mediaGroup"):
            return " ".join(self.inline([c]) for c in _children(node)) + "\n"
        if kind in ("blockCard", "embedCard"):
            return str(attrs.get("url") or self.data_url(attrs)) + "\n"
        return None

    def blocks(self, nodes: list[Any]) -> str:
        parts = [self.block(n) for n in nodes]
        return "\n".join(p for p in parts if p.strip("\n")) if parts else ""

    def listing(self, node: dict[str, Any], depth: int = 0) -> str:
        kind = node.get("type")
        start = _attrs(node).get("order")
        number = start if isinstance(start, int) else 1
        lines: list[str] = []
        for item in _children(node):
            if not isinstance(item, dict):
                continue
            if kind == "orderedList":
                marker = f"{number}."
                number += 1
            elif kind == "taskList" or item.get("type") == "taskItem":
                marker = "- [x]" if _attrs(item).get("state") == "DONE" else "- [ ]"
            elif kind == "decisionList" or item.get("type") == "decisionItem":
                marker = "- Decision:"
            else:
                marker = "-"
            nested: list[Any] = []
            if item.get("type") in ("taskItem", "decisionItem"):
                text = self.inline(_children(item))
            else:
                own = [c for c in _children(item) if not _nested(c)]
                nested = [c for c in _children(item) if _nested(c)]
                text = " ".join(self.block(c).strip("\n") for c in own).replace("\n", "\n  " + "  " * depth)
            lines.append("  " * depth + f"{marker} {text}".rstrip())
            for child in nested:
                lines.append(self.listing(child, depth + 1))
        return "\n".join(lines)

    def table(self, node: dict[str, Any]) -> str:
        rows: list[str] = []
        for index, row in enumerate(_children(node)):
            if not isinstance(row, dict):
                continue
            cells = [c for c in _children(row) if isinstance(c, dict)]
            texts = [self.blocks(_children(c)).strip("\n").replace("\n", " ") for c in cells]
            rows.append("| " + " | ".join(texts) + " |")
            if index == 0 and cells and all(c.get("type") == "tableHeader" for c in cells):
                rows.append("|" + "---|" * len(cells))
        return "\n".join(rows) + "\n"

    def inline(self, nodes: list[Any]) -> str:
        return "".join(self.one_inline(n) for n in nodes)

    def one_inline(self, node: Any) -> str:
        if not isinstance(node, dict):
            return str(node) if node is not None else ""
        kind = node.get("type")
        attrs = _attrs(node)
        if kind == "text":
            return self.marked(str(node.get("text", "")), node.get("marks"))
        if kind == "hardBreak":
            return "\n"
        if kind == "mention":
            text = str(attrs.get("text") or "")
            return text if text.startswith("@") else "@" + (text or str(attrs.get("id") or "someone"))
        if kind == "emoji":
            return str(attrs.get("text") or attrs.get("shortName") or "")
        if kind == "date":
            return _date(attrs.get("timestamp"))
        if kind == "status":
            return f"[{str(attrs.get('text') or '').upper()}]"
        if kind in ("inlineCard", "blockCard", "embedCard"):
            return str(attrs.get("url") or self.data_url(attrs))
        if kind in ("media", "mediaInline"):
            name = attrs.get("alt") or attrs.get("filename") or attrs.get("id") or "file"
            return f"[attachment: {name}]"
        if kind == "placeholder":
            return str(attrs.get("text") or "")
        if kind in ("inlineExtension", "extension"):
            return f"[{attrs.get('extensionKey') or 'extension'}]"
        # an unknown node: its own text, then its children, rather than nothing
        own = str(node.get("text") or attrs.get("text") or "")
        children = _children(node)
        return own + (self.blocks(children).strip("\n") if children else "")

    @staticmethod
    def data_url(attrs: dict[str, Any]) -> str:
        data = attrs.get("data")
        if isinstance(data, dict):
            return str(data.get("url") or data.get("name") or "")
        return ""

    @staticmethod
    def marked(text: str, marks: Any) -> str:
        if not isinstance(marks, list):
            return text
        for mark in marks:
            if not isinstance(mark, dict):
                continue
            kind = mark.get("type")
            attrs = _attrs(mark)
            if kind == "link":
                href = str(attrs.get("href") or "")
                if href and href != text:
                    text = f"{text} ({href})"
            elif kind == "code":
                text = f"`{text}`"
            elif kind == "strike":
                text = f"~~{text}~~"
        return text


def _nested(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") in (
        "bulletList", "orderedList", "taskList", "decisionList",
    )  # fmt: skip
