"""Signal detection over a FAERS-sized case base: the four methods versus vigipy and versus a
bare Polars group-by, in one run.

N seeded synthetic reports (bench/signals_data.py: Zipf-like drugs and events, 1–5 drugs and
1–4 events per report, drug event profiles, 50 planted signals) become report–drug–event rows.
Timed on the same rows:

- ours: ``scan(rows)`` — counting reports per pair, per drug, per event; PRR with CI and χ²,
  ROR with CI, IC/IC025, the MGPS prior fitted by maximum likelihood and EBGM/EB05/EB95 for
  every pair; the signal rules;
- the ceiling: ``rows.group_by("drug", "event").len()``, the least any pair count costs
  (rows, not distinct reports; no statistics);
- vigipy 3.5.1: ``convert`` + ``prr`` + ``ror`` + ``bcpnn`` + ``gps`` (prior fitted) from its
  input table (the pair counts, made for it by Polars and not timed), on the first
  ``--vigipy-reports`` reports (its GPS quantiles loop in Python per pair: the whole set would
  take far longer). Ours is timed on the same subset for the ratio.

    .venv/bin/python bench/bench_signals.py [--reports 5000000] [--vigipy-reports 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from pharmaqms.lifecycle.use.signals import count_pairs, scan, score_counts

try:  # run as a script from the repository root or from bench/
    from signals_data import generate
except ModuleNotFoundError:  # pragma: no cover
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from signals_data import generate

TARGET_SECONDS = 30.0


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"machine: {model}, {os.cpu_count()} cores, load average {load}; "
        f"Python {platform.python_version()}, Polars {pl.__version__}"
    )


CPU: dict[str, float] = {}


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(work: Callable[[], Any], name: str = "") -> tuple[float, Any]:
    """Wall-clock seconds of ``work`` (and its CPU seconds, all threads and the helper
    process that solves EB05, kept under ``name``: on a shared machine the CPU time says more
    than the wall clock)."""
    cpu, children = time.process_time(), _children_cpu()
    start = time.perf_counter()
    result = work()
    wall = time.perf_counter() - start
    CPU[name] = time.process_time() - cpu + _children_cpu() - children
    return wall, result


def vigipy_run(rows: pl.DataFrame) -> float:
    import pandas as pd
    import vigipy

    table = (
        rows.select("report_id", "drug", "event")
        .unique()
        .group_by("drug", "event")
        .len("count")
        .rename({"drug": "name", "event": "AE"})
        .to_pandas()
    )
    assert isinstance(table, pd.DataFrame)

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            container = vigipy.convert(table)
            options: dict[str, Any] = {"min_events": 1, "decision_metric": "signals"}
            vigipy.prr(container, decision_thres=0, **options)
            vigipy.ror(container, decision_thres=0, **options)
            vigipy.bcpnn(container, decision_thres=0, **options)
            vigipy.gps(container, decision_thres=0, **options)

    seconds, _ = timed(run, "vigipy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--vigipy-reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20_261_206)
    args = parser.parse_args()

    print(machine())
    made, rows = timed(lambda: generate(args.reports, seed=args.seed))
    print(
        f"data: {args.reports:,} reports → {rows.height:,} report–drug–event rows "
        f"(made in {made:.1f} s)"
    )

    ceiling, pairs = timed(lambda: rows.group_by("drug", "event").len(), "ceiling")
    counting, counts = timed(lambda: count_pairs(rows), "counting")
    scoring, _ = timed(lambda: score_counts(counts), "scoring")
    total, result = timed(lambda: scan(rows), "ours")
    fit = result.prior_fit
    print(
        f"ceiling: Polars group_by(drug, event).len() over the rows: {ceiling:.2f} s "
        f"(CPU {CPU['ceiling']:.2f} s; {pairs.height:,} pairs)"
    )
    print(
        f"ours: scan, 4 methods: {total:.2f} s (CPU {CPU['ours']:.2f} s; "
        f"{result.pairs.height:,} pairs; counting {counting:.2f} s, scoring {scoring:.2f} s)"
    )
    if fit is not None:
        print(
            f"  MGPS prior fitted on {fit.pairs:,} pairs squashed to {fit.points:,} points: "
            + ", ".join(f"{v:.4g}" for v in fit.prior.as_tuple())
        )
    flagged = result.pairs.select(pl.col(f"signal_{m}").sum() for m in result.methods).row(0)
    print(
        "  signals: "
        + ", ".join(f"{m} {n:,}" for m, n in zip(result.methods, flagged, strict=True))
    )
    print(
        f"ratio ours / ceiling: {total / ceiling:.1f}× wall, "
        f"{CPU['ours'] / CPU['ceiling']:.1f}× CPU; goal < {TARGET_SECONDS:.0f} s: "
        f"{'met' if total < TARGET_SECONDS else 'NOT met'}"
    )

    subset = rows.filter(pl.col("report_id") < args.vigipy_reports)
    theirs = vigipy_run(subset)
    ours_subset, _ = timed(lambda: scan(subset), "ours subset")
    print(
        f"vigipy on the first {args.vigipy_reports:,} reports ({subset.height:,} rows): "
        f"{theirs:.2f} s (CPU {CPU['vigipy']:.2f} s); ours on the same rows {ours_subset:.2f} s "
        f"(CPU {CPU['ours subset']:.2f} s); vigipy / ours {theirs / ours_subset:.1f}× wall, "
        f"{CPU['vigipy'] / CPU['ours subset']:.1f}× CPU"
    )
    print(machine())


if __name__ == "__main__":
    main()
