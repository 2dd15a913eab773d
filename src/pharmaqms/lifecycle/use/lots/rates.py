"""Lot-level disproportionality: is one lot reported more often, per unit distributed, than the
product's other lots?

For a lot L of a product, with cases counted per lot and units distributed per lot::

                      cases   units distributed
    lot L               a          n₁
    other lots          b          n₀

Under "every lot is reported at the same rate", given the a + b cases of the product each case
falls on lot L with probability p = n₁ / (n₁ + n₀), so a ~ Binomial(a + b, p): the exact
conditional test of two Poisson rates (Przyborowski & Wileński 1940; Lehmann, *Testing
Statistical Hypotheses*, §4.5). The one-sided p-value is P(X ≥ a). The rate ratio is
RR = (a / n₁) / (b / n₀); the expected count E = (a + b)·p.

A lot is **flagged** when, in the spirit of the Evans criteria for PRR (a ≥ 3, PRR ≥ 2, χ² ≥ 4):

- a ≥ 3 cases (fewer is anecdote, whatever the rate),
- RR ≥ 2 (reported at least twice as often per unit as the other lots together), and
- p < 0.05 / k, with k the number of lots compared (Bonferroni: every lot of the product is
  tested, so the family-wise chance of flagging a lot that is not out of line stays ≤ 5 %).

Lots without a known distributed quantity take no part: their cases are not added to b and
their units are unknown, so no rate is computed for them (the page says so; a quantity is never
invented). With fewer than two lots of known quantity there is nothing to compare against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

MIN_CASES: Final = 3
MIN_RATE_RATIO: Final = 2.0
FAMILY_ALPHA: Final = 0.05


@dataclass(frozen=True, slots=True)
class LotRate:
    lot_id: int
    cases: int  # a
    units: float | None  # n₁; None: not known
    other_cases: int | None  # b
    other_units: float | None  # n₀
    expected: float | None  # E
    rate_ratio: float | None  # RR (inf when b = 0)
    p_value: float | None
    threshold: float | None  # the p-value a flag needs: 0.05 / k
    flagged: bool
    reason: str

    @property
    def rate_per_1000(self) -> float | None:
        if self.units is None or self.units <= 0:
            return None
        return 1000.0 * self.cases / self.units


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space so large n does not overflow."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(x + 1)
        - math.lgamma(n - x + 1)
        + x * log_p
        + (n - x) * log_q
        for x in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def lot_rates(cases: Mapping[int, int], units: Mapping[int, float]) -> list[LotRate]:
    """Judge every lot in ``cases`` (lot id → cases citing it; lots with none included as 0)
    against the others, using ``units`` (lot id → units distributed; unknown lots absent)."""
    known = [lot for lot in cases if units.get(lot, 0.0) > 0.0]
    total_cases = sum(cases[lot] for lot in known)
    total_units = sum(units[lot] for lot in known)
    k = len(known)
    threshold = FAMILY_ALPHA / k if k else None
    found = []
    for lot in sorted(cases):
        a = cases[lot]
        if lot not in known:
            found.append(
                LotRate(
                    lot,
                    a,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    False,
                    "no quantity distributed is known for this lot: no rate computed",
                )
            )
            continue
        if k < 2:
            found.append(
                LotRate(
                    lot,
                    a,
                    units[lot],
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    False,
                    "no other lot of the product with a known quantity to compare with",
                )
            )
            continue
        n1 = units[lot]
        b, n0 = total_cases - a, total_units - n1
        p = n1 / (n1 + n0)
        expected = (a + b) * p
        ratio = math.inf if b == 0 and a > 0 else ((a / n1) / (b / n0) if b else 0.0)
        p_value = binomial_upper_tail(a, a + b, p)
        assert threshold is not None
        misses = []
        if a < MIN_CASES:
            misses.append(f"fewer than {MIN_CASES} cases")
        if ratio < MIN_RATE_RATIO:
            misses.append(f"rate ratio below {MIN_RATE_RATIO:g}")
        if p_value >= threshold:
            misses.append(f"p = {p_value:.2g} not below {threshold:.2g}")
        flagged = not misses
        reason = (
            f"{a} cases where {expected:.1f} were expected: rate ratio "
            f"{'∞' if math.isinf(ratio) else f'{ratio:.2f}'}, p = {p_value:.2g} < {threshold:.2g}"
            if flagged
            else "not out of line: " + ", ".join(misses)
        )
        found.append(
            LotRate(lot, a, n1, b, n0, expected, ratio, p_value, threshold, flagged, reason)
        )
    return found
