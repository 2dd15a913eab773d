"""The demo sensor traces: a cold room with one short excursion, shipment loggers with an
excursion, a °F logger and a logger past its calibration — all through the connector."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from sqlalchemy import func, select

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.sensors_demo import ROOM_SENSOR, generate_sensor_demo
from pharmaqms.platform.ingest.models import ImportRun, Lineage, QuarantinedRow
from pharmaqms.platform.sensors.models import ExcursionCandidate
from pharmaqms.platform.timeseries.models import Sensor, SensorReading
from pharmaqms.platform.traceability.models import Shipment


@dataclass
class Ctx:
    people: dict[str, Actor]
    rng: Random
    scale: float = 1.0


def test_the_demo_traces_hold_one_cold_room_excursion_and_the_logger_cases(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    ctx = Ctx({"amelia.admin": people.admin, "lena.logistics": people.logistics}, Random(7))
    with unit_of_work(db) as s:
        demo = generate_sensor_demo(s, ctx, days=20)
    assert demo.room_readings == 20 * 96
    assert demo.shipments == tuple(f"SHP-DEMO-{n:03d}" for n in range(1, 6))
    with unit_of_work(db, write=False) as s:
        per_sensor = dict(
            s.execute(
                select(Sensor.code, func.count(SensorReading.id))
                .join(SensorReading, SensorReading.sensor_id == Sensor.id)
                .group_by(Sensor.code)
            ).all()
        )
        candidates = s.execute(
            select(Sensor.code, ExcursionCandidate.breach, ExcursionCandidate.basis)
            .join(Sensor, Sensor.id == ExcursionCandidate.sensor_id)
            .order_by(ExcursionCandidate.id)
        ).all()
        flagged = dict(
            s.execute(
                select(Sensor.code, func.count(SensorReading.id))
                .join(SensorReading, SensorReading.sensor_id == Sensor.id)
                .where(SensorReading.calibration_valid.is_(False))
                .group_by(Sensor.code)
            ).all()
        )
        fahrenheit = s.scalar(
            select(func.count(Lineage.id)).where(Lineage.rule == "unit:degF→degC")
        )
        channels = set(s.scalars(select(ImportRun.channel)))
        quarantined = s.scalar(select(func.count(QuarantinedRow.id)))
        delivered = set(s.scalars(select(Shipment.status)))
    assert per_sensor[ROOM_SENSOR] == demo.room_readings
    assert sum(per_sensor.values()) == demo.room_readings + demo.logger_readings
    assert [tuple(c) for c in candidates] == [
        (ROOM_SENSOR, "above", "products VAXFLU at CR-LEIDEN-1")
    ] * 4 + [("LOG-002", "above", "shipment SHP-DEMO-002")] * 3
    assert flagged == {"LOG-005": per_sensor["LOG-005"]}
    assert fahrenheit == per_sensor["LOG-003"]
    assert channels == {"mqtt", "api"}
    assert (quarantined, delivered) == (0, {"delivered"})


def test_the_demo_loader_is_registered_for_pharmaqms_demo() -> None:
    from pharmaqms.cli import demo_sensors  # noqa: F401 - registers on import
    from pharmaqms.kernel.demo import LOADERS

    assert "sensor traces" in [name for name, _ in LOADERS]
