"""Benchmark: forward trace and recall scope of one lot over >= 1 million EPCIS events.

Run: ``.venv/bin/python bench/bench_trace.py [--lots 21500] [--samples 200] [--db PATH]``
(10 million events: ``--lots 206800 --target-ms 1000``).

1. Build the supply chain of ``generator.generate`` in a file SQLite database made by the
   migrations, bypassing the ingest pipeline but writing the rows the EPCIS connector writes
   (``store_event``): the event with its original JSON text, canonical form and CBV event hash,
   and one indexed row per identifier and role. Two paths:

   - bulk (default): one block of ``--block`` lots is generated and its rows built by the
     connector's code once; the chain is ``lots / block`` replicas of that block, made by
     substituting lot numbers, pack serials, material lots, SSCCs, event IDs, times and expiry
     dates into the rows' text (``chain_replica.py``), written with ``executemany`` in large
     transactions, the secondary indexes built at the end. ``--verify`` replicas are rebuilt
     event by event from their canonical form and raw text and checked against the
     connector's code (same rows, same hash).
   - ``--slow``: every lot generated in memory and every event's rows built by the
     connector's code (for comparison; 10 million events do not fit in memory this way).
2. For ``samples`` lots chosen at random: ``recall_scope`` (resolve the identifier, indexed
   lookups to a fixed point, the pure trace, locations from master data), checked against the
   generator's answer (packs, containers, locations). p50 and p95, wall clock and CPU time.
3. The ceiling, in the same run: with raw sqlite3, the bare indexed lookups of the same lots'
   identifiers on ``epcis_event_objects`` and the fetch of those events' rows — the reading
   any trace must do, without any work on it. Also one bare point lookup per lot.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pharmaqms.kernel import auth
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.epcis_store import event_key, named_objects
from pharmaqms.platform.epcis import EPCISEvent
from pharmaqms.platform.epcis.event_hash import event_hash
from pharmaqms.platform.genealogy.codec import canonical_plain
from pharmaqms.platform.genealogy.generator import (
    CHAIN_LOCATIONS,
    Chain,
    LotTruth,
    event_json,
    generate,
)
from pharmaqms.platform.genealogy.service import recall_scope
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.trace import canonical


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB RAM"
    except (OSError, ValueError):
        memory = "RAM unknown"
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def _utc(moment: object) -> str | None:
    # The text SQLAlchemy writes for a UTC DateTime on SQLite (what UTCDateTime stores).
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[attr-defined]


EVENT_INSERT = (
    "INSERT INTO epcis_events (id, event_id, event_type, action, event_time, time_zone_offset, "
    "record_time, biz_step, disposition, read_point, biz_location, parent_id, transformation_id, "
    "lot_number, expires_on, error_declared, document, event_hash, run_id) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)"
)
OBJECT_INSERT = (
    "INSERT INTO epcis_event_objects (event_id, role, epc, quantity, uom) VALUES (?,?,?,?,?)"
)
EventRow = tuple[object, ...]
ObjectRow = tuple[object, ...]


def connector_rows(row_id: int, event: EPCISEvent, raw: str) -> tuple[EventRow, list[ObjectRow]]:
    """The ``epcis_events`` row and ``epcis_event_objects`` rows the EPCIS connector writes
    for ``event`` (``store_event``), as raw sqlite3 parameters; ``raw`` is its original text.
    record_time is the event time (the connector's is the time of receipt)."""
    ilmd = getattr(event, "ilmd", None)
    parent = getattr(event, "parent_id", None)
    document = {"format": "json", "raw": raw, "event": canonical_plain(event, canonical)}
    row: EventRow = (
        row_id,
        event_key(event),
        event.event_type.value,
        getattr(event, "action", None),
        _utc(event.event_time),
        event.event_time_zone_offset,
        _utc(event.event_time),
        event.biz_step,
        event.disposition,
        canonical(event.read_point) if event.read_point else None,
        canonical(event.biz_location) if event.biz_location else None,
        canonical(parent) if parent else None,
        getattr(event, "transformation_id", None),
        ilmd.lot_number if ilmd else None,
        ilmd.item_expiration_date.isoformat() if ilmd and ilmd.item_expiration_date else None,
        int(event.error_declaration is not None),
        json.dumps(document, sort_keys=True, separators=(",", ":")),
        event_hash(event, canonical),
    )
    objects: list[ObjectRow] = [
        (
            row_id,
            role,
            epc,
            float(q.quantity) if q is not None and q.quantity is not None else None,
            q.uom if q else None,
        )
        for role, epc, q in named_objects(event)
    ]
    return row, objects


class RowWriter:
    """Bulk writer of connector rows into a migrated SQLite file: ``executemany`` per batch,
    a commit every ``commit_every`` events (large transactions, a bounded WAL), ANALYZE at
    the end. Shared by the trace and containment benchmarks."""

    def __init__(
        self,
        path: Path,
        batch: int = 20_000,
        commit_every: int = 500_000,
        defer_indexes: bool = False,
    ) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the indexes
        # Deferred: the tables' secondary indexes are dropped and built again at the end (one
        # sort instead of millions of inserts at random places, e.g. the event hash's).
        self.indexes = (
            [
                sql
                for (sql,) in self.conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                    "AND tbl_name IN ('epcis_events', 'epcis_event_objects')"
                )
            ]
            if defer_indexes
            else []
        )
        for sql in self.indexes:
            name = sql.split()[2] if sql.split()[1] == "INDEX" else sql.split()[3]
            self.conn.execute(f"DROP INDEX {name}")
        self.batch, self.commit_every = batch, commit_every
        self.events: list[EventRow] = []
        self.objects: list[ObjectRow] = []
        self.written = self.objects_written = self._since_commit = 0
        self.conn.execute("BEGIN")

    def add(self, event: EventRow, objects: list[ObjectRow]) -> None:
        self.events.append(event)
        self.objects.extend(objects)
        if len(self.events) >= self.batch:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany(EVENT_INSERT, self.events)
        self.conn.executemany(OBJECT_INSERT, self.objects)
        self.written += len(self.events)
        self.objects_written += len(self.objects)
        self._since_commit += len(self.events)
        self.events.clear()
        self.objects.clear()
        if self._since_commit >= self.commit_every:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
            self._since_commit = 0

    def close(self) -> tuple[int, int]:
        self.flush()
        for sql in self.indexes:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()
        return self.written, self.objects_written


def bulk_load(path: Path, events: list[EPCISEvent]) -> tuple[int, int]:
    """The slow path: every event's rows built by the connector's code (~500 events/s)."""
    writer = RowWriter(path)
    for row_id, event in enumerate(events, 1):
        writer.add(
            *connector_rows(row_id, event, json.dumps(event_json(event), separators=(",", ":")))
        )
    return writer.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(runs: list[float], work: Callable[[], object], cpu: list[float] | None = None) -> object:
    """Wall time in ``runs``; CPU time of this process in ``cpu`` (it does not grow with
    other load on a shared machine, and the trace waits on nothing but the page cache)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = work()
    runs.append((time.perf_counter() - start) * 1000)
    if cpu is not None:
        cpu.append((time.process_time() - start_cpu) * 1000)
    return result


def check(answer: LotTruth, scope: object) -> None:
    from pharmaqms.platform.genealogy.graph import RecallScope

    assert isinstance(scope, RecallScope)
    assert set(scope.items) == answer.packs, answer.lot_number
    assert set(scope.containers) == answer.cases | answer.pallets, answer.lot_number
    assert {loc.id for loc in scope.locations} == {canonical(p) for p in answer.locations}


def raw_reads(conn: sqlite3.Connection, answer: LotTruth) -> int:
    """What any trace of the lot must read: the object index for each of its identifiers,
    then the events found (document included)."""
    ids: set[int] = set()
    for identifier in [answer.lot_class, *answer.packs, *answer.cases, *answer.pallets]:
        ids.update(
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM epcis_event_objects WHERE epc = ?", (identifier,)
            )
        )
    rows = 0
    for event_id in ids:
        rows += len(
            conn.execute("SELECT document FROM epcis_events WHERE id = ?", (event_id,)).fetchall()
        )
    return rows


def point_lookup(conn: sqlite3.Connection, identifier: str) -> list[tuple[int]]:
    return conn.execute(
        "SELECT event_id FROM epcis_event_objects WHERE epc = ?", (identifier,)
    ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lots", type=int, default=21_500, help="finished lots (21,500: ~1.03 million events)"
    )
    parser.add_argument("--samples", type=int, default=200, help="lots traced")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: temp)")
    parser.add_argument(
        "--slow",
        action="store_true",
        help="generate every lot and build every event's rows with the connector's code "
        "(~500 events/s) instead of replicating one block of lots",
    )
    parser.add_argument(
        "--block", type=int, default=100, help="lots generated and replicated (bulk path)"
    )
    parser.add_argument(
        "--verify",
        type=int,
        default=3,
        help="replicas rebuilt event by event and checked against the connector's rows "
        "(first, last and evenly between; -1: all)",
    )
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="bulk path: keep the indexes during the load instead of building them at the end",
    )
    parser.add_argument("--target-ms", type=float, default=50.0, help="p95 target")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="the --db file holds this chain already (same options): skip the loading",
    )
    args = parser.parse_args()
    print(machine())
    print(f"load average at start: {'/'.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min)")
    folder = Path(tempfile.mkdtemp(prefix="bench_trace_"))
    path = args.db or folder / "trace.db"
    database = Database(f"sqlite:///{path}")
    reuse = args.reuse and path.exists()
    if not reuse:
        initialise(database)
        _locations(database)
    truth: Callable[[str], LotTruth]
    if args.slow:
        start = time.perf_counter()
        chain: Chain = generate(args.lots, seed=args.seed)
        print(
            f"generated {len(chain.events):,} events ({args.lots:,} lots) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        lots = args.lots
        truth = chain.truth.__getitem__
        load: Callable[[], tuple[int, int]] = functools.partial(bulk_load, path, chain.events)
    else:
        from chain_replica import Block

        start = time.perf_counter()
        block = Block(args.block, args.seed)
        replicas = -(-args.lots // args.block)
        lots = replicas * args.block
        print(
            f"generated one block of {args.block} lots ({block.size:,} events) and its row "
            f"templates in {time.perf_counter() - start:.1f} s; {replicas:,} replicas: "
            f"{lots:,} lots, {replicas * block.size:,} events"
        )
        start = time.perf_counter()
        chosen = range(replicas) if args.verify < 0 else _spread(replicas, args.verify)
        checked = sum(block.verify(r) for r in chosen)
        print(
            f"verified {checked:,} events of replicas {list(chosen)[:10]}: rebuilt from their "
            f"canonical form, the connector's code gives the same rows "
            f"({time.perf_counter() - start:.1f} s)"
        )
        truth = block.truth
        load = functools.partial(replicated_load, path, block, replicas, not args.keep_indexes)
    if not reuse:
        start, start_cpu = time.perf_counter(), time.process_time()
        events, objects = load()
        loaded = time.perf_counter() - start
        print(
            f"bulk-loaded {events:,} events and {objects:,} identifier rows in {loaded:.1f} s "
            f"({events / loaded:,.0f} events/s; CPU time of the process "
            f"{time.process_time() - start_cpu:.1f} s)"
        )
    print(f"database {path.stat().st_size / 2**20:,.0f} MiB")
    measure(database, path, lots, truth, args.samples, args.seed, args.target_ms)
    database.dispose()
    if args.db is None:
        shutil.rmtree(folder)  # gigabytes of generated data: nothing to keep


def _spread(replicas: int, count: int) -> list[int]:
    if count <= 1 or replicas <= 1:
        return [0][: max(count, 0)]
    return sorted({round(i * (replicas - 1) / (count - 1)) for i in range(count)})


def replicated_load(
    path: Path, block: object, replicas: int, defer_indexes: bool = True
) -> tuple[int, int]:
    """The bulk path: replicas of one block's connector rows, by text substitution."""
    from chain_replica import Block

    assert isinstance(block, Block)
    writer = RowWriter(path, defer_indexes=defer_indexes)
    for r in range(replicas):
        for event, objects in block.rows(r, r * block.size + 1):
            writer.add(event, objects)
    return writer.close()


def _locations(database: Database) -> None:
    with unit_of_work(database) as session:
        system = auth.system_actor(session, Channel.CLI)
        for place in CHAIN_LOCATIONS:
            masterdata.add_location(
                session,
                actor=system,
                code=place.code,
                name=place.name,
                kind=place.kind,
                epc_uri=place.epc_uri,
                is_customer=place.is_customer,
            )


def measure(
    database: Database,
    path: Path,
    lots: int,
    truth: Callable[[str], LotTruth],
    samples: int,
    seed: int,
    target_ms: float,
) -> None:
    rng = random.Random(seed)
    numbers = [f"B{n + 1:06d}" for n in rng.sample(range(lots), samples + 5)]
    sample = [truth(n) for n in numbers[:samples]]
    # Warm-up on other lots: first-use costs (imports, statement compilation) are not the trace.
    warm = [truth(n) for n in numbers[samples:]]
    traces: list[float] = []
    traces_cpu: list[float] = []
    sizes: list[int] = []
    with unit_of_work(database, write=False) as session:
        for answer in warm:
            recall_scope(session, answer.lot_class)
        for answer in sample:
            scope = timed(
                traces, functools.partial(recall_scope, session, answer.lot_class), traces_cpu
            )
            check(answer, scope)
            sizes.append(scope.events)  # type: ignore[attr-defined]
    conn = sqlite3.connect(path)
    reads: list[float] = []
    reads_cpu: list[float] = []
    points: list[float] = []
    for answer in sample:
        timed(reads, functools.partial(raw_reads, conn, answer), reads_cpu)
        timed(points, functools.partial(point_lookup, conn, answer.lot_class))
    conn.close()
    p50, p95 = percentile(traces, 0.5), percentile(traces, 0.95)
    r50, r95 = percentile(reads, 0.5), percentile(reads, 0.95)
    k50, k95 = percentile(points, 0.5), percentile(points, 0.95)
    print(
        f"recall scope of one lot ({samples} lots, all checked against the generator's "
        f"answer; {statistics.mean(sizes):.0f} events reached on average): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )
    print(
        f"ceiling, raw sqlite3 reads of the same lots' index rows and events: "
        f"p50 {r50:.2f} ms, p95 {r95:.2f} ms; trace/ceiling at p95: {p95 / r95:.1f}x"
    )
    c50, c95 = percentile(traces_cpu, 0.5), percentile(traces_cpu, 0.95)
    rc50, rc95 = percentile(reads_cpu, 0.5), percentile(reads_cpu, 0.95)
    print(
        f"CPU time per recall scope: p50 {c50:.1f} ms, p95 {c95:.1f} ms; ceiling reads: "
        f"p50 {rc50:.2f} ms, p95 {rc95:.2f} ms; trace/ceiling at p95: {c95 / rc95:.1f}x"
    )
    print(f"load average at the end: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"one bare point lookup on the identifier index: p50 {k50 * 1000:.0f} µs, "
        f"p95 {k95 * 1000:.0f} µs"
    )
    print(
        f"target p95 < {target_ms:g} ms: wall {'met' if p95 < target_ms else 'NOT met'}, "
        f"CPU {'met' if c95 < target_ms else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
