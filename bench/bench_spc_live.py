"""SPC live monitoring: evaluation throughput and alert latency.

(a) Throughput of the live path's evaluation step (``monitoring.engine.evaluate``: route each
    reading to its parameter's monitor, skip what is not charted, feed the incremental run rule
    evaluator, turn the start of a broken rule into a signal), with all eight Nelson rules on for
    1,000 parameters, fed in deliveries of 1,000 readings as the listener receives them — against
    a plain loop that only appends the same readings to a list (the ceiling).
    For context also the whole listener on a database, per delivery: the configuration and the
    in-step check (one query each for all parameters the delivery touches), the evaluation,
    storing the alerts and their tasks, the commit.
(b) Alert latency: one reading at a time delivered through the MES import; each second reading
    is beyond 3σ and raises an alert. Measured from the reading's arrival at the listener (after
    the delivery's commit) to the alert committed, p50/p99; also from the start of the delivery.

    .venv/bin/python bench/bench_spc_live.py [--readings 1000000] [--alerts 300] [--repeat 3]
                                             [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.monitoring import limits, live, service
from pharmaqms.lifecycle.production.monitoring.engine import (
    MonitorConfig,
    ParameterMonitor,
    evaluate,
)
from pharmaqms.lifecycle.production.monitoring.series import SeriesKey
from pharmaqms.lifecycle.production.monitoring.workflow import LIMITS_WORKFLOW
from pharmaqms.lifecycle.production.spc import ChartKind, RuleSet, individuals_limits_known
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.timeseries import arrivals
from pharmaqms.platform.timeseries.arrivals import ArrivedReading

TARGET_PER_SECOND = 100_000
TARGET_P99_MS = 200.0
DELIVERY = 1_000
PASSWORD = "Bench-Passw0rd!"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
STEP = ("Tableting", "Compression", "Main compression")


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
    return (
        f"machine: {model}, {os.cpu_count()} cores, load average {load}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {platform.system()} {platform.release()}"
    )


# --- (a) throughput of the evaluation step -------------------------------------------------


def _config(n: int) -> MonitorConfig:
    return MonitorConfig(
        parameter_id=n + 1,
        parameter_version=1,
        limits_id=n + 1,
        subject=f"MP-{n + 1:04d}",
        key=("P-BENCH", *STEP, f"p{n:04d}"),
        unit="kN",
        chart_kind=ChartKind.INDIVIDUALS,
        subgroup_size=1,
        rule_set=RuleSet.NELSON,
        rules=(1, 2, 3, 4, 5, 6, 7, 8),
        center=0.0,
        location_sigma=1.0,
        lcl=-3.0,
        ucl=3.0,
        effective_from=START,
        alert_roles=("qa",),
        dispersion=individuals_limits_known(0.0, 1.0).dispersion,
    )


def _stream(count: int, parameters: int, seed: int) -> list[ArrivedReading]:
    """Round-robin readings: in-control N(0, 1), with a 1.5σ shift on every tenth block of 1,000
    so that rules fire and the signal path is timed too."""
    rng = random.Random(seed)
    return [
        ArrivedReading(
            reading_id=i + 1,
            batch_id=1,
            unit_procedure=STEP[0],
            operation=STEP[1],
            phase=STEP[2],
            parameter=f"p{i % parameters:04d}",
            value=rng.gauss(1.5 if (i // 1_000) % 10 == 9 else 0.0, 1.0),
            unit="kN",
            measured_at=START + timedelta(milliseconds=i),
            run_id=None,
        )
        for i in range(count)
    ]


def throughput(count: int, parameters: int, repeat: int) -> tuple[float, float, int]:
    stream = _stream(count, parameters, 20_240_601)
    deliveries = [stream[i : i + DELIVERY] for i in range(0, count, DELIVERY)]
    products = {1: "P-BENCH"}
    best_eval = best_ceiling = float("inf")
    signals = 0
    for _ in range(repeat):
        monitors: dict[SeriesKey, ParameterMonitor] = {}
        for n in range(parameters):
            config = _config(n)
            monitors[config.key] = ParameterMonitor(config)
        signals = 0
        start = time.perf_counter()
        for delivery in deliveries:
            signals += len(evaluate(monitors, products, delivery))
        best_eval = min(best_eval, time.perf_counter() - start)
        start = time.perf_counter()
        for delivery in deliveries:
            kept: list[ArrivedReading] = []
            append = kept.append
            for reading in delivery:
                append(reading)
        best_ceiling = min(best_ceiling, time.perf_counter() - start)
    return count / best_eval, count / best_ceiling, signals


# --- the database scenes --------------------------------------------------------------------


def _database(url: str | None) -> tuple[Database, tempfile.TemporaryDirectory[str] | None]:
    if url:
        database = Database(url)
        return database, None
    folder = tempfile.TemporaryDirectory(prefix="bench-spc-")
    return Database(f"sqlite:///{folder.name}/bench.db"), folder


def _people(database: Database) -> dict[str, Actor]:
    initialise(database, admin_password=PASSWORD)
    with unit_of_work(database) as s:
        admin = auth.actor_for(s, auth.user_by_username(s, "admin"))  # type: ignore[arg-type]
        for username, role in (("sup", "production_supervisor"), ("qa", "qa")):
            if auth.user_by_username(s, username) is None:
                auth.add_user(
                    s,
                    actor=admin,
                    username=username,
                    full_name=username,
                    roles=[role],
                    password=PASSWORD,
                    must_change_password=False,
                )
    with unit_of_work(database, write=False) as s:
        return {
            name: auth.actor_for(s, auth.user_by_username(s, name), Channel.CLI)  # type: ignore[arg-type]
            for name in ("admin", "sup", "qa")
        }


def _plant(database: Database, people: dict[str, Actor], parameters: int) -> list[int]:
    """A product, a reference and a production batch, ``parameters`` monitored parameters with
    limits from 20 reference readings each (alternating 10 ± d2/2: centre 10, σ 1)."""
    d2 = 2.0 / 3.141592653589793**0.5
    with unit_of_work(database) as s:
        masterdata.add_product(
            s,
            actor=people["admin"],
            gtin=f"0871234599990{check_digit('0871234599990')}",
            code="P-BENCH",
            name="Bench",
        )
        for number in ("REF", "LIVE"):
            masterdata.add_lot(
                s,
                actor=people["admin"],
                kind="finished",
                item_code="P-BENCH",
                lot_number=number,
                expires_on=date(2029, 1, 1),
            )
    ids = []
    with unit_of_work(database) as s:
        for n in range(parameters):
            p = service.define_parameter(
                s,
                actor=people["sup"],
                product_code="P-BENCH",
                unit_procedure=STEP[0],
                operation=STEP[1],
                phase=STEP[2],
                parameter=f"p{n:04d}",
                unit="kN",
                classification="CPP",
                chart_kind="I-MR",
            )
            s.flush()
            ids.append(p.id)
    rows = [
        _row(
            "REF", f"p{n:04d}", 10.0 + (d2 / 2 if i % 2 else -d2 / 2), START + timedelta(seconds=i)
        )
        for n in range(parameters)
        for i in range(20)
    ]
    with clock.frozen_at(START + timedelta(hours=1)):
        _deliver(database, people["sup"], rows)
        with unit_of_work(database) as s:
            for parameter_id in ids:
                draft = limits.estimate_limits(
                    s, actor=people["sup"], parameter_id=parameter_id, batches=["REF"]
                )
                perform(s, LIMITS_WORKFLOW, draft, "approve", actor=people["qa"], password=PASSWORD)
    return ids


def _row(batch: str, parameter: str, value: float, at: datetime) -> dict[str, Any]:
    return {
        "lot_number": batch,
        "item_code": "P-BENCH",
        "unit_procedure": STEP[0],
        "operation": STEP[1],
        "phase": STEP[2],
        "parameter": parameter,
        "value": value,
        "unit": "kN",
        "measured_at": at.isoformat(),
    }


def _deliver(database: Database, actor: Actor, rows: Sequence[dict[str, Any]]) -> None:
    content = json.dumps({"process_reading": list(rows)}).encode()
    with unit_of_work(database) as s:
        run = ingest.ingest(s, actor=actor, kind="mes", content=content)
        assert run.rows_accepted == len(rows), (run.rows_accepted, run.rows_quarantined)


class Timed:
    """The listener, timed: from the readings' arrival to the alerts committed."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, int]] = []  # (arrived, committed, alerts)

    def __call__(self, readings: Sequence[ArrivedReading]) -> list[int]:
        arrived = time.perf_counter()
        raised = live.LIVE.on_readings(readings)
        self.samples.append((arrived, time.perf_counter(), len(raised)))
        return raised


def latency(database: Database, people: dict[str, Actor], count: int) -> dict[str, float]:
    timed = Timed()
    arrivals.remove_reading_listener(live.LIVE.on_readings)
    arrivals.add_reading_listener(timed)
    listener_ms: list[float] = []
    delivery_ms: list[float] = []
    at = START + timedelta(hours=2)
    try:
        with clock.frozen_at(START + timedelta(days=1)):
            for i in range(2 * count):
                # Alternating in-control and beyond-3σ readings: each second one is a new rule 1.
                value = 10.2 if i % 2 == 0 else 13.6
                started = time.perf_counter()
                _deliver(
                    database,
                    people["sup"],
                    [_row("LIVE", "p0000", value, at + timedelta(seconds=i))],
                )
                arrived, committed, raised = timed.samples[-1]
                if raised:
                    listener_ms.append((committed - arrived) * 1000)
                    delivery_ms.append((committed - started) * 1000)
    finally:
        arrivals.remove_reading_listener(timed)
        arrivals.add_reading_listener(live.LIVE.on_readings)
    return {
        "alerts": len(listener_ms),
        "listener_p50": statistics.median(listener_ms),
        "listener_p99": statistics.quantiles(listener_ms, n=100)[98],
        "listener_max": max(listener_ms),
        "delivery_p50": statistics.median(delivery_ms),
        "delivery_p99": statistics.quantiles(delivery_ms, n=100)[98],
    }


def listener_throughput(
    database: Database, people: dict[str, Actor], parameters: int, deliveries: int
) -> float:
    """Readings/s through the whole listener (in-step check, evaluation, alerts stored and
    committed) for MES deliveries of one reading per parameter; only the listener is timed."""
    rng = random.Random(7)
    base = START + timedelta(hours=3)
    timed = Timed()
    arrivals.remove_reading_listener(live.LIVE.on_readings)
    arrivals.add_reading_listener(timed)
    try:
        with clock.frozen_at(START + timedelta(days=1)):
            for d in range(deliveries):
                rows = [
                    _row(
                        "LIVE",
                        f"p{n:04d}",
                        10.0 + rng.gauss(0.0, 1.0),
                        base + timedelta(seconds=d, milliseconds=n),
                    )
                    for n in range(parameters)
                ]
                _deliver(database, people["sup"], rows)
    finally:
        arrivals.remove_reading_listener(timed)
        arrivals.add_reading_listener(live.LIVE.on_readings)
    # The first delivery rebuilds the monitors that no reading has reached since the start.
    spent = sum(committed - arrived for arrived, committed, _ in timed.samples[1:])
    return parameters * (deliveries - 1) / spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--parameters", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of (a); the best counts")
    parser.add_argument("--alerts", type=int, default=300, help="alerts timed in (b)")
    parser.add_argument("--deliveries", type=int, default=6, help="listener deliveries in (a)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    print(machine())
    rate, ceiling, signals = throughput(args.readings, args.parameters, args.repeat)
    print(
        f"(a) {args.readings:,} readings over {args.parameters:,} parameters, Nelson rules 1-8, "
        f"deliveries of {DELIVERY:,}, best of {args.repeat}"
    )
    print(f"    live evaluation step : {rate:>12,.0f} readings/s ({signals:,} signals)")
    print(f"    append ceiling       : {ceiling:>12,.0f} readings/s")
    print(f"    ratio                : {rate / ceiling:>12.3f}")
    verdict = "meets" if rate >= TARGET_PER_SECOND else "MISSES"
    print(f"    target {TARGET_PER_SECOND:,} readings/s: {verdict}")

    database, folder = _database(args.database_url)
    set_database(database)
    try:
        people = _people(database)
        _plant(database, people, args.parameters)
        found = latency(database, people, args.alerts)
        whole = listener_throughput(database, people, args.parameters, args.deliveries)
    finally:
        set_database(None)
        database.dispose()
        if folder is not None:
            folder.cleanup()
    print(
        f"    whole listener on {database.dialect} (configuration and in-step queries, evaluation, "
        f"alerts, commit): {whole:,.0f} readings/s"
    )
    print(
        f"(b) alert latency, {found['alerts']:.0f} alerts, one reading per MES delivery, "
        f"{database.dialect}"
    )
    print(
        f"    reading at the listener -> alert committed: p50 {found['listener_p50']:.1f} ms, "
        f"p99 {found['listener_p99']:.1f} ms, max {found['listener_max']:.1f} ms"
    )
    print(
        f"    delivery started -> alert committed     : p50 {found['delivery_p50']:.1f} ms, "
        f"p99 {found['delivery_p99']:.1f} ms"
    )
    verdict = "meets" if found["listener_p99"] < TARGET_P99_MS else "MISSES"
    print(f"    target p99 < {TARGET_P99_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
