"""Trend charts of the quality loops as server-rendered SVG, drawn with Matplotlib's Agg canvas
on a bare ``Figure`` (pyplot keeps global state and picks a GUI backend: neither belongs in a
server). The same data gives the same bytes: no date stamp, fixed element ids."""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Colours a quality department reads at a glance: critical red, major amber, minor blue.
CLASS_COLOURS = {
    "critical": "#c0392b",
    "major": "#e69500",
    "minor": "#3d7ab8",
    "unclassified": "#9aa5b1",
}
# A month label is "2026-01"; at most this many fit under a chart 8 inches wide unrotated.
MONTH_LABELS = 12
# Legend entries are wrapped to this many characters ("Production: Tableting / Compression /
# Main compression" is one of the areas), and set in as many columns as fit the width.
LEGEND_WRAP = 30
LEGEND_COLUMNS = 3
PALETTE = ("#3d7ab8", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89", "#b8860b", "#17a2b8")


def _svg(figure: Any) -> str:
    FigureCanvasAgg(figure)
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "pharmaqms", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "pharmaqms"})
    return buffer.getvalue()


def month_ticks(months: Sequence[str], most: int = MONTH_LABELS) -> list[tuple[int, str]]:
    """(position, label) of the months that carry a label: every month up to ``most``, else
    every k-th from the latest back (the month just ended is always named)."""
    if not months:
        return []
    every = max(1, math.ceil(len(months) / most))
    last = len(months) - 1
    return [(i, months[i]) for i in range(last % every, len(months), every)]


def legend_labels(names: Sequence[str], width: int = LEGEND_WRAP) -> list[str]:
    """Legend entries wrapped onto lines of at most ``width`` characters (a word longer than
    that is kept whole)."""
    return [
        "\n".join(textwrap.wrap(name, width, break_long_words=False, break_on_hyphens=False))
        or name
        for name in names
    ]


def _legend_rows(entries: int, columns: int) -> int:
    return math.ceil(entries / columns) if entries else 0


def _month_axis(axes: Any, months: Sequence[str]) -> None:
    ticks = month_ticks(months)
    axes.set_xticks([p for p, _ in ticks], [label for _, label in ticks], fontsize=8)
    axes.set_xlim(-0.6, len(months) - 0.4)


def _figure(title: str, legend_rows: int = 1) -> tuple[Any, Any]:
    # Each legend row past the first adds height, so the bars keep theirs.
    height = 3.4 + 0.3 * max(0, legend_rows - 1)
    figure = Figure(figsize=(8.0, height), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _legend_below(axes: Any, entries: int) -> None:
    # Below the plot, where it never hides a bar; long names wrapped and fewer columns, so the
    # legend is never wider than the chart (constrained layout would shrink the plot for it).
    handles, labels = axes.get_legend_handles_labels()
    wide = max((len(label) for label in labels), default=0) > LEGEND_WRAP
    axes.legend(
        handles,
        legend_labels(labels),
        fontsize=8,
        frameon=False,
        ncols=max(1, min(entries, LEGEND_COLUMNS if wide else 6)),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )


def stacked_bars(
    months: Sequence[str],
    series: dict[str, list[int]],
    *,
    title: str,
    colours: dict[str, str] | None = None,
) -> str:
    """Counts per month, stacked by category (deviations by class, or by area)."""
    wide = max((len(n) for n in series), default=0) > LEGEND_WRAP
    columns = LEGEND_COLUMNS if wide else 6
    figure, axes = _figure(title, _legend_rows(len(series), columns))
    positions = list(range(len(months)))
    bottom = [0] * len(months)
    for index, (name, counts) in enumerate(series.items()):
        colour = (colours or {}).get(name, PALETTE[index % len(PALETTE)])
        axes.bar(
            positions, counts, bottom=bottom, color=colour, label=name, width=0.7, gid=f"bar-{name}"
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _month_axis(axes, months)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel("count", fontsize=9)
    axes.set_ylim(0, max([*bottom, 1]) * 1.15)
    if series:
        _legend_below(axes, len(series))
    return _svg(figure)


def on_time_rate(
    months: Sequence[str], closed: Sequence[int], on_time: Sequence[int], *, title: str
) -> str:
    """CAPAs closed per month (bars: on time and late) with the on-time rate (line, %)."""
    figure, axes = _figure(title)
    positions = list(range(len(months)))
    late = [c - o for c, o in zip(closed, on_time, strict=True)]
    axes.bar(
        positions, on_time, color="#2e9958", width=0.7, label="closed on time", gid="bar-on-time"
    )
    axes.bar(
        positions,
        late,
        bottom=list(on_time),
        color="#c0392b",
        width=0.7,
        label="closed late",
        gid="bar-late",
    )
    _month_axis(axes, months)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel("CAPAs closed", fontsize=9)
    rate_axes = axes.twinx()
    points = [(p, 100 * o / c) for p, c, o in zip(positions, closed, on_time, strict=True) if c]
    if points:
        xs, ys = zip(*points, strict=True)
        rate_axes.plot(
            xs,
            ys,
            color="#1f3b57",
            marker="o",
            linewidth=1.4,
            label="on-time rate",
            gid="line-rate",
        )
    rate_axes.set_ylim(0, 105)
    rate_axes.set_ylabel("on time (%)", fontsize=9)
    rate_axes.spines[["top"]].set_visible(False)
    axes.set_ylim(0, max([*closed, 1]) * 1.15)
    handles, labels = axes.get_legend_handles_labels()
    rate_handles, rate_labels = rate_axes.get_legend_handles_labels()
    axes.legend(
        handles + rate_handles,
        labels + rate_labels,
        fontsize=8,
        frameon=False,
        ncols=3,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )
    return _svg(figure)
