"""Several ingest workers on one shared subscription, on PostgreSQL: a ``pharmaqms mqtt run``
process and a worker in the test process split a stream of QoS 1 readings; the process is
SIGKILLed in the middle of it, the other worker goes on storing its share, and the killed one
is started again under its client id (what the supervisor, ``Restart=always``, does). Every
reading the broker acknowledged to the publisher (PUBACK) is then stored exactly once.

Mosquitto 2.0 keeps a dead member's share of a shared subscription in its session — what it had
not acknowledged and its round-robin share of what follows — rather than handing it to the
other members (checked by hand: with a session expiry of 0 those messages are lost instead).
So the dead worker's readings are delayed until it comes back, not moved, and the test checks
both halves: the survivor keeps storing while the other is down, and the restarted worker
brings the rest.

Only the worker that is killed runs as a process of its own: starting one imports the whole
application, which takes half a minute on a loaded two-core machine. The survivor and the
restarted worker run in the test process (threads, their own client ids and sessions), which
is a second process writing to the database all the same."""

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
    redelivered,
    require_broker,
    running_worker,
    settings_for,
    unique_site,
    wait_until,
)
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.mqtt.settings import MqttSettings
from pharmaqms.platform.timeseries.models import SensorReading

pytestmark = pytest.mark.mqtt

READINGS = 800
START = datetime(2026, 2, 1, tzinfo=UTC)


def _spawn(db_url: str, site: str, client_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PHARMAQMS_DATABASE_URL": db_url,
        "PHARMAQMS_MQTT_URL": "mqtt://127.0.0.1:1883",
        "PHARMAQMS_MQTT_TOPIC": f"pharmaqms/{site}/+/+/reading",
        "PHARMAQMS_MQTT_SHARE_GROUP": f"g{site}",
        "PHARMAQMS_MQTT_CLIENT_ID": client_id,
        "PHARMAQMS_MQTT_SESSION_EXPIRY_SECONDS": "300",
        # Small batches: the kill lands with messages received, some of them committed and
        # not yet acknowledged.
        "PHARMAQMS_MQTT_BATCH_SIZE": "25",
        "PHARMAQMS_MQTT_BATCH_MS": "20",
    }
    command = [sys.executable, "-c", "from pharmaqms.cli.main import app; app()", "mqtt", "run"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(SensorReading)) or 0)


@pytest.mark.postgres
def test_a_worker_killed_mid_stream_loses_no_acknowledged_reading_and_none_is_stored_twice(
    db, people, backend, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("several worker processes write concurrently: measured on PostgreSQL")
    broker = require_broker()
    site = unique_site()
    log = tmp_path / "w1.log"
    # Started first: it imports while the test sets up the cold room.
    killed = _spawn(db.url, site, f"w1-{site}", log)
    publisher: Publisher | None = None
    try:
        cold_chain(db, people.admin, site=site)
        survivor = settings_for(site, share_group=f"g{site}", client_id=f"w2-{site}", batch_size=25)
        with running_worker(db, survivor, broker):
            wait_until(
                lambda: "subscribed to" in log.read_text() or killed.poll() is not None,
                120,
                "the worker process to subscribe",
            )
            assert killed.poll() is None, log.read_text()
            publisher = Publisher(f"pub-{site}")
            acknowledged, stored_at_kill = _stream_and_kill(db, publisher, site, killed)
            # The survivor has stored its share; the killed worker's waits in its session.
            assert stored_at_kill < _count(db) < len(acknowledged), (
                "the killed worker's share was not held for it"
            )
            restarted = settings_for(site, share_group=f"g{site}", client_id=f"w1-{site}")
            with running_worker(db, restarted, broker):
                wait_until(lambda: _count(db) >= len(acknowledged), 60, "the held share")
                time.sleep(0.5)  # anything stored twice would show up now
    finally:
        if publisher is not None:
            publisher.close()
        if killed.poll() is None:
            killed.kill()
            killed.wait(10)
    with unit_of_work(db, write=False) as s:
        stored = list(s.scalars(select(SensorReading.measured_at)))
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
    assert len(stored) == len(set(stored)) == len(acknowledged) == READINGS
    assert set(stored) == acknowledged


def _stream_and_kill(
    db, publisher: Publisher, site: str, worker: subprocess.Popen[bytes]
) -> tuple[set[datetime], int]:  # type: ignore[no-untyped-def]
    """Publish the readings, SIGKILL the worker process once 100 are stored, and return the
    device times the broker acknowledged with the count stored at the kill."""
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    published_at: dict[int, datetime] = {}

    def stream() -> None:
        for i in range(READINGS):
            at = START + timedelta(minutes=i)
            mid = publisher.publish(topic, reading(at.isoformat(), 5.0 + (i % 7) / 10))
            published_at[mid] = at
            time.sleep(0.002)  # ~400 readings/s: the kill lands in the middle of the stream

    sender = threading.Thread(target=stream)
    sender.start()
    wait_until(lambda: _count(db) >= 100, 60, "the first readings to be stored")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    stored_at_kill = _count(db)
    sender.join(60)
    publisher.wait_all_acked(30)
    acknowledged = {published_at[mid] for mid in publisher.acked}
    assert stored_at_kill < len(acknowledged), "the kill came after the stream ended"
    # The survivor goes on with its share while the other is down.
    wait_until(lambda: _count(db) >= stored_at_kill + 100, 30, "the survivor's share")
    return acknowledged, stored_at_kill


def _retire(settings: MqttSettings) -> str:
    """``pharmaqms mqtt retire`` in this process (the test's database is the default one)."""
    from typer.testing import CliRunner

    from pharmaqms.cli.main import app

    assert settings.share_group is not None
    args = ["mqtt", "retire", "--client-id", settings.client_id]
    args += ["--share-group", settings.share_group, "--topic", settings.topic]
    result = CliRunner().invoke(app, [*args, "--quiet-seconds", "1"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_retired_worker_hands_over_its_share_and_its_session_ends(db, people) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    group = f"g{site}"
    leaving = settings_for(site, share_group=group, client_id=f"leaving-{site}")
    staying = settings_for(site, share_group=group, client_id=f"staying-{site}")
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    publisher = Publisher(f"pub-{site}")

    def publish(first: int, count: int) -> None:
        for i in range(first, first + count):
            at = START + timedelta(minutes=i)
            publisher.publish(topic, reading(at.isoformat(), 5.0))
        publisher.wait_all_acked()

    try:
        with running_worker(db, staying, broker):
            with running_worker(db, leaving, broker):
                pass  # stopped gracefully: its session and its subscription stay
            publish(0, 100)
            # Half of it was dealt to the stopped worker's session, where it waits.
            wait_until(lambda: _count(db) == 50, 30, "the staying worker's share")
            _retire(leaving)
            assert _count(db) == 100
            # From now on the stream goes to the staying worker alone…
            publish(100, 60)
            wait_until(lambda: _count(db) == 160, 30, "all of the stream")
        # …and nothing waits in a session of the retired one (resuming it finds a new one).
        assert redelivered(leaving, broker, wait=0.5) == []
    finally:
        publisher.close()
    with unit_of_work(db, write=False) as s:
        stored = list(s.scalars(select(SensorReading.measured_at)))
    assert sorted(stored) == [START + timedelta(minutes=i) for i in range(160)]
