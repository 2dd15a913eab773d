"""Nelson and Western Electric run rules, batch and incremental.

Zones are in σ around the centre: with centre 0 and σ 1 a value is its own z-score.
"""

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pharmaqms.lifecycle.production.spc.rules import (
    RuleEvaluator,
    RuleSet,
    Violation,
    evaluate_rules,
    rule_name,
    rules_of,
)

NELSON = RuleSet.NELSON
WESTERN_ELECTRIC = RuleSet.WESTERN_ELECTRIC


def incremental(
    values: Sequence[float],
    *,
    center: float = 0.0,
    sigma: float = 1.0,
    rule_set: RuleSet = NELSON,
    enabled: set[int] | None = None,
) -> list[tuple[int, int]]:
    evaluator = RuleEvaluator(center=center, sigma=sigma, rule_set=rule_set, enabled=enabled)
    return [(rule, index) for index, x in enumerate(values) for rule in evaluator.update(x)]


def batch(
    values: Sequence[float],
    *,
    center: float = 0.0,
    sigma: float = 1.0,
    rule_set: RuleSet = NELSON,
    enabled: set[int] | None = None,
) -> list[tuple[int, int]]:
    found = evaluate_rules(values, center=center, sigma=sigma, rule_set=rule_set, enabled=enabled)
    return [(violation.rule, violation.index) for violation in found]


def violations(
    values: Sequence[float], rule_set: RuleSet = NELSON, enabled: set[int] | None = None
) -> list[tuple[int, int]]:
    """(rule, index) pairs, after checking that both forms report the same."""
    found = batch(values, rule_set=rule_set, enabled=enabled)
    assert incremental(values, rule_set=rule_set, enabled=enabled) == found
    return found


# --- each rule on constructed series ---------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 3.5, -3.1, 3.0, -3.0, 0.5], [(1, 1), (1, 2)]),  # exactly 3σ is not beyond
        ([2.9, -2.9], []),
    ],
)
def test_nelson_1_one_point_beyond_3_sigma(values: list[float], expected: list) -> None:
    assert violations(values, enabled={1}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Nine points above complete the run at index 9 (after one below); the tenth repeats it.
        ([-0.5] + [0.5] * 10, [(2, 9), (2, 10)]),
        ([-0.2] * 9, [(2, 8)]),
        ([0.5] * 8, []),
        # A point on the centre line breaks the run: 8 + centre + 8 is no violation.
        ([0.5] * 8 + [0.0] + [0.5] * 8, []),
        ([0.5] * 8 + [0.0] + [0.5] * 9, [(2, 17)]),
        ([0.5] * 8 + [-0.5] + [0.5] * 8, []),
    ],
)
def test_nelson_2_nine_points_on_one_side(values: list[float], expected: list) -> None:
    assert violations(values, enabled={2}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [(3, 5), (3, 6)]),
        ([0.5, 0.4, 0.3, 0.2, 0.1, 0.0], [(3, 5)]),
        ([0.0, 0.1, 0.2, 0.3, 0.4], []),
        # Equal neighbours break the trend …
        ([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5], []),
        # … and a new one starts from the repeated value.
        ([0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5], [(3, 6)]),
        ([0.0, 0.1, 0.2, 0.3, 0.4, 0.3, 0.2], []),
    ],
)
def test_nelson_3_six_points_trending(values: list[float], expected: list) -> None:
    assert violations(values, enabled={3}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5] * 7, [(4, 13)]),
        ([0.0, 0.5] * 8, [(4, 13), (4, 14), (4, 15)]),
        ([0.0, 0.5] * 6 + [0.0], []),
        # An equal neighbour at indices 5–6 breaks it: only 8 alternating steps follow.
        ([0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5], []),
    ],
)
def test_nelson_4_fourteen_points_alternating(values: list[float], expected: list) -> None:
    assert violations(values, enabled={4}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.5, 0.0, 2.5], [(5, 2)]),
        ([2.5, 2.5, 0.0], [(5, 1)]),  # the third point is not beyond 2σ: it completes nothing
        ([2.5, 0.0, 0.0, 2.5], []),
        ([2.5, -2.5, 2.5], [(5, 2)]),
        ([2.5, -2.5], []),
        ([-2.5, -2.1], [(5, 1)]),
        ([2.0, 2.5], []),  # exactly 2σ is not beyond
    ],
)
def test_nelson_5_two_of_three_beyond_2_sigma(values: list[float], expected: list) -> None:
    assert violations(values, enabled={5}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.5, 1.5, 1.5, 1.5], [(6, 3)]),
        ([1.5, 1.5, 1.5, 0.0, 1.5, 1.5], [(6, 4), (6, 5)]),
        ([1.5, 1.5, 0.0, 0.0, 1.5, 1.5], []),
        ([-1.5, -1.5, -1.5, 1.5, -1.5], [(6, 4)]),
        ([1.0] * 5, []),  # exactly 1σ is not beyond
    ],
)
def test_nelson_6_four_of_five_beyond_1_sigma(values: list[float], expected: list) -> None:
    assert violations(values, enabled={6}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.5, -0.5] * 8, [(7, 14), (7, 15)]),
        # Exactly 1σ and the centre line are within 1σ.
        ([1.0, -1.0, 0.0] * 5, [(7, 14)]),
        ([0.2] * 7 + [1.01] + [0.2] * 14, []),
        ([0.2] * 7 + [1.01] + [0.2] * 15, [(7, 22)]),
    ],
)
def test_nelson_7_fifteen_points_within_1_sigma(values: list[float], expected: list) -> None:
    assert violations(values, enabled={7}) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.5, -1.5] * 4, [(8, 7)]),
        ([2.0] * 9, [(8, 7), (8, 8)]),
        ([1.5, -1.5, 1.5, -1.5, 1.0, -1.5, 1.5, -1.5], []),
    ],
)
def test_nelson_8_eight_points_beyond_1_sigma(values: list[float], expected: list) -> None:
    assert violations(values, enabled={8}) == expected


def test_western_electric_rules_are_numbered_in_their_own_family() -> None:
    assert violations([3.5], WESTERN_ELECTRIC) == [(1, 0)]
    assert violations([2.5, 0.0, 2.5], WESTERN_ELECTRIC) == [(2, 2)]
    assert violations([1.5, 1.5, 1.5, 0.0, 1.5], WESTERN_ELECTRIC) == [(3, 4)]
    # Eight on one side: Western Electric 4, while Nelson 2 needs nine.
    assert violations([0.5] * 8, WESTERN_ELECTRIC) == [(4, 7)]
    assert violations([0.5] * 7 + [0.0] + [0.5] * 7, WESTERN_ELECTRIC) == []
    assert violations([0.5] * 8, NELSON) == []


def test_all_nelson_rules_together_in_index_then_rule_order() -> None:
    assert violations([3.5, 3.5]) == [(1, 0), (1, 1), (5, 1)]
    assert violations([0.5] * 16) == [
        (2, 8),
        (2, 9),
        (2, 10),
        (2, 11),
        (2, 12),
        (2, 13),
        (2, 14),
        (7, 14),
        (2, 15),
        (7, 15),
    ]


def test_rules_can_be_switched_off() -> None:
    assert violations([3.5, 3.5], enabled={1}) == [(1, 0), (1, 1)]
    assert violations([3.5, 3.5], enabled={5}) == [(5, 1)]
    assert violations([3.5, 3.5], enabled=set()) == []


@pytest.mark.parametrize(("rule_set", "number"), [(NELSON, 9), (WESTERN_ELECTRIC, 5)])
def test_unknown_rule_numbers_are_refused(rule_set: RuleSet, number: int) -> None:
    with pytest.raises(ValueError, match=f"has no rule {number}"):
        evaluate_rules([0.0], center=0.0, sigma=1.0, rule_set=rule_set, enabled={number})
    with pytest.raises(ValueError, match=f"has no rule {number}"):
        RuleEvaluator(center=0.0, sigma=1.0, rule_set=rule_set, enabled={number})


def test_violations_carry_the_value_and_rule_name() -> None:
    found = evaluate_rules([100.0, 106.5, 106.0], center=100.0, sigma=2.0, enabled={1})

    assert found == [Violation(NELSON, 1, 1, 106.5)]
    assert found[0].name == "One point beyond 3σ"
    assert rule_name(WESTERN_ELECTRIC, 4) == (
        "Eight points in a row on the same side of the centre line"
    )
    assert [rule.number for rule in rules_of(NELSON)] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [rule.number for rule in rules_of(WESTERN_ELECTRIC)] == [1, 2, 3, 4]


def test_evaluator_counts_and_resets() -> None:
    evaluator = RuleEvaluator(center=0.0, sigma=1.0, enabled={2})
    for _ in range(8):
        assert evaluator.update(0.5) == ()
    assert evaluator.update(0.5) == (2,)
    assert evaluator.count == 9

    evaluator.reset()

    assert evaluator.count == 0
    assert evaluator.update(0.5) == ()


def test_non_finite_readings_and_bad_sigma_are_refused() -> None:
    evaluator = RuleEvaluator(center=0.0, sigma=1.0)
    with pytest.raises(ValueError, match="finite"):
        evaluator.update(math.nan)
    assert evaluator.count == 0
    with pytest.raises(ValueError, match="finite"):
        evaluate_rules([0.0, math.inf], center=0.0, sigma=1.0)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        RuleEvaluator(center=0.0, sigma=0.0)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        evaluate_rules([0.0], center=0.0, sigma=-1.0)


# --- the incremental evaluator agrees with the batch function ----------------------------------

# Multiples of σ/2 land exactly on zone boundaries and the centre line, and repeat often.
GRID = [k / 2 for k in range(-8, 9)]
grid_value = st.sampled_from(GRID)
segment = st.one_of(
    st.lists(grid_value, min_size=1, max_size=20),
    st.builds(lambda value, n: [value] * n, grid_value, st.integers(1, 20)),
    st.builds(lambda a, b, n: [a, b] * n, grid_value, grid_value, st.integers(1, 10)),
    st.builds(
        lambda start, step, n: [start + step * i for i in range(n)],
        st.floats(-3, 3),
        st.floats(-0.5, 0.5),
        st.integers(1, 10),
    ),
    st.lists(st.floats(-4, 4), min_size=1, max_size=20),
)
series = st.lists(segment, max_size=15).map(lambda parts: [x for part in parts for x in part])


@st.composite
def rule_choice(draw: st.DrawFn) -> tuple[RuleSet, set[int] | None]:
    rule_set = draw(st.sampled_from(RuleSet))
    numbers = [rule.number for rule in rules_of(rule_set)]
    return rule_set, draw(st.none() | st.sets(st.sampled_from(numbers)))


@settings(max_examples=400, deadline=None)
@given(series, rule_choice())
def test_incremental_agrees_with_batch_on_structured_series(
    values: list[float], choice: tuple[RuleSet, set[int] | None]
) -> None:
    rule_set, enabled = choice
    assert incremental(values, rule_set=rule_set, enabled=enabled) == batch(
        values, rule_set=rule_set, enabled=enabled
    )


@settings(max_examples=200, deadline=None)
@given(
    series,
    st.floats(-1e3, 1e3),
    st.floats(1e-3, 1e3),
    st.sampled_from(RuleSet),
)
def test_incremental_agrees_with_batch_off_the_unit_scale(
    z_scores: list[float], center: float, sigma: float, rule_set: RuleSet
) -> None:
    values = [center + sigma * z for z in z_scores]
    assert incremental(values, center=center, sigma=sigma, rule_set=rule_set) == batch(
        values, center=center, sigma=sigma, rule_set=rule_set
    )


@pytest.mark.parametrize("seed", range(20))
def test_incremental_agrees_with_batch_on_long_drifting_series(seed: int) -> None:
    rng = np.random.default_rng(seed)
    drift = np.cumsum(rng.normal(0.0, 0.05, 3000))
    values = np.round(rng.normal(0.0, 1.0, 3000) + drift, 1).tolist()

    found = batch(values)

    assert incremental(values) == found
    assert {rule for rule, _ in found} >= {1, 2, 3, 5, 6}
