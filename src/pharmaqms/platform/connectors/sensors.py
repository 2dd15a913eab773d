"""Sensors connector: temperature/humidity readings from data-logger files (CSV or JSON,
uploaded after a trip) and from MQTT batches (the worker in ``platform.mqtt``).

A file has one reading per row: ``sensor, measured_at`` (or ``ts``), ``temperature, unit,
humidity`` and optionally ``place`` (the location or shipment code). A source's mapping may
rename columns (``{"columns": {"Logger": "sensor"}}``) and declare the time zone of loggers
that write local times without an offset. MQTT batches come from sources whose mapping says
``{"format": "mqtt"}``.

Governance converts °F and K to °C (the original value and the rule are kept in the lineage)
and timestamps to UTC keeping the device's offset. Storing links the reading to its sensor,
records whether the sensor's calibration covered the reading (a reading outside it is kept and
flagged, never dropped), judges the temperature against the storage limits of where it was
taken, and de-duplicates on (sensor, measured_at): re-delivering a reading changes nothing,
while a *different* value for the same sensor and instant is quarantined as a conflict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.sealing import seal_rows
from pharmaqms.platform.connectors.tabular import (
    apply_mapping,
    csv_records,
    json_records,
    sniff_format,
)
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.guard import ROW_JOURNALS
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.mqtt_messages import decode_batch
from pharmaqms.platform.sensors.limits import StorageLimits, location_limits, shipment_limits
from pharmaqms.platform.sensors.models import ExcursionCandidate
from pharmaqms.platform.sensors.prepared import PreparedInsert
from pharmaqms.platform.sensors.sequence import NUMBERED as sequence_journal
from pharmaqms.platform.sensors.sequence import reading_numbered
from pharmaqms.platform.sensors.service import calibration_valid
from pharmaqms.platform.timeseries.models import Sensor, SensorReading
from pharmaqms.platform.traceability.models import Shipment

READINGS: Table = SensorReading.__table__  # type: ignore[assignment]
CANDIDATES: Table = ExcursionCandidate.__table__  # type: ignore[assignment]
INSERT_READING = PreparedInsert(
    READINGS, tuple(c.name for c in READINGS.columns if c.name != "id"), returning="id"
)
INSERT_CANDIDATE = insert(CANDIDATES).returning(CANDIDATES.c.id)
SENSOR_BY_CODE = select(
    Sensor.id,
    Sensor.code,
    Sensor.site,
    Sensor.location_id,
    Sensor.shipment_id,
    Sensor.calibrated_on,
    Sensor.calibration_due_on,
).where(Sensor.code == bindparam("code"))
# Column names data loggers commonly use for the device time.
DEFAULT_COLUMNS = {"ts": "measured_at", "timestamp": "measured_at"}


def _has_a_value(values: dict[str, Any]) -> list[Problem]:
    if values.get("temperature") is None and values.get("humidity") is None:
        return [Problem("temperature", "missing", "a reading needs a temperature or a humidity")]
    return []


SENSOR_READING = EntitySpec(
    entity="sensor_reading",
    fields=(
        FieldSpec("sensor", max_length=60),
        FieldSpec("measured_at", "datetime"),
        # Plausible for any pharmaceutical storage, liquid nitrogen included; beyond it the
        # device is broken, not the cold chain.
        FieldSpec(
            "temperature",
            "float",
            required=False,
            unit="degC",
            unit_field="unit",
            minimum=-200.0,
            maximum=150.0,
        ),
        FieldSpec(
            "humidity",
            "float",
            required=False,
            unit="percent",
            unit_field="humidity_unit",
            minimum=0.0,
            maximum=100.0,
        ),
        FieldSpec("place", required=False, max_length=60),
        FieldSpec("site", required=False, max_length=60),
        # The device's running number of the reading (optional), kept as sent.
        FieldSpec("seq", "int", required=False, minimum=0, maximum=2**53),
    ),
    natural_key=("sensor", "measured_at"),
    checks=(_has_a_value,),
)


@dataclass(frozen=True)
class _SensorInfo:
    id: int
    code: str
    site: str
    location_id: int | None
    shipment_id: int | None
    calibrated_on: date | None
    calibration_due_on: date | None


@dataclass
class _Lookups:
    """Master data read once per delivery (one import run): an MQTT batch of 500 readings
    from 20 sensors asks the database 20 times, not 500. Per run, not per session: a session
    that takes several deliveries may record a calibration between two of them."""

    session: Session
    run_id: int
    sensors: dict[str, _SensorInfo | None] = field(default_factory=dict)
    places: dict[str, tuple[int | None, int | None] | Problem] = field(default_factory=dict)
    limits: dict[tuple[int | None, int | None], StorageLimits | None] = field(default_factory=dict)

    def sensor(self, code: str) -> _SensorInfo | None:
        if code not in self.sensors:
            row = self.session.connection().execute(SENSOR_BY_CODE, {"code": code}).first()
            self.sensors[code] = None if row is None else _SensorInfo(*row)
        return self.sensors[code]

    def place(self, code: str) -> tuple[int | None, int | None] | Problem:
        if code not in self.places:
            location = self.session.scalar(select(Location.id).where(Location.code == code))
            shipment = self.session.scalar(select(Shipment.id).where(Shipment.code == code))
            if location is not None and shipment is not None:
                self.places[code] = Problem(
                    "place", "ambiguous_place", f"{code} is both a location and a shipment"
                )
            elif location is None and shipment is None:
                self.places[code] = Problem(
                    "place", "unknown_place", f"no location or shipment {code} is known"
                )
            else:
                self.places[code] = (location, shipment)
        return self.places[code]

    def limits_at(self, location_id: int | None, shipment_id: int | None) -> StorageLimits | None:
        key = (location_id, shipment_id)
        if key not in self.limits:
            # In a shipment, the shipment's required range governs (the vehicle is the place).
            if shipment_id is not None:
                self.limits[key] = shipment_limits(self.session, shipment_id)
            elif location_id is not None:
                self.limits[key] = location_limits(self.session, location_id)
            else:
                self.limits[key] = None
        return self.limits[key]


_LOOKUPS = "pharmaqms.sensors.lookups"


def _lookups(ctx: StoreContext) -> _Lookups:
    found = ctx.session.info.get(_LOOKUPS)
    if not isinstance(found, _Lookups) or found.run_id != ctx.run_id:
        found = ctx.session.info[_LOOKUPS] = _Lookups(ctx.session, ctx.run_id)
    return found


@lru_cache(maxsize=64)
def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def _local_date(measured_at: datetime, offset: str | None) -> date:
    """The date on the device's own calendar: calibration certificates are dated locally."""
    return (measured_at + _offset(offset)).date() if offset else measured_at.date()


class SensorsConnector:
    kind = "sensors"

    def __init__(self) -> None:
        self.specs: dict[str, EntitySpec] = {"sensor_reading": SENSOR_READING}

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        if mapping.get("format") == "mqtt":
            for position, values in decode_batch(content):
                yield SourceRow("sensor_reading", position, values)
            return
        columns = {**DEFAULT_COLUMNS, **mapping.get("columns", {})}
        fmt = sniff_format(content, mapping.get("format"))
        records = (
            json_records(content, mapping.get("json_key"))
            if fmt == "json"
            else csv_records(content, mapping.get("delimiter"))
        )
        for position, values in records:
            yield SourceRow("sensor_reading", position, apply_mapping(values, columns))

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        v = checked.values
        lookups = _lookups(ctx)
        sensor = lookups.sensor(v["sensor"])
        if sensor is None:
            return _refused("sensor", "unknown_sensor", f"no sensor {v['sensor']} is registered")
        if v.get("site") and sensor.site and v["site"] != sensor.site:
            return _refused(
                "site",
                "wrong_site",
                f"sensor {sensor.code} belongs to site {sensor.site}, not {v['site']}",
            )
        location_id, shipment_id = sensor.location_id, sensor.shipment_id
        if v.get("place"):
            place = lookups.place(v["place"])
            if isinstance(place, Problem):
                return Stored(problems=[place])
            location_id, shipment_id = place
        measured_at: datetime = v["measured_at"]
        offset = v.get("measured_at_offset")
        valid = calibration_valid(
            sensor.calibrated_on, sensor.calibration_due_on, _local_date(measured_at, offset)
        )
        temperature, humidity = v.get("temperature"), v.get("humidity")
        connection = ctx.session.connection()
        # INSERT … ON CONFLICT DO NOTHING rather than a SELECT first: one statement per
        # reading, and safe when two workers of a shared subscription race on one reading.
        reading_id = INSERT_READING.execute(
            connection,
            {
                "sensor_id": sensor.id,
                "measured_at": measured_at,
                "original_offset": offset,
                "received_at": ctx.received_at,
                "temperature_c": temperature,
                "humidity_pct": humidity,
                "calibration_valid": valid,
                "location_id": location_id,
                "shipment_id": shipment_id,
                "run_id": ctx.run_id,
                "note": None if valid else _calibration_note(sensor),
                "seq": v.get("seq"),
            },
        )
        if reading_id is None:
            return _existing(ctx.session, sensor, measured_at, temperature, humidity)
        # Written on the driver's cursor, so no flush hook sees it: sealed by name.
        seal_rows(ctx.session, actor=ctx.actor, table=READINGS.name, ids=(reading_id,))
        if v.get("seq") is not None:
            reading_numbered(ctx.session, ctx.run_id, sensor.id, reading_id, v["seq"], measured_at)
        limits = lookups.limits_at(location_id, shipment_id)
        breach = limits.breach(temperature) if limits and temperature is not None else None
        if limits is not None and breach is not None and temperature is not None:
            candidate_id = connection.execute(
                INSERT_CANDIDATE,
                {
                    "reading_id": reading_id,
                    "sensor_id": sensor.id,
                    "measured_at": measured_at,
                    "temperature_c": temperature,
                    "breach": breach,
                    "limit_min_c": limits.min_c,
                    "limit_max_c": limits.max_c,
                    "basis": limits.basis[:200],
                    "location_id": location_id,
                    "shipment_id": shipment_id,
                    "run_id": ctx.run_id,
                },
            ).scalar_one()
            seal_rows(ctx.session, actor=ctx.actor, table=CANDIDATES.name, ids=(candidate_id,))
        return Stored(entity_id=reading_id, measured_at=measured_at)


def _refused(field_name: str, code: str, message: str) -> Stored:
    return Stored(problems=[Problem(field_name, code, message)])


def _calibration_note(sensor: _SensorInfo) -> str:
    if sensor.calibration_due_on is None:
        return f"sensor {sensor.code} has no calibration on record"
    return (
        f"outside the calibration on record for {sensor.code} "
        f"({sensor.calibrated_on or '?'} to {sensor.calibration_due_on})"
    )


def _existing(
    session: Session,
    sensor: _SensorInfo,
    measured_at: datetime,
    temperature: float | None,
    humidity: float | None,
) -> Stored:
    """The reading is there already: the same values are a re-delivery (nothing changes);
    different values for the same instant are a conflict a person must look at."""
    row = session.execute(
        select(SensorReading.id, SensorReading.temperature_c, SensorReading.humidity_pct).where(
            SensorReading.sensor_id == sensor.id, SensorReading.measured_at == measured_at
        )
    ).one()
    if (row.temperature_c, row.humidity_pct) == (temperature, humidity):
        return Stored(entity_id=row.id, duplicate=True)
    return _refused(
        "measured_at",
        "conflicting_reading",
        f"sensor {sensor.code} has a different reading at {measured_at:%Y-%m-%d %H:%M:%S} UTC "
        f"already ({row.temperature_c} °C, {row.humidity_pct} %RH)",
    )


# The numbered readings a rolled-back row had noted are cut off again (ingest's guard).
ROW_JOURNALS.add(sequence_journal)
SENSORS = register_connector(SensorsConnector())
