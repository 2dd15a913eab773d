"""Throughput of the ICH Q1E shelf-life estimate (``q1e.estimate_shelf_life``).

N attribute sets, each of 3 batches × 7 long-term time points (0-24 months), half of them with
batch slopes that pool and half with slopes that don't, are each given the full Q1E evaluation:
three least-squares fits, the ANCOVA F-tests, the confidence bound of the chosen model and where
it meets the specification — once per set in a Python loop (``estimate_shelf_life``), and once
for all sets together (``q1e_many.estimate_shelf_lives``: the same evaluation vectorised across
sets of one layout; its answers are checked equal to the loop's). The ceiling, timed in the same
run, is the least any estimate must do: every batch's least-squares line of every set in one
vectorised NumPy call (normal equations solved as a stack). The ratios say what the statistics
above the bare fits cost, per set and vectorised.

    .venv/bin/python bench/bench_stability.py [--sets 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pharmaqms.lifecycle.rnd.stability.q1e import (
    Observation,
    Pooling,
    ShelfLife,
    estimate_shelf_life,
)
from pharmaqms.lifecycle.rnd.stability.q1e_many import estimate_shelf_lives

MONTHS = np.array([0.0, 3.0, 6.0, 9.0, 12.0, 18.0, 24.0])
BATCHES = ("B1", "B2", "B3")


def make_sets(count: int, seed: int) -> np.ndarray:
    """values[set, batch, time point]: assay falling from ~100 %, noise 0.2 %."""
    rng = np.random.default_rng(seed)
    starts = 100.0 + rng.normal(0.0, 0.3, size=(count, len(BATCHES)))
    slopes = np.full((count, len(BATCHES)), -0.15)
    slopes[1::2] += rng.normal(0.0, 0.08, size=(count // 2, len(BATCHES)))  # half don't pool
    noise = rng.normal(0.0, 0.2, size=(count, len(BATCHES), MONTHS.size))
    return starts[:, :, None] + slopes[:, :, None] * MONTHS[None, None, :] + noise


def observations_of(values: np.ndarray) -> list[list[Observation]]:
    return [
        [
            Observation(BATCHES[b], float(MONTHS[t]), float(values[s, b, t]))
            for b in range(len(BATCHES))
            for t in range(MONTHS.size)
        ]
        for s in range(values.shape[0])
    ]


def project(observations: list[list[Observation]]) -> tuple[float, list[object]]:
    start = time.perf_counter()
    results = [estimate_shelf_life(obs, lower=95.0) for obs in observations]
    return time.perf_counter() - start, list(results)


def project_vectorised(observations: list[list[Observation]]) -> tuple[float, list[object]]:
    start = time.perf_counter()
    results = estimate_shelf_lives(observations, lower=95.0)
    return time.perf_counter() - start, list(results)


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def ceiling(values: np.ndarray) -> tuple[float, np.ndarray]:
    """Every batch's line at once: (XᵀX)β = Xᵀy for all sets × batches."""
    start = time.perf_counter()
    design = np.column_stack([np.ones_like(MONTHS), MONTHS])
    y = values.reshape(-1, MONTHS.size)
    gram = design.T @ design
    beta = np.linalg.solve(gram, (y @ design).T).T  # (sets·batches, 2)
    residual = y - beta @ design.T
    _sse = np.einsum("ij,ij->i", residual, residual)
    return time.perf_counter() - start, beta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20_261_206)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    args = parser.parse_args()

    values = make_sets(args.sets, args.seed)
    observations = observations_of(values)
    ours = min((project(observations) for _ in range(args.repeat)), key=lambda r: r[0])
    many = min((project_vectorised(observations) for _ in range(args.repeat)), key=lambda r: r[0])
    bare = min((ceiling(values) for _ in range(args.repeat)), key=lambda r: r[0])

    # The vectorised answers are the loop's, set by set (1e-9).
    for s, (one, other) in enumerate(zip(ours[1], many[1], strict=True)):
        assert isinstance(one, ShelfLife) and isinstance(other, ShelfLife), s
        assert one.pooling is other.pooling and one.limiting_batch == other.limiting_batch, s
        assert one.shelf_life_months == other.shelf_life_months, s
        assert same(one.estimated_months, other.estimated_months), s
        for name in BATCHES:
            assert same(one.batches[name].slope, other.batches[name].slope), (s, name)

    # The same lines: for the sets evaluated batch by batch, the slopes are the ceiling's.
    beta = bare[1].reshape(args.sets, len(BATCHES), 2)
    checked = 0
    for s, result in enumerate(ours[1]):
        if result.pooling is Pooling.SEPARATE:  # type: ignore[attr-defined]
            for b, name in enumerate(BATCHES):
                fit = result.batches[name]  # type: ignore[attr-defined]
                assert abs(fit.slope - beta[s, b, 1]) < 1e-9, (s, name)
            checked += 1
    poolings: dict[str, int] = {}
    for result in ours[1]:
        key = result.pooling.value  # type: ignore[attr-defined]
        poolings[key] = poolings.get(key, 0) + 1

    per_set = ours[0] / args.sets
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"sets: {args.sets} (3 batches × 7 time points); pooling: {poolings}")
    print(f"slopes checked against the ceiling on {checked} separate-fit sets")
    print(
        f"(a) Q1E estimate: {ours[0]:.3f} s, {per_set * 1e3:.3f} ms a set, "
        f"{args.sets / ours[0]:,.0f} sets/s"
    )
    print(
        f"(b) Q1E estimate, vectorised (estimate_shelf_lives): {many[0] * 1e3:.3f} ms, "
        f"{args.sets / many[0]:,.0f} sets/s; answers equal to (a) on every set"
    )
    print(
        f"(c) ceiling, vectorised least squares: {bare[0] * 1e3:.3f} ms, "
        f"{args.sets / bare[0]:,.0f} sets/s"
    )
    print(
        f"ratio (a)/(c) of throughput: {bare[0] / ours[0]:.5f} (the per-set estimate is "
        f"{ours[0] / bare[0]:,.0f}× the bare fits)"
    )
    print(
        f"ratio (b)/(c) of throughput: {bare[0] / many[0]:.4f} (the vectorised estimate is "
        f"{many[0] / bare[0]:,.0f}× the bare fits; {ours[0] / many[0]:,.0f}× faster than (a))"
    )


if __name__ == "__main__":
    main()
