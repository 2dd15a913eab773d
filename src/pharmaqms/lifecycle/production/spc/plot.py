"""Control chart figures (PNG or SVG) drawn with Matplotlib's Agg canvas.

The figure is built on a bare ``Figure`` rather than through pyplot: pyplot keeps global state
and picks a GUI backend, neither of which belongs in a server or a CLI run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pharmaqms.lifecycle.production.spc.charts import (
    ChartPoints,
    ControlChartLimits,
    Limits,
    points_outside,
)
from pharmaqms.lifecycle.production.spc.rules import Violation

FORMATS = {".png": "png", ".svg": "svg"}
_SIGNAL = "tab:red"
_POINT = "tab:blue"


def _draw_limits(axes: Axes, limits: Limits, *, prefix: str) -> None:
    axes.axhline(limits.center, color="black", linewidth=1.0, gid=f"{prefix}-center")
    for name, level in (("ucl", limits.upper), ("lcl", limits.lower)):
        axes.axhline(level, color=_SIGNAL, linestyle="--", linewidth=1.0, gid=f"{prefix}-{name}")


def _draw_location(
    axes: Axes,
    limits: ControlChartLimits,
    points: ChartPoints,
    violations: Sequence[Violation],
) -> None:
    location, sigma = limits.location, limits.location_sigma
    # Zone C (within 1σ) stays white; B (1–2σ) and A (2–3σ) get darker bands.
    for k, shade in ((1, "#f2f2f2"), (2, "#e0e0e0")):
        for side, sign in (("upper", 1), ("lower", -1)):
            near = location.center + sign * k * sigma
            far = location.center + sign * (k + 1) * sigma
            axes.axhspan(
                min(near, far), max(near, far), color=shade, zorder=0, gid=f"zone-{k}-{side}"
            )
    _draw_limits(axes, location, prefix="location")
    indices = range(points.location.size)
    axes.plot(indices, points.location, color=_POINT, marker="o", markersize=3, linewidth=0.8)

    rules_at: defaultdict[int, list[int]] = defaultdict(list)
    for violation in violations:
        rules_at[violation.index].append(violation.rule)
    if rules_at:
        flagged = sorted(rules_at)
        axes.scatter(
            flagged,
            [points.location[i] for i in flagged],
            color=_SIGNAL,
            s=24,
            zorder=3,
            gid="violations",
        )
        for index in flagged:
            axes.annotate(
                ",".join(str(rule) for rule in sorted(set(rules_at[index]))),
                (index, float(points.location[index])),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                color=_SIGNAL,
                gid=f"violation-label-{index}",
            )
    axes.set_ylabel(limits.kind.location_label)


def _draw_dispersion(axes: Axes, limits: ControlChartLimits, points: ChartPoints) -> None:
    _draw_limits(axes, limits.dispersion, prefix="dispersion")
    axes.plot(
        points.dispersion_indices,
        points.dispersion,
        color=_POINT,
        marker="o",
        markersize=3,
        linewidth=0.8,
    )
    outside = points_outside(points.dispersion, limits.dispersion)
    if outside:
        axes.scatter(
            [points.dispersion_indices[i] for i in outside],
            [points.dispersion[i] for i in outside],
            color=_SIGNAL,
            s=24,
            zorder=3,
            gid="dispersion-outside",
        )
    axes.set_ylabel(limits.kind.dispersion_label)
    axes.set_xlabel("Subgroup" if limits.subgroup_size > 1 else "Reading")


def plot_chart(
    path: str | Path,
    limits: ControlChartLimits,
    points: ChartPoints,
    violations: Sequence[Violation] = (),
    *,
    title: str | None = None,
) -> Path:
    """Write the location chart (with 1σ/2σ zones and rule violations in red, labelled with
    their rule numbers) above its dispersion chart; the format follows the file suffix."""
    target = Path(path)
    image_format = FORMATS.get(target.suffix.lower())
    if image_format is None:
        raise ValueError(f"plot file must end in .png or .svg, got {target.name!r}")
    figure = Figure(figsize=(10, 6), layout="constrained")
    FigureCanvasAgg(figure)
    location_axes, dispersion_axes = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    _draw_location(location_axes, limits, points, violations)
    _draw_dispersion(dispersion_axes, limits, points)
    location_axes.set_title(title or f"{limits.kind} chart")
    # SVG keeps its text as text, so labels stay searchable; no date, so reruns give equal files.
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pharmaqms"}):
        metadata = {"Date": None} if image_format == "svg" else None
        figure.savefig(target, format=image_format, metadata=metadata)
    return target
