"""The broker configuration shipped for deployments (deploy/mosquitto/pharmaqms.conf): its
queue and persistence settings, run in a private Mosquitto, keep an offline worker's backlog
of 5,000 readings through a broker restart and deliver all of it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import service_unavailable
from tests.platform.mqtt_support import (
    HOST,
    Publisher,
    reading,
    redelivered,
    running_worker,
    settings_for,
    unique_site,
    wait_until,
)
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.mqtt.settings import Broker
from pharmaqms.platform.timeseries.models import SensorReading

pytestmark = pytest.mark.mqtt

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "pharmaqms.conf"
# What keeps and bounds the queue; the rest (listeners, TLS, accounts, log) is the host's.
DURABILITY = (
    "persistence",
    "autosave_interval",
    "autosave_on_changes",
    "max_queued_messages",
    "max_queued_bytes",
    "max_inflight_messages",
    "queue_qos0_messages",
    "message_size_limit",
    "persistent_client_expiration",
)
BACKLOG = 5_000


def deployed() -> list[tuple[str, str]]:
    lines = []
    for line in CONFIG.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            lines.append((key, value.strip()))
    return lines


def test_the_shipped_configuration_persists_bounds_the_queue_and_admits_no_anonymous_client() -> (
    None
):
    settings = dict(deployed())

    assert settings["persistence"] == "true"
    assert settings["persistence_location"] == "/var/lib/mosquitto/"
    # far above Mosquitto's default of 1,000 (a worker down for a minute would lose readings)
    assert int(settings["max_queued_messages"]) >= 1_000_000
    assert int(settings["max_queued_bytes"]) >= 100 * int(settings["max_queued_messages"]) // 1000
    assert settings["queue_qos0_messages"] == "false"
    assert (settings["allow_anonymous"], settings["per_listener_settings"]) == ("false", "false")
    assert settings["password_file"] and settings["acl_file"]
    listeners = [value for key, value in deployed() if key == "listener"]
    assert listeners == ["1883 127.0.0.1", "8883"]
    assert settings["tls_version"] == "tlsv1.2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def private_broker(workdir: Path, port: int) -> Iterator[None]:
    """Mosquitto with the shipped durability settings, its store in ``workdir``; stopped as
    systemd stops it (SIGTERM), which saves the store."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        service_unavailable("the mosquitto binary (apt-get install mosquitto)")
    lines = [f"{key} {value}" for key, value in deployed() if key in DURABILITY]
    assert len(lines) == len(DURABILITY), lines
    config = workdir / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                *lines,
                f"persistence_location {workdir}/",
                f"listener {port} {HOST}",
                "allow_anonymous true",
                f"log_dest file {workdir}/mosquitto.log",
                "log_type all",
                # Started as root (CI), Mosquitto would switch to its own user, which can't
                # write the test's private directory.
                *(["user root"] if os.geteuid() == 0 else []),
            ]
        )
        + "\n"
    )
    broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or broker.poll() is not None:
                    raise AssertionError("the private mosquitto did not start") from None
                time.sleep(0.05)
        yield
    finally:
        broker.terminate()
        broker.wait(30)


def stored(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(SensorReading)) or 0)


def broker_account(store: Path, client_id: str, left: list[str]) -> str:
    lines = [
        line
        for line in (store / "mosquitto.log").read_text(errors="replace").splitlines()
        if client_id in line and "PUBLISH" not in line
    ]
    return f"{len(left)} left, first {left[:3]}; the broker's last lines on {client_id}:\n" + (
        "\n".join(lines[-60:])
    )


def test_an_offline_workers_backlog_survives_a_broker_restart_and_is_delivered(
    db: Database, people: object, tmp_path: Path
) -> None:
    site = unique_site()
    cold_chain(db, people.admin, site=site)  # type: ignore[attr-defined]
    port = free_port()
    broker = Broker(HOST, port, tls=False)
    settings = settings_for(site, batch_size=500, batch_ms=100)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"

    store = tmp_path / "broker"
    store.mkdir()
    with private_broker(store, port):
        # given the worker's persistent session, and the worker down
        with running_worker(db, settings, broker):
            pass
        # when 5,000 numbered readings arrive meanwhile (QoS 1, each acknowledged by the broker)
        publisher = Publisher(f"pub-{site}", port=port)
        try:
            for i in range(BACKLOG):
                minute = f"2026-02-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00+00:00"
                publisher.publish(topic, reading(minute, 5.0 + (i % 7) / 10))
            publisher.wait_all_acked(60)
        finally:
            publisher.close()
    # and the broker restarts (a clean stop saves its store; the next start reads it)
    assert (store / "mosquitto.db").exists()
    assert stored(db) == 0

    with private_broker(store, port):
        with running_worker(db, settings, broker) as worker:
            # then the worker receives the whole backlog and stores every reading once; it is
            # stopped only once nothing more arrives, since a connection that dropped mid-way
            # has the broker deliver the unacknowledged batch again (stored once, acknowledged)
            wait_until(lambda: stored(db) == BACKLOG, 180, f"{BACKLOG} stored readings")
            wait_until(lambda: worker.drained(2.0), 30, "the stream to go quiet")
        left = redelivered(settings, broker)
        # Seen once on CI (171 messages left): the broker's own account of the worker's last
        # acknowledgements and disconnection says whether the PUBACKs reached it.
        assert left == [], broker_account(store, settings.client_id, left)

    with unit_of_work(db, write=False) as s:
        assert int(s.scalar(select(func.count()).select_from(QuarantinedRow)) or 0) == 0
    log = (store / "mosquitto.log").read_text()
    assert "dropped" not in log.lower()
