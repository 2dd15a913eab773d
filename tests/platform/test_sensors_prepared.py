"""The prepared insert writes a reading exactly as SQLAlchemy would, in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.sensors import INSERT_READING, READINGS
from pharmaqms.platform.timeseries.models import Sensor, SensorReading


@pytest.mark.postgres
def test_a_prepared_insert_stores_what_sqlalchemy_stores_and_skips_an_existing_key(
    db, people
) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    at = datetime(2026, 3, 1, 7, 15, tzinfo=UTC)
    values = {
        "measured_at": at,
        "original_offset": "+01:00",
        "received_at": datetime(2026, 3, 1, 7, 16, 30, 250000, tzinfo=UTC),
        "temperature_c": 5.2,
        "humidity_pct": None,
        "calibration_valid": False,
        "location_id": None,
        "shipment_id": None,
        "run_id": None,
        "note": "ü",
    }
    with unit_of_work(db) as s:
        ids = {code: id_ for code, id_ in s.execute(select(Sensor.code, Sensor.id))}
        connection = s.connection()
        by_core = connection.execute(
            insert(READINGS).returning(READINGS.c.id), {**values, "sensor_id": ids["T-100"]}
        ).scalar()
        prepared = INSERT_READING.execute(connection, {**values, "sensor_id": ids["LOG-7"]})
        again = INSERT_READING.execute(connection, {**values, "sensor_id": ids["LOG-7"]})
    assert prepared is not None and again is None
    with unit_of_work(db, write=False) as s:
        stored = {
            row.id: (row.measured_at, row.received_at, row.calibration_valid, row.note)
            for row in s.scalars(select(SensorReading))
        }
        raw = s.execute(
            text(
                "SELECT measured_at, received_at, calibration_valid "
                "FROM sensor_readings ORDER BY id"
            )
        ).all()
    assert (
        stored[prepared]
        == stored[by_core]
        == (
            at,
            datetime(2026, 3, 1, 7, 16, 30, 250000, tzinfo=UTC),
            False,
            "ü",
        )
    )
    assert raw[0] == raw[1]  # the very same stored representation
