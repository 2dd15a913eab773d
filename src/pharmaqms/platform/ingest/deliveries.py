"""Deliveries as they complete: the seam through which higher layers act on new data without
the platform importing them (production judges new LIMS results against its approved
specifications, for instance).

After a delivery's transaction has committed, every listener registered for its kind gets the
database the delivery went to and the run id, in its own call. A listener opens its own unit of
work on that database; its failure is logged and does not touch the committed delivery (the
daily job catches up on anything a listener missed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from pharmaqms.kernel.db import Database, database_of
from pharmaqms.kernel.uow import after_commit

log = logging.getLogger("pharmaqms.deliveries")

DeliveryListener = Callable[[Database, int], object]

_LISTENERS: dict[str, list[DeliveryListener]] = {}


def add_delivery_listener(kind: str, listener: DeliveryListener) -> None:
    listeners = _LISTENERS.setdefault(kind, [])
    if listener not in listeners:
        listeners.append(listener)


def remove_delivery_listener(kind: str, listener: DeliveryListener) -> None:
    if listener in _LISTENERS.get(kind, []):
        _LISTENERS[kind].remove(listener)


def delivery_completed(session: Session, kind: str, run_id: int) -> None:
    """Called by the ingest service in the delivery's transaction; listeners run after commit."""
    listeners = list(_LISTENERS.get(kind, ()))
    if not listeners:
        return
    database = database_of(session)

    def notify() -> None:
        for listener in listeners:
            try:
                listener(database, run_id)
            except Exception:
                log.exception("a %s delivery listener failed on import run %d", kind, run_id)

    after_commit(session, notify)


# Watchers of a stream that also act when nothing arrives (a sensor gone silent, an alarm
# nobody acknowledged): the MQTT worker calls them while idle with the database it stores into;
# each opens its own unit of work on it.
IdleListener = Callable[[Database], object]

_IDLE: list[IdleListener] = []


def add_idle_listener(listener: IdleListener) -> None:
    if listener not in _IDLE:
        _IDLE.append(listener)


def remove_idle_listener(listener: IdleListener) -> None:
    if listener in _IDLE:
        _IDLE.remove(listener)


def stream_idle(database: Database) -> None:
    """Called by an ingest worker with nothing to store; a failing listener is logged."""
    for listener in list(_IDLE):
        try:
            listener(database)
        except Exception:
            log.exception("an idle listener failed")
