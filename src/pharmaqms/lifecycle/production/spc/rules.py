"""Run rules (tests for special causes): the eight Nelson rules and the four Western Electric rules.

Conventions, where the published rules are silent:

- Zones are measured in σ of the plotted statistic around the centre line c. "Beyond kσ" means
  strictly beyond: x > c + kσ or x < c − kσ. "Within 1σ" is its complement, |x − c| ≤ σ, so a
  point exactly on a zone boundary is not beyond it.
- A point exactly on the centre line is on neither side: it breaks a same-side run (Nelson 2,
  Western Electric 4). It is within 1σ, so it continues a Nelson 7 run.
- Equal neighbours (xᵢ = xᵢ₋₁) break a trend (Nelson 3) and an alternation (Nelson 4); a new
  trend or alternation starts from the repeated value.
- "k out of m" rules (Nelson 5 and 6, Western Electric 2 and 3) count the last m points including
  the current one (fewer at the start of the series), and the current point must itself be
  beyond the zone on the same side: a point that is not beyond completes nothing.
- A violation is reported at the 0-based index of the point that completes the pattern, and again
  on every later point while the pattern persists (Minitab style): ten points above the centre
  give Nelson 2 violations at indices 8 and 9.

Two forms share these definitions: :func:`evaluate_rules` checks a whole series with NumPy, and
:class:`RuleEvaluator` is fed one reading at a time for live monitoring.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

BoolArray = NDArray[np.bool_]

# Each rule of either family is one of these patterns; the pattern bits are also the Nelson rule
# numbers (bit n−1 for rule n), which keeps the Nelson lookup an identity.
_BEYOND_3 = 1 << 0
_SIDE_RUN = 1 << 1
_TREND = 1 << 2
_ALTERNATION = 1 << 3
_TWO_OF_THREE = 1 << 4
_FOUR_OF_FIVE = 1 << 5
_WITHIN_1_RUN = 1 << 6
_BEYOND_1_RUN = 1 << 7
_PATTERN_COUNT = 8

# Run lengths in points; a trend of 6 points is 5 rising steps, 14 alternating points are 13 steps.
_TREND_STEPS = 5
_ALTERNATION_STEPS = 13
_WITHIN_1_POINTS = 15
_BEYOND_1_POINTS = 8


class RuleSet(StrEnum):
    NELSON = "nelson"
    WESTERN_ELECTRIC = "western-electric"


@dataclass(frozen=True, slots=True)
class Rule:
    rule_set: RuleSet
    number: int
    name: str
    pattern: int


_NELSON = (
    Rule(RuleSet.NELSON, 1, "One point beyond 3σ", _BEYOND_3),
    Rule(RuleSet.NELSON, 2, "Nine points in a row on the same side of the centre line", _SIDE_RUN),
    Rule(RuleSet.NELSON, 3, "Six points in a row steadily increasing or decreasing", _TREND),
    Rule(RuleSet.NELSON, 4, "Fourteen points in a row alternating up and down", _ALTERNATION),
    Rule(RuleSet.NELSON, 5, "Two out of three points beyond 2σ on the same side", _TWO_OF_THREE),
    Rule(RuleSet.NELSON, 6, "Four out of five points beyond 1σ on the same side", _FOUR_OF_FIVE),
    Rule(RuleSet.NELSON, 7, "Fifteen points in a row within 1σ", _WITHIN_1_RUN),
    Rule(RuleSet.NELSON, 8, "Eight points in a row beyond 1σ on either side", _BEYOND_1_RUN),
)
_WESTERN_ELECTRIC = (
    Rule(RuleSet.WESTERN_ELECTRIC, 1, "One point beyond 3σ", _BEYOND_3),
    Rule(
        RuleSet.WESTERN_ELECTRIC,
        2,
        "Two out of three points beyond 2σ on the same side",
        _TWO_OF_THREE,
    ),
    Rule(
        RuleSet.WESTERN_ELECTRIC,
        3,
        "Four out of five points beyond 1σ on the same side",
        _FOUR_OF_FIVE,
    ),
    Rule(
        RuleSet.WESTERN_ELECTRIC,
        4,
        "Eight points in a row on the same side of the centre line",
        _SIDE_RUN,
    ),
)
_RULES: dict[RuleSet, tuple[Rule, ...]] = {
    RuleSet.NELSON: _NELSON,
    RuleSet.WESTERN_ELECTRIC: _WESTERN_ELECTRIC,
}
_SIDE_RUN_POINTS: dict[RuleSet, int] = {RuleSet.NELSON: 9, RuleSet.WESTERN_ELECTRIC: 8}


def _rules_by_pattern_mask(rules: tuple[Rule, ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(
        tuple(rule.number for rule in rules if rule.pattern & mask)
        for mask in range(1 << _PATTERN_COUNT)
    )


# The incremental evaluator turns its pattern bits into rule numbers with one tuple index.
_RULE_NUMBERS_BY_MASK: dict[RuleSet, tuple[tuple[int, ...], ...]] = {
    rule_set: _rules_by_pattern_mask(rules) for rule_set, rules in _RULES.items()
}

# Popcount of a 4-bit window: "4 of 5" with the current point beyond needs 3 of the 4 before it.
_AT_LEAST_3_OF_4 = tuple(bin(mask).count("1") >= 3 for mask in range(16))


def rules_of(rule_set: RuleSet) -> tuple[Rule, ...]:
    return _RULES[rule_set]


def rule_name(rule_set: RuleSet, number: int) -> str:
    return _rule(rule_set, number).name


def _rule(rule_set: RuleSet, number: int) -> Rule:
    for rule in _RULES[rule_set]:
        if rule.number == number:
            return rule
    raise ValueError(f"{rule_set} has no rule {number}")


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken at ``index``, the 0-based position of the point completing the pattern."""

    rule_set: RuleSet
    rule: int
    index: int
    value: float

    @property
    def name(self) -> str:
        return rule_name(self.rule_set, self.rule)


@dataclass(frozen=True, slots=True)
class _Zones:
    center: float
    upper_1: float
    upper_2: float
    upper_3: float
    lower_1: float
    lower_2: float
    lower_3: float


def _zones(center: float, sigma: float) -> _Zones:
    # Both forms compare readings with these very floats, so a point on a boundary falls on the
    # same side in the batch and the incremental evaluation.
    if not math.isfinite(center):
        raise ValueError("centre must be a finite number")
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError("sigma must be a positive finite number")
    center, sigma = float(center), float(sigma)
    return _Zones(
        center=center,
        upper_1=center + sigma,
        upper_2=center + 2.0 * sigma,
        upper_3=center + 3.0 * sigma,
        lower_1=center - sigma,
        lower_2=center - 2.0 * sigma,
        lower_3=center - 3.0 * sigma,
    )


def _enabled_rules(rule_set: RuleSet, enabled: Iterable[int] | None) -> tuple[Rule, ...]:
    if enabled is None:
        return _RULES[rule_set]
    wanted = set(enabled)
    return tuple(_rule(rule_set, number) for number in sorted(wanted))


# --- batch form -----------------------------------------------------------------------------


def _run_lengths(mask: BoolArray) -> NDArray[np.int64]:
    """Length of the run of True ending at each position (0 where False)."""
    positions = np.arange(mask.size, dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(mask, -1, positions))
    return np.asarray(positions - last_false, dtype=np.int64)


def _trailing_counts(mask: BoolArray, window: int) -> NDArray[np.int64]:
    """How many of the last ``window`` positions (including this one) are True."""
    cumulative = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    ends = np.arange(1, mask.size + 1)
    starts = np.maximum(ends - window, 0)
    return np.asarray(cumulative[ends] - cumulative[starts], dtype=np.int64)


def _k_of_m(upper: BoolArray, lower: BoolArray, k: int, m: int) -> BoolArray:
    return (upper & (_trailing_counts(upper, m) >= k)) | (lower & (_trailing_counts(lower, m) >= k))


def _step_pattern(steps: BoolArray) -> BoolArray:
    """Shift a per-step flag (step j joins points j and j+1) onto the later point."""
    return np.concatenate(([False], steps))


def _pattern_flags(
    x: NDArray[np.float64], zones: _Zones, pattern: int, side_run_points: int
) -> BoolArray:
    if pattern == _BEYOND_3:
        return (x > zones.upper_3) | (x < zones.lower_3)
    if pattern == _SIDE_RUN:
        longest = np.maximum(_run_lengths(x > zones.center), _run_lengths(x < zones.center))
        return longest >= side_run_points
    if pattern == _TWO_OF_THREE:
        return _k_of_m(x > zones.upper_2, x < zones.lower_2, 2, 3)
    if pattern == _FOUR_OF_FIVE:
        return _k_of_m(x > zones.upper_1, x < zones.lower_1, 4, 5)
    if pattern == _WITHIN_1_RUN:
        within = (x <= zones.upper_1) & (x >= zones.lower_1)
        return _run_lengths(within) >= _WITHIN_1_POINTS
    if pattern == _BEYOND_1_RUN:
        beyond = (x > zones.upper_1) | (x < zones.lower_1)
        return _run_lengths(beyond) >= _BEYOND_1_POINTS
    step = np.sign(np.diff(x))
    if pattern == _TREND:
        longest = np.maximum(_run_lengths(step > 0), _run_lengths(step < 0))
        return _step_pattern(longest >= _TREND_STEPS)
    if pattern == _ALTERNATION:
        turns = np.concatenate(([False], (step[1:] * step[:-1]) < 0))
        # A non-zero step starts an alternation of length 1; each turn extends it by one.
        length = np.where(step != 0, _run_lengths(turns) + 1, 0)
        return _step_pattern(length >= _ALTERNATION_STEPS)
    raise AssertionError(f"unknown pattern {pattern}")


def evaluate_rules(
    values: ArrayLike,
    *,
    center: float,
    sigma: float,
    rule_set: RuleSet = RuleSet.NELSON,
    enabled: Collection[int] | None = None,
) -> list[Violation]:
    """Every violation in a series, ordered by index then rule number.

    ``sigma`` is the σ of the plotted statistic (σ/√n for subgroup means). ``enabled`` holds the
    rule numbers to apply (all rules of the set when None). See the module docstring for the
    conventions on ties, the centre line and where a violation is reported.
    """
    zones = _zones(center, sigma)
    rules = _enabled_rules(rule_set, enabled)
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("values must be a one-dimensional sequence")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite numbers")
    found: list[Violation] = []
    side_run_points = _SIDE_RUN_POINTS[rule_set]
    for rule in rules:
        flags = _pattern_flags(x, zones, rule.pattern, side_run_points)
        found.extend(
            Violation(rule_set, rule.number, int(i), float(x[i])) for i in np.flatnonzero(flags)
        )
    found.sort(key=lambda violation: (violation.index, violation.rule))
    return found


# --- incremental form -----------------------------------------------------------------------


class RuleEvaluator:
    """Run rules evaluated one reading at a time, in O(1) per reading.

    ``update(value)`` returns the numbers of the rules that the reading breaks under the
    conventions of this module, which are exactly the violations :func:`evaluate_rules` reports
    at that reading's index. The state is a handful of counters plus bit masks holding the last
    three and five zone flags (a ring of fixed size), so memory does not grow with the series.

    Live monitoring keeps one evaluator per parameter and calls ``update`` at high rates, so the
    method is written flat on plain ints and floats: no NumPy, no per-rule calls.
    """

    __slots__ = (
        "_alternation",
        "_beyond_run",
        "_center",
        "_count",
        "_enabled_mask",
        "_high_1",
        "_high_2",
        "_low_1",
        "_low_2",
        "_lower_1",
        "_lower_2",
        "_lower_3",
        "_previous",
        "_rule_numbers",
        "_side_run",
        "_side_run_points",
        "_trend",
        "_upper_1",
        "_upper_2",
        "_upper_3",
        "_within_run",
        "rule_set",
    )

    def __init__(
        self,
        *,
        center: float,
        sigma: float,
        rule_set: RuleSet = RuleSet.NELSON,
        enabled: Collection[int] | None = None,
    ) -> None:
        zones = _zones(center, sigma)
        self.rule_set = rule_set
        self._center = zones.center
        self._upper_1, self._upper_2, self._upper_3 = zones.upper_1, zones.upper_2, zones.upper_3
        self._lower_1, self._lower_2, self._lower_3 = zones.lower_1, zones.lower_2, zones.lower_3
        self._side_run_points = _SIDE_RUN_POINTS[rule_set]
        self._enabled_mask = 0
        for rule in _enabled_rules(rule_set, enabled):
            self._enabled_mask |= rule.pattern
        self._rule_numbers = _RULE_NUMBERS_BY_MASK[rule_set]
        self.reset()

    def reset(self) -> None:
        """Forget the history, as if no reading had been fed."""
        self._count = 0
        # NaN compares false with everything, so the first reading has no step: no trend and no
        # alternation, the same as the batch form where a series starts without a step.
        self._previous = math.nan
        # Signed counters: the sign is the side (or direction), the magnitude the run length.
        self._side_run = 0
        self._trend = 0
        self._alternation = 0
        self._within_run = 0
        self._beyond_run = 0
        # Bit i set = the reading i steps back was beyond the zone on that side.
        self._high_1 = self._low_1 = 0
        self._high_2 = self._low_2 = 0

    @property
    def count(self) -> int:
        """Readings fed so far; the next reading gets this 0-based index."""
        return self._count

    def update(self, value: float) -> tuple[int, ...]:
        """Feed one reading; return the rule numbers it breaks, ascending (empty when none)."""
        if not math.isfinite(value):
            raise ValueError("reading must be a finite number")
        hits = 0
        high_1 = (self._high_1 << 1) & 0b11111
        low_1 = (self._low_1 << 1) & 0b11111
        high_2 = (self._high_2 << 1) & 0b111
        low_2 = (self._low_2 << 1) & 0b111
        if value > self._center:
            side = self._side_run + 1 if self._side_run > 0 else 1
            if value > self._upper_1:
                high_1 |= 1
                if _AT_LEAST_3_OF_4[high_1 >> 1]:
                    hits = _FOUR_OF_FIVE
                if value > self._upper_2:
                    high_2 |= 1
                    if high_2 & 0b110:
                        hits |= _TWO_OF_THREE
                    if value > self._upper_3:
                        hits |= _BEYOND_3
                beyond = self._beyond_run + 1
                within = 0
            else:
                beyond = 0
                within = self._within_run + 1
        elif value < self._center:
            side = self._side_run - 1 if self._side_run < 0 else -1
            if value < self._lower_1:
                low_1 |= 1
                if _AT_LEAST_3_OF_4[low_1 >> 1]:
                    hits = _FOUR_OF_FIVE
                if value < self._lower_2:
                    low_2 |= 1
                    if low_2 & 0b110:
                        hits |= _TWO_OF_THREE
                    if value < self._lower_3:
                        hits |= _BEYOND_3
                beyond = self._beyond_run + 1
                within = 0
            else:
                beyond = 0
                within = self._within_run + 1
        else:
            side = 0
            beyond = 0
            within = self._within_run + 1
        if side >= self._side_run_points or -side >= self._side_run_points:
            hits |= _SIDE_RUN
        if within >= _WITHIN_1_POINTS:
            hits |= _WITHIN_1_RUN
        if beyond >= _BEYOND_1_POINTS:
            hits |= _BEYOND_1_RUN

        previous = self._previous
        if value > previous:
            trend = self._trend + 1 if self._trend > 0 else 1
            alternation = 1 - self._alternation if self._alternation < 0 else 1
        elif value < previous:
            trend = self._trend - 1 if self._trend < 0 else -1
            alternation = -1 - self._alternation if self._alternation > 0 else -1
        else:
            trend = 0
            alternation = 0
        if trend >= _TREND_STEPS or -trend >= _TREND_STEPS:
            hits |= _TREND
        if alternation >= _ALTERNATION_STEPS or -alternation >= _ALTERNATION_STEPS:
            hits |= _ALTERNATION

        self._count += 1
        self._previous = value
        self._side_run = side
        self._within_run = within
        self._beyond_run = beyond
        self._trend = trend
        self._alternation = alternation
        self._high_1, self._low_1, self._high_2, self._low_2 = high_1, low_1, high_2, low_2
        hits &= self._enabled_mask
        return self._rule_numbers[hits] if hits else ()
