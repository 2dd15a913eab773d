"""Kernel benchmark: audit append and verify throughput against their ceilings, and the latency
of creating a record through the API.

(a) Audit entries appended per second through ``kernel.audit.append_entries`` (hash chain,
    batches of 1,000 drafts, one transaction per batch, file SQLite in WAL) versus a raw
    ``sqlite3`` ``executemany`` of the very same rows into an identical table (same DDL and
    indexes, same pragmas, one transaction per batch): the ceiling. Target ≥ 25 %.
(b) ``kernel.verify.verify`` entries per second over that chain versus a bare keyed chain
    over the same bytes (``HMAC-SHA-256(key, prev_hash ‖ canonical(entry))``, pre-encoded, in
    memory) — the chain is keyed since the trust work; a bare plain SHA-256 chain is shown for
    context. Target ≥ 50 %.
(c) POST /api/v1/documents (create a controlled document and its first version, numbered and
    audited, answer with the version) through an in-process ASGI client (httpx.AsyncClient
    on httpx.ASGITransport: no network, no server), sequentially; p50 and p95.

    .venv/bin/python bench/bench_kernel.py [--entries 50000] [--requests 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import platform
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# The argon2 parameters the tests use (only the benchmark's one login hashes a password).
os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import sqlalchemy
import sqlalchemy.dialects.sqlite
import sqlalchemy.orm

import pharmaqms.schema  # noqa: F401 - every table, as the application has them
from pharmaqms.kernel.audit import EntryDraft, append_entries
from pharmaqms.kernel.bootstrap import ensure_keyed
from pharmaqms.kernel.canonical import canonical_json, sha256_hex
from pharmaqms.kernel.chain import GENESIS, entry_text, head_mac, keyed_linker
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.keys import create_key_file, keyring_for
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import _driver_batches, stamp_reader, verify

APPEND_TARGET = 0.50  # of raw executemany (issue 15 §2)
VERIFY_TARGET = 0.50  # of the bare keyed chain alone (the first goal; out of reach, see docs)
FLOOR_TARGET = 0.80  # of reading the rows with bare sqlite3 plus the bare keyed chain
JOBS_TARGET = 1.8  # --jobs 2 against one process, wall clock
BATCH = 1_000
PASSWORD = "Bench-Passw0rd!"
COLUMNS = (*AuditEntry.HASHED, "entry_hash")


@dataclass(frozen=True)
class Span:
    """Wall-clock and CPU time of one timed part. On a shared machine the CPU time of this
    single-threaded process is the steadier of the two."""

    wall: float
    cpu: float


def start_clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def stop_clock(started: tuple[float, float]) -> Span:
    return Span(time.perf_counter() - started[0], time.process_time() - started[1])


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: {model}, {os.cpu_count()} cores, load average {load}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {platform.system()} {platform.release()}"
    )


def drafts(count: int, start: int) -> list[EntryDraft]:
    """What a day of edits looks like to the trail: field-level changes, a reason, a state
    hash, an API actor with a request id."""
    actor = Actor(
        user_id=3,
        username="qa",
        full_name="Quentin Quality",
        roles=frozenset({"qa"}),
        permissions=frozenset(),
        channel=Channel.API,
        request_id="5f0c2a9e4b7d4d0e9d2f6b1a8c3e7f10",
    )
    return [
        EntryDraft(
            action="update",
            record_type="document_version",
            record_id=None,  # no record behind it: verify checks the chain, not records
            record_label=f"SOP-2026-{n % 9999 + 1:04d} v1.{n % 7}",
            changes={
                "title": ["Cleaning of the tablet press", f"Cleaning of the tablet press ({n})"],
                "body": ["2.2 Wipe with 70 % IPA.", f"2.2 Wipe with 70 % IPA, twice ({n})."],
            },
            reason="step 2.2 clarified after deviation DEV-2026-0042",
            state_hash=sha256_hex(str(n)),
            actor=actor,
        )
        for n in range(start, start + count)
    ]


# --- (a) append ------------------------------------------------------------------------------


def kernel_append(url: str, total: int) -> Span:
    database = Database(url)
    upgrade(database.engine)
    ensure_keyed(database)
    batches = [drafts(BATCH, i) for i in range(0, total, BATCH)]
    writer = database.engine.execution_options(pharmaqms_write=True)
    sqlalchemy.orm.configure_mappers()  # once per process; not part of an append
    started = start_clock()
    for batch in batches:
        with writer.begin() as conn:
            append_entries(conn, batch)
    span = stop_clock(started)
    database.dispose()
    return span


class NoDatabase:
    """A connection that answers the chain head with the genesis (keyed with the bench's key)
    and drops the writes: what ``append_entries`` costs in Python, building, hashing and
    converting the entries."""

    dialect = sqlalchemy.dialects.sqlite.dialect()

    def __init__(self, url: str) -> None:
        self.engine = SimpleNamespace(url=url)
        keyring = keyring_for(url)
        self.head = (0, GENESIS, 1, keyring.audit.id, head_mac(keyring, 0, GENESIS, 1))

    def execute(self, _statement: Any, _params: Any = None) -> Any:
        return SimpleNamespace(one_or_none=lambda: self.head)

    def exec_driver_sql(self, _statement: str, _params: Any = None) -> None:
        return None


def hashing_only(url: str, total: int) -> Span:
    batches = [drafts(BATCH, i) for i in range(0, total, BATCH)]
    conn: Any = NoDatabase(url)
    started = start_clock()
    for batch in batches:
        append_entries(conn, batch)
    return stop_clock(started)


def core_append(source: str, target: str) -> Span:
    """The same rows through SQLAlchemy Core as ``append_entries`` inserts them, without the
    chain: what the kernel's insert costs before any hashing."""
    read = Database(source)
    table = AuditEntry.__table__
    with read.engine.connect() as conn:
        rows = [
            dict(row._mapping)
            for row in conn.execute(sqlalchemy.select(table).order_by(table.c.seq))
        ]
    read.dispose()
    database = Database(target)
    upgrade(database.engine)
    writer = database.engine.execution_options(pharmaqms_write=True)
    started = start_clock()
    for offset in range(0, len(rows), BATCH):
        with writer.begin() as conn:
            conn.execute(sqlalchemy.insert(AuditEntry), rows[offset : offset + BATCH])
    span = stop_clock(started)
    database.dispose()
    return span


def raw_append(source: Path, target: Path) -> Span:
    """The same rows, read back from the kernel's table, into an identical table."""
    with sqlite3.connect(source) as src:
        ddl = [
            sql
            for (sql,) in src.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_entries' "
                "AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]
        names = ", ".join(("id", *COLUMNS))
        rows = src.execute(f"SELECT {names} FROM audit_entries ORDER BY seq").fetchall()
    conn = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    for statement in ddl:
        conn.execute(statement)
    insert = f"INSERT INTO audit_entries ({names}) VALUES ({', '.join('?' * len(rows[0]))})"
    started = start_clock()
    for offset in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, rows[offset : offset + BATCH])
        conn.execute("COMMIT")
    span = stop_clock(started)
    conn.close()
    return span


# --- (b) verify ------------------------------------------------------------------------------


CHILD_CPU: list[float] = []  # CPU of the other processes of each ``--jobs`` run


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def kernel_verify(url: str, expected: int, jobs: int = 1) -> Span:
    database = Database(url)
    with unit_of_work(database, write=False) as session:
        before = children_cpu()
        started = start_clock()
        report = verify(session, jobs=jobs)
        span = stop_clock(started)
        if jobs > 1:
            CHILD_CPU.append(children_cpu() - before)
    database.dispose()
    assert report.intact and report.entries == expected, report.findings[:3]
    return span


def chain_bytes(url: str) -> tuple[list[bytes], str]:
    """What verify hashes for each entry, pre-encoded, and the head hash it must reach."""
    database = Database(url)
    engine = database.engine
    with engine.connect() as conn:
        table = AuditEntry.__table__
        rows = conn.execute(sqlalchemy.select(*(table.c[n] for n in COLUMNS)).order_by(table.c.seq))
        data, last = [], ""
        for row in rows:
            content = {name: getattr(row, name) for name in AuditEntry.HASHED}
            data.append(canonical_json(content).encode())
            last = row.entry_hash
    database.dispose()
    return data, last


def verify_parts(url: str) -> tuple[Span, Span]:
    """Where verify's time goes: streaming the entries on the driver's cursor as verify does,
    and writing and hashing each entry as verify does (from rows already in memory)."""
    database = Database(url)
    columns = ", ".join((*AuditEntry.HASHED, "entry_hash"))
    with unit_of_work(database, write=False) as session:
        started = start_clock()
        batches = _driver_batches(
            session.connection().connection.dbapi_connection,
            "sqlite",
            f"SELECT {columns} FROM audit_entries ORDER BY seq",
        )
        rows = [row for batch in batches for row in batch]
        read = stop_clock(started)
    database.dispose()
    at, prev = AuditEntry.HASHED.index("occurred_at"), AuditEntry.HASHED.index("prev_hash")
    stored = len(AuditEntry.HASHED)
    stamp = stamp_reader()
    key = keyring_for(url).audit.secret
    keyed = keyed_linker(key)
    started = start_clock()
    for row in rows:
        values = list(row[:stored])
        values[at] = stamp(values[at])
        keyed(f"{row[prev]}{entry_text(values)}".encode())
    return read, stop_clock(started)


def raw_read(path: Path) -> Span:
    """Reading the same columns with bare ``sqlite3``: what verify can't do without."""
    columns = ", ".join((*AuditEntry.HASHED, "entry_hash"))
    connection = sqlite3.connect(path)
    started = start_clock()
    cursor = connection.execute(f"SELECT {columns} FROM audit_entries ORDER BY seq")
    while cursor.fetchmany(5000):
        pass
    span = stop_clock(started)
    connection.close()
    return span


def bare_keyed_chain(key: bytes, data: list[bytes], head: str) -> Span:
    """The chain keyed the fastest bare way known here: the key's HMAC state prepared once and
    copied per entry (as the kernel now does; ``hmac.digest`` per entry costs 0.5 µs more)."""
    prepared = hmac.new(key, digestmod=hashlib.sha256)
    copy = prepared.copy
    started = start_clock()
    prev = "0" * 64
    for item in data:
        state = copy()
        state.update(prev.encode() + item)
        prev = state.hexdigest()
    span = stop_clock(started)
    assert prev == head, "the bare keyed chain must reach the same head"
    return span


def bare_plain_chain(data: list[bytes]) -> Span:
    sha256 = hashlib.sha256
    started = start_clock()
    prev = "0" * 64
    for item in data:
        prev = sha256(prev.encode() + item).hexdigest()
    return stop_clock(started)


# --- (c) API ---------------------------------------------------------------------------------


def api_latencies(workdir: Path, requests: int) -> list[float]:
    import httpx

    from pharmaqms.kernel import auth
    from pharmaqms.kernel.bootstrap import initialise
    from pharmaqms.kernel.db import set_database
    from pharmaqms.web.app import create_app

    database = Database(f"sqlite:///{workdir / 'api.db'}")
    initialise(database, admin_password="Ops-Passw0rd!x", admin_full_name="Ada Admin")
    with unit_of_work(database) as s:
        # Provisioned by the installation (the system account), as `pharmaqms user add` does:
        # an administrator alone no longer grants a signing role.
        auth.add_user(
            s,
            actor=auth.system_actor(s),
            username="qc",
            full_name="Chloe Chemist",
            roles=["qc_analyst"],
            password=PASSWORD,
            must_change_password=False,
        )
    app = create_app(database)
    body = "1. Purpose\n\nCleaning of the tablet press after each batch.\n\n2. Steps ...\n" * 8

    async def run() -> list[float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", json={"username": "qc", "password": PASSWORD}
                )
            ).json()["token"]
            headers = {"authorization": f"Bearer {token}"}
            timings = []
            for n in range(requests + 20):
                start = time.perf_counter()
                response = await client.post(
                    "/api/v1/documents",
                    headers=headers,
                    json={"doc_type": "sop", "title": f"Cleaning procedure {n}", "body": body},
                )
                elapsed = time.perf_counter() - start
                assert response.status_code == 201, response.text
                if n >= 20:  # the first requests warm caches (compiled statements, imports)
                    timings.append(elapsed)
            return timings

    try:
        return asyncio.run(run())
    finally:
        set_database(None)
        database.dispose()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# --- main ------------------------------------------------------------------------------------


def interleaved(runs: int, *parts: Callable[[int], Span]) -> list[list[Span]]:
    """a, b, c, a, b, c, …: on a shared machine every part sees the same load."""
    results: list[list[Span]] = [[] for _ in parts]
    for i in range(runs):
        for part, spans in zip(parts, results, strict=True):
            spans.append(part(i))
    return results


def best(spans: list[Span]) -> Span:
    return Span(min(s.wall for s in spans), min(s.cpu for s in spans))


def show(label: str, spans: list[Span]) -> None:
    walls = ", ".join(f"{s.wall:.3f}" for s in spans)
    cpus = ", ".join(f"{s.cpu:.3f}" for s in spans)
    print(f"  {label}: wall {walls} s; CPU {cpus} s")


def verdict(label: str, ours: Span, ceiling: Span, count: int, target: float) -> None:
    for kind in ("wall", "cpu"):
        a, b = getattr(ours, kind), getattr(ceiling, kind)
        ratio = b / a
        print(
            f"    by {'CPU time' if kind == 'cpu' else 'wall clock'}: {label} {count / a:,.0f}/s "
            f"vs {count / b:,.0f}/s, ratio {ratio:.1%} (target ≥ {target:.0%}: "
            f"{'met' if ratio >= target else 'MISSED'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000, help="a multiple of 1,000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--profile", choices=("append", "verify"), help="cProfile one part")
    parser.add_argument("--no-api", action="store_true", help="leave out (c)")
    args = parser.parse_args()
    total = args.entries - args.entries % BATCH

    print(machine())
    with tempfile.TemporaryDirectory(prefix="pqms-bench-") as tmp:
        work = Path(tmp)
        # One key for every database of the run, outside them, as in production.
        os.environ["PHARMAQMS_KEY_FILE"] = str(work / "bench.key")
        reset_settings_cache()
        create_key_file(work / "bench.key")

        def url(i: int) -> str:
            return f"sqlite:///{work / f'kernel{i}.db'}"

        if args.profile:
            profile(args.profile, url, total)
            return

        print(f"(a) audit append, {total:,} entries in batches of {BATCH:,}, file SQLite in WAL")
        kernel_runs, raw_runs, core_runs, hash_runs = interleaved(
            args.repeat,
            lambda i: kernel_append(url(i), total),
            lambda i: raw_append(work / f"kernel{i}.db", work / f"raw{i}.db"),
            lambda i: core_append(url(i), url(100 + i)),
            lambda i: hashing_only(url(i), total),
        )
        show("kernel append_entries", kernel_runs)
        show("raw sqlite3 executemany", raw_runs)
        show("of the kernel's work: building, hashing, converting the entries", hash_runs)
        show("for comparison: the same rows through SQLAlchemy Core executemany", core_runs)
        verdict(
            "kernel entries vs raw rows", best(kernel_runs), best(raw_runs), total, APPEND_TARGET
        )
        per = 1e6 / total
        print(
            f"    CPU per entry: kernel {best(kernel_runs).cpu * per:.1f} µs ≈ raw insert "
            f"{best(raw_runs).cpu * per:.1f} µs + building, hashing, converting "
            f"{best(hash_runs).cpu * per:.1f} µs; SQLAlchemy Core's executemany of the same "
            f"rows alone: {best(core_runs).cpu * per:.1f} µs"
        )

        print(f"(b) verify, {total:,} entries")
        data, head = chain_bytes(url(0))
        size = sum(len(d) for d in data) / len(data)
        parts: list[tuple[Span, Span]] = []

        def timed_parts(_i: int) -> Span:
            parts.append(verify_parts(url(0)))
            return parts[-1][0]

        key = keyring_for(url(0)).audit.secret
        verify_runs, jobs_runs, bare_runs, _, read_runs, plain_runs = interleaved(
            args.repeat,
            lambda _i: kernel_verify(url(0), total),
            lambda _i: kernel_verify(url(0), total, jobs=2),
            lambda _i: bare_keyed_chain(key, data, head),
            timed_parts,
            lambda _i: raw_read(work / "kernel0.db"),
            lambda _i: bare_plain_chain(data),
        )
        show("kernel verify", verify_runs)
        show("kernel verify --jobs 2 (CPU: this process only)", jobs_runs)
        show(f"bare HMAC-SHA-256 chain ({size:.0f} B an entry)", bare_runs)
        show("for context: bare plain SHA-256 chain over the same bytes", plain_runs)
        verdict(
            "verify vs bare chain, entries",
            best(verify_runs),
            best(bare_runs),
            total,
            VERIFY_TARGET,
        )
        read, write = best([p[0] for p in parts]), best([p[1] for p in parts])
        print(
            f"    CPU per entry: verify {best(verify_runs).cpu * per:.1f} µs ≈ reading the row "
            f"{read.cpu * per:.1f} µs + writing and hashing it {write.cpu * per:.1f} µs (of "
            f"which HMAC-SHA-256 {best(bare_runs).cpu * per:.1f} µs) + checking it, the records "
            "and the signatures"
        )
        read_cpu = best(read_runs).cpu
        floor = read_cpu + best(bare_runs).cpu
        print(
            f"    for context: reading the same rows on bare sqlite3 {read_cpu * per:.1f} µs an"
            f" entry; reading plus the bare chain {floor * per:.1f} µs, so verify is at "
            f"{floor / best(verify_runs).cpu:.0%} of reading and hashing with nothing around it"
            f" (target ≥ {FLOOR_TARGET:.0%}: "
            f"{'met' if floor / best(verify_runs).cpu >= FLOOR_TARGET else 'MISSED'})"
        )
        wall_floor = best(read_runs).wall + best(bare_runs).wall
        print(
            f"    by wall clock: verify at {wall_floor / best(verify_runs).wall:.0%} of reading "
            "plus the bare chain"
        )
        print(
            "    --jobs 2, CPU of this process + the other: "
            + ", ".join(
                f"{span.cpu:.3f} + {other:.3f} s"
                for span, other in zip(jobs_runs, CHILD_CPU, strict=True)
            )
        )
        speedup = best(verify_runs).wall / best(jobs_runs).wall
        print(
            f"    --jobs 2: {total / best(jobs_runs).wall:,.0f} entries/s wall, ×{speedup:.2f} "
            f"one process (target ×{JOBS_TARGET}: {'met' if speedup >= JOBS_TARGET else 'MISSED'})"
        )

        if args.no_api:
            print(machine())
            return
        print(
            f"(c) POST /api/v1/documents, {args.requests} requests after 20 warm-up ones "
            "(httpx.AsyncClient over httpx.ASGITransport, in-process; file SQLite in WAL)"
        )
        latencies = [t * 1000 for t in api_latencies(work, args.requests)]
        print(
            f"    p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
            f"mean {statistics.fmean(latencies):.1f} ms, max {max(latencies):.1f} ms"
        )
    print(machine())


def profile(part: str, url: Callable[[int], str], total: int) -> None:
    import cProfile
    import pstats

    if part == "append":
        run: Callable[[], Any] = lambda: kernel_append(url(0), total)  # noqa: E731
    else:
        kernel_append(url(0), total)
        run = lambda: kernel_verify(url(0), total)  # noqa: E731
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
