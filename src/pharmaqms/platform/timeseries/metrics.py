"""The ingest gauges of ``/metrics``: how late the newest sensor reading arrived, and how long
ago any reading arrived at all (a stalled ingest worker shows as the second growing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.observability.metrics import register_gauge
from pharmaqms.platform.timeseries.models import SensorReading


def _newest(session: Session) -> tuple[float, float] | None:
    """(arrival − device time, now − arrival) of the reading stored last. Found by the primary
    key, not by a scan for the latest time: the table holds millions of rows."""
    row = session.execute(
        select(SensorReading.measured_at, SensorReading.received_at)
        .order_by(SensorReading.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    measured, received = row
    return (received - measured).total_seconds(), (clock.now() - received).total_seconds()


def _lag(session: Session) -> float | None:
    newest = _newest(session)
    return None if newest is None else max(0.0, newest[0])


def _quiet(session: Session) -> float | None:
    newest = _newest(session)
    return None if newest is None else max(0.0, newest[1])


register_gauge(
    "pharmaqms_ingest_lag_seconds",
    "How late the newest stored sensor reading arrived: its arrival minus the device's time.",
    _lag,
)
register_gauge(
    "pharmaqms_ingest_last_reading_age_seconds",
    "Seconds since the newest stored sensor reading arrived.",
    _quiet,
)
