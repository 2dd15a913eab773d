"""A sensor's stored readings as a :class:`TemperatureSeries` of the cold-chain math. Readings
without a temperature (humidity only) are left out; gaps stay gaps (never filled)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.distribution.coldchain import TemperatureSeries, series_from_arrays
from pharmaqms.lifecycle.distribution.coldchain.readings import to_microseconds
from pharmaqms.platform.timeseries.models import SensorReading


def sensor_series(
    session: Session,
    sensor_id: int,
    *,
    start: datetime | None,
    end: datetime | None,
    interval: timedelta,
    shipment_id: int | None = None,
    location_id: int | None = None,
) -> TemperatureSeries | None:
    """The readings of a sensor between ``start`` and ``end`` (both included) in one place."""
    query = select(SensorReading.measured_at, SensorReading.temperature_c).where(
        SensorReading.sensor_id == sensor_id, SensorReading.temperature_c.is_not(None)
    )
    if start is not None:
        query = query.where(SensorReading.measured_at >= start)
    if end is not None:
        query = query.where(SensorReading.measured_at <= end)
    if shipment_id is not None:
        query = query.where(SensorReading.shipment_id == shipment_id)
    elif location_id is not None:
        query = query.where(SensorReading.location_id == location_id)
    # Not None: the query keeps readings with a temperature only.
    rows = session.execute(query.order_by(SensorReading.measured_at)).all()
    if not rows:
        return None
    times = np.fromiter((to_microseconds(t) for t, _ in rows), dtype=np.int64, count=len(rows))
    temperatures = np.fromiter(
        (float(v or 0.0) for _, v in rows), dtype=np.float64, count=len(rows)
    )
    return series_from_arrays(times, temperatures, expected_interval=interval)
