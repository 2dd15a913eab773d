"""The shelf-life chart as server-side SVG: each batch's results, its fitted line and its 95 %
confidence bound under the model Q1E chose, the specification limit(s) and the estimate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pharmaqms.lifecycle.rnd.stability.q1e import Observation, ShelfLife, bound_curve
from pharmaqms.quality.charts import PALETTE, _figure, _legend_below, _svg

LIMIT_COLOUR = "#c0392b"


def _plain(text: str) -> str:
    """Text as typed: Matplotlib would read ``$…$`` in a name as mathematics (and fail)."""
    return text.replace("$", r"\$")


def shelf_life_chart(
    observations: Sequence[Observation],
    result: ShelfLife | None,
    *,
    lower: float | None,
    upper: float | None,
    unit: str,
    title: str,
) -> str:
    figure, axes = _figure(_plain(title))
    batches = sorted({o.batch for o in observations})
    end = max([o.months for o in observations] + [12.0])
    if result is not None:
        end = max(end, result.extrapolation_limit_months, float(result.shelf_life_months))
    grid = np.linspace(0.0, end, 121).tolist()
    for i, batch in enumerate(batches):
        colour = PALETTE[i % len(PALETTE)]
        mine = [o for o in observations if o.batch == batch]
        axes.plot(
            [o.months for o in mine],
            [o.value for o in mine],
            "o",
            color=colour,
            markersize=4,
            label=batch,
        )
        if result is None:
            continue
        mean, low, high = bound_curve(result, observations, batch, grid)
        axes.plot(grid, mean, "-", color=colour, linewidth=1.2)
        if result.lower is not None:
            axes.plot(grid, low, "--", color=colour, linewidth=0.9)
        if result.upper is not None:
            axes.plot(grid, high, "--", color=colour, linewidth=0.9)
    for limit, label in ((lower, "lower limit"), (upper, "upper limit")):
        if limit is not None:
            axes.axhline(limit, color=LIMIT_COLOUR, linewidth=1.2, label=f"{label} {limit:g}")
    if result is not None:
        axes.axvline(
            result.shelf_life_months,
            color="#2c3e50",
            linestyle=":",
            linewidth=1.2,
            label=f"shelf life {result.shelf_life_months} months",
        )
    axes.set_xlabel("months")
    axes.set_ylabel(_plain(unit) or "value")
    axes.set_xlim(0, end)
    if observations or lower is not None or upper is not None:
        _legend_below(axes, len(batches) + 3)
    drawing = _svg(figure)
    # Inline in the study page: the drawing without its XML prolog and DOCTYPE.
    return drawing[drawing.index("<svg") :]
