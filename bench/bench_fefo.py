"""Benchmark: a FEFO picking proposal over 100,000 stock lines.

Run: ``.venv/bin/python bench/bench_fefo.py [--lines 100000] [--repeat 5]``

Measures, in the same run, on the same generated stock (lots of one product at many
locations, 20 % of the lines quarantined, on hold, recalled or expired, expiries over four
years, a customer needing 180 days):

1. the project: ``fefo.propose`` — every line through the rule table (each exclusion with its
   reasons and basis), the offered lines sorted by expiry, picks until the quantity is met;
2. the ceiling: a bare ``sorted()`` of the same lines by (expiry, lot, location) after one
   comprehension keeping released lines with enough shelf life — the least any FEFO must do,
   with no reasons recorded.

Prints the median of ``repeat`` runs of each and their ratio. Pure Python, no database: the
stock read is the platform's (measured by the stock register's own queries, not here).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from datetime import date, timedelta

from pharmaqms.lifecycle.distribution.inventory.fefo import propose
from pharmaqms.lifecycle.distribution.inventory.rules import CustomerTerms, StockFacts
from pharmaqms.platform.inventory.stock import StockStatus

DELIVERY = date(2026, 12, 6)
STATUSES = [StockStatus.RELEASED] * 16 + [
    StockStatus.QUARANTINE,
    StockStatus.ON_HOLD,
    StockStatus.RECALLED,
    StockStatus.EXPIRED,
]


def stock(lines: int, seed: int = 7) -> list[StockFacts]:
    rng = random.Random(seed)
    return [
        StockFacts(
            lot_number=f"L{rng.randrange(lines // 4):06d}",
            location_code=f"WH-{rng.randrange(200):03d}",
            status=rng.choice(STATUSES),
            why="",
            expires_on=DELIVERY + timedelta(days=rng.randrange(-60, 1400)),
            shelf_life_months=36,
            quantity=float(rng.randrange(1, 500)),
            delivery_on=DELIVERY,
        )
        for _ in range(lines)
    ]


def ceiling(lines: list[StockFacts], quantity: float, min_days: int) -> float:
    limit = DELIVERY + timedelta(days=min_days)
    good = [
        f
        for f in lines
        if f.status is StockStatus.RELEASED and f.expires_on is not None and f.expires_on >= limit
    ]
    good.sort(key=lambda f: (f.expires_on, f.lot_number, f.location_code))
    taken = 0.0
    for f in good:
        if taken >= quantity:
            break
        taken += min(f.quantity, quantity - taken)
    return taken


def timed(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines = stock(args.lines)
    quantity = sum(f.quantity for f in lines) / 3  # a third of all stock: deep into the list
    terms = CustomerTerms(min_days=180)
    proposal = propose(quantity, lines, terms)
    assert abs(proposal.proposed - ceiling(lines, quantity, 180)) < 1e-6
    ours = timed(lambda: propose(quantity, lines, terms), args.repeat)
    bare = timed(lambda: ceiling(lines, quantity, 180), args.repeat)
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"{args.lines:,} stock lines, {len(proposal.picks):,} picks, "
        f"{len(proposal.excluded):,} excluded"
    )
    print(f"project  fefo.propose          median {ours * 1000:8.1f} ms")
    print(f"ceiling  filter + sorted()     median {bare * 1000:8.1f} ms")
    print(f"ratio project / ceiling: {ours / bare:.2f}")


if __name__ == "__main__":
    main()
