"""The forest plot of a risk-factor analysis as inline SVG: one row per factor level, the odds
ratio as a square and its 95 % interval as a line on a log axis, the line of no effect (1)
marked. Plain elements with classes and ``data-`` attributes: the page's CSS styles them, a
test reads them."""

from __future__ import annotations

import math
from html import escape

from pharmaqms.lifecycle.use.risk.analysis import OddsRow

WIDTH, ROW, TOP, LEFT, RIGHT = 720, 26, 30, 260, 30
TICKS = (0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100)


def forest_svg(rows: list[OddsRow]) -> str:
    height = TOP + ROW * max(len(rows), 1) + 34
    if not rows:
        return f'<svg class="forest" viewBox="0 0 {WIDTH} {height}" role="img"></svg>'
    lows = [r.ci_low for r in rows] + [r.odds_ratio for r in rows] + [0.5]
    highs = [r.ci_high for r in rows] + [r.odds_ratio for r in rows] + [2.0]
    lo = math.log10(max(min(lows), 1e-3))
    hi = math.log10(min(max(highs), 1e3))
    span = hi - lo or 1.0

    def at(value: float) -> float:
        v = math.log10(min(max(value, 10**lo), 10**hi))
        return LEFT + (v - lo) / span * (WIDTH - LEFT - RIGHT)

    bottom = TOP + ROW * len(rows)
    parts = [
        f'<svg class="forest" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="Forest plot of odds ratios with 95 % confidence intervals, log scale">',
        f'<text class="axis-title" x="{LEFT}" y="16">'
        "odds ratio (log scale); 1 = no difference</text>",
        f'<line class="null-line" data-value="1" x1="{at(1):.1f}" y1="{TOP - 6}" '
        f'x2="{at(1):.1f}" y2="{bottom}"/>',
    ]
    for tick in TICKS:
        if 10**lo <= tick <= 10**hi:
            x = at(tick)
            parts.append(
                f'<line class="tick" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}"/>'
                f'<text class="tick-label" x="{x:.1f}" y="{bottom + 18}" '
                f'text-anchor="middle">{tick:g}</text>'
            )
    for i, row in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        label = escape(f"{row.factor}: {row.level}")
        parts.append(
            f'<g class="row" data-level="{escape(row.level)}" data-or="{row.odds_ratio:.4g}" '
            f'data-low="{row.ci_low:.4g}" data-high="{row.ci_high:.4g}">'
            f'<text class="label" x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
            f'<line class="ci" x1="{at(row.ci_low):.1f}" y1="{y:.1f}" '
            f'x2="{at(row.ci_high):.1f}" y2="{y:.1f}"/>'
            f'<rect class="point" x="{at(row.odds_ratio) - 4:.1f}" y="{y - 4:.1f}" '
            f'width="8" height="8"/>'
            f"<title>{escape(row.reading)}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
