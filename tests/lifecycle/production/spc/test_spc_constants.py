"""The exact control chart factors against closed forms and the printed 3-decimal tables."""

import math

import pytest

from pharmaqms.lifecycle.production.spc.constants import ChartConstants, chart_constants

# Domain reference §5 (ASTM E2587 / Montgomery Appendix VI): n: (d2, d3, A2, D3, D4).
DOMAIN_REFERENCE = {
    2: (1.128, 0.853, 1.880, 0.0, 3.267),
    3: (1.693, 0.888, 1.023, 0.0, 2.574),
    4: (2.059, 0.880, 0.729, 0.0, 2.282),
    5: (2.326, 0.864, 0.577, 0.0, 2.114),
    6: (2.534, 0.848, 0.483, 0.0, 2.004),
    7: (2.704, 0.833, 0.419, 0.076, 1.924),
    8: (2.847, 0.820, 0.373, 0.136, 1.864),
    9: (2.970, 0.808, 0.337, 0.184, 1.816),
    10: (3.078, 0.797, 0.308, 0.223, 1.777),
}

# Montgomery, Introduction to Statistical Quality Control, Appendix VI, for the sizes the domain
# reference leaves out: n: (d2, d3, A2, D3, D4).
MONTGOMERY_RANGE = {
    11: (3.173, 0.787, 0.285, 0.256, 1.744),
    12: (3.258, 0.778, 0.266, 0.283, 1.717),
    13: (3.336, 0.770, 0.249, 0.307, 1.693),
    14: (3.407, 0.763, 0.235, 0.328, 1.672),
    15: (3.472, 0.756, 0.223, 0.347, 1.653),
    16: (3.532, 0.750, 0.212, 0.363, 1.637),
    17: (3.588, 0.744, 0.203, 0.378, 1.622),
    18: (3.640, 0.739, 0.194, 0.391, 1.608),
    19: (3.689, 0.734, 0.187, 0.403, 1.597),
    20: (3.735, 0.729, 0.180, 0.415, 1.585),
    21: (3.778, 0.724, 0.173, 0.425, 1.575),
    22: (3.819, 0.720, 0.167, 0.434, 1.566),
    23: (3.858, 0.716, 0.162, 0.443, 1.557),
    24: (3.895, 0.712, 0.157, 0.451, 1.548),
    25: (3.931, 0.708, 0.153, 0.459, 1.541),
}

# Same appendix, n: (c4, A3, B3, B4).
MONTGOMERY_SD = {
    2: (0.7979, 2.659, 0.0, 3.267),
    3: (0.8862, 1.954, 0.0, 2.568),
    4: (0.9213, 1.628, 0.0, 2.266),
    5: (0.9400, 1.427, 0.0, 2.089),
    6: (0.9515, 1.287, 0.030, 1.970),
    7: (0.9594, 1.182, 0.118, 1.882),
    8: (0.9650, 1.099, 0.185, 1.815),
    9: (0.9693, 1.032, 0.239, 1.761),
    10: (0.9727, 0.975, 0.284, 1.716),
    11: (0.9754, 0.927, 0.321, 1.679),
    12: (0.9776, 0.886, 0.354, 1.646),
    13: (0.9794, 0.850, 0.382, 1.618),
    14: (0.9810, 0.817, 0.406, 1.594),
    15: (0.9823, 0.789, 0.428, 1.572),
    16: (0.9835, 0.763, 0.448, 1.552),
    17: (0.9845, 0.739, 0.466, 1.534),
    18: (0.9854, 0.718, 0.482, 1.518),
    19: (0.9862, 0.698, 0.497, 1.503),
    20: (0.9869, 0.680, 0.510, 1.490),
    21: (0.9876, 0.663, 0.523, 1.477),
    22: (0.9882, 0.647, 0.534, 1.466),
    23: (0.9887, 0.633, 0.545, 1.455),
    24: (0.9892, 0.619, 0.555, 1.445),
    25: (0.9896, 0.606, 0.565, 1.435),
}

TABLE_TOLERANCE = 1e-3


@pytest.mark.parametrize("n", sorted({**DOMAIN_REFERENCE, **MONTGOMERY_RANGE}))
def test_range_factors_round_to_the_printed_table(n: int) -> None:
    d2, d3, a2, lower, upper = {**DOMAIN_REFERENCE, **MONTGOMERY_RANGE}[n]
    factors = chart_constants(n)
    exact = (factors.d2, factors.d3, factors.A2, factors.D3, factors.D4)
    assert exact == pytest.approx((d2, d3, a2, lower, upper), abs=TABLE_TOLERANCE)


@pytest.mark.parametrize("n", sorted(MONTGOMERY_SD))
def test_sd_factors_round_to_the_printed_table(n: int) -> None:
    c4, a3, lower, upper = MONTGOMERY_SD[n]
    factors = chart_constants(n)
    exact = (factors.c4, factors.A3, factors.B3, factors.B4)
    assert exact == pytest.approx((c4, a3, lower, upper), abs=TABLE_TOLERANCE)


def test_pairs_and_triples_match_their_closed_forms() -> None:
    # n = 2: W = |X1 − X2| = √2·|Z|, so E[W] = 2/√π and E[W²] = 2, d3 = √(2 − 4/π).
    pair = chart_constants(2)
    assert pair.d2 == pytest.approx(2 / math.sqrt(math.pi), abs=1e-10)
    assert pair.d3 == pytest.approx(math.sqrt(2 - 4 / math.pi), abs=1e-9)
    # c4(2) = √(2/1)·Γ(1)/Γ(1/2) = √2/√π.
    assert pair.c4 == pytest.approx(math.sqrt(2 / math.pi), abs=1e-14)
    # n = 3: E[W] = 3/√π (expected range of three normals).
    triple = chart_constants(3)
    assert triple.d2 == pytest.approx(3 / math.sqrt(math.pi), abs=1e-10)
    # c4(3) = √(2/2)·Γ(3/2)/Γ(1) = √π/2.
    assert triple.c4 == pytest.approx(math.sqrt(math.pi) / 2, abs=1e-14)


def test_exact_values_are_used_not_the_rounded_table() -> None:
    # The domain reference quotes exact D4(3) = 2.5746 against the printed 2.574.
    upper_range_factor = chart_constants(3).D4
    assert upper_range_factor == pytest.approx(2.5746, abs=5e-5)
    assert upper_range_factor != 2.574


def test_factors_are_derived_from_d2_d3_c4() -> None:
    factors = chart_constants(7)
    assert factors == ChartConstants(
        n=7,
        d2=factors.d2,
        d3=factors.d3,
        c4=factors.c4,
        A2=3 / (factors.d2 * math.sqrt(7)),
        A3=3 / (factors.c4 * math.sqrt(7)),
        B3=1 - 3 * math.sqrt(1 - factors.c4**2) / factors.c4,
        B4=1 + 3 * math.sqrt(1 - factors.c4**2) / factors.c4,
        D3=1 - 3 * factors.d3 / factors.d2,
        D4=1 + 3 * factors.d3 / factors.d2,
    )


@pytest.mark.parametrize("n", [0, 1, 26])
def test_sizes_outside_2_to_25_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match="between 2 and 25"):
        chart_constants(n)
