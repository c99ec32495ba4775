"""How figures read in human-facing outputs (HTML, PDF): one place, so every writer agrees."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "grey": "Not rated"}
TREND_WORDS = {
    "improving": "▲ Improving",
    "worsening": "▼ Worsening",
    "unchanged": "► Unchanged",
    "new": "New",
}
MILESTONE_WORDS = {
    "hit": "Hit",
    "missed": "Missed",
    "at_risk": "At risk",
    "on_track": "On track",
    "no_baseline": "No baseline",
}
DASH = "–"


def money(value: Decimal | float | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    return f"{Decimal(value):,.{digits}f}"


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return DASH
    text = f"{value:,.{digits}f}"
    return text[: -(digits + 1)] if digits and text.endswith("." + "0" * digits) else text


def signed_days(value: float | None) -> str:
    if value is None:
        return DASH
    text = f"{value:+.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text in ("+0", "-0") else text


def iso_date(value: date | None) -> str:
    return DASH if value is None else value.isoformat()


def moment(value: datetime | None) -> str:
    """A UTC moment as ``2026-11-30 23:59 UTC``."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M UTC")


def rag_word(rag: str) -> str:
    return RAG_WORDS.get(rag, rag)


def trend_word(trend: str) -> str:
    return TREND_WORDS.get(trend, trend)


def milestone_word(state: str) -> str:
    return MILESTONE_WORDS.get(state, state)
