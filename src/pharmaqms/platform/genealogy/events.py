"""Indexed loading of EPCIS events: only those that name the identifiers in question.

Every query starts at ``epcis_event_objects`` (index on ``epc, event_id``), then fetches the
events by primary key. Events declared in error, and the declarations themselves, are left out;
``at`` keeps only events that had happened by then (inclusive).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pharmaqms.platform.connectors.epcis import EPCISEvent
from pharmaqms.platform.genealogy.codec import event_from_plain
from pharmaqms.platform.genealogy.models import EpcisErrorDeclaration
from pharmaqms.platform.traceability.models import EpcisEvent, EpcisEventObject

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
_OBJECTS = EpcisEventObject.__table__
_DECLARED = EpcisErrorDeclaration.__table__
# Built once: a trace runs a handful of these per step, and building and compiling a statement
# costs more than SQLite takes to answer it. Table columns keep it on the Core path.
_NAMING = select(_OBJECTS.c.event_id).where(_OBJECTS.c.epc.in_(bindparam("ids", expanding=True)))
_NAMING_BY = (
    select(_OBJECTS.c.event_id)
    .join(_EVENTS, _EVENTS.c.id == _OBJECTS.c.event_id)
    .where(
        _OBJECTS.c.epc.in_(bindparam("ids", expanding=True)),
        _EVENTS.c.event_time <= bindparam("at"),
    )
)
_STANDING = (
    select(_EVENTS.c.id, _EVENTS.c.document)
    .outerjoin(_DECLARED, _DECLARED.c.declared_key == _EVENTS.c.event_id)
    .where(
        _EVENTS.c.id.in_(bindparam("ids", expanding=True)),
        _EVENTS.c.error_declared.is_(False),
        _DECLARED.c.id.is_(None),
    )
)
_ROLES = select(_OBJECTS.c.event_id, _OBJECTS.c.role, _OBJECTS.c.epc).where(
    _OBJECTS.c.event_id.in_(bindparam("ids", expanding=True))
)


def naming(session: Session, cache: EventCache, identifiers: Collection[str]) -> list[StoredEvent]:
    """Load (once) the standing events that name any of ``identifiers``; returns the new ones."""
    wanted = [i for i in identifiers if i not in cache.queried]
    cache.queried.update(wanted)
    conn = session.connection()
    row_ids: set[int] = set()
    for chunk in _chunks(wanted):
        if cache.at is None:
            row_ids.update(conn.execute(_NAMING, {"ids": chunk}).scalars())
        else:
            row_ids.update(conn.execute(_NAMING_BY, {"ids": chunk, "at": cache.at}).scalars())
    return load(session, cache, row_ids - cache.events.keys() - cache.retracted)


def load(session: Session, cache: EventCache, row_ids: Collection[int]) -> list[StoredEvent]:
    """Fetch events by row id; those declared in error (and declarations) are remembered as
    retracted and not returned."""
    if not row_ids:
        return []
    conn = session.connection()
    documents: dict[int, object] = {}
    objects: dict[int, list[tuple[str, str]]] = {}
    for chunk in _chunks(sorted(row_ids)):
        for row_id, document in conn.execute(_STANDING, {"ids": chunk}):
            documents[row_id] = document
        for event_id, role, epc in conn.execute(_ROLES, {"ids": chunk}):
            objects.setdefault(event_id, []).append((role, epc))
    loaded: list[StoredEvent] = []
    for row_id in sorted(row_ids):
        if row_id not in documents:
            cache.retracted.add(row_id)
            continue
        plain = documents[row_id]["event"]  # type: ignore[index]
        stored = StoredEvent(row_id, event_from_plain(plain), tuple(objects.get(row_id, ())))
        cache.events[row_id] = stored
        loaded.append(stored)
    return loaded
