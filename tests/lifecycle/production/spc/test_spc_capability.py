"""Cp, Cpk, Pp, Ppk and Cpm against hand-computed values."""

import math

import pytest

from pharmaqms.lifecycle.production.spc.capability import (
    CapabilityIndices,
    process_capability,
    within_sigma,
)
from pharmaqms.lifecycle.production.spc.charts import ChartKind

# Readings 8, 10, 12: mean 10; squared deviations 4 + 0 + 4 = 8, /(n − 1) = 4, overall SD 2.
READINGS = [8.0, 10.0, 12.0]


def test_two_sided_specification() -> None:
    # LSL 4, USL 22, σ within 1.5, target defaults to the middle, 13:
    # Cp  = 18/(6·1.5) = 2.0           Cpk = min(22 − 10, 10 − 4)/(3·1.5) = 6/4.5 = 4/3
    # Pp  = 18/(6·2)   = 1.5           Ppk = 6/(3·2) = 1.0
    # Cpm = 18/(6·√(2² + (10 − 13)²)) = 3/√13
    indices = process_capability(READINGS, sigma_within=1.5, lsl=4.0, usl=22.0)

    assert indices == CapabilityIndices(
        mean=10.0,
        sigma_within=1.5,
        sigma_overall=2.0,
        lsl=4.0,
        usl=22.0,
        target=13.0,
        cp=2.0,
        cpk=pytest.approx(4 / 3, abs=1e-12),  # type: ignore[arg-type]
        pp=1.5,
        ppk=1.0,
        cpm=pytest.approx(3 / math.sqrt(13), abs=1e-12),  # type: ignore[arg-type]
    )


def test_cpm_with_an_off_centre_target() -> None:
    # Target 12: min(12 − 4, 22 − 12) = 8; √(2² + (10 − 12)²) = 2√2; Cpm = 8/(3·2√2) = 4/(3√2).
    indices = process_capability(READINGS, sigma_within=1.5, lsl=4.0, usl=22.0, target=12.0)

    assert indices.target == 12.0
    assert indices.cpm == pytest.approx(4 / (3 * math.sqrt(2)), abs=1e-12)


def test_upper_limit_only() -> None:
    # USL 16: Cpk = (16 − 10)/(3·1.5) = 4/3, Ppk = 6/(3·2) = 1.0; Cp, Pp and Cpm are undefined.
    indices = process_capability(READINGS, sigma_within=1.5, usl=16.0)

    assert (indices.cp, indices.pp, indices.cpm, indices.lsl, indices.target) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert indices.cpk == pytest.approx(4 / 3, abs=1e-12)
    assert indices.ppk == 1.0


def test_lower_limit_only() -> None:
    # LSL 7: Cpk = (10 − 7)/(3·1.5) = 2/3, Ppk = 3/(3·2) = 0.5.
    indices = process_capability(READINGS, sigma_within=1.5, lsl=7.0)

    assert (indices.cp, indices.pp, indices.cpm, indices.usl) == (None, None, None, None)
    assert indices.cpk == pytest.approx(2 / 3, abs=1e-12)
    assert indices.ppk == 0.5


def test_mean_outside_the_specification_gives_a_negative_cpk() -> None:
    # USL 9 below the mean 10: Cpk = (9 − 10)/(3·1.5) = −2/9.
    indices = process_capability(READINGS, sigma_within=1.5, lsl=0.0, usl=9.0)

    assert indices.cpk == pytest.approx(-2 / 9, abs=1e-12)


def test_within_sigma_follows_the_chart() -> None:
    # Moving ranges of 8, 10, 12 are 2, 2: MR̄/d2(2) = 2/(2/√π) = √π.
    assert within_sigma(ChartKind.INDIVIDUALS, READINGS) == pytest.approx(
        math.sqrt(math.pi), abs=1e-10
    )
    # Subgroups (8, 12) and (9, 11): R̄ = 3 → 3/d2(2) = 1.5√π; S̄ = (2√2 + √2)/2 = 1.5√2 →
    # S̄/c4(2) = 1.5√2/√(2/π) = 1.5√π (for pairs R = √2·S, so both agree).
    subgroups = [[8.0, 12.0], [9.0, 11.0]]
    assert within_sigma(ChartKind.XBAR_R, subgroups) == pytest.approx(
        1.5 * math.sqrt(math.pi), abs=1e-10
    )
    assert within_sigma(ChartKind.XBAR_S, subgroups) == pytest.approx(
        1.5 * math.sqrt(math.pi), abs=1e-10
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma_within": 1.0}, "at least one specification limit"),
        ({"sigma_within": 1.0, "lsl": 5.0, "usl": 5.0}, "must be below USL"),
        ({"sigma_within": 0.0, "usl": 5.0}, "within sigma must be a positive"),
        ({"sigma_within": 1.0, "lsl": 0.0, "usl": 20.0, "target": 25.0}, "target"),
        ({"sigma_within": 1.0, "usl": math.nan}, "USL must be a finite"),
    ],
)
def test_unusable_specifications_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        process_capability(READINGS, **kwargs)


def test_too_few_or_constant_values_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 values"):
        process_capability([1.0], sigma_within=1.0, usl=5.0)
    with pytest.raises(ValueError, match="overall sigma is zero"):
        process_capability([1.0, 1.0], sigma_within=1.0, usl=5.0)
