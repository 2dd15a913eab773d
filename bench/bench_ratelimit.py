"""Rate limit of the public pages, counted in the database so that every server process counts
the same attempts: what one check costs, against its ceiling.

A check (``kernel.http.ratelimit.RateLimiter.allow``) is one short transaction: create the
address's row if missing, lock it, rewrite its list of attempt times, commit. The ceiling is the
least any database-counted limiter must do per request, on the bare driver (sqlite3 /
psycopg): one upsert of a counter row and a commit. Printed: checks per second, p50 and p95 of
one check, and the ratio to the ceiling. 50 addresses, 30 attempts a minute each, in turn.

    .venv/bin/python bench/bench_ratelimit.py [--checks 3000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.http.ratelimit import RateLimiter
from pharmaqms.kernel.observability.models import RateLimitWindow

ADDRESSES = 50
UPSERT = (
    "INSERT INTO counters (key, hits, last_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET hits = counters.hits + 1, last_at = excluded.last_at"
)


def timed(n: int, one: Callable[[int], object]) -> tuple[float, list[float]]:
    times = []
    started = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        one(i)
        times.append(time.perf_counter() - t)
    return n / (time.perf_counter() - started), times


def report(
    engine: str, ours: tuple[float, list[float]], ceiling: tuple[float, list[float]]
) -> None:
    def p(times: list[float], q: int) -> float:
        return statistics.quantiles(times, n=100)[q - 1] * 1000

    print(
        f"{engine:<11} limiter {ours[0]:8.0f} checks/s  p50 {p(ours[1], 50):6.2f} ms  "
        f"p95 {p(ours[1], 95):6.2f} ms | bare upsert {ceiling[0]:8.0f}/s  "
        f"p50 {p(ceiling[1], 50):6.2f} ms | ratio {ours[0] / ceiling[0]:.0%}"
    )


def sqlite_run(checks: int, folder: Path) -> None:
    database = Database(f"sqlite:///{folder / 'limits.db'}")
    RateLimitWindow.__table__.create(database.engine)  # type: ignore[attr-defined]
    limiter = RateLimiter("bench", limit=30, window_s=60)
    ours = timed(checks, lambda i: limiter.allow(f"10.0.{i % ADDRESSES}.1", database))
    database.dispose()

    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE counters (key TEXT PRIMARY KEY, hits INTEGER, last_at REAL)")

    def bare(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(UPSERT.replace("%s", "?"), (f"bench:10.0.{i % ADDRESSES}.1", time.time()))
        conn.execute("COMMIT")

    ceiling = timed(checks, bare)
    conn.close()
    report("SQLite", ours, ceiling)


def postgres_run(checks: int, url: str) -> None:
    name = f"pqms_bench_limits_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    target = make_url(url).set(database=name)
    try:
        database = Database(target.render_as_string(hide_password=False))
        RateLimitWindow.__table__.create(database.engine)  # type: ignore[attr-defined]
        limiter = RateLimiter("bench", limit=30, window_s=60)
        ours = timed(checks, lambda i: limiter.allow(f"10.0.{i % ADDRESSES}.1", database))
        database.dispose()

        plain = target.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain) as conn:
            conn.execute("CREATE TABLE counters (key text PRIMARY KEY, hits int, last_at float8)")
            conn.commit()

            def bare(i: int) -> None:
                conn.execute(UPSERT, (f"bench:10.0.{i % ADDRESSES}.1", time.time()))
                conn.commit()

            ceiling = timed(checks, bare)
        report("PostgreSQL", ours, ceiling)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"{args.checks} checks over {ADDRESSES} addresses, limit 30 a minute each")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_run(args.checks, Path(folder))
    if args.postgres:
        postgres_run(args.checks, args.postgres)


if __name__ == "__main__":
    main()
