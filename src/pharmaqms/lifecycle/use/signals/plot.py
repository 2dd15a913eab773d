"""The volcano plot of the case base as SVG, drawn on the server: one point per product–event
pair at x = log₂ ROR and y = −log₁₀ p (p of Pearson's χ² on one degree of freedom, the χ² the
PRR rule reads). The Evans thresholds are drawn as lines: x = log₂ 2 (a ratio of 2) and
y = −log₁₀ p at χ² = 4. Flagged pairs are drawn larger, with the class ``flagged``, and link to
their signal record when one exists; every point carries its figures as a tooltip.

Pairs whose ROR is undefined (b or c is 0: no other event, or no other product) have no
place on a log axis: the plot leaves them out and says how many it left out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from scipy import stats

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 28, 48


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    ror: float | None
    chi2: float | None
    a: int
    flagged: bool
    url: str | None = None


def p_value(chi2: float) -> float:
    return float(stats.chi2.sf(chi2, 1))


def _f(value: float) -> str:
    return f"{value:.1f}"


def volcano_svg(points: Sequence[Point], *, ratio_min: float = 2.0, chi2_min: float = 4.0) -> str:
    placed = [
        (p, math.log2(p.ror), -math.log10(max(p_value(p.chi2), 1e-300)))
        for p in points
        if p.ror is not None and p.ror > 0 and math.isfinite(p.ror) and p.chi2 is not None
    ]
    left_out = len(points) - len(placed)
    x_line = math.log2(ratio_min)
    y_line = -math.log10(p_value(chi2_min))
    xs = [x for _p, x, _y in placed] + [x_line, -1.0, 1.0]
    ys = [y for _p, _x, y in placed] + [y_line * 1.5]
    x_lo, x_hi = math.floor(min(xs)), math.ceil(max(xs))
    y_hi = max(1.0, math.ceil(max(ys)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - y / y_hi * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="volcano" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="Volcano plot: log2 ROR against -log10 p, '
        f'{len(placed)} pairs" data-testid="volcano">',
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for tick in range(x_lo, x_hi + 1):
        parts.append(
            f'<text class="tick" x="{_f(sx(tick))}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{tick}</text>'
        )
    step = max(1, math.ceil(y_hi / 6))
    for tick in range(0, int(y_hi) + 1, step):
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{_f(sy(tick) + 4)}" '
            f'text-anchor="end">{tick}</text>'
        )
    parts += [
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" '
        'text-anchor="middle">log₂ ROR</text>',
        f'<text class="axis-label" x="14" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">−log₁₀ p (χ²)</text>',
        f'<line class="threshold" data-threshold="ratio" x1="{_f(sx(x_line))}" y1="{TOP}" '
        f'x2="{_f(sx(x_line))}" y2="{TOP + plot_h}"/>',
        f'<text class="threshold-label" x="{_f(sx(x_line) + 4)}" y="{TOP + 12}">'
        f"ratio {ratio_min:g}</text>",
        f'<line class="threshold" data-threshold="chi2" x1="{LEFT}" y1="{_f(sy(y_line))}" '
        f'x2="{LEFT + plot_w}" y2="{_f(sy(y_line))}"/>',
        f'<text class="threshold-label" x="{LEFT + plot_w - 4}" y="{_f(sy(y_line) - 4)}" '
        f'text-anchor="end">χ² {chi2_min:g}</text>',
    ]
    for point, x, y in sorted(placed, key=lambda t: t[0].flagged):
        tip = escape(f"{point.label}: a = {point.a}, ROR {point.ror:.2f}, χ² {point.chi2:.1f}")
        radius = 6 if point.flagged else 3.5
        css = "point flagged" if point.flagged else "point"
        dot = (
            f'<circle class="{css}" cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="{radius}">'
            f"<title>{tip}</title></circle>"
        )
        if point.url:
            dot = f'<a href="{escape(point.url)}" data-testid="volcano-link">{dot}</a>'
        parts.append(dot)
    if left_out:
        parts.append(
            f'<text class="note" x="{LEFT + 6}" y="{TOP + 14}">{left_out} pair(s) without a '
            "defined ROR not drawn</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
