"""Process capability and performance indices (AIAG SPC manual, ISO 22514).

Cp and Cpk use the within-process sigma (MR̄/d2, R̄/d2 or S̄/c4, the sigma of the control chart);
Pp and Ppk use the overall sample SD (n − 1). Cpm uses the overall SD and the distance of the
mean from the target: min(T − LSL, USL − T)/(3·√(σ² + (μ − T)²)), which for a target at the
middle of the specification is (USL − LSL)/(6·√(σ² + (μ − T)²)).

With one specification limit only, Cp, Pp and Cpm are undefined (None) and Cpk/Ppk are the one
side that exists (CPU/PPU or CPL/PPL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pharmaqms.lifecycle.production.spc.charts import (
    ChartKind,
    individuals_limits,
    xbar_r_limits,
    xbar_s_limits,
)


@dataclass(frozen=True, slots=True)
class CapabilityIndices:
    mean: float
    sigma_within: float
    sigma_overall: float
    lsl: float | None
    usl: float | None
    target: float | None
    cp: float | None
    cpk: float
    pp: float | None
    ppk: float
    cpm: float | None


def within_sigma(kind: ChartKind, data: ArrayLike) -> float:
    """The within-process sigma the chart of that kind estimates from the data."""
    if kind is ChartKind.INDIVIDUALS:
        return individuals_limits(data).sigma
    if kind is ChartKind.XBAR_R:
        return xbar_r_limits(data).sigma
    return xbar_s_limits(data).sigma


def _one_sided_index(mean: float, sigma: float, lsl: float | None, usl: float | None) -> float:
    distances = []
    if usl is not None:
        distances.append(usl - mean)
    if lsl is not None:
        distances.append(mean - lsl)
    return min(distances) / (3.0 * sigma)


def process_capability(
    values: ArrayLike,
    *,
    sigma_within: float,
    lsl: float | None = None,
    usl: float | None = None,
    target: float | None = None,
) -> CapabilityIndices:
    """Capability of the individual ``values`` against the specification limits.

    ``target`` defaults to the middle of the specification when both limits are given.
    """
    if lsl is None and usl is None:
        raise ValueError("at least one specification limit is needed")
    for name, limit in (("LSL", lsl), ("USL", usl), ("target", target)):
        if limit is not None and not math.isfinite(limit):
            raise ValueError(f"{name} must be a finite number")
    if lsl is not None and usl is not None and not lsl < usl:
        raise ValueError(f"LSL ({lsl}) must be below USL ({usl})")
    if not (math.isfinite(sigma_within) and sigma_within > 0.0):
        raise ValueError("within sigma must be a positive finite number")
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size < 2:
        raise ValueError(f"at least 2 values are needed, got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite numbers")
    mean = float(array.mean())
    sigma_overall = float(array.std(ddof=1))
    if sigma_overall == 0.0:
        raise ValueError("all values are equal: the overall sigma is zero")

    if lsl is not None and usl is not None:
        if target is None:
            target = (lsl + usl) / 2.0
        elif not lsl <= target <= usl:
            raise ValueError(f"target ({target}) must lie within [{lsl}, {usl}]")
    cp = pp = cpm = None
    if lsl is not None and usl is not None and target is not None:
        width = usl - lsl
        cp = width / (6.0 * sigma_within)
        pp = width / (6.0 * sigma_overall)
        off_target = math.sqrt(sigma_overall**2 + (mean - target) ** 2)
        cpm = min(target - lsl, usl - target) / (3.0 * off_target)
    return CapabilityIndices(
        mean=mean,
        sigma_within=float(sigma_within),
        sigma_overall=sigma_overall,
        lsl=lsl,
        usl=usl,
        target=target,
        cp=cp,
        cpk=_one_sided_index(mean, sigma_within, lsl, usl),
        pp=pp,
        ppk=_one_sided_index(mean, sigma_overall, lsl, usl),
        cpm=cpm,
    )
