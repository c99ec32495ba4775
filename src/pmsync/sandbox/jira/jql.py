"""The JQL subset the sandbox understands — what pmsync sends, and nothing it would have to guess.

    query   := clause (AND clause)* [ORDER BY sortkey (, sortkey)*]
    clause  := project (= | IN) values
             | (updated | created) (>= | > | <= | <) date
             | fixVersion (= | IN) values | (key | issuekey) (= | IN) values
    date    := "yyyy/MM/dd HH:mm" | "yyyy-MM-dd HH:mm" | "yyyy/MM/dd" | "yyyy-MM-dd"
             | epoch milliseconds (1700000000000) | a relative period ("-1d", "-4w 2d", "-30m")
             | issuetype (= | != | IN | NOT IN) values
    sortkey := updated [ASC] | key [ASC]

Anything else raises :class:`JqlError` with the message Jira would give, which the app returns as
Jira's 400 body ``{"errorMessages": [...], "errors": {}}``. Dates are read in the requesting user's
time zone, as Jira does; a number is milliseconds since the epoch and a period (``w d h m``) counts
back from now, as Atlassian's JQL reference ("Advanced searching - fields reference: Updated")
describes -- the forms third-party clients such as tap-jira send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pmsync import clock as pmsync_clock

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>>=|<=|!=|=|>|<|~|\(|\)|,)'
    r"|(?P<word>[A-Za-z0-9_.\-\[\]]+)|(?P<bad>\S))"
)
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([-+]?)((?:\d+[wdhm]\s*)+)$")
_UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
_KNOWN_FIELDS = {
    "project", "updated", "issuetype", "type", "key", "status", "created", "assignee", "summary",
    "text", "sprint", "labels", "resolution", "priority", "reporter", "duedate", "parent",
    "fixversion", "issuekey",
}  # fmt: skip


class JqlError(ValueError):
    """A query outside the subset, in Jira's words."""


@dataclass
class Query:
    projects: list[str] = field(default_factory=list)
    since: datetime | None = None
    since_inclusive: bool = True
    #: an upper bound on ``updated`` (``updated < x`` / ``<=``), and created bounds -- for other clients
    until: datetime | None = None
    until_inclusive: bool = False
    types_in: set[str] | None = None
    types_not_in: set[str] = field(default_factory=set)
    order: str = "key"  # "key" or "updated" (then key)
    #: fixVersion ids or names (lower case) the issues must be planned for
    versions: set[str] | None = None
    #: issue keys (upper case) the issues must have (``key in (...)``)
    keys: set[str] | None = None


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(jql: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(jql):
        match = _TOKEN.match(jql, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup or ""
        text = match.group(kind) if kind else ""
        if kind == "bad":
            raise JqlError(
                f"Error in the JQL Query: The character '{text}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(text):04x}' instead. "
                f"(line 1, character {match.start(kind) + 1})"
            )
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(_Tok(kind, text))
    return tokens


class _Parser:
    def __init__(self, jql: str, tz: ZoneInfo, now: datetime | None = None) -> None:
        self.jql = jql
        self.tz = tz
        self.now = (now or pmsync_clock.now()).astimezone(tz)
        self.toks = _tokens(jql)
        self.pos = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        index = self.pos + offset
        return self.toks[index] if index < len(self.toks) else None

    def word(self, *expected: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() in expected:
            self.pos += 1
            return True
        return False

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise JqlError(
                "Error in the JQL Query: Expecting either a value, list or function but got 'EOF'."
            )
        self.pos += 1
        return tok

    def expect_op(self, *ops: str) -> str:
        tok = self.take()
        if tok.kind == "op" and tok.text in ops:
            return tok.text
        if tok.kind == "word" and tok.text.lower() in ops:
            return tok.text.lower()
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{tok.text}'. The valid operators are "
            f"'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
        )

    def values(self) -> list[str]:
        tok = self.take()
        if tok.kind == "op" and tok.text == "(":
            out: list[str] = []
            while True:
                value = self.take()
                if value.kind not in ("word", "str"):
                    raise JqlError(f"Error in the JQL Query: Expecting a value but got '{value.text}'.")
                out.append(value.text)
                sep = self.take()
                if sep.text == ")":
                    return out
                if sep.text != ",":
                    raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{sep.text}'.")
        if tok.kind not in ("word", "str"):
            raise JqlError(f"Error in the JQL Query: Expecting a value but got '{tok.text}'.")
        return [tok.text]

    def date(self, field_name: str) -> datetime:
        tok = self.take()
        text = tok.text.strip()
        if text.isdigit() and len(text) >= 9:
            return datetime.fromtimestamp(int(text) / 1000, self.tz)
        period = _PERIOD.match(text)
        if period is not None:
            minutes = sum(
                int(amount) * _UNIT_MINUTES[unit]
                for amount, unit in re.findall(r"(\d+)([wdhm])", period.group(2))
            )
            sign = -1 if period.group(1) == "-" else 1
            return (self.now + timedelta(minutes=sign * minutes)).astimezone(self.tz)
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(tok.text, fmt).replace(tzinfo=self.tz)
            except ValueError:
                continue
        raise JqlError(
            f"Date value '{tok.text}' for field '{field_name}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
            "e.g. '-5d', '4w 2d'."
        )

    def clause(self, query: Query) -> None:
        tok = self.take()
        name = tok.text.lower()
        if tok.kind != "word":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{tok.text}'.")
        if name not in _KNOWN_FIELDS and not name.startswith("cf["):
            raise JqlError(f"Field '{tok.text}' does not exist or you do not have permission to view it.")
        if name == "project":
            self.expect_op("=", "in")
            query.projects.extend(self.values())
        elif name == "updated":
            op = self.expect_op(">=", ">", "<=", "<")
            moment = self.date(tok.text)
            if op in (">=", ">"):
                query.since = moment
                query.since_inclusive = op == ">="
            else:
                query.until = moment
                query.until_inclusive = op == "<="
        elif name in ("key", "issuekey"):
            self.expect_op("=", "in")
            keys = {v.upper() for v in self.values()}
            query.keys = keys if query.keys is None else query.keys & keys
        elif name in ("issuetype", "type"):
            if self.word("not"):
                if not self.word("in"):
                    raise JqlError("Error in the JQL Query: Expecting 'IN' after 'NOT'.")
                query.types_not_in.update(v.lower() for v in self.values())
            else:
                op = self.expect_op("=", "!=", "in")
                values = {v.lower() for v in self.values()}
                if op == "!=":
                    query.types_not_in.update(values)
                else:
                    query.types_in = values if query.types_in is None else query.types_in & values
        elif name == "fixversion":
            self.expect_op("=", "in")
            query.versions = {v.lower() for v in self.values()}
        else:
            raise JqlError(
                f"The sandbox Jira supports only project, updated, issuetype and fixVersion clauses; "
                f"'{tok.text}' is valid JQL that it does not evaluate."
            )

    def parse(self) -> Query:
        query = Query()
        first = self.peek()
        if first is not None and first.text.lower() != "order":
            self.clause(query)
            while self.word("and"):
                self.clause(query)
        if self.word("order"):
            if not self.word("by"):
                raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
            keys = []
            while True:
                tok = self.take()
                keys.append(tok.text.lower())
                if self.word("desc"):
                    raise JqlError("The sandbox Jira sorts ascending only (ORDER BY updated, key).")
                self.word("asc")
                sep = self.peek()
                if sep is None or sep.text != ",":
                    break
                self.pos += 1
            if keys in (["updated"], ["updated", "key"]):
                query.order = "updated"
            elif keys == ["key"]:
                query.order = "key"
            else:
                raise JqlError(
                    f"Error in the JQL Query: the sandbox orders by 'updated, key' or 'key', not {keys}."
                )
        rest = self.peek()
        if rest is not None:
            if rest.text.lower() == "or":
                raise JqlError("The sandbox Jira does not evaluate OR; pmsync never sends it.")
            raise JqlError(f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{rest.text}'.")
        return query


def parse_jql(jql: str, tz: ZoneInfo, now: datetime | None = None) -> Query:
    """Parse ``jql``; dates are in ``tz`` (the user's profile time zone, as in Jira), and relative
    periods count back from ``now`` (default: the sandbox's clock, pmsync's own)."""
    return _Parser(jql, tz, now).parse()
