"""The lot-level rate test on known answers: pure arithmetic, no database."""

from __future__ import annotations

import math

from pharmaqms.lifecycle.use.lots.rates import binomial_upper_tail, lot_rates


def test_the_binomial_tail_matches_the_direct_sum() -> None:
    n, p = 16, 0.2
    direct = sum(math.comb(n, x) * p**x * (1 - p) ** (n - x) for x in range(12, n + 1))
    assert math.isclose(binomial_upper_tail(12, n, p), direct, rel_tol=1e-9)
    assert binomial_upper_tail(0, 5, 0.3) == 1.0
    assert binomial_upper_tail(6, 5, 0.3) == 0.0
    # Large n does not overflow: the mean itself has about half the mass above it.
    assert 0.45 < binomial_upper_tail(5000, 10_000, 0.5) < 0.51


def test_cases_concentrated_on_one_lot_flag_that_lot_and_no_other() -> None:
    # Five lots of 10 000 units; lot 3 has 12 cases, the others one each.
    cases = {1: 1, 2: 1, 3: 12, 4: 1, 5: 1}
    units = dict.fromkeys(cases, 10_000.0)

    rates = {r.lot_id: r for r in lot_rates(cases, units)}

    hot = rates[3]
    # a = 12, b = 4, n₁ = 10 000, n₀ = 40 000: p = 0.2, E = 3.2, RR = 12.
    assert (hot.cases, hot.other_cases, hot.units, hot.other_units) == (12, 4, 10_000, 40_000)
    assert hot.expected is not None and math.isclose(hot.expected, 3.2)
    assert hot.rate_ratio is not None and math.isclose(hot.rate_ratio, 12.0)
    assert hot.threshold == 0.05 / 5
    assert hot.p_value is not None and hot.p_value < 1e-5
    assert hot.flagged and "12 cases where 3.2 were expected" in hot.reason
    assert [lot for lot, r in rates.items() if r.flagged] == [3]
    assert "fewer than 3 cases" in rates[1].reason


def test_the_same_count_on_a_lot_shipped_more_widely_is_not_out_of_line() -> None:
    # Lot 1 has 6 cases but went out in 60 % of the units: its rate is the others' rate.
    cases = {1: 6, 2: 1, 3: 1, 4: 1, 5: 1}
    units = {1: 60_000.0, 2: 10_000.0, 3: 10_000.0, 4: 10_000.0, 5: 10_000.0}

    rates = {r.lot_id: r for r in lot_rates(cases, units)}

    assert not any(r.flagged for r in rates.values())
    assert rates[1].rate_ratio is not None and math.isclose(rates[1].rate_ratio, 1.0)


def test_a_lot_without_a_known_quantity_gets_no_rate_and_no_flag() -> None:
    cases = {1: 1, 2: 1, 3: 9}
    units = {1: 10_000.0, 2: 10_000.0}  # lot 3's shipped quantity is not known

    rates = {r.lot_id: r for r in lot_rates(cases, units)}

    unknown = rates[3]
    assert (unknown.units, unknown.rate_ratio, unknown.p_value, unknown.flagged) == (
        None,
        None,
        None,
        False,
    )
    assert "no quantity distributed is known" in unknown.reason
    # Its cases are not added to the other lots' b.
    assert rates[1].other_cases == 1


def test_a_single_lot_has_nothing_to_be_compared_with() -> None:
    [only] = lot_rates({7: 20}, {7: 1000.0})
    assert not only.flagged and "no other lot" in only.reason
