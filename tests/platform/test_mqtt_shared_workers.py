"""Several ingest workers on one shared subscription, on PostgreSQL: two ``pharmaqms mqtt run``
processes split a stream of QoS 1 readings, one is SIGKILLed in the middle of it, the other
goes on storing its share, and the killed one is started again under its client id (what the
supervisor, ``Restart=always``, does). Every reading the broker acknowledged to the publisher
(PUBACK) is then stored exactly once.

Mosquitto 2.0 keeps a dead member's share of a shared subscription in its session — what it had
not acknowledged and its round-robin share of what follows — rather than handing it to the
other members (checked by hand: with a session expiry of 0 those messages are lost instead).
So the dead worker's readings are delayed until it comes back, not moved, and the test checks
both halves: the survivor keeps storing while the other is down, and the restarted worker
brings the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.platform.mqtt_support import Publisher, reading, require_broker, unique_site, wait_until
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.timeseries.models import SensorReading

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres]

READINGS = 800
START = datetime(2026, 2, 1, tzinfo=UTC)


def _start_worker(db_url: str, site: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PHARMAQMS_DATABASE_URL": db_url,
        "PHARMAQMS_MQTT_URL": "mqtt://127.0.0.1:1883",
        "PHARMAQMS_MQTT_TOPIC": f"pharmaqms/{site}/+/+/reading",
        "PHARMAQMS_MQTT_SHARE_GROUP": f"g{site}",
        "PHARMAQMS_MQTT_CLIENT_ID": f"{name}-{site}",
        "PHARMAQMS_MQTT_SESSION_EXPIRY_SECONDS": "300",
        # Small batches: the kill lands with messages received, some of them committed and
        # not yet acknowledged.
        "PHARMAQMS_MQTT_BATCH_SIZE": "25",
        "PHARMAQMS_MQTT_BATCH_MS": "20",
    }
    command = [sys.executable, "-c", "from pharmaqms.cli.main import app; app()", "mqtt", "run"]
    marks = log.read_text().count("subscribed to") if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_until(
        lambda: log.read_text().count("subscribed to") > marks or process.poll() is not None,
        90,
        f"worker {name} to subscribe",
    )
    assert process.poll() is None, log.read_text()
    return process


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(SensorReading)) or 0)


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)


def test_a_worker_killed_mid_stream_loses_no_acknowledged_reading_and_none_is_stored_twice(
    db, people, backend, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("several worker processes write concurrently: measured on PostgreSQL")
    require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    logs = {name: tmp_path / f"{name}.log" for name in ("w1", "w2")}
    workers = [_start_worker(db.url, site, name, log) for name, log in logs.items()]
    publisher = Publisher(f"pub-{site}")
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    published_at: dict[int, datetime] = {}

    def stream() -> None:
        for i in range(READINGS):
            at = START + timedelta(minutes=i)
            mid = publisher.publish(topic, reading(at.isoformat(), 5.0 + (i % 7) / 10))
            published_at[mid] = at
            time.sleep(0.002)  # ~400 readings/s: the kill lands in the middle of the stream

    sender = threading.Thread(target=stream)
    try:
        sender.start()
        wait_until(lambda: _count(db) >= 100, 60, "the first readings to be stored")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        stored_at_kill = _count(db)
        # The survivor goes on with its share while the other is down.
        wait_until(lambda: _count(db) >= stored_at_kill + 100, 30, "the survivor's share")
        sender.join(60)
        publisher.wait_all_acked(30)
        acknowledged = {published_at[mid] for mid in publisher.acked}
        assert stored_at_kill < len(acknowledged), "the kill came after the stream ended"
        assert _count(db) < len(acknowledged), "the killed worker's share was not held for it"
        workers[0] = _start_worker(db.url, site, "w1", logs["w1"])
        wait_until(lambda: _count(db) >= len(acknowledged), 60, "the killed worker's share")
        time.sleep(0.5)  # anything stored twice would show up now
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for name, worker in zip(logs, workers, strict=True):
            assert worker.wait(60) == 0, logs[name].read_text()
    finally:
        publisher.close()
        _stop(workers)
    with unit_of_work(db, write=False) as s:
        stored = list(s.scalars(select(SensorReading.measured_at)))
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
    assert len(stored) == len(set(stored)) == len(acknowledged) == READINGS
    assert set(stored) == acknowledged
    for log in logs.values():
        assert "SIGTERM: storing what has arrived" in log.read_text()
