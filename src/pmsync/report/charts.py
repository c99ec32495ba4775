"""Inline SVG charts drawn by pmsync itself, so the HTML report makes no external request.

Charts are plain SVG strings built from the report model. Every piece of text inside them goes
through :func:`markupsafe.escape`, so a hostile category name cannot break out of the SVG. Each chart
has a ``<title>`` and ``<desc>`` (screen readers) and a legend with words and line patterns, so colour
is never the only carrier of meaning. Coordinates are rounded, so the output is stable byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from pmsync.reconcile.results import CostBreakdownRow, EvmPoint

UNCATEGORISED = "(no category)"
WIDTH = 680
HEIGHT = 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 32, 20, 56

# Colour-blind-safe palette (Okabe-Ito), plus distinct dash patterns per series.
_SERIES = (
    ("pv", "Planned value (PV)", "#0072B2", "6 4"),
    ("ev", "Earned value (EV)", "#009E73", ""),
    ("ac", "Actual cost (AC)", "#D55E00", "2 3"),
)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1/2/5 × 10^n step giving about ``ticks`` gridlines over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def compact_money(value: float) -> str:
    """1 234 567 → ``1.2M``: axis labels need to be short."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return _num(value)


def _axis(chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def s_curve_svg(
    points: Sequence[EvmPoint], *, chart_id: str, currency: str, status_label: str | None = None
) -> Markup:
    """Cumulative PV, EV and AC by period end; an empty string when there is nothing to draw."""
    if not points:
        return Markup("")
    chart_id = str(escape(chart_id))
    values = [
        float(v) for p in points for v in (p.pv, p.ev, p.ac) if v is not None
    ]  # Decimal → float only for drawing; the tables carry the exact figures
    top = max(values, default=0.0)
    step = _nice_step(top)
    y_max = step * max(1, math.ceil(top / step)) if top > 0 else 1.0
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    count = len(points)

    def x(index: int) -> float:
        return _LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return _TOP + plot_h - plot_h * value / y_max

    last = points[-1]
    desc = f"Cumulative values in {currency} for {count} periods to {last.period_end.isoformat()}: " + (
        ", ".join(
            f"{label} {compact_money(float(getattr(last_known(points, key), key) or 0))}"
            for key, label, _, _ in _SERIES
        )
    )
    parts = _axis(chart_id, f"S-curve: cumulative PV, EV and AC ({currency})", desc)
    tick = 0.0
    while tick <= y_max + step / 2:
        ty = _num(y(tick))
        parts.append(f'<line class="grid" x1="{_LEFT}" y1="{ty}" x2="{WIDTH - _RIGHT}" y2="{ty}"/>')
        parts.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(compact_money(tick))}</text>"
        )
        tick += step
    labels = [p.label or p.period_end.strftime("%Y-%m") for p in points]
    if len(set(labels)) != len(labels):  # e.g. a status-date point inside the last month
        labels = [p.period_end.isoformat() for p in points]
    label_every = max(1, math.ceil(count / 8))
    for index in range(count):
        if index % label_every == 0 or index == count - 1:
            parts.append(
                f'<text class="tick" x="{_num(x(index))}" y="{HEIGHT - _BOTTOM + 16}" '
                f'text-anchor="middle">{escape(labels[index])}</text>'
            )
    for key, label, colour, dash in _SERIES:
        coords = [
            f"{_num(x(i))},{_num(y(float(value)))}"
            for i, p in enumerate(points)
            if (value := getattr(p, key)) is not None
        ]
        if not coords:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="series series-{key}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f'{dash_attr} points="{" ".join(coords)}"><title>{escape(label)}</title></polyline>'
        )
    parts.extend(_legend([(label, colour, dash) for _, label, colour, dash in _SERIES]))
    if status_label:
        parts.append(
            f'<text class="note" x="{WIDTH - _RIGHT}" y="{_TOP - 6}" text-anchor="end">'
            f"{escape(status_label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def last_known(points: Sequence[EvmPoint], key: str) -> EvmPoint:
    """The last point where ``key`` has a value (EV and AC stop at the status date)."""
    for point in reversed(points):
        if getattr(point, key) is not None:
            return point
    return points[-1]


def _legend(entries: Sequence[tuple[str, str, str]]) -> list[str]:
    parts = []
    x0 = _LEFT
    y0 = HEIGHT - 16
    for label, colour, dash in entries:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x0}" y1="{y0}" x2="{x0 + 24}" y2="{y0}" stroke="{colour}" stroke-width="3"'
            f"{dash_attr}/>"
        )
        parts.append(f'<text class="legend" x="{x0 + 30}" y="{y0 + 4}">{escape(label)}</text>')
        x0 += 30 + 8 * len(label) + 20
    return parts


def budget_bars_svg(rows: Sequence[CostBreakdownRow], *, chart_id: str, currency: str) -> Markup:
    """Budget, actual and committed by category (summed over fiscal periods), as grouped bars."""
    chart_id = str(escape(chart_id))
    totals: dict[str, list[Decimal]] = {}
    for row in rows:
        bucket = totals.setdefault(row.category or UNCATEGORISED, [Decimal(0), Decimal(0), Decimal(0)])
        bucket[0] += row.budget
        bucket[1] += row.actual
        bucket[2] += row.commitment
    if not totals:
        return Markup("")
    categories = sorted(totals)
    series = (
        ("Budget", "#0072B2", ""),
        ("Actual", "#D55E00", ""),
        ("Committed", "#E69F00", "hatch"),
    )
    label_w = 150
    bar_h = 9
    group_h = bar_h * 3 + 12
    height = _TOP + group_h * len(categories) + 40
    top = max((float(v) for bucket in totals.values() for v in bucket), default=0.0)
    step = _nice_step(top)
    x_max = step * max(1, math.ceil(top / step)) if top > 0 else 1.0
    plot_w = WIDTH - label_w - _RIGHT - 10

    def x_len(value: Decimal) -> float:
        return max(0.0, plot_w * float(value) / x_max)

    desc = "; ".join(
        f"{cat}: budget {compact_money(float(b))}, actual {compact_money(float(a))}, "
        f"committed {compact_money(float(c))}"
        for cat, (b, a, c) in ((cat, totals[cat]) for cat in categories)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}">',
        f'<title id="{chart_id}-title">{escape(f"Budget, actual and committed by category ({currency})")}'
        "</title>",
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#E69F00"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#7a5200" stroke-width="2"/></pattern></defs>',
    ]
    for index, category in enumerate(categories):
        gy = _TOP + index * group_h
        name = category if len(category) <= 22 else category[:21] + "…"
        parts.append(
            f'<text class="tick" x="{label_w - 6}" y="{gy + bar_h * 1.5 + 4}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        for offset, (label, colour, fill) in enumerate(series):
            value = totals[category][offset]
            paint = f"url(#{chart_id}-hatch)" if fill == "hatch" else colour
            parts.append(
                f'<rect x="{label_w}" y="{gy + offset * bar_h}" width="{_num(x_len(value))}" '
                f'height="{bar_h - 1}" fill="{paint}"><title>{escape(label)} {escape(category)}: '
                f"{escape(compact_money(float(value)))}</title></rect>"
            )
    axis_y = _TOP + group_h * len(categories)
    tick = 0.0
    while tick <= x_max + step / 2:
        tx = _num(label_w + plot_w * tick / x_max)
        parts.append(f'<line class="grid" x1="{tx}" y1="{_TOP}" x2="{tx}" y2="{axis_y}"/>')
        parts.append(
            f'<text class="tick" x="{tx}" y="{axis_y + 14}" text-anchor="middle">'
            f"{escape(compact_money(tick))}</text>"
        )
        tick += step
    x0 = label_w
    for label, colour, fill in series:
        paint = f"url(#{chart_id}-hatch)" if fill == "hatch" else colour
        parts.append(f'<rect x="{x0}" y="{height - 20}" width="16" height="10" fill="{paint}"/>')
        parts.append(f'<text class="legend" x="{x0 + 22}" y="{height - 11}">{escape(label)}</text>')
        x0 += 22 + 8 * len(label) + 24
    parts.append("</svg>")
    return Markup("".join(parts))
