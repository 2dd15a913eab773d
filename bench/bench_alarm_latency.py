"""Cold-chain alarm latency: from a reading's delivery to its alarm committed.

One reading at a time is delivered through the sensors ingest (as a logger upload or an MQTT
batch of one is stored); every second reading is above the 2–8 °C range and, with a profile
whose pre-alarm and alarm delays are 0, starts a breach that raises a pre-alarm and an alarm
(their tasks, the excursion record and its figures from the readings). Timed per alarmed
reading: the live evaluation alone (the delivery listener, after the delivery's commit, to
its own commit), and the whole path from the start of the delivery; p50/p99.

The ceiling, in the same run and database: a bare one-row INSERT and COMMIT per reading into a
table of its own — what storing a reading costs at the very least, without governance,
sealing, audit or evaluation.

    .venv/bin/python bench/bench_alarm_latency.py [--alarms 150] [--database-url ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import sqlalchemy

import pharmaqms.schema  # noqa: F401 - every module's tables and listeners
from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import live, profiles
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.deliveries import add_delivery_listener, remove_delivery_listener
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.sensors import service as sensors

TARGET_P99_MS = 200.0
PASSWORD = "Bench-Passw0rd!"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load {load}, Python {platform.python_version()}"


def _setup(database: Database) -> Actor:
    initialise(database, admin_password=PASSWORD)
    with unit_of_work(database) as s:
        admin = auth.actor_for(s, auth.user_by_username(s, "admin"))  # type: ignore[arg-type]
        masterdata.add_product(
            s,
            actor=admin,
            gtin=f"0871234599990{check_digit('0871234599990')}",
            code="VAX",
            name="Vaccine",
            storage_min_c=2.0,
            storage_max_c=8.0,
        )
        masterdata.add_location(s, actor=admin, code="CR", name="Cold room", kind="warehouse")
        sensors.assign_storage(s, actor=admin, location_code="CR", product_code="VAX")
        sensors.register_sensor(
            s,
            actor=admin,
            code="T-1",
            location_code="CR",
            calibrated_on=date(2025, 6, 1),
            calibration_due_on=date(2027, 6, 1),
            certificate="CAL-1",
        )
        profiles.set_alarm_profile(
            s,
            actor=admin,
            location_code="CR",
            low_c=2.0,
            high_c=8.0,
            pre_delay_min=0.0,
            alarm_delay_min=0.0,
            interval_min=1.0,
            silent_intervals=5,
            acknowledge_within_min=30.0,
            responder_role="qa",
            reason="bench",
        )
    with unit_of_work(database, write=False) as s:
        return auth.actor_for(s, auth.user_by_username(s, "admin"), Channel.IMPORT)  # type: ignore[arg-type]


class Timed:
    def __init__(self) -> None:
        self.samples: list[tuple[float, float, int]] = []

    def __call__(self, database: Database, run_id: int) -> None:
        arrived = time.perf_counter()
        with unit_of_work(database) as session:
            actor = auth.system_actor(session, Channel.IMPORT)
            outcome = live.evaluate_run(session, actor=actor, run_id=run_id)
            raised = len(outcome.raised)
        self.samples.append((arrived, time.perf_counter(), raised))


def latency(database: Database, actor: Actor, alarms: int) -> dict[str, float]:
    timed = Timed()
    remove_delivery_listener("sensors", live.judge_new_readings)
    add_delivery_listener("sensors", timed)
    listener_ms: list[float] = []
    path_ms: list[float] = []
    try:
        with clock.frozen_at(START + timedelta(days=1)):
            for i in range(2 * alarms):
                value = 5.0 if i % 2 == 0 else 9.0
                at = START + timedelta(minutes=i)
                content = f"sensor,measured_at,temperature,unit\nT-1,{at.isoformat()},{value},C\n"
                started = time.perf_counter()
                with unit_of_work(database) as s:
                    ingest.ingest(s, actor=actor, kind="sensors", content=content.encode())
                arrived, committed, raised = timed.samples[-1]
                if raised:
                    listener_ms.append((committed - arrived) * 1000)
                    path_ms.append((committed - started) * 1000)
    finally:
        remove_delivery_listener("sensors", timed)
        add_delivery_listener("sensors", live.judge_new_readings)
    return {
        "alarmed readings": len(listener_ms),
        "listener p50": statistics.median(listener_ms),
        "listener p99": statistics.quantiles(listener_ms, n=100)[98],
        "path p50": statistics.median(path_ms),
        "path p99": statistics.quantiles(path_ms, n=100)[98],
    }


def ceiling(database: Database, count: int) -> dict[str, float]:
    key = "SERIAL PRIMARY KEY" if database.dialect == "postgresql" else "INTEGER PRIMARY KEY"
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE bench_bare (id {key}, measured_at TEXT, value REAL)")
    samples = []
    for i in range(count):
        started = time.perf_counter()
        with database.engine.begin() as conn:
            conn.execute(
                sqlalchemy.text("INSERT INTO bench_bare (measured_at, value) VALUES (:t, :v)"),
                {"t": (START + timedelta(minutes=i)).isoformat(), "v": 9.0},
            )
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "bare insert p50": statistics.median(samples),
        "bare insert p99": statistics.quantiles(samples, n=100)[98],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=150)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = None
    if args.database_url:
        database = Database(args.database_url)
    else:
        folder = tempfile.TemporaryDirectory(prefix="bench-coldchain-")
        database = Database(f"sqlite:///{folder.name}/bench.db")
    set_database(database)
    try:
        actor = _setup(database)
        began = time.perf_counter()
        measured = latency(database, actor, args.alarms)
        bare = ceiling(database, 2 * args.alarms)
        took = time.perf_counter() - began
    finally:
        set_database(None)
        database.dispose()
        if folder is not None:
            folder.cleanup()
    print(f"cold-chain alarm latency on {database.dialect} — {machine()}")
    for name, value in {**measured, **bare}.items():
        print(f"    {name:<18}: {value:>9.1f}{'' if name == 'alarmed readings' else ' ms'}")
    print(
        f"    path p99 / bare p99: {measured['path p99'] / bare['bare insert p99']:>8.1f}×"
        f"   (goal: path p99 < {TARGET_P99_MS:.0f} ms: "
        f"{'met' if measured['path p99'] < TARGET_P99_MS else 'NOT met'}); {took:.0f} s"
    )


if __name__ == "__main__":
    main()
