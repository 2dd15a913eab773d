"""The crash test: ``pharmaqms mqtt run`` as a separate process is SIGKILLed in the middle of
a stream of QoS 1 readings and started again; every reading the broker acknowledged to the
publisher (PUBACK) is then stored exactly once."""

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
from tests.platform.mqtt_support import (
    Publisher,
    reading,
    require_broker,
    unique_site,
    wait_until,
)
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.timeseries.models import SensorReading

pytestmark = pytest.mark.mqtt

READINGS = 600
START = datetime(2026, 2, 1, tzinfo=UTC)


def _start_worker(db_url: str, site: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PHARMAQMS_DATABASE_URL": db_url,
        "PHARMAQMS_MQTT_URL": "mqtt://127.0.0.1:1883",
        "PHARMAQMS_MQTT_TOPIC": f"pharmaqms/{site}/+/+/reading",
        "PHARMAQMS_MQTT_CLIENT_ID": f"crash-{site}",
        "PHARMAQMS_MQTT_SESSION_EXPIRY_SECONDS": "300",
        # Small batches: the kill then lands between commits and inside one, with messages
        # received, some committed and not yet acknowledged.
        "PHARMAQMS_MQTT_BATCH_SIZE": "25",
        "PHARMAQMS_MQTT_BATCH_MS": "20",
    }
    command = [sys.executable, "-c", "from pharmaqms.cli.main import app; app()", "mqtt", "run"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    marks = log.read_text().count("subscribed to")
    wait_until(
        lambda: log.read_text().count("subscribed to") > marks or process.poll() is not None,
        90,
        "the worker to subscribe",
    )
    assert process.poll() is None, log.read_text()
    return process


def _stored(db) -> list[datetime]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return list(s.scalars(select(SensorReading.measured_at)))


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(SensorReading)) or 0)


def test_a_worker_killed_mid_stream_loses_nothing_and_stores_nothing_twice(
    db, people, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    log = tmp_path / "worker.log"
    worker = _start_worker(db.url, site, log)
    publisher = Publisher(f"pub-{site}")
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    published_at: dict[int, datetime] = {}

    def stream() -> None:
        for i in range(READINGS):
            at = START + timedelta(minutes=i)
            mid = publisher.publish(topic, reading(at.isoformat(), 5.0 + (i % 7) / 10))
            published_at[mid] = at
            time.sleep(0.002)  # ~500 readings/s: the kill lands in the middle of the stream

    sender = threading.Thread(target=stream)
    try:
        sender.start()
        wait_until(lambda: _count(db) >= 100, 60, "the first readings to be stored")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        stored_at_kill = _count(db)
        sender.join(60)
        publisher.wait_all_acked(30)
        acknowledged = {published_at[mid] for mid in publisher.acked}
        assert stored_at_kill < len(acknowledged), "the kill came after the stream ended"
        worker = _start_worker(db.url, site, log)
        wait_until(lambda: _count(db) >= len(acknowledged), 60, "the rest of the stream")
        time.sleep(0.5)  # anything stored twice would show up now
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(120)
        except subprocess.TimeoutExpired:
            code = None  # the log says where it stood
        assert code == 0, log.read_text()
    finally:
        publisher.close()
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    stored = _stored(db)
    assert len(stored) == len(set(stored)) == len(acknowledged) == READINGS
    assert set(stored) == acknowledged
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
    assert "SIGTERM: storing what has arrived" in log.read_text()
