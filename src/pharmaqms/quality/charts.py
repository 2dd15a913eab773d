"""Trend charts of the quality loops as server-rendered SVG, drawn with Matplotlib's Agg canvas
on a bare ``Figure`` (pyplot keeps global state and picks a GUI backend: neither belongs in a
server). The same data gives the same bytes: no date stamp, fixed element ids."""

from __future__ import annotations

import io
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
PALETTE = ("#3d7ab8", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89", "#b8860b", "#17a2b8")


def _svg(figure: Any) -> str:
    FigureCanvasAgg(figure)
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "pharmaqms", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "pharmaqms"})
    return buffer.getvalue()


def _figure(title: str) -> tuple[Any, Any]:
    figure = Figure(figsize=(8.0, 3.4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _legend_below(axes: Any, entries: int) -> None:
    # Below the plot, where it never hides a bar.
    axes.legend(
        fontsize=8,
        frameon=False,
        ncols=min(entries, 6),
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
    figure, axes = _figure(title)
    positions = list(range(len(months)))
    bottom = [0] * len(months)
    for index, (name, counts) in enumerate(series.items()):
        colour = (colours or {}).get(name, PALETTE[index % len(PALETTE)])
        axes.bar(
            positions, counts, bottom=bottom, color=colour, label=name, width=0.7, gid=f"bar-{name}"
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xticks(positions, [m[2:] for m in months], fontsize=8)
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
    axes.set_xticks(positions, [m[2:] for m in months], fontsize=8)
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
