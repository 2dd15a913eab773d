"""The ingest worker: a persistent QoS 1 subscription, batched commits, acknowledgement after
commit.

paho's network loop runs in its own thread and only queues what arrives; this thread takes
batches of up to ``batch_size`` messages or ``batch_ms`` milliseconds, stores each through
``store_batch`` and acknowledges its messages once the commit succeeded. The session is
persistent (fixed client id, clean start off, a session expiry), so messages published while
no worker runs are queued by the broker, and messages delivered but not acknowledged when a
worker dies are delivered again to the next one; storing is idempotent on (sensor,
measured_at), so a redelivered reading is stored once.

A worker of a shared subscription that is to leave for good is *retired* (``retiring=True``):
it resumes its session, unsubscribes at once (the broker then deals new messages to the other
members only), stores what its session still held, and ends the session on disconnect — a
session merely left behind would go on collecting its share of the stream until it expires."""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, DocumentRefused, QMSError
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.ingest.deliveries import stream_idle
from pharmaqms.platform.ingest.guard import transient
from pharmaqms.platform.mqtt.batch import BatchOutcome, confirm_gaps, store_batch
from pharmaqms.platform.mqtt.settings import Broker, MqttSettings
from pharmaqms.platform.mqtt_messages import Message

log = logging.getLogger("pharmaqms.mqtt")

# Database trouble (locked, restarting) is retried with growing pauses; after this many
# failures in a row the worker stops and leaves the messages with the broker.
MAX_ATTEMPTS = 6
# How often an idle worker looks for sequence gaps whose grace has run out.
GAP_CHECK_SECONDS = 5.0


class BrokerUnavailable(QMSError):
    status = 503
    code = "broker_unavailable"
    title = "MQTT broker unavailable"


@dataclass(frozen=True)
class Delivery:
    mid: int
    qos: int
    message: Message


Committed = Callable[[list[Delivery], BatchOutcome], None]


class IngestWorker:
    def __init__(
        self,
        database: Database,
        settings: MqttSettings,
        broker: Broker,
        actor: Actor,
        *,
        on_committed: Committed | None = None,
        retiring: bool = False,
    ) -> None:
        self.database = database
        self.settings = settings
        self.broker = broker
        self.actor = actor
        self.on_committed = on_committed
        self.retiring = retiring
        self.stored = 0
        # When the last message arrived (monotonic): a retiring worker is done once its
        # session has been quiet for a while.
        self.last_arrival = time.monotonic()
        self.grace = timedelta(seconds=settings.sequence_grace_seconds)
        self._inbox: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._subscribed = threading.Event()
        self._fatal: str | None = None
        self._client = self._make_client()

    # --- the connection (paho's thread) ------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.settings.session_expiry_seconds
        # MQTT v5 lets the client say how many unacknowledged messages it takes; with v3.1.1
        # the broker's max_inflight_messages (20 on Mosquitto) would cap every batch.
        properties.ReceiveMaximum = self.settings.in_flight
        return properties

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._fatal = f"the broker refused the connection: {reason}"
            log.error(self._fatal)
            client.disconnect()
            return
        log.info(
            "connected to %s as %s (session %s)",
            self.broker,
            self.settings.client_id,
            "resumed" if flags.session_present else "new",
        )
        if self.retiring:
            client.unsubscribe(self.settings.subscription)
            return
        # Subscribing again on a resumed session is harmless and covers a session that the
        # broker expired while we were away.
        client.subscribe(self.settings.subscription, options=SubscribeOptions(qos=1))

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            self._fatal = f"the broker refused {self.settings.subscription}: {refused[0]}"
            log.error(self._fatal)
            return
        log.info("subscribed to %s (QoS 1)", self.settings.subscription)
        self._subscribed.set()

    def _on_unsubscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        # "No subscription found" (17, not a failure) is fine: a session that was already
        # gone, or a second try. A refusal leaves the subscription, and its share, in place.
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            self._fatal = f"the broker refused to unsubscribe {self.settings.subscription}: "
            self._fatal += refused[0]
            log.error(self._fatal)
            return
        log.info(
            "retiring: unsubscribed from %s; storing what the session held",
            self.settings.subscription,
        )
        self.last_arrival = time.monotonic()
        self._subscribed.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._subscribed.clear()
        if reason.is_failure:
            log.warning("disconnected from %s (%s); reconnecting", self.broker, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.last_arrival = time.monotonic()
        self._inbox.put(Delivery(msg.mid, msg.qos, Message(msg.topic, bytes(msg.payload))))

    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; raise ``BrokerUnavailable`` when that fails, and
        ``Conflict`` on a sandbox copy (on the live broker it would take readings, on a shared
        subscription the live system's own, into a database nobody keeps)."""
        copy = sandbox.mark_of_engine(self.database.engine)
        if copy is not None:
            raise Conflict(
                f"this database is sandbox copy #{copy.copy_id}: the MQTT ingest does not run "
                "on a sandbox copy"
            )
        try:
            self._client.connect(
                self.broker.host,
                self.broker.port,
                keepalive=self.settings.keepalive_seconds,
                clean_start=False,
                properties=self._connect_properties(),
            )
        except OSError as err:
            raise BrokerUnavailable(f"no MQTT broker at {self.broker}: {err}") from None
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._subscribed.wait(0.05):
            if self._fatal or time.monotonic() > deadline:
                self.close()
                raise BrokerUnavailable(
                    self._fatal or f"no subscription at {self.broker} within {timeout:.0f} s"
                )

    def close(self, *, keep_session: bool = False) -> None:
        # DISCONNECT with reason 0 keeps the session until it expires: messages published
        # meanwhile wait at the broker for the next start. A retiring worker ends it: a
        # session expiry of 0 on DISCONNECT discards the session once we are gone (after the
        # acknowledgements, which paho sends in order before it) — unless something arrived
        # that was not stored, or storing failed (``keep_session``): that stays with the broker.
        properties = None
        if self.retiring and not self._inbox.empty():
            log.error("messages arrived while retiring and were not stored: session kept")
        elif self.retiring and not keep_session:
            properties = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 0
        self._client.disconnect(properties=properties)
        self._client.loop_stop()

    def drained(self, quiet_seconds: float) -> bool:
        """Nothing has arrived for ``quiet_seconds`` and nothing waits to be stored."""
        return self._inbox.empty() and time.monotonic() - self.last_arrival >= quiet_seconds

    # --- batching, commit, acknowledgement (this thread) ---------------------------------

    def run(self, stop: threading.Event) -> None:
        """Take batches until ``stop`` is set, then store and acknowledge what has arrived."""
        size, linger = self.settings.batch_size, self.settings.batch_ms / 1000
        batch: list[Delivery] = []
        deadline = 0.0
        last_check = time.monotonic()
        while not stop.is_set():
            if self._fatal:
                raise BrokerUnavailable(self._fatal)
            if not batch and time.monotonic() - last_check >= GAP_CHECK_SECONDS:
                # A quiet stream still reports the gaps whose grace has run out.
                last_check = time.monotonic()
                self._confirm_gaps()
                # And whoever watches the stream for what does not arrive (silent sensors).
                stream_idle(self.database)
            wait = max(0.0, deadline - time.monotonic()) if batch else 0.25
            try:
                batch.append(self._inbox.get(timeout=wait))
                if len(batch) == 1:
                    deadline = time.monotonic() + linger
                while len(batch) < size:
                    batch.append(self._inbox.get_nowait())
            except queue.Empty:
                pass
            if batch and (len(batch) >= size or time.monotonic() >= deadline):
                self._flush(batch, stop)
                batch = []
        # Graceful stop: what has arrived is bounded by the receive maximum; store it all.
        while True:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._flush(batch, stop)

    def _flush(self, batch: list[Delivery], stop: threading.Event) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                outcome = store_batch(
                    self.database,
                    self.actor,
                    self.settings.source,
                    [d.message for d in batch],
                    acknowledge=lambda: self._acknowledge(batch),
                    sequence_grace=self.grace,
                )
            except DocumentRefused:
                raise
            except Exception as err:
                if not transient(err):
                    self._isolate(batch, err, stop)
                    return
                if attempt == MAX_ATTEMPTS:
                    raise
                pause = min(30.0, 0.5 * 2**attempt)
                log.error(
                    "storing %d message(s) failed (%s); retry in %.0f s", len(batch), err, pause
                )
                # A stop request shortens the pause but not the retries: the batch is
                # either stored and acknowledged or left with the broker.
                stop.wait(pause)
                continue
            self.stored += outcome.accepted
            log.debug(
                "%s: %d message(s), %d stored, %d duplicate, %d quarantined",
                outcome.run_number,
                outcome.messages,
                outcome.accepted,
                outcome.duplicate,
                outcome.quarantined,
            )
            if self.on_committed:
                self.on_committed(batch, outcome)
            return

    def _confirm_gaps(self) -> None:
        try:
            confirm_gaps(self.database, self.actor, self.grace)
        except Exception as err:
            if not transient(err):
                raise
            log.error("reporting sequence gaps failed (%s); the next check retries", err)

    def _isolate(self, batch: list[Delivery], err: Exception, stop: threading.Event) -> None:
        """Not the database but the data: some message breaks the pipeline, and would again
        on every redelivery. Halve the batch until that message is alone, then store it as a
        quarantined row naming the error; the rest is stored as usual."""
        if len(batch) > 1:
            log.warning("a batch of %d broke the ingest (%r): isolating", len(batch), err)
            middle = len(batch) // 2
            self._flush(batch[:middle], stop)
            self._flush(batch[middle:], stop)
            return
        [single] = batch
        if single.message.failure:
            raise err  # even as a quarantine row it can't be stored: stop, keep it queued
        log.error("message on %s broke the ingest (%r): quarantined", single.message.topic, err)
        failure = f"{type(err).__name__}: {err}"[:500]
        poisoned = Message(single.message.topic, single.message.payload, failure=failure)
        self._flush([Delivery(single.mid, single.qos, poisoned)], stop)

    def _acknowledge(self, batch: list[Delivery]) -> None:
        for delivery in batch:
            # Without a connection the PUBACK is lost; the broker then redelivers the message
            # and storing it again changes nothing.
            self._client.ack(delivery.mid, delivery.qos)
