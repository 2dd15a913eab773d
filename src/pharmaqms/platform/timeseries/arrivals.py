"""Process readings as they arrive: the seam between the platform, which stores them, and
whoever watches them live (the production module's SPC monitoring registers itself here; the
platform never imports it).

A connector that stores a process reading calls ``reading_stored`` in the delivery's
transaction. Once that transaction has committed, every registered listener gets the readings of
the delivery in the order they were stored, in one call. Listeners therefore never see a reading
that was rolled back, and they can't make a delivery fail: the readings are already committed
when they run, so an exception is logged and the next listener still gets its call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pharmaqms.kernel.uow import after_commit
from pharmaqms.platform.timeseries.models import ProcessReading

log = logging.getLogger("pharmaqms.readings")


@dataclass(frozen=True, slots=True)
class ArrivedReading:
    """A committed process reading, as plain values (no session needed to read it)."""

    reading_id: int
    batch_id: int
    unit_procedure: str
    operation: str
    phase: str
    parameter: str
    value: float
    unit: str
    measured_at: datetime
    run_id: int | None


# What a listener returns is ignored.
ReadingListener = Callable[[Sequence[ArrivedReading]], object]

_LISTENERS: list[ReadingListener] = []
_PENDING = "pharmaqms.arrived_readings"
# The session.info key of the readings waiting for their listeners (a journal ingest cuts back).
ARRIVED = _PENDING


def add_reading_listener(listener: ReadingListener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def remove_reading_listener(listener: ReadingListener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def reading_stored(session: Session, reading: ProcessReading) -> None:
    """Call once the reading is flushed (it has its id); the listeners get it after commit."""
    note_arrival(
        session,
        ArrivedReading(
            reading_id=reading.id,
            batch_id=reading.batch_id,
            unit_procedure=reading.unit_procedure,
            operation=reading.operation,
            phase=reading.phase,
            parameter=reading.parameter,
            value=reading.value,
            unit=reading.unit,
            measured_at=reading.measured_at,
            run_id=reading.run_id,
        ),
    )


def note_arrival(session: Session, reading: ArrivedReading) -> None:
    """``reading_stored`` for a reading written outside the ORM, given as plain values: an
    ORM object built only to be read back costs more than the insert of the row itself."""
    pending: list[ArrivedReading] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        after_commit(session, lambda: _deliver(session, pending))
    pending.append(reading)


def _deliver(session: Session, readings: list[ArrivedReading]) -> None:
    session.info.pop(_PENDING, None)
    delivered = tuple(readings)
    if not delivered:
        return  # every reading noted went with a rolled-back savepoint (ingest's guard)
    for listener in list(_LISTENERS):
        try:
            listener(delivered)
        except Exception:
            log.exception("a reading listener failed on %d reading(s)", len(delivered))
