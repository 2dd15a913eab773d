"""The sensors connector on data-logger files: units to °C with lineage, device offsets kept,
calibration status recorded, storage limits judged, re-imports idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import Lineage, QuarantinedRow
from pharmaqms.platform.sensors.limits import StorageLimits, narrowest
from pharmaqms.platform.sensors.models import ExcursionCandidate
from pharmaqms.platform.sensors.service import calibration_valid
from pharmaqms.platform.timeseries.models import Sensor, SensorReading

# A shipment logger exports °F with the local offset; one row per reading.
LOGGER_CSV = b"""sensor,ts,temperature,unit,humidity,place
LOG-7,2026-02-28T07:00:00-05:00,41.0,F,55,SHP-1
LOG-7,2026-02-28T07:15:00-05:00,46.4,F,55,SHP-1
LOG-7,2026-02-28T07:30:00-05:00,33.8,F,56,SHP-1
"""

ROOM_JSON = b"""{"readings": [
 {"sensor": "T-100", "measured_at": "2026-03-01T08:00:00+01:00", "temperature": 5.1,
  "unit": "C", "humidity": 41},
 {"sensor": "T-100", "measured_at": "2026-03-01T08:15:00+01:00", "temperature": 282.65,
  "unit": "K", "humidity": 41},
 {"sensor": "T-100", "measured_at": "2026-03-01T08:30:00+01:00", "temperature": 5.0,
  "unit": "C", "place": "OFFICE"}
]}"""

BAD_CSV = b"""sensor,ts,temperature,unit,humidity,place
T-999,2026-03-01T08:00:00+01:00,5.0,C,40,CR-1
T-100,2026-03-01T09:00:00+01:00,5.0,mV,40,CR-1
T-100,2099-01-01T00:00:00+00:00,5.0,C,40,CR-1
T-100,2026-03-01T09:30:00+01:00,5.0,C,40,CR-404
T-100,2026-03-01T09:45:00+01:00,,C,,CR-1
T-100,2026-03-01T10:00:00,5.0,C,40,CR-1
"""


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _readings(db, code: str) -> list[SensorReading]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        sensor_id = s.scalar(select(Sensor.id).where(Sensor.code == code))
        found = list(
            s.scalars(
                select(SensorReading)
                .where(SensorReading.sensor_id == sensor_id)
                .order_by(SensorReading.measured_at)
            )
        )
        s.expunge_all()  # keep the loaded values past the read-only unit's rollback
        return found


@pytest.mark.clause("alcoa:original", "alcoa:contemporaneous", "alcoa:accurate")
@pytest.mark.postgres
def test_a_logger_file_in_fahrenheit_is_stored_in_celsius_with_lineage_and_the_device_offset(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.logistics, kind="sensors", content=LOGGER_CSV, filename="log7.csv"
        )
        counts = (run.status, run.rows_total, run.rows_accepted, run.rows_corrected)
    assert counts == ("completed", 3, 3, 3)
    readings = _readings(db, "LOG-7")
    assert [(r.measured_at, r.original_offset, r.temperature_c) for r in readings] == [
        (datetime(2026, 2, 28, 12, 0, tzinfo=UTC), "-05:00", 5.0),
        (datetime(2026, 2, 28, 12, 15, tzinfo=UTC), "-05:00", 8.0),
        (datetime(2026, 2, 28, 12, 30, tzinfo=UTC), "-05:00", 1.0),
    ]
    with unit_of_work(db, write=False) as s:
        lineage = [
            (row.entity_id, row.field, row.original, row.corrected, row.rule)
            for row in s.scalars(select(Lineage).order_by(Lineage.id))
        ]
    assert lineage == [
        (readings[0].id, "temperature", "41.0 F", "5.0 degC", "unit:degF→degC"),
        (readings[1].id, "temperature", "46.4 F", "8.0 degC", "unit:degF→degC"),
        (readings[2].id, "temperature", "33.8 F", "1.0 degC", "unit:degF→degC"),
    ]


@pytest.mark.clause("part11:11.10(h)")
@pytest.mark.postgres
def test_a_logger_past_its_calibration_is_kept_and_flagged_not_dropped(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=LOGGER_CSV)
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=ROOM_JSON)
    logger = _readings(db, "LOG-7")
    assert [(r.calibration_valid, r.note) for r in logger] == [
        (False, "outside the calibration on record for LOG-7 (2025-01-31 to 2026-01-31)")
    ] * 3
    assert [r.calibration_valid for r in _readings(db, "T-100")] == [True, True, True]


@pytest.mark.postgres
def test_readings_outside_the_storage_range_of_their_place_become_excursion_candidates(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=LOGGER_CSV)
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=ROOM_JSON)
    with unit_of_work(db, write=False) as s:
        candidates = [
            (c.measured_at, c.temperature_c, c.breach, c.limit_min_c, c.limit_max_c, c.basis)
            for c in s.scalars(select(ExcursionCandidate).order_by(ExcursionCandidate.id))
        ]
    # 8.0 °C in the shipment is on the limit (inside); 282.65 K is 9.5 °C in CR-1; the 5.0 °C
    # reading taken in the office is not judged: nothing 2–8 °C is stored there.
    assert candidates == [
        (datetime(2026, 2, 28, 12, 30, tzinfo=UTC), 1.0, "below", 2.0, 8.0, "shipment SHP-1"),
        (
            datetime(2026, 3, 1, 7, 15, tzinfo=UTC),
            9.5,
            "above",
            2.0,
            8.0,
            "products VAX01 at CR-1",
        ),
    ]
    room = _readings(db, "T-100")
    assert [(r.temperature_c, r.humidity_pct) for r in room] == [
        (5.1, 41.0),
        (9.5, 41.0),
        (5.0, None),
    ]


@pytest.mark.clause("annex11:5")
@pytest.mark.postgres
def test_bad_rows_are_quarantined_with_their_specific_reasons_and_the_rest_is_taken(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s,
            actor=people.logistics,
            kind="sensors",
            content=BAD_CSV + (b"T-100,2026-03-01T10:15:00+01:00,4.5,C,40,CR-1\n"),
        )
        counts = (run.rows_total, run.rows_accepted, run.rows_quarantined)
    assert counts == (7, 1, 6)
    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [r["code"] for r in q.reasons]
            for q in s.scalars(select(QuarantinedRow).order_by(QuarantinedRow.id))
        }
    assert reasons == {
        "line 2": ["unknown_sensor"],
        "line 3": ["bad_unit"],
        "line 4": ["in_the_future"],
        "line 5": ["unknown_place"],
        "line 6": ["missing"],
        "line 7": ["no_time_zone"],
    }


@pytest.mark.postgres
def test_re_importing_a_logger_file_changes_nothing_and_a_different_value_is_a_conflict(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=LOGGER_CSV)
    readings, candidates = _count(db, SensorReading), _count(db, ExcursionCandidate)
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.logistics, kind="sensors", content=LOGGER_CSV)
        assert (again.rows_accepted, again.rows_duplicate, again.rows_quarantined) == (0, 3, 0)
    assert (_count(db, SensorReading), _count(db, ExcursionCandidate)) == (readings, candidates)
    changed = LOGGER_CSV.replace(b"33.8,F", b"35.6,F")
    with unit_of_work(db) as s:
        third = ingest.ingest(s, actor=people.logistics, kind="sensors", content=changed)
        assert (third.rows_duplicate, third.rows_quarantined) == (2, 1)
    with unit_of_work(db, write=False) as s:
        conflict = s.scalars(select(QuarantinedRow)).one()
        assert (conflict.position, conflict.reasons[0]["code"]) == (
            "line 4",
            "conflicting_reading",
        )
    assert [r.temperature_c for r in _readings(db, "LOG-7")] == [5.0, 8.0, 1.0]


@pytest.mark.clause("part11:11.10(h)")
def test_a_quarantined_reading_of_an_unknown_sensor_is_replayed_once_the_sensor_exists(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.sensors import service as sensors

    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=BAD_CSV)
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow).where(QuarantinedRow.position == "line 2")).one()
        row_id, raw = row.id, dict(row.raw)
    with unit_of_work(db) as s:
        sensors.register_sensor(
            s,
            actor=people.admin,
            code="T-999",
            site="LEI",
            location_code="CR-1",
            calibrated_on=date(2026, 1, 1),
            calibration_due_on=date(2027, 1, 1),
        )
    entries = _count(db, AuditEntry)
    with unit_of_work(db) as s:
        ingest.replay(
            s, actor=people.qa, row_id=row_id, corrected=raw, reason="sensor registered late"
        )
    assert [(r.temperature_c, r.original_offset) for r in _readings(db, "T-999")] == [
        (5.0, "+01:00")
    ]
    assert _count(db, AuditEntry) > entries


def test_calibration_covers_readings_from_its_date_to_its_due_date_inclusive() -> None:
    made, due = date(2025, 6, 1), date(2026, 6, 1)
    assert calibration_valid(made, due, date(2025, 6, 1))
    assert calibration_valid(made, due, date(2026, 6, 1))
    assert not calibration_valid(made, due, date(2026, 6, 2))
    assert not calibration_valid(made, due, date(2025, 5, 31))
    assert not calibration_valid(None, None, date(2026, 1, 1))
    assert calibration_valid(None, due, date(2020, 1, 1))


def test_a_place_holding_several_products_keeps_the_range_all_of_them_accept() -> None:
    both = narrowest([("VAX01", 2.0, 8.0), ("INS02", 2.0, 25.0), ("UNLABELLED", None, None)])
    assert both == StorageLimits(2.0, 8.0, "products INS02, VAX01")
    assert narrowest([("X", None, None)]) is None
    clash = narrowest([("VAX01", 2.0, 8.0), ("TAB", 15.0, 25.0)])
    assert clash is not None and clash.breach(5.0) == "below" and clash.breach(20.0) == "above"
    assert StorageLimits(2.0, 8.0, "").breach(2.0) is None


def test_a_calibration_recorded_between_two_deliveries_of_one_session_counts_for_the_second(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.sensors import service as sensors

    cold_chain(db, people.admin)
    later = LOGGER_CSV.replace(b"2026-02-28T07", b"2026-03-01T07")
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=LOGGER_CSV)
        sensors.record_calibration(
            s,
            actor=people.admin,
            code="LOG-7",
            calibrated_on=date(2026, 3, 1),
            calibration_due_on=date(2027, 3, 1),
            certificate="CAL-2026-031",
        )
        ingest.ingest(s, actor=people.logistics, kind="sensors", content=later)
    assert [r.calibration_valid for r in _readings(db, "LOG-7")] == [False] * 3 + [True] * 3


def test_completeness_counts_required_fields_so_a_file_and_mqtt_score_the_same_readings_alike(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    # Given the same three readings of T-100, once as a logger file (no site, place or
    # humidity column) and once as MQTT messages (site and place from the topic).
    from pharmaqms.platform.mqtt_messages import Message, encode_batch

    cold_chain(db, people.admin)
    with unit_of_work(db) as s:
        ingest.register_source(
            s,
            actor=people.admin,
            code="mqtt-lei",
            name="MQTT broker, Leiden",
            kind="sensors",
            mapping={"format": "mqtt"},
        )
    times = ("2026-03-01T08:00:00+01:00", "2026-03-01T08:15:00+01:00", "2026-03-01T08:30:00+01:00")
    as_file = b"sensor,ts,temperature,unit\n" + b"".join(
        f"T-100,{t},5.0,C\n".encode() for t in times
    )
    as_messages = encode_batch(
        Message("pharmaqms/LEI/CR-1/T-100/reading", f'{{"ts":"{t}","temperature":5.0}}'.encode())
        for t in times
    )

    # When both are delivered (the second time the readings are duplicates).
    with unit_of_work(db) as s:
        by_file = ingest.ingest(s, actor=people.qc, kind="sensors", content=as_file)
        by_mqtt = ingest.ingest(
            s, actor=people.qc, kind="sensors", content=as_messages, source_code="mqtt-lei"
        )
        figures = [
            (r.rows_total, r.rows_accepted + r.rows_duplicate, r.fields_expected, r.fields_present)
            for r in (by_file, by_mqtt)
        ]

    # Then both are complete: 3 rows × the 2 required fields (sensor, measured_at), all there.
    assert figures == [(3, 3, 6, 6), (3, 3, 6, 6)]
