"""Process analytics over a large audit trail: the figures of the six processes from N status
changes.

Synthetic trail in a SQLite file: records of the six processes analysed (batch release,
deviation, CAPA, change control, complaint, adverse event case), each created (an audit entry
whose changes carry the whole record, ~600 bytes) and then moved along its own workflow's
transitions chosen at random until an end state or a random stop (still open), with log-normal
stays; plus one task per stay for a role that may move it on. Other audit entries (field edits
without a status) are mixed in, one per status change, so the query has to leave them out.

Timed, best of ``--rounds``:
(a) ``figures.process_figures(session)``: the SQL select of the status entries and the tasks
    and every figure (stays, states, transitions, roles, trend) in Polars;
(b) the same on frames already in memory (the Polars part alone);
(c) the ceiling: a bare Polars group-by of the same stays' durations (count, median, p90,
    mean per record type and state), with nothing else to do;
(d) the reading floor: the same status rows and task rows fetched with the bare ``sqlite3``
    driver (no SQLAlchemy, no frame), plus (c): the least any figure from this database costs.

    .venv/bin/python bench/bench_process_analytics.py [--changes 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

import pharmaqms.schema  # noqa: F401 - every module's tables and record types
from pharmaqms.compliance.process_analytics import figures, intervals
from pharmaqms.compliance.process_analytics.processes import PROCESSES
from pharmaqms.kernel.models import AuditEntry, Task

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
FILLER = {f"field_{i}": "x" * 20 for i in range(20)}


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


def _entry(seq: int, at: datetime, rt: str, rid: int, action: str, changes: dict) -> dict:
    return {
        "seq": seq,
        "occurred_at": at,
        "actor_id": 1,
        "actor_username": "bench",
        "actor_name": "Bench",
        "channel": "api",
        "action": action,
        "record_type": rt,
        "record_id": rid,
        "record_label": f"{rt.upper()}-{rid:06d}",
        "changes": json.dumps(changes, sort_keys=True, separators=(",", ":")),
        "prev_hash": "0" * 64,
        "entry_hash": "0" * 64,
    }


def build(path: Path, changes: int, seed: int = 7) -> int:
    """Writes the synthetic trail; returns how many status changes it holds."""
    rng = random.Random(seed)
    engine = create_engine(f"sqlite:///{path}")
    AuditEntry.__table__.create(engine)
    Task.__table__.create(engine)
    processes = list(PROCESSES.values())
    entries: list[dict] = []
    tasks: list[dict] = []
    status_changes = 0
    seq = 0
    rid = 0
    while status_changes < changes:
        process = processes[rid % len(processes)]
        rid += 1
        workflow = process.workflow
        at = START + timedelta(minutes=rng.uniform(0, 600 * 24 * 60))
        state = workflow.initial
        seq += 1
        entries.append(
            _entry(seq, at, process.name, rid, "create", {**FILLER, "status": [None, state]})
        )
        status_changes += 1
        while state not in process.end_states and at < NOW:
            roles = process.roles_out_of(state)
            stay = timedelta(hours=rng.lognormvariate(3.5, 1.2))
            tasks.append(
                {
                    "record_type": process.name,
                    "record_id": rid,
                    "record_label": f"{process.name.upper()}-{rid:06d}",
                    "kind": "step",
                    "title": "step",
                    "assignee_role": roles[0] if roles else "qa",
                    "status": "open",
                    "created_at": at,
                    "closed_at": None,
                    "version": 1,
                }
            )
            if rng.random() < 0.08 or at + stay >= NOW:
                break  # still there now
            seq += 1
            entries.append(
                _entry(seq, at + stay / 2, process.name, rid, "update", {"title": ["a", "b"]})
            )
            move = rng.choice(workflow.from_state(state))
            at += stay
            seq += 1
            entries.append(
                _entry(
                    seq,
                    at,
                    process.name,
                    rid,
                    f"transition:{move.name}",
                    {"status": [state, move.target]},
                )
            )
            tasks[-1].update(status="done", closed_at=at)
            state = move.target
            status_changes += 1
    with engine.begin() as connection:
        for i in range(0, len(entries), 20_000):
            connection.execute(insert(AuditEntry.__table__), entries[i : i + 20_000])
        connection.execute(insert(Task.__table__), tasks)
    engine.dispose()
    print(
        f"{len(entries):,} audit entries ({status_changes:,} status changes), {len(tasks):,} tasks"
    )
    return status_changes


def best(rounds: int, run: object) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    zone = ZoneInfo("Europe/Berlin")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trail.db"
        build(path, args.changes)
        engine = create_engine(f"sqlite:///{path}")
        names = list(PROCESSES)
        chosen = list(PROCESSES.values())

        def whole() -> None:
            with Session(engine) as session:
                figures.process_figures(session, now=NOW, zone=zone)

        with Session(engine) as session:
            entries = intervals.status_entries(session, names)
            tasks = intervals.task_rows(session, names, intervals.Window())
        stays = intervals.intervals(entries, chosen, NOW)

        def polars_part() -> None:
            figures.figures_from(entries, tasks, chosen, intervals.Window(), now=NOW, zone=zone)

        durations = stays.select("record_type", "state", "hours")

        def ceiling() -> None:
            durations.group_by("record_type", "state").agg(
                pl.len().alias("count"),
                pl.col("hours").median().alias("median"),
                pl.col("hours").quantile(0.9, interpolation="linear").alias("p90"),
                pl.col("hours").mean().alias("mean"),
            )

        status_sql = (
            "select record_type, record_id, record_label, seq, occurred_at, "
            "json_extract(changes, '$.status[1]') from audit_entries where record_type in "
            f"({', '.join(repr(n) for n in names)}) and changes like '%\"status\":[%'"
        )
        task_sql = (
            "select record_type, record_id, record_label, kind, assignee_role, "
            "assignee_user_id, created_at, closed_at from tasks"
        )

        def floor() -> None:
            raw = sqlite3.connect(path)
            raw.execute(status_sql).fetchall()
            raw.execute(task_sql).fetchall()
            raw.close()
            ceiling()

        a = best(args.rounds, whole)
        b = best(args.rounds, polars_part)
        c = best(args.rounds, ceiling)
        d = best(args.rounds, floor)
        print(f"stays: {stays.height:,}; tasks: {tasks.height:,}")
        print(f"(a) process_figures, SQL + Polars: {a:.3f} s")
        print(f"(b) the Polars part alone:         {b:.3f} s")
        print(f"(c) ceiling, bare group-by:        {c:.3f} s")
        print(f"(d) floor, bare sqlite3 fetch + (c):{d:.3f} s")
        print(f"ratio (c)/(a): {c / a:.3f}; (c)/(b): {c / b:.3f}; (d)/(a): {d / a:.2f}")
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
