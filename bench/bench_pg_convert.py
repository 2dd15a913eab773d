"""Benchmark: converting an existing, unpartitioned PostgreSQL database of EPCIS events to
monthly partitions (migration 0050_kernel_partitions) while the system writes and reads —
how long the writes and reads stall, with their ceiling in the same run.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_pg_convert.py [--lots 2000]
[--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-prepare] [--keep]``
(10 million events: ``--lots 206800``; the load is the long part).

1. A database at the revision before partitioning, as a site that installed an earlier
   release has it: every migration but ``0050_kernel_partitions`` (as
   tests/kernel/test_partitions.py builds one), then the seeding ``initialise`` does. The
   supply chain of ``bench_pg_partitions.py`` (one generated block of lots replicated,
   ``chain_replica.py``), its events spread over ``--months`` months up to now, COPY-loaded
   into the unpartitioned ``epcis_events`` and ``epcis_event_objects``; the secondary
   indexes are built after the load, the identifier rows' foreign key (dropped for the load)
   is added back and validated, then ANALYZE.
2. A writer thread inserts one event every ``--interval-ms`` (a row shaped as the chain's,
   a new event ID, timed, each in its own transaction) and a reader thread looks one loaded
   event up by its event ID at the same pace (timed). While they run:
   c. the ceiling: ``--baseline-s`` seconds with no DDL;
   a. ``pharmaqms db partitions prepare``'s work (``partitions.prepare`` on an autocommit
      connection, every table as the CLI does);
   b. the migration (``kernel.migrate.upgrade``, as ``pharmaqms init`` runs it), each of its
      statements timed.
   For each phase: the writer's and reader's p50, p99 and longest single operation (the
   stall), and every failed operation (reported, never dropped).
3. After the migration: the event count is the loaded events plus every write the writer
   made, every written event ID is there, and ``recall_scope`` of sample lots through the
   application's code on the partitioned table gives the generator's answer.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from sqlalchemy import Engine, create_engine, event, text

from pharmaqms.kernel import bootstrap, partitions
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.migrate import alembic_config, upgrade, upgrade_in
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.service import recall_scope

PARTITIONS = "0050_kernel_partitions"
CHAIN_START = datetime(2025, 1, 1, tzinfo=UTC)
HOURS_PER_MONTH = 730.5
WRITE_COLUMNS = (
    "event_id, event_type, action, event_time, time_zone_offset, record_time, biz_step, "
    "disposition, read_point, biz_location, parent_id, transformation_id, lot_number, "
    "expires_on, error_declared, document, event_hash"
)


# --------------------------------------------------------------------------- the database


def before_partitions(database: Database, url: str) -> None:
    """Migrate to every head but the partitions (and what depends on it), then seed as
    ``initialise`` does: the database of a site that installed the release before 0050."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    with database.engine.begin() as conn:
        for head in sorted(heads):
            if head != PARTITIONS:
                upgrade_in(conn, head)
    # initialise's seeding (system user, roles, configuration, grants) without its upgrade to
    # the heads, which would run the very migration measured here.
    real = bootstrap.upgrade
    bootstrap.upgrade = lambda engine: None  # type: ignore[assignment]
    try:
        bootstrap.initialise(database)
    finally:
        bootstrap.upgrade = real  # type: ignore[assignment]
    with database.engine.connect() as conn:
        assert not partitions.is_partitioned(conn, "epcis_events")


def unpartitioned_load(url: str, block: object, replicas: int) -> tuple[int, int]:
    """``copy_load`` into the unpartitioned tables. The identifier rows' foreign key to
    ``epcis_events.id`` (present before 0050) would check each of them one by one during
    COPY; it is dropped for the load and added back, then validated in one pass, as a
    restore into PostgreSQL would do."""
    from bench_pg_partitions import copy_load, libpq

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        keys = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE confrelid = 'epcis_events'::regclass AND contype = 'f' "
            "AND conrelid = 'epcis_event_objects'::regclass"
        ).fetchall()
        for table, name, _ in keys:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    loaded = copy_load(url, block, replicas)
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for table, name, definition in keys:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
            conn.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
        conn.execute("VACUUM ANALYZE epcis_events")
        conn.execute("VACUUM ANALYZE epcis_event_objects")
    print(
        f"  foreign key of the identifier rows added back and validated, vacuumed: "
        f"{time.perf_counter() - started:.1f} s"
    )
    return loaded


# --------------------------------------------------------------------------- the load


@dataclass
class Op:
    start: float  # perf_counter
    ms: float
    ok: bool
    error: str = ""


@dataclass
class Worker:
    """A thread that does one operation every ``interval`` seconds and times each one."""

    name: str
    url: str
    interval: float
    ops: list[Op] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def operate(self, conn: psycopg.Connection) -> None:
        raise NotImplementedError

    def run(self) -> None:
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        due = time.perf_counter()
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                self.operate(conn)
                self.ops.append(Op(start, (time.perf_counter() - start) * 1000, True))
            except psycopg.Error as failure:
                self.ops.append(
                    Op(start, (time.perf_counter() - start) * 1000, False, str(failure)[:600])
                )
                if conn.closed or conn.broken:
                    conn = psycopg.connect(self.url, autocommit=True)
                    conn.execute("SET TIME ZONE 'UTC'")
            due = max(due + self.interval, time.perf_counter())
            time.sleep(max(0.0, due - time.perf_counter()))
        conn.close()

    def begin(self) -> None:
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()

    def end(self) -> None:
        self.stop.set()
        assert self.thread is not None
        self.thread.join()


@dataclass
class Writer(Worker):
    template: tuple[object, ...] = ()
    written: list[str] = field(default_factory=list)

    def operate(self, conn: psycopg.Connection) -> None:
        # The chain's first event, under a new event ID, dated now (the id from the sequence).
        event_id = f"urn:uuid:{uuid.uuid4()}"
        now = datetime.now(UTC)
        row = list(self.template)
        row[0], row[3], row[5], row[14] = event_id, now, now, bool(row[14])
        marks = ", ".join(["%s"] * len(row))
        conn.execute(f"INSERT INTO epcis_events ({WRITE_COLUMNS}) VALUES ({marks})", row)
        self.written.append(event_id)


@dataclass
class Reader(Worker):
    event_ids: list[str] = field(default_factory=list)
    misses: int = 0

    def operate(self, conn: psycopg.Connection) -> None:
        wanted = random.choice(self.event_ids)
        found = conn.execute(
            "SELECT id, document FROM epcis_events WHERE event_id = %s", (wanted,)
        ).fetchone()
        if found is None:
            self.misses += 1


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Phase:
    name: str
    start: float
    end: float

    def ops(self, worker: Worker) -> list[Op]:
        # An operation counts for a phase if it overlaps it: one that started just before and
        # waited through it is the very stall measured.
        return [o for o in worker.ops if o.start < self.end and o.start + o.ms / 1000 > self.start]


def summary(phase: Phase, worker: Worker) -> tuple[str, float]:
    ops = phase.ops(worker)
    ms = [o.ms for o in ops]
    failed = [o for o in ops if not o.ok]
    line = (
        f"  {worker.name:6} {len(ops):6,} ops  p50 {percentile(ms, 0.5):8.1f} ms  "
        f"p99 {percentile(ms, 0.99):8.1f} ms  max {max(ms, default=float('nan')):8.1f} ms  "
        f"failed {len(failed)}"
    )
    for failure in failed[:5]:
        line += f"\n    failed at +{failure.start - phase.start:.2f} s: {failure.error}"
    return line, max(ms, default=float("nan"))


# --------------------------------------------------------------------------- statements


class StatementClock:
    """Times every statement the migration sends (SQLAlchemy cursor events)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.timings: list[tuple[float, float, str]] = []  # (start, ms, statement)
        self._started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        start = self._started.pop(id(cursor), time.perf_counter())
        self.timings.append((start, (time.perf_counter() - start) * 1000, statement))

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)


def short(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= 110 else flat[:107] + "..."


# --------------------------------------------------------------------------- main


def main() -> None:
    from bench_pg_partitions import fresh_database, libpq, load_average
    from bench_trace import check, machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=2_000, help="finished lots (~48 events each)")
    parser.add_argument("--months", type=int, default=23, help="months the events span")
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--baseline-s", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=20, help="lots traced after")
    parser.add_argument("--no-prepare", action="store_true", help="migrate without prepare")
    parser.add_argument(
        "--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="admin URL"
    )
    parser.add_argument("--name", default="pqms_bench_convert", help="database made")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    print(machine())
    print(f"run started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    admin = create_engine(args.url)
    with admin.connect() as conn:
        print(
            f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar_one()}, "
            f"shared_buffers {conn.execute(text('SHOW shared_buffers')).scalar_one()}, "
            f"maintenance_work_mem {conn.execute(text('SHOW maintenance_work_mem')).scalar_one()}"
        )
    admin.dispose()
    print(f"load average at start: {load_average()} (1/5/15 min)")

    # 1. ---------------------------------------------------------------- the old database
    import chain_replica
    from chain_replica import Block

    replicas = -(-args.lots // args.block)
    started = time.perf_counter()
    block = Block(args.block, args.seed)
    lots = replicas * args.block
    chain_replica.LOT_HOURS = args.months * HOURS_PER_MONTH / lots  # type: ignore[misc]
    print(
        f"one block of {args.block} lots ({block.size:,} events) generated in "
        f"{time.perf_counter() - started:.1f} s; {replicas:,} replicas: {lots:,} lots, "
        f"{replicas * block.size:,} events over {args.months} months from {CHAIN_START:%Y-%m}"
    )
    url = fresh_database(args.url, args.name)
    database = Database(url)
    started = time.perf_counter()
    before_partitions(database, url)
    print(
        f"migrated to the revision before {PARTITIONS} and seeded in "
        f"{time.perf_counter() - started:.1f} s"
    )
    from bench_trace import _locations

    _locations(database)
    started = time.perf_counter()
    events, objects = unpartitioned_load(url, block, replicas)
    loaded = time.perf_counter() - started
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        size, table_size, span = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "pg_size_pretty(pg_total_relation_size('epcis_events')), "
            "(SELECT format('%s to %s', min(event_time), max(event_time)) FROM epcis_events)"
        ).fetchone() or ("?", "?", "?")
        sample_ids = [
            str(r[0])
            for r in conn.execute(
                "SELECT event_id FROM epcis_events WHERE id = ANY(%s)",
                (random.Random(args.seed).sample(range(1, events + 1), min(2000, events)),),
            )
        ]
        template = conn.execute(
            f"SELECT {WRITE_COLUMNS} FROM epcis_events ORDER BY id LIMIT 1"
        ).fetchone()
    assert template is not None
    print(
        f"loaded {events:,} events and {objects:,} identifier rows into the unpartitioned "
        f"tables in {loaded:.1f} s (COPY, indexes, key, vacuum analyse); event times {span}; "
        f"epcis_events {table_size} with its indexes, database {size}"
    )

    # 2. ---------------------------------------------------------------- under load
    interval = args.interval_ms / 1000
    writer = Writer("writer", libpq(url), interval, template=tuple(template))
    reader = Reader("reader", libpq(url), interval, event_ids=sample_ids)
    writer.begin()
    reader.begin()
    time.sleep(1.0)  # both connected and running
    phases: list[Phase] = []

    start = time.perf_counter()
    time.sleep(args.baseline_s)
    phases.append(Phase("c. baseline, no DDL", start, time.perf_counter()))

    if not args.no_prepare:
        from pharmaqms.kernel.db import make_engine

        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        start = time.perf_counter()
        with engine.connect() as conn:
            for table in partitions.MONTHLY:
                began = time.perf_counter()
                boundary = partitions.prepare(conn, table, concurrently=True)
                print(
                    f"  prepare {table}: history before {boundary:%Y-%m-%d}, "
                    f"{time.perf_counter() - began:.1f} s"
                )
        phases.append(Phase("a. prepare (concurrently)", start, time.perf_counter()))
        engine.dispose()
        time.sleep(1.0)

    statements = StatementClock(database.engine)
    start = time.perf_counter()
    failure = ""
    try:
        upgrade(database.engine)
    except Exception as error:  # reported below, after the load threads stopped
        failure = f"{type(error).__name__}: {error}"
    phases.append(
        Phase(
            f"b. migration{' WITHOUT prepare' if args.no_prepare else ''}",
            start,
            time.perf_counter(),
        )
    )
    statements.close()
    time.sleep(2.0)  # the writes held back by the migration's locks go through
    writer.end()
    reader.end()

    # A failed operation names the relations it waited for by number: name them.
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for worker in (writer, reader):
            for op in worker.ops:
                for oid in sorted(set(re.findall(r"relation (\d+)", op.error))):
                    found = conn.execute(
                        "SELECT relname FROM pg_class WHERE oid = %s", (int(oid),)
                    ).fetchone()
                    named = f"relation {oid} ({found[0] if found else 'gone'})"
                    op.error = op.error.replace(f"relation {oid} ", named + " ")

    print(f"under a writer and a reader, one operation each every {args.interval_ms:g} ms:")
    stalls: dict[str, float] = {}
    for phase in phases:
        print(f"{phase.name}: {phase.end - phase.start:.2f} s")
        for worker in (writer, reader):
            line, longest = summary(phase, worker)
            print(line)
            stalls[f"{phase.name[:1]}:{worker.name}"] = longest
    for worker in (writer, reader):
        base = stalls[f"c:{worker.name}"]
        print(
            f"  {worker.name}: longest stall during the migration / longest in the baseline: "
            f"{stalls[f'b:{worker.name}'] / base:.1f}x"
            + (
                f"; during prepare / baseline: {stalls[f'a:{worker.name}'] / base:.1f}x"
                if not args.no_prepare
                else ""
            )
        )
    print(f"reader lookups that found nothing: {reader.misses}")
    for worker in (writer, reader):
        failed = [o for o in worker.ops if not o.ok]
        print(f"{worker.name}: {len(worker.ops):,} operations in all, {len(failed)} failed")
    slowest = sorted(statements.timings, key=lambda t: -t[1])[:8]
    print(
        f"the migration's {len(statements.timings)} statements, slowest "
        f"(ms, seconds after its start):"
    )
    for began, ms, statement in slowest:
        print(f"  {ms:9.1f}  +{began - phases[-1].start:6.2f}  {short(statement)}")
    if failure:
        print(f"THE MIGRATION FAILED: {failure}")

    # 3. ---------------------------------------------------------------- afterwards
    written_ok = sum(1 for o in writer.ops if o.ok)
    with psycopg.connect(libpq(url)) as conn:
        count = conn.execute("SELECT count(*) FROM epcis_events").fetchone()
        present = conn.execute(
            "SELECT count(*) FROM epcis_events WHERE event_id = ANY(%s)", (writer.written,)
        ).fetchone()
        homes = conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM epcis_events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        parts = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'epcis_events'::regclass"
        ).fetchone()
    assert count is not None and present is not None and parts is not None
    counted = "yes" if count[0] == events + written_ok else "NO"
    all_there = "yes" if present[0] == len(writer.written) else "NO"
    print(
        f"after: {count[0]:,} events = {events:,} loaded + {written_ok:,} written: {counted}; "
        f"the writer's {len(writer.written):,} event IDs all present: {all_there} "
        f"({present[0]:,}); {parts[0]} partitions, rows in {homes}"
    )
    rng = random.Random(args.seed)
    numbers = [f"B{n + 1:06d}" for n in rng.sample(range(lots), args.samples)]
    traced = 0
    with unit_of_work(database, write=False) as session:
        for number in numbers:
            answer = block.truth(number)
            check(answer, recall_scope(session, answer.lot_class))
            traced += 1
    print(f"recall scope of {traced} sample lots through the partitioned table: as generated")
    print(f"load average at the end: {load_average()}")
    print(f"run ended {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    database.dispose()
    if not args.keep:
        admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {args.name} WITH (FORCE)"))
        admin.dispose()
    if failure or count[0] != events + written_ok or present[0] != len(writer.written):
        sys.exit(1)


if __name__ == "__main__":
    main()
