"""Interval against cumulative cases per term, as inline SVG bars (the most reported terms
first): a glance at what is new in the period against what was known."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, ROW, LEFT, RIGHT, TOP = 720, 22, 250, 50, 26
MAX_TERMS = 15


def term_bars_svg(figures: dict[str, Any]) -> str:
    terms = figures["terms"][:MAX_TERMS]
    height = TOP + ROW * max(len(terms), 1) + 10
    top = max((t["cumulative"]["cases"] for t in terms), default=1) or 1
    scale = (WIDTH - LEFT - RIGHT) / top
    parts = [
        f'<svg class="term-bars" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="Cases per term: interval against cumulative">',
        f'<rect class="cumulative key" x="{LEFT}" y="6" width="10" height="10"/>'
        f'<text x="{LEFT + 14}" y="15">cumulative</text>'
        f'<rect class="interval key" x="{LEFT + 100}" y="6" width="10" height="10"/>'
        f'<text x="{LEFT + 114}" y="15">interval</text>',
    ]
    for i, t in enumerate(terms):
        y = TOP + ROW * i
        total, now = t["cumulative"]["cases"], t["interval"]["cases"]
        parts.append(
            f'<g class="term" data-term="{escape(t["term"])}" data-interval="{now}" '
            f'data-cumulative="{total}">'
            f'<text class="label" x="{LEFT - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(t['label'][:40])}</text>"
            f'<rect class="cumulative" x="{LEFT}" y="{y + 3}" width="{total * scale:.1f}" '
            f'height="16"/>'
            f'<rect class="interval" x="{LEFT}" y="{y + 7}" width="{now * scale:.1f}" height="8"/>'
            f'<text class="value" x="{LEFT + total * scale + 4:.1f}" y="{y + 15}">'
            f"{now}/{total}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
