"""Numbered readings (``seq``): a gap in a sensor's numbers becomes one data-loss finding (a
deviation raised through the quality-events API) once it has stayed open for the grace time;
late arrivals fill it meanwhile, a redelivery changes nothing, a counter that starts again
and an old reading out of order are counted, not reported. Deliveries go through
``store_batch`` as the MQTT worker sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.mqtt.batch import BatchOutcome, confirm_gaps, ensure_source, store_batch
from pharmaqms.platform.mqtt_messages import Message
from pharmaqms.platform.sensors.models import SensorSequence, SensorSequenceGap
from pharmaqms.platform.timeseries.models import SensorReading
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.links import QualityLink

TOPIC = "pharmaqms/LEI/CR-1/T-100/reading"
BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
GRACE = timedelta(minutes=5)


def numbered(seq: int, minute: int | None = None, temperature: float = 5.0) -> Message:
    at = BASE + timedelta(minutes=seq if minute is None else minute)
    payload = {"ts": at.isoformat(), "temperature": temperature, "unit": "C", "seq": seq}
    return Message(TOPIC, json.dumps(payload).encode())


def system(db: Database) -> auth.Actor:
    with unit_of_work(db, write=False) as s:
        return auth.system_actor(s, Channel.MQTT)


def deliver(db: Database, *messages: Message, grace: timedelta = GRACE) -> BatchOutcome:
    actor = system(db)
    ensure_source(db, actor, "sensors-mqtt")
    return store_batch(
        db, actor, "sensors-mqtt", list(messages), acknowledge=lambda: None, sequence_grace=grace
    )


def gaps(db: Database) -> list[tuple[int, int, str, int]]:
    with unit_of_work(db, write=False) as s:
        return [
            (g.first_missing, g.last_missing, g.status, g.late_arrivals)
            for g in s.scalars(select(SensorSequenceGap).order_by(SensorSequenceGap.first_missing))
        ]


def state(db: Database) -> tuple[int, int, int]:
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(SensorSequence)).one()
        return row.last_seq, row.restarts, row.out_of_order


def findings(db: Database) -> list[tuple[str, str, str, str]]:
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(Deviation.number, Deviation.title, QualityLink.source_type, Deviation.area)
            .join(QualityLink, QualityLink.target_id == Deviation.id)
            .where(QualityLink.target_type == "deviation")
            .order_by(Deviation.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.postgres
def test_a_gap_is_reported_once_naming_the_sensor_and_the_missing_numbers(
    db: Database, people: People, frozen_clock: Any
) -> None:
    cold_chain(db, people.admin)
    deliver(db, numbered(1), numbered(2), numbered(5))
    assert gaps(db) == [(3, 4, "open", 0)]
    assert findings(db) == []

    # when the grace has passed (and the next delivery, or the idle check, looks)
    frozen_clock.advance(minutes=5)
    deliver(db, numbered(6))

    # then one deviation, from the gap, says what was lost and when
    assert findings(db) == [
        (
            "DEV-2026-0001",
            "Data loss: sensor T-100 readings 3–4 never arrived",
            "sensor_sequence_gap",
            "Data integrity",
        )
    ]
    with unit_of_work(db, write=False) as s:
        deviation = s.scalars(select(Deviation)).one()
        gap = s.scalars(select(SensorSequenceGap)).one()
        text, occurred = deviation.description, deviation.occurred_at
        assert (gap.status, gap.finding) == ("reported", "DEV-2026-0001")
    assert text.startswith(
        "Sensor T-100 numbers its readings. 2 numbered reading(s) (3–4) never reached pharmaqms: "
        "between the reading at 2026-03-01 08:02:00 UTC and the one at 2026-03-01 08:05:00 UTC"
    )
    assert occurred == BASE + timedelta(minutes=2)

    # and later deliveries, and the idle check, report it no more
    frozen_clock.advance(minutes=30)
    deliver(db, numbered(7))
    assert confirm_gaps(db, system(db), GRACE) == 0
    assert len(findings(db)) == 1
    assert state(db) == (7, 0, 0)


def test_a_late_arrival_fills_its_place_and_a_filled_gap_is_not_reported(
    db: Database, people: People, frozen_clock: Any
) -> None:
    cold_chain(db, people.admin)
    deliver(db, numbered(1), numbered(7))
    assert gaps(db) == [(2, 6, "open", 0)]

    # readings 2, 4 and 6 arrive late (another worker of the shared subscription had them)
    deliver(db, numbered(4), numbered(2), numbered(6))
    assert gaps(db) == [(3, 3, "open", 0), (5, 5, "open", 0)]
    deliver(db, numbered(3))
    assert gaps(db) == [(3, 3, "filled", 0), (5, 5, "open", 0)]

    frozen_clock.advance(minutes=5)
    assert confirm_gaps(db, system(db), GRACE) == 1

    assert [title for _n, title, _t, _a in findings(db)] == [
        "Data loss: sensor T-100 reading 5 never arrived"
    ]
    # a reading of a reported gap that arrives after all is counted on it; the finding stays
    deliver(db, numbered(5))
    assert gaps(db) == [(3, 3, "filled", 0), (5, 5, "reported", 1)]
    assert len(findings(db)) == 1


def test_a_redelivery_a_restarted_counter_and_an_old_reading_change_no_gap(
    db: Database, people: People, frozen_clock: Any
) -> None:
    cold_chain(db, people.admin)
    deliver(db, numbered(10), numbered(11))

    # the same message again: stored once, the numbering untouched
    outcome = deliver(db, numbered(11))
    assert (outcome.accepted, outcome.duplicate) == (0, 1)
    assert state(db) == (11, 0, 0)

    # the device rebooted and counts from 1 again, on newer readings
    deliver(db, numbered(1, minute=30), numbered(2, minute=31))
    assert state(db) == (2, 1, 0)

    # an old reading with a number already passed and in no gap
    deliver(db, numbered(9, minute=9))
    assert state(db) == (2, 1, 1)

    frozen_clock.advance(hours=1)
    assert confirm_gaps(db, system(db), GRACE) == 0
    assert (gaps(db), findings(db)) == ([], [])
    with unit_of_work(db, write=False) as s:
        stored = list(s.scalars(select(SensorReading.seq).order_by(SensorReading.id)))
    assert stored == [10, 11, 1, 2, 9]


def test_readings_without_numbers_are_not_judged(db: Database, people: People) -> None:
    cold_chain(db, people.admin)
    plain = Message(TOPIC, b'{"ts": "2026-03-01T09:00:00+00:00", "temperature": 5.0}')

    deliver(db, numbered(1), plain, numbered(2), grace=timedelta(0))

    assert (gaps(db), findings(db), state(db)) == ([], [], (2, 0, 0))


def test_a_bad_number_is_quarantined_with_its_reason(db: Database, people: People) -> None:
    cold_chain(db, people.admin)
    negative = Message(TOPIC, b'{"ts": "2026-03-01T09:00:00+00:00", "temperature": 5.0, "seq": -1}')

    outcome = deliver(db, negative)

    assert (outcome.accepted, outcome.quarantined) == (0, 1)
    assert gaps(db) == []
