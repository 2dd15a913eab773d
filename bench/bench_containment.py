"""Benchmark: containment at a time (what a pallet held at ``--at``, and which containers held a
pack) over about a million EPCIS events, against a raw SQL ceiling measured in the same run.

Run: ``.venv/bin/python bench/bench_containment.py [--pallets 111112] [--samples 200]``

1. Generate pallets of 2 cases of 3 packs: commissioning, packing of each case, packing of the
   pallet, shipping and receiving, a pick of one pack, a decommissioning of another, and the
   unpacking of the pallet — 9 events per pallet (111,112 pallets: 1,000,008 events), each hour
   apart so that every sample time has a known answer. They are bulk-loaded into a migrated
   SQLite file with the rows the EPCIS connector writes (event, canonical form, one index row
   per identifier and role); the ingest pipeline is bypassed, as in bench_trace.py.
2. For ``samples`` pallets, at a random one of their hours: ``containment`` down from the
   pallet and up from one of its packs, checked against the known answer. p50 and p95.
3. The ceiling: with raw sqlite3, the index lookups of the pallet, its cases and packs, and the
   fetch of those events' rows — what any answer must read, without any work on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trace import RowWriter, machine, percentile, timed

from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.epcis_store import named_objects
from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    EPCISEvent,
    Ilmd,
    ObjectEvent,
)
from pharmaqms.platform.genealogy.codec import canonical_plain
from pharmaqms.platform.genealogy.containment import containment
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.trace import canonical

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = ("commissioned", "cases", "pallet", "shipped", "received", "picked", "gone", "unpacked")


def _pack(p: int, n: int) -> str:
    return f"https://id.gs1.org/01/19506000343522/21/P{p}-{n}"


def _sscc(serial: int) -> str:
    digits = f"09506000{serial:09d}"
    return f"https://id.gs1.org/00/{digits}{check_digit(digits)}"


def names(p: int) -> tuple[list[str], list[str], str]:
    """(packs, cases, pallet) of pallet ``p``."""
    return [_pack(p, n) for n in range(6)], [_sscc(3 * p + 1), _sscc(3 * p + 2)], _sscc(3 * p)


def pallet_events(
    t0: datetime, packs: list[str], cases: list[str], pallet: str
) -> list[EPCISEvent]:
    """One pallet's history, an hour a step from ``t0``."""
    at = [t0 + timedelta(hours=h) for h in range(9)]
    base = {"event_time_zone_offset": "+00:00"}
    return [
        ObjectEvent(
            index=0,
            event_time=at[0],
            action=Action.ADD,
            epc_list=tuple(packs),
            biz_step="commissioning",
            disposition="active",
            ilmd=Ilmd(lot_number="L1", item_expiration_date=None),
            **base,
        ),
        AggregationEvent(
            index=0,
            event_time=at[1],
            action=Action.ADD,
            parent_id=cases[0],
            child_epcs=tuple(packs[:3]),
            biz_step="packing",
            **base,
        ),
        AggregationEvent(
            index=0,
            event_time=at[1],
            action=Action.ADD,
            parent_id=cases[1],
            child_epcs=tuple(packs[3:]),
            biz_step="packing",
            **base,
        ),
        AggregationEvent(
            index=0,
            event_time=at[2],
            action=Action.ADD,
            parent_id=pallet,
            child_epcs=tuple(cases),
            biz_step="packing",
            **base,
        ),
        ObjectEvent(
            index=0,
            event_time=at[3],
            action=Action.OBSERVE,
            epc_list=(pallet,),
            biz_step="shipping",
            disposition="in_transit",
            **base,
        ),
        ObjectEvent(
            index=0,
            event_time=at[4],
            action=Action.OBSERVE,
            epc_list=(pallet,),
            biz_step="receiving",
            disposition="in_progress",
            **base,
        ),
        AggregationEvent(
            index=0,
            event_time=at[5],
            action=Action.DELETE,
            parent_id=cases[0],
            child_epcs=(packs[0],),
            biz_step="picking",
            **base,
        ),
        ObjectEvent(
            index=0,
            event_time=at[6],
            action=Action.DELETE,
            epc_list=(packs[3],),
            biz_step="decommissioning",
            disposition="inactive",
            **base,
        ),
        AggregationEvent(
            index=0,
            event_time=at[7],
            action=Action.DELETE,
            parent_id=pallet,
            child_epcs=(),
            biz_step="unpacking",
            **base,
        ),
    ]


def expected(p: int, hour: int) -> tuple[set[str], tuple[str, ...]]:
    """(what the pallet holds, the containers of its pack 1) ``hour`` + 30 min after start."""
    packs, cases, pallet = names(p)
    in_case = [set(packs[:3]), set(packs[3:])] if hour >= 1 else [set(), set()]
    if hour >= 5:
        in_case[0].discard(packs[0])
    if hour >= 6:
        in_case[1].discard(packs[3])
    on_pallet = 2 <= hour < 7
    held = (set(cases) | in_case[0] | in_case[1]) if on_pallet else set()
    containers = (cases[0], pallet) if on_pallet else ((cases[0],) if hour >= 1 else ())
    return held, containers


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _template() -> tuple[list[tuple[object, ...]], list[list[tuple[str, str]]]]:
    """One pallet's rows with placeholders (``@P0@``…): a million events are then made by
    text substitution, not by a million runs of the connector's code (which bench_trace.py
    and the tests exercise)."""
    packs = [f"@P{n}@" for n in range(6)]
    events = pallet_events(START, packs, ["@S1@", "@S2@"], "@S0@")
    rows: list[tuple[object, ...]] = []
    objects: list[list[tuple[str, str]]] = []
    for i, event in enumerate(events):
        document = {"format": "json", "raw": "", "event": canonical_plain(event, canonical)}
        document["event"]["event_id"] = f"@E{i}@"
        rows.append(
            (
                f"@E{i}@",
                event.event_type.value,
                getattr(event, "action", None),
                event.event_time - START,
                event.biz_step,
                event.disposition,
                getattr(event, "parent_id", None),
                json.dumps(document, separators=(",", ":")),
            )
        )
        objects.append([(role, epc) for role, epc, _q in named_objects(event)])
    return rows, objects


_PLACEHOLDER = re.compile(r"@[A-Z][0-9]+@|2026-01-01T0[0-9]:00:00\+00:00")


def bulk_load(path: Path, pallets: int) -> tuple[int, int]:
    writer = RowWriter(path)
    template, template_objects = _template()
    events = 0
    for p in range(pallets):
        packs, cases, pallet = names(p)
        t0 = START + timedelta(minutes=p)
        real = {f"@P{n}@": pack for n, pack in enumerate(packs)}
        real |= {"@S0@": pallet, "@S1@": cases[0], "@S2@": cases[1]}
        real |= {f"@E{i}@": f"urn:bench:{p}:{i}" for i in range(len(template))}
        real |= {
            (START + timedelta(hours=h)).isoformat(): (t0 + timedelta(hours=h)).isoformat()
            for h in range(9)
        }

        def fill(text: str, real: dict[str, str] = real) -> str:
            return _PLACEHOLDER.sub(lambda m: real[m.group()], text)

        for (key, kind, action, offset, step, disposition, parent, document), named in zip(
            template, template_objects, strict=True
        ):
            events += 1
            when = _utc(t0 + offset)  # type: ignore[operator]
            writer.add(
                (
                    events,
                    real[str(key)],
                    kind,
                    action,
                    when,
                    "+00:00",
                    when,
                    step,
                    disposition,
                    None,
                    None,
                    real[str(parent)] if parent else None,
                    None,
                    None,
                    None,
                    0,
                    fill(str(document)),
                    None,
                ),
                [(events, role, real[epc], None, None) for role, epc in named],
            )
    return writer.close()


def raw_reads(conn: sqlite3.Connection, p: int) -> int:
    """What any answer must read: the index rows of the pallet, its cases and packs, and the
    events they name."""
    packs, cases, pallet = names(p)
    identifiers = [pallet, *cases, *packs]
    ids: set[int] = set()
    for identifier in identifiers:
        ids.update(
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM epcis_event_objects WHERE epc = ?", (identifier,)
            )
        )
    return sum(
        len(conn.execute("SELECT document FROM epcis_events WHERE id = ?", (i,)).fetchall())
        for i in ids
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pallets", type=int, default=111_112, help="9 events each (111,112: 1,000,008 events)"
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(machine())
    print(f"load average at start: {os.getloadavg()[0]:.1f} (1 min)")
    folder = Path(tempfile.mkdtemp(prefix="bench_containment_"))
    path = folder / "containment.db"
    database = Database(f"sqlite:///{path}")
    try:
        initialise(database)
        start = time.perf_counter()
        events, objects = bulk_load(path, args.pallets)
        loaded = time.perf_counter() - start
        print(
            f"generated and bulk-loaded {events:,} events, {objects:,} identifier rows in "
            f"{loaded:.1f} s; database {path.stat().st_size / 2**20:,.0f} MiB"
        )
        measure(database, path, args.pallets, args.samples, args.seed)
    finally:
        database.dispose()
        shutil.rmtree(folder)


def measure(database: Database, path: Path, pallets: int, samples: int, seed: int) -> None:
    rng = random.Random(seed)
    chosen = [(rng.randrange(pallets), rng.randrange(len(HOURS))) for _ in range(samples)]
    down: list[float] = []
    up: list[float] = []
    cpu: list[float] = []
    with unit_of_work(database, write=False) as session:
        containment(session, _sscc(0), None)  # warm-up
        for p, hour in chosen:
            at = START + timedelta(minutes=p) + timedelta(hours=hour, minutes=30)
            held, containers = expected(p, hour)
            found = timed(down, lambda p=p, at=at: containment(session, _sscc(3 * p), at), cpu)
            assert {h.epc for h in found.contents} == held, (p, hour)  # type: ignore[attr-defined]
            pack = timed(up, lambda p=p, at=at: containment(session, _pack(p, 1), at))
            assert pack.containers == containers, (p, hour)  # type: ignore[attr-defined]
    conn = sqlite3.connect(path)
    reads: list[float] = []
    for p, _hour in chosen:
        timed(reads, lambda p=p: raw_reads(conn, p))
    conn.close()
    d95, u95, r95 = percentile(down, 0.95), percentile(up, 0.95), percentile(reads, 0.95)
    print(
        f"containment down from a pallet ({samples} samples, all checked): "
        f"p50 {percentile(down, 0.5):.1f} ms, p95 {d95:.1f} ms "
        f"(CPU p95 {percentile(cpu, 0.95):.1f} ms)"
    )
    print(f"containers of a pack: p50 {percentile(up, 0.5):.1f} ms, p95 {u95:.1f} ms")
    print(
        f"ceiling, raw sqlite3 reads of the same index rows and events: "
        f"p50 {percentile(reads, 0.5):.2f} ms, p95 {r95:.2f} ms; down/ceiling at p95 "
        f"{d95 / r95:.1f}x"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)")


if __name__ == "__main__":
    main()
