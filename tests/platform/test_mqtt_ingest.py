"""The MQTT worker against the real broker: readings stored with the device offset kept, bad
messages quarantined with their reasons (and acknowledged once that is committed), a
redelivered message stored once, and a shared subscription splitting one stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import DataSource, ImportRun, QuarantinedRow
from pharmaqms.platform.mqtt.worker import IngestWorker
from pharmaqms.platform.sensors.models import (
    ExcursionCandidate,
    SensorSequence,
    SensorSequenceGap,
)
from pharmaqms.platform.timeseries.models import SensorReading
from pharmaqms.quality.deviations.models import Deviation

pytestmark = pytest.mark.mqtt


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_readings_published_to_the_broker_are_stored_with_the_device_offset_and_acknowledged(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    publisher = Publisher(f"pub-{site}")
    try:
        with running_worker(db, settings, broker):
            publisher.publish(topic, reading("2026-03-01T08:15:00+01:00", 5.2))
            publisher.publish(topic, reading("2026-03-01T08:30:00-05:00", 46.4, unit="°F"))
            publisher.publish(topic, reading("2026-03-01T08:45:00+05:30", 9.1))
            publisher.wait_all_acked()
            wait_until(lambda: _count(db, SensorReading) == 3, 20, "3 stored readings")
    finally:
        publisher.close()
    with unit_of_work(db, write=False) as s:
        rows = [
            (r.measured_at, r.original_offset, r.temperature_c, r.humidity_pct, r.calibration_valid)
            for r in s.scalars(select(SensorReading).order_by(SensorReading.measured_at))
        ]
        run = s.scalars(select(ImportRun)).one()
        source = s.get(DataSource, run.source_id)
        run_facts = (run.kind, run.channel, run.rows_accepted, run.rows_corrected, source.code)  # type: ignore[union-attr]
        audit_channels = set(
            s.scalars(select(AuditEntry.channel).where(AuditEntry.record_type == "import_run"))
        )
        candidates = [(c.temperature_c, c.breach) for c in s.scalars(select(ExcursionCandidate))]
    assert rows == [
        (datetime(2026, 3, 1, 3, 15, tzinfo=UTC), "+05:30", 9.1, 41.0, True),
        (datetime(2026, 3, 1, 7, 15, tzinfo=UTC), "+01:00", 5.2, 41.0, True),
        (datetime(2026, 3, 1, 13, 30, tzinfo=UTC), "-05:00", 8.0, 41.0, True),
    ]
    assert run_facts == ("sensors", "mqtt", 3, 1, "sensors-mqtt")
    assert audit_channels == {"mqtt"}
    assert candidates == [(9.1, "above")]
    # Everything was acknowledged after the commit: the session holds nothing any more.
    assert redelivered(settings, broker) == []


BAD = [
    ("CR-1/T-100", b"not json", "malformed_row", "the payload is not JSON"),
    ("CR-1/T-100", b"[5.2]", "malformed_row", "the payload is a JSON list, not an object"),
    ("CR-1/T-100", b"\xff\xfe", "malformed_row", "the payload is not UTF-8 text"),
    ("CR-1/T-100", b'{"temperature": 5.2, "unit": "C"}', "missing", "measured_at is required"),
    (
        "CR-1/T-100",
        b'{"ts": "2026-03-01T09:00:00+01:00", "temperature": 5.2, "unit": "mV"}',
        "bad_unit",
        "can't be converted",
    ),
    (
        "CR-1/T-100",
        b'{"ts": "2099-03-01T09:00:00+01:00", "temperature": 5.2, "unit": "C"}',
        "in_the_future",
        "is in the future",
    ),
    (
        "CR-1/T-404",
        b'{"ts": "2026-03-01T09:00:00+01:00", "temperature": 5.2, "unit": "C"}',
        "unknown_sensor",
        "no sensor T-404 is registered",
    ),
    (
        "CR-1/T-100",
        b'{"ts": "2026-03-01T09:15:00+01:00", "temperature": 5.2, "battery": 3.1}',
        "unknown_field",
        "unknown column(s): battery",
    ),
    (
        "NOWHERE/T-100",
        b'{"ts": "2026-03-01T09:30:00+01:00", "temperature": 5.2}',
        "unknown_place",
        "no location or shipment NOWHERE is known",
    ),
]


def test_bad_messages_are_quarantined_with_topic_payload_and_reason_and_then_acknowledged(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site)
    publisher = Publisher(f"pub-{site}")
    try:
        with running_worker(db, settings, broker):
            for path, payload, _code, _message in BAD:
                publisher.publish(f"pharmaqms/{site}/{path}/reading", payload)
            publisher.publish(
                f"pharmaqms/{site}/CR-1/T-100/reading", reading("2026-03-01T10:00:00+01:00", 4.0)
            )
            publisher.wait_all_acked()
            wait_until(
                lambda: _count(db, QuarantinedRow) == len(BAD) and _count(db, SensorReading) == 1,
                20,
                "the quarantine and the one good reading",
            )
    finally:
        publisher.close()
    with unit_of_work(db, write=False) as s:
        quarantined = [
            (q.reasons[0]["code"], q.reasons[0]["message"], q.raw)
            for q in s.scalars(select(QuarantinedRow).order_by(QuarantinedRow.id))
        ]
    assert len(quarantined) == len(BAD)
    for (path, payload, code, message), (got_code, got_message, raw) in zip(
        BAD, quarantined, strict=True
    ):
        assert (got_code, message in got_message) == (code, True), got_message
        if code == "malformed_row":
            # What could not be read is kept as received, with the topic it came on.
            assert raw["topic"] == f"pharmaqms/{site}/{path}/reading"
            assert raw["payload"] in (payload.decode("utf-8", "replace"), "//4=")
        else:
            assert (raw["site"], raw["place"], raw["sensor"]) == (site, *path.split("/"))
    assert redelivered(settings, broker) == []


def test_a_message_redelivered_after_a_lost_acknowledgement_is_stored_once(
    db, people, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    publisher = Publisher(f"pub-{site}")
    # The first worker commits but its PUBACKs never leave (as if it died right after the
    # commit): the broker must deliver the messages again.
    monkeypatch.setattr(IngestWorker, "_acknowledge", lambda self, batch: None)
    try:
        with running_worker(db, settings, broker):
            for minute in range(0, 60, 15):
                publisher.publish(topic, reading(f"2026-03-01T11:{minute:02d}:00+01:00", 5.0))
            publisher.wait_all_acked()
            wait_until(lambda: _count(db, SensorReading) == 4, 20, "4 stored readings")
        monkeypatch.undo()
        # The same reading published twice by a device is the same reading, too.
        publisher.publish(topic, reading("2026-03-01T11:00:00+01:00", 5.0))
        publisher.wait_all_acked()
        with running_worker(db, settings, broker):
            wait_until(lambda: _count(db, ImportRun) >= 2, 20, "the redelivery")
            wait_until(lambda: redelivered_rows(db) == 5, 20, "the redelivered messages in a run")
    finally:
        publisher.close()
    assert _count(db, SensorReading) == 4
    assert _count(db, QuarantinedRow) == 0
    assert redelivered(settings, broker) == []


def redelivered_rows(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(
            s.scalar(select(func.sum(ImportRun.rows_duplicate)).where(ImportRun.rows_accepted == 0))
            or 0
        )


def test_two_workers_on_a_shared_subscription_split_one_stream_and_store_it_once(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    first = settings_for(site, share_group=f"g{site}", client_id=f"test-{site}-a")
    second = settings_for(site, share_group=f"g{site}", client_id=f"test-{site}-b")
    assert first.subscription == f"$share/g{site}/pharmaqms/{site}/+/+/reading"
    publisher = Publisher(f"pub-{site}")
    try:
        with running_worker(db, first, broker) as a, running_worker(db, second, broker) as b:
            for i in range(200):
                ts = f"2026-03-01T{12 + i // 60:02d}:{i % 60:02d}:00+01:00"
                publisher.publish(topic, reading(ts, 5.0 + (i % 10) / 10))
            publisher.wait_all_acked()
            wait_until(lambda: _count(db, SensorReading) == 200, 30, "200 stored readings")
            # A worker counts a batch after its commit, so the rows can be visible a moment
            # before the counters are: wait for the counters too, not only for the rows.
            wait_until(lambda: a.stored + b.stored == 200, 30, "both workers' counters")
            shares = (a.stored, b.stored)
    finally:
        publisher.close()
    assert sum(shares) == 200 and min(shares) > 0, shares


def test_a_message_that_breaks_the_ingest_is_quarantined_alone_and_the_stream_goes_on(
    db, people, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.connectors.sensors import SensorsConnector

    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site, batch_ms=500)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    store = SensorsConnector.store

    def fragile(self, ctx, entity, checked):  # type: ignore[no-untyped-def]
        # A defect that only this value triggers, every time it is delivered.
        if checked.values.get("temperature") == 66.6:
            raise ValueError("no plan for 66.6")
        return store(self, ctx, entity, checked)

    monkeypatch.setattr(SensorsConnector, "store", fragile)
    publisher = Publisher(f"pub-{site}")
    try:
        with running_worker(db, settings, broker):
            for minute, value in ((0, 4.0), (15, 66.6), (30, 4.5), (45, 5.0), (50, 5.5)):
                publisher.publish(topic, reading(f"2026-03-01T13:{minute:02d}:00+01:00", value))
            publisher.wait_all_acked()
            wait_until(
                lambda: _count(db, SensorReading) == 4 and _count(db, QuarantinedRow) == 1,
                20,
                "4 readings and the broken message in the quarantine",
            )
    finally:
        publisher.close()
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow)).one()
        # The ingest's per-row guard holds it (in the row's savepoint), with the reading's own
        # values, so it can be corrected and replayed like any other quarantined reading.
        assert row.reasons == [
            {
                "field": "row",
                "code": "unreadable_row",
                "message": "it can't be read (ValueError: no plan for 66.6)",
            }
        ]
        assert (row.raw["sensor"], row.raw["site"], row.raw["temperature"]) == (
            "T-100",
            site,
            66.6,
        )
    assert redelivered(settings, broker) == []


def test_a_batch_is_acknowledged_before_its_listeners_run_on_the_batch_s_own_database(
    db, people, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A slow listener (the cold chain's live judgement) must not hold back the receipt, and it
    judges the database the worker stored into, not the process's default one."""
    import threading

    from pharmaqms.platform.ingest.deliveries import (
        add_delivery_listener,
        remove_delivery_listener,
    )

    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site)
    events: list[str] = []
    seen: list[object] = []
    release = threading.Event()
    acknowledge = IngestWorker._acknowledge

    def spying_ack(self, batch):  # type: ignore[no-untyped-def]
        events.append("acknowledged")
        return acknowledge(self, batch)

    def slow_listener(database, run_id):  # type: ignore[no-untyped-def]
        seen.append(database)
        events.append("listener")
        release.wait(10)

    monkeypatch.setattr(IngestWorker, "_acknowledge", spying_ack)
    add_delivery_listener("sensors", slow_listener)
    publisher = Publisher(f"pub-{site}")
    try:
        with running_worker(db, settings, broker):
            publisher.publish(
                f"pharmaqms/{site}/CR-1/T-100/reading",
                reading("2026-03-01T13:00:00+01:00", 4.0),
            )
            publisher.wait_all_acked()
            wait_until(lambda: "listener" in events, 20, "the listener's call")
            # The listener is still busy, and the receipt is already out.
            assert events == ["acknowledged", "listener"]
            release.set()
    finally:
        release.set()
        remove_delivery_listener("sensors", slow_listener)
        publisher.close()
    assert seen == [db]
    assert redelivered(settings, broker) == []


def test_only_database_trouble_is_retried() -> None:
    import sqlite3

    from sqlalchemy import exc

    from pharmaqms.platform.mqtt.worker import transient

    assert transient(sqlite3.OperationalError("database is locked"))
    assert transient(exc.OperationalError("SELECT 1", {}, Exception("server closed")))
    assert not transient(ValueError("no plan for 66.6"))
    assert not transient(exc.IntegrityError("INSERT", {}, Exception("FOREIGN KEY")))


def numbered(minute: int, seq: int) -> str:
    ts = f"2026-03-01T14:{minute:02d}:00+01:00"
    return json.dumps({"ts": ts, "temperature": 5.0, "unit": "C", "seq": seq})


def test_a_restarted_worker_continues_the_numbering_and_reports_a_gap_once_idle(db, people) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    settings = settings_for(site, sequence_grace_seconds=1)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    publisher = Publisher(f"pub-{site}")
    try:
        # given a worker that stored readings 1-3, then stopped
        with running_worker(db, settings, broker):
            for seq in (1, 2, 3):
                publisher.publish(topic, numbered(seq, seq))
            publisher.wait_all_acked()
            wait_until(lambda: _count(db, SensorReading) == 3, 20, "3 stored readings")
        # when 4, 5 and 8 arrive while it is down, and it starts again
        for seq in (4, 5, 8):
            publisher.publish(topic, numbered(seq, seq))
        publisher.wait_all_acked()
        with running_worker(db, settings, broker):
            wait_until(lambda: _count(db, SensorReading) == 6, 20, "6 stored readings")
            # then, with no further message, the idle check reports the gap 6-7
            wait_until(lambda: _count(db, Deviation) == 1, 30, "the data-loss deviation")
    finally:
        publisher.close()
    with unit_of_work(db, write=False) as s:
        gaps = [
            (g.first_missing, g.last_missing, g.status)
            for g in s.scalars(select(SensorSequenceGap))
        ]
        title = s.scalars(select(Deviation.title)).one()
        last = s.scalars(select(SensorSequence.last_seq)).one()
    assert gaps == [(6, 7, "reported")]  # none at the restart (3 → 4)
    assert title == "Data loss: sensor T-100 readings 6–7 never arrived"
    assert last == 8
