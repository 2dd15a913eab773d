"""MQTT ingest workers on a shared subscription, on PostgreSQL: 1, 2 and 4 worker processes
against the broker's ceiling, in the same run.

(a) N ``IngestWorker`` processes (``pharmaqms mqtt run``'s worker: governance, calibration
    status, storage-limit checks, one audited import run per batch, acknowledgement after
    commit), each with its own client id, on ``$share/<group>/pharmaqms/<site>/+/+/reading``,
    writing to one PostgreSQL database;
(b) the ceiling: N bare paho subscribers on a shared group of the same shape, counting the
    messages (acknowledged on receipt, nothing stored) — what the broker delivers.

For each run the members' persistent sessions are created first, then a separate publisher
process loads the readings (every one PUBACKed; Mosquitto deals the shared subscription's
messages out round-robin to the members' sessions), then the members — already started and
imported, waiting for a signal — are told to go at the same instant. The rate is readings
over the time from that signal to the last member's last commit (bare: last message). Each
worker run gets a fresh copy of the same database (PostgreSQL ``TEMPLATE``), checked
afterwards: every reading stored once.

    .venv/bin/python bench/bench_mqtt_workers.py [--readings 20000] [--workers 1 2 4]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import paho.mqtt.client as mqtt
import psycopg
from bench_mqtt_ingest import BATCH, machine, prime_session, publish, start_broker
from mqtt_cold_room import SENSORS, add_cold_room
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

TEMPLATE = "bench_mqtt_workers_tpl"
RUN_DB = "bench_mqtt_workers_run"
# A member stops once nothing has arrived for this long after its last commit (the idle
# time is not counted: the rate ends at the last commit).
IDLE_SECONDS = 3.0
# Near-linear to 2 workers: 2 workers give at least this many times 1 worker.
TARGET_SPEED_UP_2 = 1.7


# --- the database ---------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_template(admin_url: str) -> None:
    """A migrated database with a 2–8 °C product held in CR-1 and SENSORS calibrated sensors."""
    from pharmaqms.kernel.bootstrap import initialise
    from pharmaqms.kernel.db import Database

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in (RUN_DB, TEMPLATE):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    database = Database(sqlalchemy_url(database_url(admin_url, TEMPLATE)))
    initialise(database)
    add_cold_room(database)
    database.dispose()


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def fresh_run_database(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {RUN_DB} TEMPLATE {TEMPLATE}")
    return database_url(admin_url, RUN_DB)


def stored_readings(url: str) -> tuple[int, int]:
    """(readings, distinct sensor and device time) in the run's database."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor_id, measured_at)) FROM sensor_readings"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# --- the members (child processes) -----------------------------------------------------------


def worker_member(port: int, db_url: str, site: str, client_id: str, group: str) -> None:
    """One pharmaqms ingest worker: imported and ready, it waits for "go" on stdin."""
    import pharmaqms.schema  # noqa: F401 - the listeners (cold chain, SPC) as in production
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.db import Database, set_database
    from pharmaqms.kernel.identity import Channel
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.platform.mqtt.batch import BatchOutcome, ensure_source
    from pharmaqms.platform.mqtt.settings import Broker, MqttSettings
    from pharmaqms.platform.mqtt.worker import Delivery, IngestWorker

    database = Database(sqlalchemy_url(db_url))
    set_database(database)
    with unit_of_work(database, write=False) as session:
        actor = auth.system_actor(session, Channel.MQTT)
    settings = MqttSettings(
        topic=f"pharmaqms/{site}/+/+/reading",
        share_group=group,
        client_id=client_id,
        batch_size=BATCH,
        batch_ms=200,
        session_expiry_seconds=3600,
    )
    ensure_source(database, actor, settings.source)
    stop = threading.Event()
    seen = 0
    last_commit = 0.0

    def committed(batch: list[Delivery], _outcome: BatchOutcome) -> None:
        nonlocal seen, last_commit
        seen += len(batch)
        last_commit = time.time()

    worker = IngestWorker(
        database, settings, Broker("127.0.0.1", port, tls=False), actor, on_committed=committed
    )
    print("ready", flush=True)
    sys.stdin.readline()
    cpu = time.process_time()
    worker.start()
    started = time.time()

    def watch() -> None:
        while not stop.wait(0.2):
            since = time.time() - (last_commit or started)
            if since > (IDLE_SECONDS if last_commit else 60):
                stop.set()

    threading.Thread(target=watch, daemon=True).start()
    worker.run(stop)
    cpu = time.process_time() - cpu
    worker.close()
    database.dispose()
    print(json.dumps({"count": seen, "last": last_commit, "cpu": cpu}), flush=True)


def bare_member(port: int, site: str, client_id: str, group: str) -> None:
    """A bare paho member of the shared group: counts messages, acknowledges on receipt."""
    count = 0
    last = 0.0

    def on_message(_c: mqtt.Client, _u: Any, _m: mqtt.MQTTMessage) -> None:
        nonlocal count, last
        count += 1
        last = time.time()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = 2 * BATCH
    print("ready", flush=True)
    sys.stdin.readline()
    cpu = time.process_time()
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.subscribe(
        f"$share/{group}/pharmaqms/{site}/+/+/reading", options=SubscribeOptions(qos=1)
    )
    started = time.time()
    while time.time() - (last or started) < (IDLE_SECONDS if last else 60):
        client.loop(timeout=0.05)
    cpu = time.process_time() - cpu
    client.disconnect()
    print(json.dumps({"count": count, "last": last, "cpu": cpu}), flush=True)


# --- one run ---------------------------------------------------------------------------------


def run(
    kind: str, members: int, port: int, readings: int, db_url: str, label: str
) -> tuple[float, float, list[int]]:
    """Start ``members`` of ``kind`` ("worker" or "bare") on a fresh shared group, load the
    readings into their sessions, let them go. Returns (readings/s, CPU µs a reading, counts)."""
    site, group = label, f"g{label}"
    topic = f"$share/{group}/pharmaqms/{site}/+/+/reading"
    ids = [f"bench-{label}-{k}" for k in range(members)]
    for client_id in ids:
        prime_session(port, client_id, topic)
    publish(port, site, readings)
    processes = []
    for client_id in ids:
        args = [str(port), site, client_id, group]
        if kind == "worker":
            args.insert(1, db_url)
        processes.append(
            subprocess.Popen(
                [sys.executable, __file__, f"--{kind}", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {kind} member did not start")
    go = time.time()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=1800)
        results.append(json.loads(out.strip().splitlines()[-1]))
    counts = [int(r["count"]) for r in results]
    if sum(counts) != readings:
        raise SystemExit(f"{kind} × {members}: {sum(counts)} of {readings} readings arrived")
    seconds = max(float(r["last"]) for r in results) - go
    cpu = sum(float(r["cpu"]) for r in results)
    return readings / seconds, cpu / readings * 1e6, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with psycopg.connect(args.admin_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    print(f"PostgreSQL {version[0] if version else '?'}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-mqtt-workers-"))
    broker, port = start_broker(workdir)
    rates: dict[str, tuple[float, float, list[int]]] = {}
    try:
        create_template(args.admin_url)
        for members in args.workers:
            url = fresh_run_database(args.admin_url)
            rates[f"worker{members}"] = result = run(
                "worker", members, port, args.readings, url, f"W{members}"
            )
            stored, distinct = stored_readings(url)
            if stored != args.readings or distinct != stored:
                raise SystemExit(f"{members} worker(s): {stored} stored, {distinct} distinct")
            print(f"  {members} worker(s): {result[0]:,.0f} readings/s, shares {result[2]}")
            rates[f"bare{members}"] = result = run(
                "bare", members, port, args.readings, "", f"B{members}"
            )
            print(f"  {members} bare member(s): {result[0]:,.0f} messages/s")
    finally:
        broker.terminate()
        broker.wait(10)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            for name in (RUN_DB, TEMPLATE):
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    ceiling = max(rates[f"bare{m}"][0] for m in args.workers)
    one = rates[f"worker{args.workers[0]}"][0] if args.workers[0] == 1 else None
    print(
        f"{args.readings:,} QoS 1 readings from {SENSORS} sensors per run, preloaded into the "
        f"members' sessions; batches of {BATCH}, {2 * BATCH} in flight per member; PostgreSQL"
    )
    print(f"{'members':>8} {'workers/s':>10} {'µs CPU':>7} {'bare/s':>9} {'of ceiling':>10}")
    for m in args.workers:
        rate, cpu, _ = rates[f"worker{m}"]
        speed_up = f"  ×{rate / one:.2f} of 1 worker" if one else ""
        print(
            f"{m:>8} {rate:>10,.0f} {cpu:>7,.0f} {rates[f'bare{m}'][0]:>9,.0f} "
            f"{rate / ceiling:>10.1%}{speed_up}"
        )
    print(f"broker ceiling (best bare run): {ceiling:,.0f} messages/s")
    if one and 2 in args.workers:
        speed_up = rates["worker2"][0] / one
        verdict = "meets" if speed_up >= TARGET_SPEED_UP_2 else "MISSES"
        print(f"2 workers / 1 worker: ×{speed_up:.2f} — target ≥ ×{TARGET_SPEED_UP_2}: {verdict}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        port, db_url, site, client_id, group = sys.argv[2:7]
        worker_member(int(port), db_url, site, client_id, group)
    elif len(sys.argv) > 1 and sys.argv[1] == "--bare":
        port, site, client_id, group = sys.argv[2:6]
        bare_member(int(port), site, client_id, group)
    else:
        main()
