"""The vectorised Q1E evaluation of many sets gives, set by set, what the per-set function gives
(to 1e-9): random sets of several layouts (one to four batches, different time points, a batch
with a missed pull), each limit side, slopes that pool and slopes that don't, exact lines, and
sets that are refused in their place without stopping the others."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pharmaqms.lifecycle.rnd.stability.q1e import (
    Observation,
    ShelfLife,
    ShelfLifeRefused,
    estimate_shelf_life,
)
from pharmaqms.lifecycle.rnd.stability.q1e_many import estimate_shelf_lives

LAYOUTS = (
    {"A": (0, 3, 6, 9, 12, 18, 24), "B": (0, 3, 6, 9, 12, 18, 24), "C": (0, 3, 6, 9, 12, 18, 24)},
    {"A": (0, 3, 6, 9, 12)},
    {"B1": (0, 3, 6, 9, 12, 18), "B2": (0, 3, 6, 12, 18)},  # B2 missed its 9-month pull
    {"P": (0, 6, 12, 24, 36), "Q": (0, 6, 12, 24, 36), "R": (0, 6, 12), "S": (0, 6, 12, 24)},
)


def _random_sets(rng: np.random.Generator, count: int, *, rising: bool) -> list[list[Observation]]:
    sets = []
    for i in range(count):
        layout = LAYOUTS[i % len(LAYOUTS)]
        spread = (0.0, 0.02, 0.1)[i % 3]  # slopes alike, a little apart, far apart
        noise = 0.0 if i % 17 == 0 else 0.2  # now and then an exact line
        observations = []
        for batch, months in layout.items():
            start = (0.1 if rising else 100.0) + rng.normal(0.0, 0.3 if not rising else 0.01)
            slope = (0.02 if rising else -0.15) + rng.normal(0.0, spread)
            for m in months:
                scale = noise / 10 if rising else noise
                observations.append(
                    Observation(batch, float(m), start + slope * m + rng.normal(0.0, scale))
                )
        sets.append(observations)
    return sets


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _assert_equal(one: ShelfLife, many: ShelfLife) -> None:
    assert many.pooling is one.pooling
    assert many.limiting_batch == one.limiting_batch
    assert many.shelf_life_months == one.shelf_life_months
    assert (many.df, many.sided, many.lower, many.upper) == (
        one.df,
        one.sided,
        one.lower,
        one.upper,
    )
    for name in ("p_slopes", "p_intercepts", "estimated_months", "residual_sd"):
        assert _same(getattr(one, name), getattr(many, name)), name
    assert many.long_term_months == one.long_term_months
    assert many.extrapolation_limit_months == one.extrapolation_limit_months
    assert list(many.batches) == list(one.batches)
    for batch, fit in one.batches.items():
        other = many.batches[batch]
        assert other.n == fit.n
        for name in ("slope", "intercept", "estimated_months"):
            assert _same(getattr(fit, name), getattr(other, name)), (batch, name)


@pytest.mark.parametrize(
    ("lower", "upper", "rising"),
    [(95.0, None, False), (None, 0.5, True), (95.0, 105.0, False)],
)
def test_many_sets_at_once_equal_each_set_on_its_own(
    lower: float | None, upper: float | None, rising: bool
) -> None:
    rng = np.random.default_rng(20261207)
    sets = _random_sets(rng, 240, rising=rising)
    many = estimate_shelf_lives(sets, lower=lower, upper=upper)
    assert len(many) == len(sets)
    poolings = set()
    for observations, answer in zip(sets, many, strict=True):
        one = estimate_shelf_life(observations, lower=lower, upper=upper)
        assert isinstance(answer, ShelfLife)
        _assert_equal(one, answer)
        poolings.add(one.pooling)
    assert len(poolings) == 3  # every model was exercised


def test_a_refused_set_gets_its_refusal_in_its_place() -> None:
    good = [Observation("A", m, 100.0 - 0.1 * m + 0.01 * (m % 2)) for m in (0, 3, 6, 9)]
    short = [Observation("A", m, 100.0) for m in (0, 3)]
    negative = [Observation("A", m, 100.0) for m in (-1, 3, 6)]
    answers = estimate_shelf_lives([good, short, good, negative], lower=95.0)
    assert isinstance(answers[0], ShelfLife) and isinstance(answers[2], ShelfLife)
    for answer, alone in ((answers[1], short), (answers[3], negative)):
        assert isinstance(answer, ShelfLifeRefused)
        with pytest.raises(ShelfLifeRefused) as refused:
            estimate_shelf_life(alone, lower=95.0)
        assert str(answer) == str(refused.value)
    with pytest.raises(ShelfLifeRefused, match="no specification limit"):
        estimate_shelf_life(good)
    assert isinstance(estimate_shelf_lives([good])[0], ShelfLifeRefused)


def test_exact_lines_meet_the_limit_where_the_line_does_whatever_the_rounding() -> None:
    """An exact line's bound has no width: it meets the limit where the line does. That is a
    double root of the crossing's quadratic, which rounding used to push below zero now and then
    ("never"): both functions now take a discriminant within rounding of zero as zero."""
    starts = {"P": 0.1, "Q": 0.104, "R": 0.097, "S": 0.106}
    months = {"P": (0, 6, 12, 24, 36), "Q": (0, 6, 12, 24, 36), "R": (0, 6, 12), "S": (0, 6, 24)}
    observations = [
        Observation(batch, float(m), starts[batch] + 0.02 * m)
        for batch, points in months.items()
        for m in points
    ]
    one = estimate_shelf_life(observations, upper=0.5)
    (many,) = estimate_shelf_lives([observations], upper=0.5)
    assert isinstance(many, ShelfLife)
    for result in (one, many):
        for batch, start in starts.items():
            when = result.batches[batch].estimated_months
            assert when is not None and math.isclose(when, (0.5 - start) / 0.02, rel_tol=1e-6)
        assert result.limiting_batch == "S"
