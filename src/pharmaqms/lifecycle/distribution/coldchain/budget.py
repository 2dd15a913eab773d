"""The stability budget: how long a product may spend outside its labelled condition, per
temperature band, as its stability data support (time out of refrigeration, TOR), and how much
of it a lot has consumed over all its journeys and storage.

Conventions:

- Only time outside the labelled range consumes the budget; the label's limits are inside it.
- The bands must cover every temperature outside the label exactly once, each side on its own:
  above the label from its upper limit up, below it from its lower limit down. A temperature on
  the edge between two bands belongs to the band further from the label (the harsher one), so
  with bands 8–25 °C and 25–30 °C, 25.0 °C counts against 25–30 °C. A band may span both sides
  (``None``–``None``: "anything out of range", what ``--budget-hours`` of the command line is).
- **Unknown time counts against every band** (the conservative reading): a gap of 2 h could have
  been spent in any band, so each band's consumption includes it. The lot is ``usable`` only
  while every band's remaining time is ≥ 0 even so; ``decided_by_unknown_time`` says when the
  known time alone would have left it usable (a case for QA to look at rather than a plain
  reject).
- Each band is judged on the time spent in it. Whether an hour in a harsher band should also
  count against a milder band's allowance is for the product's stability data to say; it is not
  assumed here.

Use :func:`consume` for each storage period or journey (a value that can be stored), and
:func:`assess_budget` over all of a lot's consumptions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain.excursions import TemperatureRange
from pharmaqms.lifecycle.distribution.coldchain.readings import (
    SECONDS_PER_HOUR,
    FloatArray,
    IntArray,
    TemperatureSeries,
)

_INF = math.inf


@dataclass(frozen=True, slots=True)
class BudgetBand:
    """A temperature band outside the label and the time the stability data allow in it."""

    name: str
    low_c: float | None
    high_c: float | None
    allowed_h: float

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a budget band needs a name")
        if not (math.isfinite(self.allowed_h) and self.allowed_h >= 0):
            raise InvalidInput(f"band {self.name}: the allowed time must be a number of hours ≥ 0")
        for limit in (self.low_c, self.high_c):
            if limit is not None and not math.isfinite(limit):
                raise InvalidInput(f"band {self.name}: its limits must be finite numbers")
        if self.low_c is not None and self.high_c is not None and not self.low_c < self.high_c:
            raise InvalidInput(f"band {self.name}: its lower limit must be below its upper")


def _tile(
    spans: list[tuple[float, float, int]], edge: float, far: float, bands: tuple[BudgetBand, ...]
) -> None:
    """Check that the spans (start, end, band) cover edge…far without a hole or an overlap."""
    outwards = far > edge
    side = "above" if outwards else "below"
    position = edge
    for start, end, index in spans:
        if start != position:
            overlaps = start < position if outwards else start > position
            what = "overlaps the band before it" if overlaps else "leaves a hole before it"
            raise InvalidInput(
                f"band {bands[index].name} {what} {side} the labelled condition: the bands must "
                "cover every temperature outside it exactly once"
            )
        position = end
    if position != far:
        raise InvalidInput(
            f"the bands do not reach {'+' if far > 0 else '−'}∞ {side} the labelled condition: "
            "the bands must cover every temperature outside it"
        )


@dataclass(frozen=True, slots=True)
class StabilityBudget:
    """The labelled condition and the budget bands around it (see the module's conventions)."""

    label: TemperatureRange
    bands: tuple[BudgetBand, ...]
    # Band lookup for each side: the bands' edges in ascending order and the band at each.
    _above_starts: FloatArray = field(init=False, repr=False, compare=False)
    _above_band: IntArray = field(init=False, repr=False, compare=False)
    _below_ends: FloatArray = field(init=False, repr=False, compare=False)
    _below_band: IntArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.bands:
            raise InvalidInput("a stability budget needs at least one band")
        names = [band.name for band in self.bands]
        if len(set(names)) != len(names):
            raise InvalidInput("the bands of a stability budget need different names")
        above: list[tuple[float, float, int]] = []
        below: list[tuple[float, float, int]] = []
        high, low = self.label.high_c, self.label.low_c
        for index, band in enumerate(self.bands):
            band_low = -_INF if band.low_c is None else band.low_c
            band_high = _INF if band.high_c is None else band.high_c
            touches = False
            if high is not None and band_high > high:
                above.append((max(band_low, high), band_high, index))
                touches = True
            if low is not None and band_low < low:
                # Listed from the label outwards: (label side, far side).
                below.append((min(band_high, low), band_low, index))
                touches = True
            if not touches:
                raise InvalidInput(
                    f"band {band.name} lies inside the labelled condition {self.label}"
                )
        above.sort(key=lambda span: span[0])
        below.sort(key=lambda span: -span[0])
        if high is not None:
            _tile(above, high, _INF, self.bands)
        if low is not None:
            _tile(below, low, -_INF, self.bands)
        object.__setattr__(self, "_above_starts", np.array([s[0] for s in above], np.float64))
        object.__setattr__(self, "_above_band", np.array([s[2] for s in above], np.int64))
        ascending = below[::-1]
        object.__setattr__(self, "_below_ends", np.array([s[0] for s in ascending], np.float64))
        object.__setattr__(self, "_below_band", np.array([s[2] for s in ascending], np.int64))

    @classmethod
    def out_of_range(cls, label: TemperatureRange, allowed_h: float) -> StabilityBudget:
        """One allowance for any time outside the label, whatever the temperature."""
        return cls(label, (BudgetBand("out of range", None, None, allowed_h),))

    def band_of(self, temperatures_c: FloatArray) -> IntArray:
        """The band of each temperature; −1 inside the label."""
        bands = np.full(temperatures_c.shape, -1, dtype=np.int64)
        if self.label.high_c is not None:
            above = temperatures_c > self.label.high_c
            # side="right": a temperature on an edge goes to the band starting there (harsher).
            at = np.searchsorted(self._above_starts, temperatures_c[above], side="right") - 1
            bands[above] = self._above_band[at]
        if self.label.low_c is not None:
            below = temperatures_c < self.label.low_c
            # side="left": a temperature on an edge goes to the band ending there (harsher).
            at = np.searchsorted(self._below_ends, temperatures_c[below], side="left")
            bands[below] = self._below_band[at]
        return bands


@dataclass(frozen=True, slots=True)
class BudgetConsumption:
    """What one storage period or journey took from a budget: seconds in each band (in the
    order of ``budget.bands``) and its unknown seconds."""

    budget: StabilityBudget
    in_band_s: tuple[float, ...]
    unknown_s: float

    def __post_init__(self) -> None:
        if len(self.in_band_s) != len(self.budget.bands):
            raise InvalidInput("one time per band of the budget")
        if not all(math.isfinite(s) and s >= 0 for s in (*self.in_band_s, self.unknown_s)):
            raise InvalidInput("times consumed must be finite and not negative")


def consume(budget: StabilityBudget, series: TemperatureSeries) -> BudgetConsumption:
    bands = budget.band_of(series.temperatures_c)
    outside = bands >= 0
    seconds = np.bincount(
        bands[outside], weights=series.holds_s[outside], minlength=len(budget.bands)
    )
    return BudgetConsumption(
        budget=budget,
        in_band_s=tuple(float(s) for s in seconds),
        unknown_s=series.unknown_s,
    )


class Disposition(StrEnum):
    USABLE = "usable"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class BandUsage:
    """One band of a lot's budget: ``consumed_h = out_of_range_h + unknown_h``."""

    band: BudgetBand
    out_of_range_h: float
    unknown_h: float

    @property
    def allowed_h(self) -> float:
        return self.band.allowed_h

    @property
    def consumed_h(self) -> float:
        return self.out_of_range_h + self.unknown_h

    @property
    def remaining_h(self) -> float:
        return self.allowed_h - self.consumed_h


@dataclass(frozen=True, slots=True)
class BudgetAssessment:
    bands: tuple[BandUsage, ...]
    unknown_h: float
    disposition: Disposition
    decided_by_unknown_time: bool

    @property
    def exhausted(self) -> tuple[BandUsage, ...]:
        return tuple(usage for usage in self.bands if usage.remaining_h < 0)


def assess_budget(
    budget: StabilityBudget, consumptions: Iterable[BudgetConsumption]
) -> BudgetAssessment:
    """Consumed and remaining per band, summed over a lot's journeys and storage, and the
    disposition: ``usable`` while every band's remaining time is ≥ 0, else ``reject``."""
    in_band = [0.0] * len(budget.bands)
    unknown = 0.0
    for consumption in consumptions:
        if consumption.budget != budget:
            raise InvalidInput("a consumption computed against another stability budget")
        for index, seconds in enumerate(consumption.in_band_s):
            in_band[index] += seconds
        unknown += consumption.unknown_s
    unknown_h = unknown / SECONDS_PER_HOUR
    usages = tuple(
        BandUsage(band=band, out_of_range_h=seconds / SECONDS_PER_HOUR, unknown_h=unknown_h)
        for band, seconds in zip(budget.bands, in_band, strict=True)
    )
    usable = all(usage.remaining_h >= 0 for usage in usages)
    usable_on_known_time = all(usage.allowed_h - usage.out_of_range_h >= 0 for usage in usages)
    return BudgetAssessment(
        bands=usages,
        unknown_h=unknown_h,
        disposition=Disposition.USABLE if usable else Disposition.REJECT,
        decided_by_unknown_time=usable_on_known_time and not usable,
    )
