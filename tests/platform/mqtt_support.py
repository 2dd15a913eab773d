"""Helpers for the MQTT tests: a broker check, unique names per test (so no two tests share a
session or a topic), a real publisher that records the broker's PUBACKs, and the worker run
in a thread of the test process."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from tests.conftest import port_open, service_unavailable

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.mqtt.batch import ensure_source
from pharmaqms.platform.mqtt.settings import Broker, MqttSettings
from pharmaqms.platform.mqtt.worker import IngestWorker

HOST, PORT = "127.0.0.1", 1883


def require_broker() -> Broker:
    if not port_open(HOST, PORT):
        service_unavailable(f"Mosquitto on {HOST}:{PORT}")
    return Broker(HOST, PORT, tls=False)


def unique_site() -> str:
    return f"T{uuid.uuid4().hex[:12]}"


def settings_for(site: str, **overrides: Any) -> MqttSettings:
    values: dict[str, Any] = {
        "topic": f"pharmaqms/{site}/+/+/reading",
        "client_id": f"test-{site}",
        "batch_size": 50,
        "batch_ms": 20,
        "session_expiry_seconds": 300,
    }
    values.update(overrides)
    return MqttSettings(**values)


def reading(ts: str, temperature: float, unit: str = "C", humidity: float = 41.0) -> str:
    return json.dumps({"ts": ts, "temperature": temperature, "unit": unit, "humidity": humidity})


@dataclass
class Publisher:
    """A real QoS 1 publisher; ``acked`` holds the message ids the broker acknowledged."""

    client_id: str
    acked: set[int] = field(default_factory=set)
    sent: dict[int, str] = field(default_factory=dict)
    port: int = PORT

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        self.client.max_inflight_messages_set(200)
        self.client.on_publish = self._on_publish
        self.client.connect(HOST, self.port)
        self.client.loop_start()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        if not reason.is_failure:
            with self._lock:
                self.acked.add(mid)

    def publish(self, topic: str, payload: str | bytes, label: str = "") -> int:
        info = self.client.publish(topic, payload, qos=1)
        self.sent[info.mid] = label
        return info.mid

    def wait_all_acked(self, timeout: float = 20.0) -> None:
        wait_until(lambda: len(self.acked) == len(self.sent), timeout, "PUBACKs")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running_worker(db: Database, settings: MqttSettings, broker: Broker) -> Iterator[IngestWorker]:
    with unit_of_work(db, write=False) as session:
        actor = auth.system_actor(session, Channel.MQTT)
    ensure_source(db, actor, settings.source)
    worker = IngestWorker(db, settings, broker, actor)
    worker.start()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        worker.close()
        # A worker still storing after the stop would acknowledge into a closed connection.
        assert not thread.is_alive(), "the ingest worker did not stop within 30 s"


def redelivered(settings: MqttSettings, broker: Broker, wait: float = 1.0) -> list[str]:
    """Resume the session with a plain client that acknowledges nothing it hasn't been sent,
    and list what the broker still holds for it (unacknowledged or queued messages), as
    "DUP? payload" lines so that a failure says which messages were left behind."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    held: list[str] = []

    def on_message(_c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        held.append(f"{'DUP ' if m.dup else ''}{m.payload.decode(errors='replace')}")

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = settings.session_expiry_seconds
    client.connect(broker.host, broker.port, clean_start=False, properties=properties)
    client.loop_start()
    time.sleep(wait)
    client.disconnect()
    client.loop_stop()
    return held
