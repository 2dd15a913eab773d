"""Mean kinetic temperature (USP ⟨1079.2⟩, Haynes), weighted by duration.

    MKT = (ΔH/R) / −ln( Σ wᵢ·exp(−ΔH/(R·Tᵢ)) / Σ wᵢ )      (T in kelvin = °C + 273.15)

ΔH defaults to 83.144 kJ/mol and R is 8.3144 J/(mol·K), the values the project's domain
reference states, so ΔH/R is 10 000 K. (CODATA's R = 8.314462618 changes the 20 °C/30 °C
example by less than 0.00001 °C.) The weights wᵢ are the durations the readings stand for
(sample-and-hold, :mod:`.readings`); unknown time (gaps) is not weighted — the summary says how
much of it there was.

The sum is computed as a log-sum-exp (the largest exponent factored out), so a large ΔH or a
very cold reading cannot underflow every term to zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.coldchain.readings import (
    SECONDS_PER_HOUR,
    FloatArray,
    TemperatureSeries,
)

DEFAULT_DELTA_H_KJ_PER_MOL = 83.144
GAS_CONSTANT_J_PER_MOL_K = 8.3144
KELVIN_OFFSET = 273.15


def _activation_temperature_k(delta_h_kj_per_mol: float) -> float:
    """ΔH/R in kelvin, refusing a ΔH that is not a positive number."""
    if not (math.isfinite(delta_h_kj_per_mol) and delta_h_kj_per_mol > 0):
        raise InvalidInput(
            f"ΔH must be a positive number of kJ/mol, got {delta_h_kj_per_mol:g}",
            field="delta_h_kj_per_mol",
        )
    return delta_h_kj_per_mol * 1000.0 / GAS_CONSTANT_J_PER_MOL_K


def _weighted_sum(weights: FloatArray, values: FloatArray) -> float:
    # Not np.dot: OpenBLAS splits a long dot product over threads, and on a busy machine
    # (a server's web workers, the 2 shared cores this was measured on) waiting for them cost
    # 30 ms where einsum's single loop takes 1.5.
    return float(np.einsum("i,i->", weights, values))


def _mkt_c(
    temperatures_c: FloatArray, weights: FloatArray, activation_k: float, total_weight: float
) -> float:
    """The MKT of checked inputs (T above absolute zero, weights ≥ 0 with a positive sum),
    in one working array: a year of minutes is 4 MB, and each new array of that size costs
    its page faults."""
    terms = temperatures_c + KELVIN_OFFSET
    np.divide(-activation_k, terms, out=terms)  # the exponents −ΔH/(R·T)
    largest = float(terms.max())
    terms -= largest
    np.exp(terms, out=terms)
    mean_term = _weighted_sum(weights, terms) / total_weight
    return activation_k / -(largest + math.log(mean_term)) - KELVIN_OFFSET


def mean_kinetic_temperature(
    temperatures_c: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    delta_h_kj_per_mol: float = DEFAULT_DELTA_H_KJ_PER_MOL,
) -> float:
    """The MKT in °C of temperatures in °C, each weighted by its duration (equal weights when
    None: equally spaced readings)."""
    temperatures = np.asarray(temperatures_c, dtype=np.float64).ravel()
    if temperatures.size == 0:
        raise InvalidInput("no temperatures")
    if not (np.isfinite(temperatures).all() and (temperatures > -KELVIN_OFFSET).all()):
        raise InvalidInput("temperatures must be finite and above absolute zero")
    if weights is None:
        durations = np.ones_like(temperatures)
    else:
        durations = np.asarray(weights, dtype=np.float64).ravel()
        if durations.shape != temperatures.shape:
            raise InvalidInput("one weight per temperature", field="weights")
        if not (np.isfinite(durations).all() and (durations >= 0).all() and durations.sum() > 0):
            raise InvalidInput(
                "weights must be finite, not negative, with a positive sum", field="weights"
            )
    return _mkt_c(
        temperatures,
        durations,
        _activation_temperature_k(delta_h_kj_per_mol),
        float(durations.sum()),
    )


@dataclass(frozen=True, slots=True)
class MktSummary:
    """The storage period's or journey's temperature in one figure, and what it stands on.

    ``arithmetic_mean_c`` is duration-weighted like the MKT; ``hours`` is the time the readings
    stand for (the weights, the last reading's hold included); ``unknown_hours`` the time in
    gaps, which neither figure covers."""

    mkt_c: float
    arithmetic_mean_c: float
    min_c: float
    max_c: float
    hours: float
    unknown_hours: float
    readings: int
    delta_h_kj_per_mol: float


def summarise_all(
    series: Sequence[TemperatureSeries],
    *,
    delta_h_kj_per_mol: float = DEFAULT_DELTA_H_KJ_PER_MOL,
) -> MktSummary:
    """One MKT over several periods (a lot's journeys and storage) taken as one duration-weighted
    profile."""
    if not series:
        raise InvalidInput("no series of readings")
    activation_k = _activation_temperature_k(delta_h_kj_per_mol)
    if len(series) == 1:
        temperatures, holds = series[0].temperatures_c, series[0].holds_s
    else:
        temperatures = np.concatenate([s.temperatures_c for s in series])
        holds = np.concatenate([s.holds_s for s in series])
    known_s = sum(s.known_s for s in series)
    return MktSummary(
        mkt_c=_mkt_c(temperatures, holds, activation_k, known_s),
        arithmetic_mean_c=_weighted_sum(holds, temperatures) / known_s,
        min_c=min(s.min_c for s in series),
        max_c=max(s.max_c for s in series),
        hours=known_s / SECONDS_PER_HOUR,
        unknown_hours=sum(s.unknown_s for s in series) / SECONDS_PER_HOUR,
        readings=int(temperatures.size),
        delta_h_kj_per_mol=delta_h_kj_per_mol,
    )


def summarise(
    series: TemperatureSeries, *, delta_h_kj_per_mol: float = DEFAULT_DELTA_H_KJ_PER_MOL
) -> MktSummary:
    """MKT, duration-weighted mean, minimum and maximum of one storage period or journey."""
    return summarise_all([series], delta_h_kj_per_mol=delta_h_kj_per_mol)
