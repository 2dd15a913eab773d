"""Thermal exposure of a shipment on a vehicle, minute by minute.

The model: from the vehicle's departure, each minute at ambient T uses 1 / hold(T) of the
packaging's protection when T is outside the shipment's labelled range (a minute inside the
range takes nothing from it) — linear damage accumulation over the qualification's hold times.
Once the protection is used up, the load is taken to be at ambient: each minute at an ambient
outside the range is a minute outside the range, and its distance from the range is the
degree-minutes. A reefer (active packaging) exposes nothing.

Two uses:

- :func:`bound` — the **worst case** over every region of the plan, hour by hour (the largest
  use of the hold and the largest excess of any region the vehicle could be in). Exposure is
  non-decreasing in time, so the last minute at which the worst-case exposure is still within
  the shipment's remaining budget is a latest delivery time that keeps the budget **whatever
  the route**: the solver gets it as a hard upper bound on the stop's time. Sound, and
  conservative where regions differ much.
- :func:`along` — the exposure along the route actually chosen (each minute in the region the
  vehicle is in), for the explanation. It is never above the worst case, so it never exceeds
  the budget of a planned shipment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pharmaqms.lifecycle.distribution.routing.problem import (
    HORIZON_MIN,
    AmbientTable,
    Packaging,
    Shipment,
)

FloatArray = NDArray[np.float64]
MINUTES = np.arange(HORIZON_MIN, dtype=np.int64)


def ambient_of(table: AmbientTable, region: str) -> FloatArray:
    """The region's ambient for each minute of the horizon."""
    hourly = np.asarray(table.hourly_c[region], dtype=np.float64)
    return hourly[(MINUTES // 60) % 24]


def excess_c(ambient: FloatArray, shipment: Shipment) -> FloatArray:
    """Degrees outside the shipment's range (0 inside)."""
    above = ambient - shipment.high_c if shipment.high_c is not None else np.zeros_like(ambient)
    below = shipment.low_c - ambient if shipment.low_c is not None else np.zeros_like(ambient)
    return np.maximum(0.0, np.maximum(above, below))


def hold_use(ambient: FloatArray, packaging: Packaging, excess: FloatArray) -> FloatArray:
    """Fraction of the packaging's protection used by each minute (0 for a reefer)."""
    if packaging.active:
        return np.zeros_like(ambient)
    points = np.asarray([a for a, _ in packaging.hold_h])
    hours = np.asarray([h for _, h in packaging.hold_h])
    held = np.interp(ambient, points, hours) * 60.0
    qualified = (ambient >= points[0]) & (ambient <= points[-1]) & (held > 0)
    use = np.where(qualified, 1.0 / np.where(held > 0, held, 1.0), np.inf)
    return np.where(excess > 0, use, 0.0)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Cumulative exposure from the departure: ``minutes[t]``/``degree_minutes[t]`` at the end of
    minute t (zero before the departure)."""

    minutes: FloatArray
    degree_minutes: FloatArray

    def at(self, minute: int) -> tuple[float, float]:
        if minute <= 0:
            return 0.0, 0.0
        m = min(minute, HORIZON_MIN) - 1
        return float(self.minutes[m]), float(self.degree_minutes[m])

    def latest_within(self, shipment: Shipment) -> int:
        """The last delivery minute keeping the budget (HORIZON_MIN: never exceeded)."""
        fits = self.minutes <= shipment.budget_min + 1e-9
        if shipment.budget_degree_min is not None:
            fits &= self.degree_minutes <= shipment.budget_degree_min + 1e-9
        if fits.all():
            return HORIZON_MIN
        # Delivering at minute t counts minutes 0..t-1, i.e. cumulative index t - 1.
        return int(np.argmin(fits))

    def first_exposed(self) -> int:
        """The minute exposure begins (HORIZON_MIN: never)."""
        exposed = self.minutes > 0
        return int(np.argmax(exposed)) if exposed.any() else HORIZON_MIN


def _accumulate(ambient_excess: FloatArray, use: FloatArray, departure: int) -> Exposure:
    use = use.copy()
    use[:departure] = 0.0
    excess = ambient_excess.copy()
    excess[:departure] = 0.0
    used = np.cumsum(use)
    # A minute counts as exposed once the protection is used up by the end of it (a partly
    # used minute counts whole: conservative).
    exposed = (used >= 1.0 - 1e-12) & (excess > 0)
    return Exposure(
        minutes=np.cumsum(exposed.astype(np.float64)),
        degree_minutes=np.cumsum(np.where(exposed, excess, 0.0)),
    )


def bound(
    table: AmbientTable,
    regions: tuple[str, ...],
    packaging: Packaging,
    shipment: Shipment,
    departure: int,
) -> Exposure:
    """Worst-case exposure over the plan's regions (see the module's note)."""
    excesses = []
    uses = []
    for region in regions:
        ambient = ambient_of(table, region)
        excess = excess_c(ambient, shipment)
        excesses.append(excess)
        uses.append(hold_use(ambient, packaging, excess))
    return _accumulate(np.max(excesses, axis=0), np.max(uses, axis=0), departure)


def along(
    table: AmbientTable,
    region_by_minute: list[str],
    packaging: Packaging,
    shipment: Shipment,
    departure: int,
) -> Exposure:
    """Exposure with the vehicle in ``region_by_minute[t]`` at minute t (from the departure)."""
    ambient = np.zeros(HORIZON_MIN)
    for region in set(region_by_minute):
        mask = np.fromiter((r == region for r in region_by_minute), bool, HORIZON_MIN)
        ambient[mask] = ambient_of(table, region)[mask]
    excess = excess_c(ambient, shipment)
    return _accumulate(excess, hold_use(ambient, packaging, excess), departure)
