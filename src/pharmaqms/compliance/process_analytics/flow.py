"""The flow diagram of one process as SVG drawn here from the figures: the states as boxes
in the workflow's order (its happy path runs left to right), the transitions taken as arrows
with how often and the median time before them, the bottleneck state highlighted. Forward
arrows arc above the row, returns below. Each box and arrow links to the records behind it.

Presentation attributes only, no ``style``: the pages' security policy refuses inline style.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from pharmaqms.compliance.process_analytics.figures import (
    START,
    ProcessFigures,
    StateFigure,
    TransitionFigure,
    shown,
)

BOX_W = 150
BOX_H = 64
GAP = 100  # room for an arrow's "12× · 3.5 d" between two boxes
MARGIN = 40
ARC = 34  # height added per state an arrow jumps over
START_R = 9
PLAIN = "#eef3f7"
BOTTLENECK = "#f6c37a"
ENDED = "#e4e4e4"
INK = "#1f2d3a"
ARROW = "#5b6b7a"


def _box(
    x: float,
    y: float,
    name: str,
    label: str,
    figure: StateFigure | None,
    ended: bool,
    link: Callable[[str], str],
) -> str:
    if figure is None:
        fill = ENDED if ended else "#ffffff"
        lines = ["end state" if ended else "no stays"]
    else:
        fill = BOTTLENECK if figure.bottleneck else PLAIN
        stays = figure.stays
        lines = [
            f"median {shown(stays.median)} · p90 {shown(stays.p90)}",
            f"{stays.count} stays" + (f", {stays.open} open" if stays.open else ""),
        ]
    stroke = ' stroke-width="3"' if figure is not None and figure.bottleneck else ""
    worst = figure is not None and figure.bottleneck
    title = label + (" — bottleneck: the longest median stay" if worst else "")
    body = (
        f'<g class="flow-state" data-state="{escape(name)}"><title>{escape(title)}</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
        f'stroke="{INK}"{stroke}/>'
        f'<text x="{x + BOX_W / 2}" y="{y + 20}" text-anchor="middle" font-weight="bold">'
        f"{escape(label)}</text>"
        + "".join(
            f'<text x="{x + BOX_W / 2}" y="{y + 38 + 15 * i}" text-anchor="middle" '
            f'font-size="11">{escape(text)}</text>'
            for i, text in enumerate(lines)
        )
        + "</g>"
    )
    if figure is None:
        return body
    return f'<a href="{escape(link(name))}">{body}</a>'


def _arrow(
    t: TransitionFigure,
    x: dict[str, float],
    top: float,
    label: str,
    href: str | None,
) -> str:
    y_mid = top + BOX_H / 2
    if t.source == START:
        x1: float = MARGIN - 20 + START_R
        y1 = y_mid
        path = f"M {x1} {y1} L {x[t.target] - 2} {y_mid}"
        # The count of creations above the start dot.
        lx: float = MARGIN - 20
        ly: float = y_mid - 14
    else:
        a, b = x[t.source], x[t.target]
        forward = b > a
        span = abs(b - a) / (BOX_W + GAP)
        if forward and span == 1:
            x1, x2 = a + BOX_W, b - 2
            path = f"M {x1} {y_mid} L {x2} {y_mid}"
            lx, ly = (x1 + x2) / 2, y_mid - 8
        else:
            # Over the top for a jump forward, under the row for a return.
            edge = top if forward else top + BOX_H
            lift = -ARC * span if forward else ARC * span
            x1 = a + BOX_W * (0.65 if forward else 0.35)
            x2 = b + BOX_W * (0.35 if forward else 0.65)
            y2 = edge + (-2 if forward else 2)
            path = f"M {x1} {edge} C {x1} {edge + lift} {x2} {edge + lift} {x2} {y2}"
            lx, ly = (x1 + x2) / 2, edge + lift * 0.75 + (-4 if forward else 12)
    drawn = (
        f'<g class="flow-move"><title>{escape(label)}</title>'
        f'<path d="{path}" fill="none" stroke="{ARROW}" stroke-width="1.6" '
        f'marker-end="url(#flow-head)"/>'
        f'<text x="{lx}" y="{ly}" text-anchor="middle" font-size="11" fill="{INK}">'
        f"{escape(_arrow_text(t))}</text></g>"
    )
    return f'<a href="{escape(href)}">{drawn}</a>' if href else drawn


def _arrow_text(t: TransitionFigure) -> str:
    if t.median is None:
        return f"{t.count}×"
    return f"{t.count}× · {shown(t.median)}"


def render(
    found: ProcessFigures,
    state_link: Callable[[str], str],
    move_link: Callable[[str, str], str],
) -> str:
    """SVG markup (escaped throughout) of the flow of ``found``'s process."""
    process = found.process
    names = process.ordered_states()
    ends = process.end_states
    x = {name: float(MARGIN + i * (BOX_W + GAP)) for i, name in enumerate(names)}

    def spans(forward: bool) -> float:
        jumps = [
            abs(x[t.target] - x[t.source]) / (BOX_W + GAP)
            for t in found.transitions
            if t.source in x
            and t.target in x
            and (x[t.target] > x[t.source]) == forward
            and not (forward and x[t.target] - x[t.source] == BOX_W + GAP)
        ]
        return max(jumps, default=0.0)

    top = 30 + ARC * spans(True)
    height = top + BOX_H + ARC * spans(False) + 30
    width = MARGIN + len(names) * (BOX_W + GAP)
    boxes = [
        _box(x[n], top, n, process.state_label(n), found.state(n), n in ends, state_link)
        for n in names
    ]
    arrows = []
    for t in found.transitions:
        if t.target not in x or (t.source != START and t.source not in x):
            continue
        source = "created" if t.source == START else process.state_label(t.source)
        label = f"{source} → {process.state_label(t.target)}: {_arrow_text(t)}"
        href = None if t.source == START else move_link(t.source, t.target)
        arrows.append(_arrow(t, x, top, label, href))
    start = (
        f'<circle cx="{MARGIN - 20}" cy="{top + BOX_H / 2}" r="{START_R}" fill="{INK}">'
        "<title>records created</title></circle>"
    )
    marker = (
        '<defs><marker id="flow-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{ARROW}"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="process-flow" viewBox="0 0 {width} '
        f'{height:.0f}" width="{width}" height="{height:.0f}" role="img" '
        f'aria-label="flow of {escape(found.process.title.lower())}s with durations" '
        f'font-family="sans-serif" font-size="12" fill="{INK}">'
        f"{marker}{start}{''.join(arrows)}{''.join(boxes)}</svg>"
    )
