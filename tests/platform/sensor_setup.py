"""Master data the sensor tests share: a 2–8 °C vaccine stored in cold room CR-1, a
shipment that must keep 2–8 °C, a calibrated room sensor, and a data logger whose
calibration ran out on 31 January 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.sensors import service as sensors
from pharmaqms.platform.traceability import shipments


def add_shipment(db: Database, actor: Actor, code: str, low: float, high: float) -> None:
    with unit_of_work(db) as s:
        masterdata.add_location(
            s, actor=actor, code=f"{code}-FROM", name="Origin", kind="warehouse"
        )
        masterdata.add_location(s, actor=actor, code=f"{code}-TO", name="Pharmacy", kind="pharmacy")
        shipments.register_shipment(
            s,
            actor=actor,
            code=code,
            origin_code=f"{code}-FROM",
            destination_code=f"{code}-TO",
            carrier="ColdTrans",
            shipped_at=datetime(2026, 2, 27, 6, 0, tzinfo=UTC),
            status="in_transit",
            required_min_c=low,
            required_max_c=high,
        )


def cold_chain(db: Database, actor: Actor, site: str = "LEI") -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=actor,
            gtin="05012345678900",
            code="VAX01",
            name="Influenza vaccine",
            storage_min_c=2.0,
            storage_max_c=8.0,
        )
        masterdata.add_location(s, actor=actor, code="CR-1", name="Cold room 1", kind="warehouse")
        masterdata.add_location(s, actor=actor, code="OFFICE", name="Office", kind="site")
        sensors.assign_storage(s, actor=actor, location_code="CR-1", product_code="VAX01")
    add_shipment(db, actor, "SHP-1", 2.0, 8.0)
    with unit_of_work(db) as s:
        sensors.register_sensor(
            s,
            actor=actor,
            code="T-100",
            kind="temperature_humidity",
            site=site,
            location_code="CR-1",
            calibrated_on=date(2025, 6, 1),
            calibration_due_on=date(2026, 6, 1),
            certificate="CAL-2025-118",
        )
        sensors.register_sensor(
            s,
            actor=actor,
            code="LOG-7",
            kind="data_logger",
            site=site,
            shipment_code="SHP-1",
            calibrated_on=date(2025, 1, 31),
            calibration_due_on=date(2026, 1, 31),
            certificate="CAL-2025-007",
        )
