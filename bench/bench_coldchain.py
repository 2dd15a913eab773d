"""Benchmark: mean kinetic temperature and excursions over a year of 1-minute readings per
sensor, against a bare vectorised NumPy ceiling, in the same run.

Run: ``.venv/bin/python bench/bench_coldchain.py [--sensors 1000] [--minutes 525600]``

A year of 1-minute readings is 525,600 per sensor, 525.6 million for 1,000 sensors: too much
for memory at once, so sensors are generated and processed one at a time (generation is not
timed). Each sensor is a 2–8 °C store: 5 °C ± noise with a seasonal swing, and about 30
excursions a year (door openings, a compressor failure, a freezing episode) of 5 minutes to 6
hours; no gaps, so both sides answer the same question.

- **pharmaqms**: ``series_from_arrays`` (checks: plausible temperatures, strictly increasing
  times; holds by sample-and-hold with the interval taken as the median and gaps looked for),
  ``summarise`` (MKT as a log-sum-exp, duration-weighted mean, min, max) and
  ``find_excursions`` against 2–8 °C (each excursion's start, duration, min, max,
  degree-minutes, gap flags; minutes out).
- **ceiling**: the least a vectorised computation of the same figures does in NumPy: holds from
  the time differences, the MKT sum (in place, one working array), the duration-weighted mean,
  min and max, the out-of-range mask, the run starts and the per-run sums, minima and maxima
  with ``reduceat``. No checks, no gaps, no median, no log-sum-exp. Weighted sums use
  ``einsum`` on both sides: OpenBLAS's threaded ``np.dot`` costs 20× more on a busy 2-core
  machine, which would flatter whichever side used it.

The two are interleaved sensor by sensor (the same load on both) and their answers compared.
The goal: pharmaqms within 2× of the ceiling.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pharmaqms.lifecycle.distribution.coldchain import (
    TemperatureRange,
    find_excursions,
    series_from_arrays,
    summarise,
)

GOAL_RATIO = 2.0
LOW_C, HIGH_C = 2.0, 8.0
ACTIVATION_K = 83_144 / 8.3144
MINUTE_US = 60_000_000
YEAR_START_US = 1_767_225_600 * 1_000_000  # 2026-01-01T00:00Z


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, load average {load}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; NumPy {np.__version__}"
    )


def sensor_year(rng: np.random.Generator, minutes: int) -> NDArray[np.float64]:
    """One store's temperatures, a reading a minute."""
    t = np.arange(minutes, dtype=np.float64)
    temperatures = 5.0 + 0.8 * np.sin(2 * np.pi * t / minutes) + rng.normal(0.0, 0.4, minutes)
    for _ in range(rng.poisson(30)):
        start = int(rng.integers(0, minutes))
        length = int(rng.integers(5, 360))
        shift = rng.choice([4.0, 7.0, 15.0, -5.0])
        temperatures[start : start + length] += shift
    return np.round(temperatures, 2)


@dataclass(frozen=True)
class Answer:
    mkt_c: float
    minutes_out: float
    excursions: int
    degree_minutes: float


def with_pharmaqms(times_us: NDArray[np.int64], temperatures: NDArray[np.float64]) -> Answer:
    series = series_from_arrays(times_us, temperatures)
    summary = summarise(series)
    report = find_excursions(series, TemperatureRange(LOW_C, HIGH_C))
    return Answer(
        summary.mkt_c,
        report.total_minutes_out,
        len(report.excursions),
        float(report.excursions.degree_minutes.sum()),
    )


def ceiling(times_us: NDArray[np.int64], temperatures: NDArray[np.float64]) -> Answer:
    holds = np.empty(temperatures.size)
    np.divide(np.diff(times_us), 1e6, out=holds[:-1])
    holds[-1] = holds[-2]
    total = holds.sum()
    terms = temperatures + 273.15
    np.divide(-ACTIVATION_K, terms, out=terms)
    np.exp(terms, out=terms)
    mkt_c = ACTIVATION_K / -math.log(float(np.einsum("i,i->", holds, terms)) / total) - 273.15
    _mean = float(np.einsum("i,i->", holds, temperatures)) / total
    _low, _high = temperatures.min(), temperatures.max()
    out = np.flatnonzero((temperatures > HIGH_C) | (temperatures < LOW_C))
    out_t, out_h = temperatures[out], holds[out]
    starts = np.flatnonzero(np.r_[True, np.diff(out) != 1])
    distance = np.maximum(out_t - HIGH_C, 0.0) + np.maximum(LOW_C - out_t, 0.0)
    _durations = np.add.reduceat(out_h, starts)
    degree_minutes = np.add.reduceat(distance * out_h, starts) / 60.0
    _minima = np.minimum.reduceat(out_t, starts)
    _maxima = np.maximum.reduceat(out_t, starts)
    _starts_us = times_us[out[starts]]
    return Answer(mkt_c, float(out_h.sum()) / 60.0, int(starts.size), float(degree_minutes.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=1_000)
    parser.add_argument("--minutes", type=int, default=525_600, help="readings per sensor")
    parser.add_argument("--seed", type=int, default=20_260_101)
    args = parser.parse_args()

    print(machine())
    rng = np.random.default_rng(args.seed)
    times_us = YEAR_START_US + np.arange(args.minutes, dtype=np.int64) * MINUTE_US
    ours = bare = generating = 0.0
    excursions = 0
    per_sensor_ratios = []
    started = time.perf_counter()
    for sensor in range(args.sensors):
        clock = time.perf_counter()
        temperatures = sensor_year(rng, args.minutes)
        generating += time.perf_counter() - clock
        # Alternate which goes first, so that neither always finds the caches warm.
        order = (with_pharmaqms, ceiling) if sensor % 2 == 0 else (ceiling, with_pharmaqms)
        timings: dict[str, float] = {}
        answers: dict[str, Answer] = {}
        for compute in order:
            clock = time.perf_counter()
            answers[compute.__name__] = compute(times_us, temperatures)
            timings[compute.__name__] = time.perf_counter() - clock
        mine, theirs = answers["with_pharmaqms"], answers["ceiling"]
        if not (
            math.isclose(mine.mkt_c, theirs.mkt_c, abs_tol=1e-9)
            and math.isclose(mine.minutes_out, theirs.minutes_out, rel_tol=1e-12)
            and mine.excursions == theirs.excursions
            and math.isclose(mine.degree_minutes, theirs.degree_minutes, rel_tol=1e-9)
        ):
            raise SystemExit(f"sensor {sensor}: the answers differ: {mine} vs {theirs}")
        ours += timings["with_pharmaqms"]
        bare += timings["ceiling"]
        per_sensor_ratios.append(timings["with_pharmaqms"] / timings["ceiling"])
        excursions += mine.excursions
    elapsed = time.perf_counter() - started

    readings = args.sensors * args.minutes
    ratio = ours / bare
    print(
        f"{args.sensors:,} sensors × {args.minutes:,} readings = {readings:,} readings, "
        f"{excursions:,} excursions against {LOW_C:g}–{HIGH_C:g} °C; answers agree"
    )
    print(f"pharmaqms : {ours:8.2f} s  {readings / ours:>14,.0f} readings/s")
    print(f"ceiling   : {bare:8.2f} s  {readings / bare:>14,.0f} readings/s")
    print(
        f"ratio     : {ratio:8.2f}   (per sensor: median {np.median(per_sensor_ratios):.2f}, "
        f"p95 {np.percentile(per_sensor_ratios, 95):.2f})"
    )
    print(
        f"goal within {GOAL_RATIO:g}× of the ceiling: {'met' if ratio <= GOAL_RATIO else 'MISSED'}"
    )
    print(f"(generating the data: {generating:.1f} s; whole run {elapsed:.1f} s)")
    print(machine())


if __name__ == "__main__":
    main()
