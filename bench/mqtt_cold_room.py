"""The cold room the MQTT benchmarks ingest into (bench_mqtt_ingest on SQLite,
bench_mqtt_workers on PostgreSQL): one 2–8 °C product held in CR-1 and SENSORS calibrated
sensors S000…, the topics their publisher writes to."""

from __future__ import annotations

from datetime import date
from typing import Any

SENSORS = 100


def add_cold_room(database: Any) -> None:
    """The product, the location, its storage assignment and the sensors, written through the
    services as the system account, in an initialised database."""
    import pharmaqms.schema  # noqa: F401
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.identity import Channel
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.platform.masterdata import service as masterdata
    from pharmaqms.platform.sensors import service as sensors

    with unit_of_work(database) as session:
        system = auth.system_actor(session, Channel.CLI)
        masterdata.add_product(
            session,
            actor=system,
            gtin="05012345678900",
            code="VAX01",
            name="Vaccine",
            storage_min_c=2.0,
            storage_max_c=8.0,
        )
        masterdata.add_location(
            session, actor=system, code="CR-1", name="Cold room", kind="warehouse"
        )
        sensors.assign_storage(session, actor=system, location_code="CR-1", product_code="VAX01")
        for n in range(SENSORS):
            sensors.register_sensor(
                session,
                actor=system,
                code=f"S{n:03d}",
                location_code="CR-1",
                calibrated_on=date(2025, 6, 1),
                calibration_due_on=date(2027, 6, 1),
            )
