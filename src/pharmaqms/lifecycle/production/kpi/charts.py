"""The KPI charts as server-rendered SVG: Matplotlib's Agg canvas on a bare ``Figure`` (pyplot
keeps global state and picks a GUI backend: neither belongs in a server). The same data gives
the same bytes (no date stamp, a fixed hash salt). A month without data is a gap, not a zero."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PALETTE = ("#1f5a7a", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89", "#b8860b", "#17a2b8")


def _svg(figure: Any) -> str:
    FigureCanvasAgg(figure)
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "pharmaqms-kpi", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "pharmaqms"})
    return buffer.getvalue()


def _axes(title: str, ylabel: str) -> tuple[Any, Any]:
    figure = Figure(figsize=(7.6, 3.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11)
    axes.set_ylabel(ylabel, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.tick_params(labelsize=8)
    return figure, axes


def _labels(months: Sequence[date]) -> list[str]:
    return [m.strftime("%b %y") for m in months]


def bars(
    months: Sequence[date],
    values: Sequence[float | None],
    *,
    title: str,
    ylabel: str,
    notes: Sequence[str] = (),
) -> str:
    figure, axes = _axes(title, ylabel)
    labels = _labels(months)
    heights = [v if v is not None else 0.0 for v in values]
    drawn = axes.bar(labels, heights, color=PALETTE[4], width=0.6)
    for rect, note, value in zip(drawn, notes or [""] * len(labels), values, strict=False):
        if value is not None and note:
            axes.annotate(
                note,
                (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                color="#444",
            )
    axes.set_ylim(bottom=0)
    return _svg(figure)


def lines(
    months: Sequence[date],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    reference: tuple[float, str] | None = None,
) -> str:
    figure, axes = _axes(title, ylabel)
    labels = _labels(months)
    x = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        y = [float("nan") if v is None else v for v in values]
        axes.plot(
            x,
            y,
            marker="o",
            markersize=3.5,
            linewidth=1.6,
            color=PALETTE[index % len(PALETTE)],
            label=name,
        )
    if reference is not None:
        axes.axhline(
            reference[0], color="#c0392b", linewidth=0.9, linestyle="--", label=reference[1]
        )
    axes.set_xticks(x, labels)
    if series or reference:
        axes.legend(
            fontsize=8,
            frameon=False,
            ncols=min(len(series) + (1 if reference else 0), 5),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
        )
    axes.set_ylim(bottom=0)
    return _svg(figure)
