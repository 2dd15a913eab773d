"""Demo sensor traces, taken in through the sensors connector like real deliveries.

- Cold room CR-LEIDEN-1 holds the influenza vaccine (2–8 °C). Its sensor publishes every 15
  minutes for a year over MQTT (here: MQTT batches of 500 into the ``sensors-mqtt`` source, as
  the worker would store them), in local time with the Amsterdam offset, a daily cycle around
  5 °C — and one door left open for an hour, above 8 °C.
- Shipments of the vaccine to pharmacies and hospitals carry data loggers (a reading every 5
  minutes) whose files logistics uploads after the trip: one trip with a short excursion, one
  logger from a US carrier that logs in °F (converted, with lineage), one logger whose
  calibration had run out (readings kept and flagged).
Seeded: the same seed gives the same traces. ``pharmaqms demo`` runs it through
:mod:`pharmaqms.cli.demo_sensors` (the platform does not import the command line)."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.platform.genealogy.generator import CHAIN_LOCATIONS, CUSTOMERS, PRODUCTS
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import DataSource
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Location, Product
from pharmaqms.platform.mqtt_messages import MQTT_MAPPING, Message, encode_batch
from pharmaqms.platform.sensors import service as sensors
from pharmaqms.platform.sensors.models import StorageAssignment
from pharmaqms.platform.traceability import shipments

SITE = "LEI"
ZONE = ZoneInfo("Europe/Amsterdam")
COLD_ROOM = "CR-LEIDEN-1"
ROOM_SENSOR = "CR1-T01"
VACCINE = "VAXFLU"
ORIGIN = "SITE-LEIDEN"
MQTT_SOURCE = "sensors-mqtt"
ROOM_STEP = timedelta(minutes=15)
LOGGER_STEP = timedelta(minutes=5)


class DemoSettings(Protocol):
    """What the demo needs from the command line's demo context."""

    people: dict[str, Actor]
    rng: Random
    scale: float


@dataclass(frozen=True)
class SensorDemo:
    room_readings: int
    shipments: tuple[str, ...]
    logger_readings: int


def _ensure_master_data(session: Session, admin: Actor) -> None:
    vaccine = session.scalars(select(Product).where(Product.code == VACCINE)).first()
    if vaccine is None:
        template = next(p for p in PRODUCTS if p.code == VACCINE)
        masterdata.add_product(
            session,
            actor=admin,
            gtin=template.gtin,
            code=VACCINE,
            name=template.name,
            storage_min_c=2.0,
            storage_max_c=8.0,
        )
    elif (vaccine.storage_min_c, vaccine.storage_max_c) != (2.0, 8.0):
        sensors.set_storage_range(
            session,
            actor=admin,
            product_code=VACCINE,
            storage_min_c=2.0,
            storage_max_c=8.0,
            reason="labelled storage condition of the vaccine: 2–8 °C",
        )
    known = set(session.scalars(select(Location.code)))
    uris = set(session.scalars(select(Location.epc_uri)))
    # The supply-chain demo's places, where it has not made them already.
    needed = [p for p in CHAIN_LOCATIONS if p.code == ORIGIN or p.is_customer]
    for place in needed:
        if place.code not in known and place.epc_uri not in uris:
            masterdata.add_location(
                session,
                actor=admin,
                code=place.code,
                name=place.name,
                kind=place.kind,
                epc_uri=place.epc_uri,
                is_customer=place.is_customer,
                country="NL",
            )
    if COLD_ROOM not in known:
        masterdata.add_location(
            session, actor=admin, code=COLD_ROOM, name="Cold room 1, Leiden site", kind="warehouse"
        )
    held = session.scalar(
        select(StorageAssignment.id)
        .join(Location, Location.id == StorageAssignment.location_id)
        .join(Product, Product.id == StorageAssignment.product_id)
        .where(Location.code == COLD_ROOM, Product.code == VACCINE)
    )
    if held is None:
        sensors.assign_storage(session, actor=admin, location_code=COLD_ROOM, product_code=VACCINE)


def _mqtt_source(session: Session, admin: Actor) -> None:
    if session.scalar(select(DataSource.id).where(DataSource.code == MQTT_SOURCE)) is None:
        ingest.register_source(
            session,
            actor=admin,
            code=MQTT_SOURCE,
            name="IoT sensors over MQTT",
            kind="sensors",
            mapping=dict(MQTT_MAPPING),
        )


def room_temperature(rng: Random, at: datetime) -> float:
    """~5 °C with a daily swing (doors open in the day shift) and sensor noise."""
    hour = at.astimezone(ZONE).hour + at.minute / 60
    return round(5.0 + 0.7 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.15), 2)


def _room_year(session: Session, admin: Actor, rng: Random, end: datetime, days: int) -> int:
    """A year of 15-minute readings as MQTT batches, with one recalibration on the way."""
    start = end - timedelta(days=days)
    # Calibrated yearly; the recalibration falls at 85 % of the period, a month before due.
    recalibration = (start + timedelta(days=days * 0.85)).date()
    calibrated = recalibration - timedelta(days=335)
    sensors.register_sensor(
        session,
        actor=admin,
        code=ROOM_SENSOR,
        kind="temperature_humidity",
        site=SITE,
        location_code=COLD_ROOM,
        calibrated_on=calibrated,
        calibration_due_on=calibrated + timedelta(days=365),
        certificate="CAL-DEMO-0001",
    )
    system = auth.system_actor(session, Channel.MQTT)
    steps = int((end - start) / ROOM_STEP)
    # One door left open for an hour, at 40 % of the period.
    door = {int(steps * 0.4) + k: t for k, t in enumerate((8.6, 9.8, 10.4, 9.1))}
    topic = f"pharmaqms/{SITE}/{COLD_ROOM}/{ROOM_SENSOR}/reading"
    batch: list[Message] = []
    recalibrated = False
    for step in range(steps):
        at = start + step * ROOM_STEP
        if not recalibrated and at.date() >= recalibration:
            _store_room(session, system, batch)
            batch = []
            sensors.record_calibration(
                session,
                actor=admin,
                code=ROOM_SENSOR,
                calibrated_on=at.date(),
                calibration_due_on=at.date() + timedelta(days=365),
                certificate="CAL-DEMO-0002",
            )
            recalibrated = True
        temperature = door.get(step) or room_temperature(rng, at)
        body = {
            "ts": at.astimezone(ZONE).isoformat(),
            "temperature": temperature,
            "unit": "C",
            "humidity": round(62 + rng.gauss(0, 2), 1),
        }
        batch.append(Message(topic, json.dumps(body).encode()))
        if len(batch) == 500:
            _store_room(session, system, batch)
            batch = []
    _store_room(session, system, batch)
    return steps


def _store_room(session: Session, system: Actor, batch: list[Message]) -> None:
    if batch:
        ingest.ingest(
            session,
            actor=system,
            kind="sensors",
            content=encode_batch(batch),
            filename=f"MQTT batch of {len(batch)} message(s)",
            source_code=MQTT_SOURCE,
        )


@dataclass(frozen=True)
class _Trip:
    code: str
    destination: str
    shipped_at: datetime
    hours: float
    excursion: bool = False
    fahrenheit: bool = False
    calibration_expired: bool = False


def _trips(rng: Random, end: datetime, count: int) -> list[_Trip]:
    trips = []
    for n in range(count):
        shipped = (end - timedelta(days=90) + timedelta(days=n * 80 / max(1, count))).replace(
            minute=0, second=0, microsecond=0
        )
        trips.append(
            _Trip(
                code=f"SHP-DEMO-{n + 1:03d}",
                destination=CUSTOMERS[n % len(CUSTOMERS)].code,
                shipped_at=shipped + timedelta(hours=rng.randint(5, 9)),
                hours=rng.uniform(8, 30),
                excursion=n == 1,
                fahrenheit=n == 2,
                calibration_expired=n == count - 1,
            )
        )
    return trips


def _logger_file(rng: Random, trip: _Trip, logger: str) -> tuple[bytes, int]:
    """The CSV a logger exports: local time with offset; °F for the US-made logger."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sensor", "ts", "temperature", "unit", "place"])
    steps = int(trip.hours * 3600 / LOGGER_STEP.total_seconds())
    spike = set(range(steps // 2, steps // 2 + 3)) if trip.excursion else set()
    for step in range(steps):
        at = trip.shipped_at + step * LOGGER_STEP
        celsius = (
            round(9.2 + rng.uniform(0, 1.8), 1)
            if step in spike
            else round(4.8 + rng.gauss(0, 0.4), 1)
        )
        value, unit = (round(celsius * 9 / 5 + 32, 1), "F") if trip.fahrenheit else (celsius, "C")
        writer.writerow([logger, at.astimezone(ZONE).isoformat(), value, unit, trip.code])
    return out.getvalue().encode(), steps


def _shipments(
    session: Session, admin: Actor, logistics: Actor, rng: Random, end: datetime, count: int
) -> tuple[tuple[str, ...], int]:
    readings = 0
    codes = []
    for trip in _trips(rng, end, count):
        codes.append(trip.code)
        shipments.register_shipment(
            session,
            actor=logistics,
            code=trip.code,
            origin_code=ORIGIN,
            destination_code=trip.destination,
            carrier="US ColdFreight" if trip.fahrenheit else "ColdTrans NL",
            shipped_at=trip.shipped_at,
            delivered_at=trip.shipped_at + timedelta(hours=trip.hours),
            status="delivered",
            required_min_c=2.0,
            required_max_c=8.0,
        )
        logger = f"LOG-{trip.code[-3:]}"
        made = trip.shipped_at.date() - timedelta(days=400 if trip.calibration_expired else 60)
        sensors.register_sensor(
            session,
            actor=admin,
            code=logger,
            kind="data_logger",
            shipment_code=trip.code,
            calibrated_on=made,
            calibration_due_on=made + timedelta(days=365),
            certificate=f"CAL-{logger}",
        )
        content, steps = _logger_file(rng, trip, logger)
        ingest.ingest(
            session,
            actor=logistics,
            kind="sensors",
            content=content,
            filename=f"{logger}_{trip.code}.csv",
        )
        readings += steps
    return tuple(codes), readings


def generate_sensor_demo(session: Session, ctx: DemoSettings, *, days: int = 365) -> SensorDemo:
    admin, logistics = ctx.people["amelia.admin"], ctx.people["lena.logistics"]
    _ensure_master_data(session, admin)
    _mqtt_source(session, admin)
    # Up to the last full quarter hour before now: nothing from the future.
    now = clock.now()
    end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    room = _room_year(session, admin, ctx.rng, end, days)
    codes, logged = _shipments(
        session, admin, logistics, ctx.rng, end, max(4, round(5 * ctx.scale))
    )
    return SensorDemo(room_readings=room, shipments=codes, logger_readings=logged)
