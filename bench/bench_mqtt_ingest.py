"""MQTT ingest: the pharmaqms worker against a bare subscriber on the same broker.

(a) the worker (``platform.mqtt``): governance, calibration status, storage-limit checks, one
    audited import run per batch, acknowledgement after commit, SQLite file database;
(b) the ceiling: a bare paho subscriber that parses the payload and ``executemany``-inserts
    into a table of the same shape (same unique key, same pragmas), auto-acknowledging;
(c) end-to-end latency of the worker, publish → committed, at a steady live rate.

For (a) and (b) a separate publisher process first loads N readings into the subscriber's
persistent session (every one PUBACKed), then the subscriber drains them: the rate is its own,
not the publisher's, and the two don't fight over the CPU. The benchmark runs a private
Mosquitto (same binary) with an unbounded session queue, because the stock configuration's
``max_queued_messages 1000`` would drop most of a 50,000-reading backlog.

    .venv/bin/python bench/bench_mqtt_ingest.py [--readings 50000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from mqtt_cold_room import SENSORS, add_cold_room
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

TARGET_RATIO = 0.5
BATCH = 500
IN_FLIGHT = 2 * BATCH
BASE = datetime(2026, 1, 1, tzinfo=UTC)


# --- the broker -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "max_queued_messages 0\n"  # unbounded: the run preloads whole backlogs
        "max_inflight_messages 0\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker, port
        except OSError:
            time.sleep(0.05)
    broker.kill()
    raise SystemExit("mosquitto did not start")


# --- the publisher process --------------------------------------------------------------


def payload(i: int, ts: datetime) -> str:
    # 2 % of the readings are above 8 °C, so the excursion path is timed too.
    temperature = 9.0 if i % 50 == 0 else 4.0 + (i % 30) / 10
    return json.dumps(
        {"ts": ts.isoformat(), "temperature": temperature, "unit": "C", "humidity": 45.0}
    )


def publisher(port: int, site: str, count: int, rate: float, offset_minutes: int) -> None:
    """Publish ``count`` readings (QoS 1), at ``rate`` per second or as fast as possible, and
    wait for every PUBACK. Paced readings carry the wall clock as device time (latency)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{site}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    acked = 0
    done = threading.Event()

    def on_publish(*_args: Any) -> None:
        nonlocal acked
        acked += 1
        if acked == count:
            done.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    for i in range(count):
        if rate:
            slot = start + i / rate
            pause = slot - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            ts = datetime.now(UTC)
        else:
            ts = BASE + timedelta(minutes=offset_minutes + i // SENSORS)
        topic = f"pharmaqms/{site}/CR-1/S{i % SENSORS:03d}/reading"
        client.publish(topic, payload(i, ts), qos=1)
    if not done.wait(300):
        raise SystemExit(f"only {acked} of {count} PUBACKs")
    client.disconnect()
    client.loop_stop()


def publish(port: int, site: str, count: int, rate: float = 0.0, offset: int = 0) -> None:
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--publish",
            str(port),
            site,
            str(count),
            str(rate),
            str(offset),
        ],
        check=True,
    )


def publish_in_background(port: int, site: str, count: int, rate: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--publish", str(port), site, str(count), str(rate), "0"]
    return subprocess.Popen(command)


def prime_session(port: int, client_id: str, topic: str) -> None:
    """Create the subscriber's persistent session and leave: the broker queues from now on."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.loop_start()
    client.subscribe(topic, options=SubscribeOptions(qos=1))
    subscribed.wait(5)
    client.disconnect()
    client.loop_stop()


# --- (a) the pharmaqms worker -----------------------------------------------------------


def make_template(workdir: Path) -> Path:
    """A migrated database with a 2–8 °C product held in CR-1 and SENSORS calibrated sensors."""
    os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
    os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
    os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")
    import pharmaqms.schema  # noqa: F401
    from pharmaqms.kernel.bootstrap import initialise
    from pharmaqms.kernel.db import Database

    path = workdir / "template.db"
    database = Database(f"sqlite:///{path}")
    initialise(database)
    add_cold_room(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


def run_worker(
    port: int, db_path: Path, site: str, count: int, client_id: str, latency: bool = False
) -> tuple[float, float, list[float]]:
    """Drain ``count`` readings through the worker: (seconds, CPU seconds, latencies)."""
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.db import Database
    from pharmaqms.kernel.identity import Channel
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.platform.mqtt.batch import BatchOutcome, ensure_source
    from pharmaqms.platform.mqtt.settings import Broker, MqttSettings
    from pharmaqms.platform.mqtt.worker import Delivery, IngestWorker
    from pharmaqms.platform.sensors.models import ExcursionCandidate
    from pharmaqms.platform.timeseries.models import SensorReading

    database = Database(f"sqlite:///{db_path}")
    with unit_of_work(database, write=False) as session:
        actor = auth.system_actor(session, Channel.MQTT)
    settings = MqttSettings(
        topic=f"pharmaqms/{site}/+/+/reading",
        client_id=client_id,
        batch_size=BATCH,
        batch_ms=200,
        receive_maximum=IN_FLIGHT,
    )
    ensure_source(database, actor, settings.source)
    stop = threading.Event()
    seen = 0
    latencies: list[float] = []

    def committed(batch: list[Delivery], _outcome: BatchOutcome) -> None:
        nonlocal seen
        now = time.time()
        seen += len(batch)
        if latency:
            for delivery in batch:
                ts = json.loads(delivery.message.payload)["ts"]
                latencies.append(now - datetime.fromisoformat(ts).timestamp())
        if seen >= count:
            stop.set()

    worker = IngestWorker(
        database, settings, Broker("127.0.0.1", port, tls=False), actor, on_committed=committed
    )
    start, cpu = time.perf_counter(), time.process_time()
    worker.start()
    worker.run(stop)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    worker.close()
    with unit_of_work(database, write=False) as session:
        stored = session.query(SensorReading).count()
        flagged = session.query(ExcursionCandidate).count()
    database.dispose()
    if stored != count:
        raise SystemExit(f"worker stored {stored} of {count} readings")
    if not latency and flagged != count // 50:
        raise SystemExit(f"worker flagged {flagged} excursion candidates, expected {count // 50}")
    return elapsed, cpu, latencies


# --- (b) the ceiling: a bare subscriber ---------------------------------------------------

BARE_TABLE = """
CREATE TABLE sensor_readings (
    id INTEGER PRIMARY KEY, sensor_id INTEGER NOT NULL, measured_at DATETIME NOT NULL,
    original_offset VARCHAR(6), received_at DATETIME NOT NULL, temperature_c FLOAT,
    humidity_pct FLOAT, calibration_valid BOOLEAN NOT NULL, location_id INTEGER,
    shipment_id INTEGER, run_id INTEGER, note TEXT, UNIQUE (sensor_id, measured_at))
"""


def run_bare(
    port: int, db_path: Path, site: str, count: int, client_id: str
) -> tuple[float, float]:
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(BARE_TABLE)
    sensor_ids = {f"S{n:03d}": n + 1 for n in range(SENSORS)}
    insert = (
        "INSERT INTO sensor_readings (sensor_id, measured_at, original_offset, received_at, "
        "temperature_c, humidity_pct, calibration_valid, location_id) VALUES (?,?,?,?,?,?,1,1)"
    )
    pending: list[tuple[Any, ...]] = []
    stored = 0
    done = threading.Event()

    def flush() -> None:
        nonlocal stored
        connection.execute("BEGIN")
        connection.executemany(insert, pending)
        connection.execute("COMMIT")
        stored += len(pending)
        pending.clear()
        if stored >= count:
            done.set()

    def on_message(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        sensor = message.topic.split("/")[3]
        body = json.loads(message.payload)
        ts = datetime.fromisoformat(body["ts"])
        received = datetime.now(UTC).isoformat(sep=" ")
        pending.append(
            (
                sensor_ids[sensor],
                ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
                "+00:00",
                received,
                float(body["temperature"]),
                float(body["humidity"]),
            )
        )
        if len(pending) >= BATCH or stored + len(pending) >= count:
            flush()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = IN_FLIGHT
    start, cpu = time.perf_counter(), time.process_time()
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.subscribe(f"pharmaqms/{site}/+/+/reading", options=SubscribeOptions(qos=1))
    while not done.is_set():
        client.loop(timeout=0.05)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    client.disconnect()
    (total,) = connection.execute("SELECT count(*) FROM sensor_readings").fetchone()
    connection.close()
    if total != count:
        raise SystemExit(f"bare subscriber stored {total} of {count}")
    return elapsed, cpu


# --- the run -------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    version = subprocess.run(
        [shutil.which("mosquitto") or "mosquitto", "-h"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.platform()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {version}; "
        f"load average {load}"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2, help="drains of each; the best counts")
    parser.add_argument("--latency-readings", type=int, default=5_000)
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=0.0,
        help="readings/s; 0 = a quarter of the worker's measured throughput (latency is "
        "measured below capacity: above it, it only measures the growing backlog)",
    )
    args = parser.parse_args()
    if args.readings % BATCH:
        raise SystemExit(f"--readings must be a multiple of {BATCH}")

    print(f"machine: {machine()}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    broker, port = start_broker(workdir)
    try:
        template = make_template(workdir)
        worker_seconds = bare_seconds = worker_cpu = bare_cpu = float("inf")
        for round_ in range(args.repeat):
            # (a) the worker, draining a preloaded backlog
            db = workdir / f"worker-{round_}.db"
            shutil.copyfile(template, db)
            site, client_id = f"A{round_}", f"bench-worker-{round_}"
            prime_session(port, client_id, f"pharmaqms/{site}/+/+/reading")
            publish(port, site, args.readings)
            seconds, cpu, _ = run_worker(port, db, site, args.readings, client_id)
            worker_seconds, worker_cpu = min(worker_seconds, seconds), min(worker_cpu, cpu)
            print(
                f"  round {round_ + 1}: worker {args.readings / seconds:,.0f} readings/s, "
                f"{cpu / args.readings * 1e6:,.0f} µs CPU a reading"
            )
            # (b) the bare subscriber, the same backlog shape
            site, client_id = f"B{round_}", f"bench-bare-{round_}"
            prime_session(port, client_id, f"pharmaqms/{site}/+/+/reading")
            publish(port, site, args.readings)
            db = workdir / f"bare-{round_}.db"
            seconds, cpu = run_bare(port, db, site, args.readings, client_id)
            bare_seconds, bare_cpu = min(bare_seconds, seconds), min(bare_cpu, cpu)
            print(
                f"  round {round_ + 1}: bare   {args.readings / seconds:,.0f} readings/s, "
                f"{cpu / args.readings * 1e6:,.0f} µs CPU a reading"
            )

        # (c) latency at a steady live rate, default batch settings
        rate = args.latency_rate or round(args.readings / worker_seconds / 4)
        db = workdir / "latency.db"
        shutil.copyfile(template, db)
        site, client_id = "L", "bench-latency"
        prime_session(port, client_id, f"pharmaqms/{site}/+/+/reading")
        sender = publish_in_background(port, site, args.latency_readings, rate)
        _, _, latencies = run_worker(port, db, site, args.latency_readings, client_id, latency=True)
        sender.wait(60)
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)

    worker_rate = args.readings / worker_seconds
    bare_rate = args.readings / bare_seconds
    ratio = worker_rate / bare_rate
    print(
        f"{args.readings:,} QoS 1 readings from {SENSORS} sensors, preloaded by a separate "
        f"publisher process; batches of {BATCH}, {IN_FLIGHT} in flight; best of {args.repeat}"
    )
    print(
        f"(a) worker (governance, calibration, limits, run per batch, ack after commit): "
        f"{worker_rate:>8,.0f} readings/s  ({worker_cpu / args.readings * 1e6:,.0f} µs CPU each)"
    )
    print(
        f"(b) bare paho subscriber + executemany (ceiling):   "
        f"{bare_rate:>8,.0f} readings/s  ({bare_cpu / args.readings * 1e6:,.0f} µs CPU each)"
    )
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio (a)/(b): {ratio:.2f} — target ≥ {TARGET_RATIO:.2f}: {verdict}")
    print(f"CPU per reading, (b)/(a): {bare_cpu / worker_cpu:.2f} (load-independent check)")
    print(
        f"(c) latency publish → committed, {args.latency_readings:,} readings at "
        f"{rate:,.0f}/s (batch {BATCH} or 200 ms): "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--publish":
        port, site, count, rate, offset = sys.argv[2:7]
        publisher(int(port), site, int(count), float(rate), int(offset))
    else:
        main()
