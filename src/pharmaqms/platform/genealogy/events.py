"""Indexed loading of EPCIS events: only those that name the identifiers in question.

Every query starts at ``epcis_event_objects`` (index on ``epc, event_id``), then fetches the
events by primary key. Events declared in error, and the declarations themselves, are left out;
``at`` keeps only events that had happened by then (inclusive).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from pharmaqms.platform.epcis import EPCISEvent
from pharmaqms.platform.genealogy.codec import event_from_plain
from pharmaqms.platform.traceability.models import EpcisEvent

# Bound parameters per IN (...): well under SQLite's limit and PostgreSQL's planner comfort.
CHUNK: Final = 500


def _chunks(values: Iterable[str | int]) -> Iterator[list[str | int]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    row_id: int
    event: EPCISEvent
    objects: tuple[tuple[str, str], ...]
    """(role, canonical identifier) as indexed."""


@dataclass
class EventCache:
    """Events loaded so far in one question, and which identifiers were already looked up."""

    at: datetime | None
    events: dict[int, StoredEvent] = field(default_factory=dict)
    queried: set[str] = field(default_factory=set)
    retracted: set[int] = field(default_factory=set)

    def ordered(self) -> list[EPCISEvent]:
        return [s.event for s in sorted(self.events.values(), key=lambda s: s.row_id)]


_EVENTS = EpcisEvent.__table__
# Plain SQL on the DBAPI cursor, portable between SQLite and PostgreSQL: a trace runs a dozen
# of these, and SQLAlchemy's expansion of a few hundred IN parameters costs several times what
# the database takes to answer (measured: 6.4 ms against 1.1 ms for 80 identifiers).
_NAMING = "SELECT event_id FROM epcis_event_objects WHERE epc IN ({ids})"
_NAMING_BY = (
    "SELECT o.event_id FROM epcis_event_objects o JOIN epcis_events e ON e.id = o.event_id "
    "WHERE o.epc IN ({ids}) AND e.event_time <= {at}"
)
_STANDING = (
    "SELECT e.id, e.document FROM epcis_events e "
    "LEFT JOIN epcis_error_declarations d ON d.declared_key = e.event_id "
    "WHERE e.id IN ({ids}) AND e.error_declared = false AND d.id IS NULL"
)
_ROLES = "SELECT event_id, role, epc FROM epcis_event_objects WHERE event_id IN ({ids})"


def _rows(
    session: Session, sql: str, ids: Sequence[object], at: datetime | None = None
) -> list[tuple[Any, ...]]:
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values: list[object] = list(ids)
    if at is not None:
        # The bound value exactly as the column stores it (naive UTC text on SQLite).
        bind = _EVENTS.c.event_time.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        values.append(bind(at) if bind else at)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.format(ids=",".join([mark] * len(ids)), at=mark), values)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def naming(session: Session, cache: EventCache, identifiers: Collection[str]) -> list[StoredEvent]:
    """Load (once) the standing events that name any of ``identifiers``; returns the new ones."""
    wanted = [i for i in identifiers if i not in cache.queried]
    cache.queried.update(wanted)
    row_ids: set[int] = set()
    for chunk in _chunks(wanted):
        if cache.at is None:
            row_ids.update(r[0] for r in _rows(session, _NAMING, chunk))
        else:
            row_ids.update(r[0] for r in _rows(session, _NAMING_BY, chunk, cache.at))
    return load(session, cache, row_ids - cache.events.keys() - cache.retracted)


def load(session: Session, cache: EventCache, row_ids: Collection[int]) -> list[StoredEvent]:
    """Fetch events by row id; those declared in error (and declarations) are remembered as
    retracted and not returned."""
    if not row_ids:
        return []
    documents: dict[int, str] = {}
    objects: dict[int, list[tuple[str, str]]] = {}
    for chunk in _chunks(sorted(row_ids)):
        for row_id, document in _rows(session, _STANDING, chunk):
            documents[row_id] = document
        for event_id, role, epc in _rows(session, _ROLES, chunk):
            objects.setdefault(event_id, []).append((role, epc))
    loaded: list[StoredEvent] = []
    for row_id in sorted(row_ids):
        if row_id not in documents:
            cache.retracted.add(row_id)
            continue
        plain = json.loads(documents[row_id])["event"]
        stored = StoredEvent(row_id, event_from_plain(plain), tuple(objects.get(row_id, ())))
        cache.events[row_id] = stored
        loaded.append(stored)
    return loaded
