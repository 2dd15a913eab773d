"""Benchmark: EPCIS trace and recall scope of one lot on PostgreSQL, ``epcis_events``
partitioned by month (migration 0050_kernel_partitions), with its ceiling in the same run.

Run: ``.venv/bin/python bench/bench_pg_partitions.py [--lots 21500] [--months 24]
[--samples 100] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]``
(10 million events: ``--lots 206800``; the load is the long part).

1. A fresh database made by the migrations (the partitioned tables as a new installation has
   them). The supply chain of ``bench_trace.py`` — one generated block of lots replicated by
   text substitution (``chain_replica.py``, rows as the EPCIS connector writes them) — with
   the replicas spread over ``--months`` months (as a company's events arrive over time,
   not the generator's one lot every 6 hours over a century), so the events fill that many
   monthly partitions. The history partition the migration made for earlier rows is empty
   here and dropped, and ``pharmaqms_ensure_partitions`` creates the months of the chain.
   Written with ``COPY`` (psycopg), secondary indexes built at the end, then ANALYZE.
2. For ``--samples`` lots chosen at random: ``recall_scope`` through the application's code
   (SQLAlchemy, the application's queries), each checked against the generator's answer.
   p50 and p95, wall clock.
3. The ceiling, in the same run: bare SQL through psycopg of what any trace must read — the
   index rows of the lot's identifiers in ``epcis_event_objects`` and those events' rows from
   the partitioned ``epcis_events`` — p50 and p95.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pharmaqms.kernel import partitions
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.generator import LotTruth
from pharmaqms.platform.genealogy.service import recall_scope

EVENT_COLUMNS = (
    "id, event_id, event_type, action, event_time, time_zone_offset, record_time, biz_step, "
    "disposition, read_point, biz_location, parent_id, transformation_id, lot_number, "
    "expires_on, error_declared, document, event_hash"
)
OBJECT_COLUMNS = "event_id, role, epc, quantity, uom"
CHAIN_START = datetime(2025, 1, 1, tzinfo=UTC)  # the generator's first lot is 2025-01-06
HOURS_PER_MONTH = 730.5


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fresh_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def monthly_partitions(database: Database, months: int) -> int:
    """The chain's months as partitions: the migration's history partition (empty in a new
    database) gives way to months from the chain's start."""
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE epcis_events DETACH PARTITION epcis_events_phistory"))
        conn.execute(text("DROP TABLE epcis_events_phistory"))
        made = partitions.ensure(conn, months + 2, at=CHAIN_START)
    return sum(1 for r in made if r.parent == "epcis_events" and r.outcome == "created")


def deferred_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the secondary indexes of the two tables (built again after the load)."""
    found = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname IN ('epcis_events', 'epcis_event_objects') "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
    ).fetchall()
    for name, _ in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def copy_load(url: str, block: object, replicas: int) -> tuple[int, int]:
    from chain_replica import Block

    assert isinstance(block, Block)
    events = objects = 0
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("SET synchronous_commit = off")
        indexes = deferred_indexes(conn)
        every = max(1, replicas // 20)
        for start in range(0, replicas, every):
            with conn.transaction(), conn.cursor() as cur:
                pending: list[tuple[object, ...]] = []
                with cur.copy(f"COPY epcis_events ({EVENT_COLUMNS}) FROM STDIN") as copy:
                    for r in range(start, min(start + every, replicas)):
                        for event, rows in block.rows(r, r * block.size + 1):
                            copy.write_row(event)
                            pending.extend(rows)
                            events += 1
                with cur.copy(f"COPY epcis_event_objects ({OBJECT_COLUMNS}) FROM STDIN") as copy:
                    for row in pending:
                        copy.write_row(row)
                objects += len(pending)
            print(f"  {events:,} events loaded (load average {load_average()})", flush=True)
        started = time.perf_counter()
        for definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT setval('epcis_events_id_seq', (SELECT max(id) FROM epcis_events))")
        conn.execute("ANALYZE epcis_events")
        conn.execute("ANALYZE epcis_event_objects")
        print(f"  indexes built and analysed in {time.perf_counter() - started:.1f} s")
    return events, objects


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(runs: list[float], work: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = work()
    runs.append((time.perf_counter() - start) * 1000)
    return result


def bare_reads(conn: psycopg.Connection, answer: LotTruth) -> int:
    """What any trace of the lot must read: the object index for each of its identifiers,
    then the events found (document included), from the partitioned table."""
    ids: set[int] = set()
    for identifier in [answer.lot_class, *answer.packs, *answer.cases, *answer.pallets]:
        ids.update(
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM epcis_event_objects WHERE epc = %s", (identifier,)
            )
        )
    found = conn.execute(
        "SELECT id, document FROM epcis_events WHERE id = ANY(%s)", (sorted(ids),)
    ).fetchall()
    return len(found)


def main() -> None:
    from bench_trace import _locations, check, machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=21_500, help="finished lots (~48 events each)")
    parser.add_argument("--months", type=int, default=24, help="months the events span")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target-ms", type=float, default=1000.0, help="p95 target")
    parser.add_argument(
        "--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="admin URL"
    )
    parser.add_argument("--name", default="pqms_bench_partitions", help="database made")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    print(machine())
    admin = create_engine(args.url)
    with admin.connect() as conn:
        print(
            f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar_one()}, "
            f"shared_buffers {conn.execute(text('SHOW shared_buffers')).scalar_one()}"
        )
    admin.dispose()
    print(f"load average at start: {load_average()} (1/5/15 min)")

    import chain_replica
    from chain_replica import Block

    replicas = -(-args.lots // args.block)
    started = time.perf_counter()
    block = Block(args.block, args.seed)
    lots = replicas * args.block
    # (after the block is made: its templates are read at the generator's own pace)
    # Replicas spread over --months: each starts this many hours after the one before.
    chain_replica.LOT_HOURS = args.months * HOURS_PER_MONTH / (replicas * args.block)  # type: ignore[misc]
    print(
        f"one block of {args.block} lots ({block.size:,} events) generated in "
        f"{time.perf_counter() - started:.1f} s; {replicas:,} replicas: {lots:,} lots, "
        f"{replicas * block.size:,} events over {args.months} months"
    )
    checked = block.verify(replicas - 1)
    print(
        f"replica {replicas - 1} rebuilt from its canonical form: {checked:,} events as the "
        "connector writes them"
    )

    url = fresh_database(args.url, args.name)
    database = Database(url)
    started = time.perf_counter()
    initialise(database)
    _locations(database)
    made = monthly_partitions(database, args.months)
    print(
        f"migrated in {time.perf_counter() - started:.1f} s; {made} monthly partitions of "
        "epcis_events"
    )
    started = time.perf_counter()
    events, objects = copy_load(url, block, replicas)
    loaded = time.perf_counter() - started
    print(
        f"loaded {events:,} events and {objects:,} identifier rows with COPY in {loaded:.1f} s "
        f"({events / loaded:,.0f} events/s)"
    )
    with database.engine.connect() as conn:
        spread = conn.execute(
            text(
                "SELECT count(DISTINCT tableoid), min(c), max(c) FROM (SELECT tableoid, "
                "count(*) AS c FROM epcis_events GROUP BY tableoid) p"
            )
        ).one()
        size = conn.execute(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar_one()
    print(
        f"events in {spread[0]} partitions ({spread[1]:,} to {spread[2]:,} each); database {size}"
    )

    rng = random.Random(args.seed)
    numbers = [f"B{n + 1:06d}" for n in rng.sample(range(lots), args.samples + 5)]
    sample = [block.truth(n) for n in numbers[: args.samples]]
    warm = [block.truth(n) for n in numbers[args.samples :]]
    traces: list[float] = []
    sizes: list[int] = []
    with unit_of_work(database, write=False) as session:
        for answer in warm:
            recall_scope(session, answer.lot_class)
        for answer in sample:
            scope = timed(traces, functools.partial(recall_scope, session, answer.lot_class))
            check(answer, scope)
            sizes.append(scope.events)  # type: ignore[attr-defined]
    reads: list[float] = []
    with psycopg.connect(libpq(url)) as conn:
        for answer in warm:
            bare_reads(conn, answer)
        for answer in sample:
            timed(reads, functools.partial(bare_reads, conn, answer))
    p50, p95 = percentile(traces, 0.5), percentile(traces, 0.95)
    r50, r95 = percentile(reads, 0.5), percentile(reads, 0.95)
    print(
        f"recall scope of one lot ({args.samples} lots, all checked against the generator's "
        f"answer; {statistics.mean(sizes):.0f} events reached on average): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )
    print(
        f"ceiling, bare SQL reads of the same lots' index rows and events: p50 {r50:.1f} ms, "
        f"p95 {r95:.1f} ms; trace/ceiling at p95: {p95 / r95:.1f}x"
    )
    print(
        f"target p95 < {args.target_ms:g} ms at {events:,} events: "
        f"{'met' if p95 < args.target_ms else 'NOT met'}"
    )
    print(f"load average at the end: {load_average()}")
    database.dispose()
    if not args.keep:
        admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {args.name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
