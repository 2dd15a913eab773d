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

from sqlalchemy import select
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
    key: str
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


def naming(session: Session, cache: EventCache, identifiers: Collection[str]) -> list[StoredEvent]:
    """Load (once) the standing events that name any of ``identifiers``; returns the new ones."""
    wanted = [i for i in identifiers if i not in cache.queried]
    cache.queried.update(wanted)
    row_ids: set[int] = set()
    for chunk in _chunks(wanted):
        query = select(EpcisEventObject.event_id).where(EpcisEventObject.epc.in_(chunk))
        if cache.at is not None:
            query = query.join(EpcisEvent, EpcisEvent.id == EpcisEventObject.event_id).where(
                EpcisEvent.event_time <= cache.at
            )
        row_ids.update(session.scalars(query))
    return load(session, cache, row_ids - cache.events.keys() - cache.retracted)


def load(session: Session, cache: EventCache, row_ids: Collection[int]) -> list[StoredEvent]:
    if not row_ids:
        return []
    rows: list[tuple[int, str, dict[str, object]]] = []
    objects: dict[int, list[tuple[str, str]]] = {}
    for chunk in _chunks(sorted(row_ids)):
        rows.extend(
            session.execute(
                select(EpcisEvent.id, EpcisEvent.event_id, EpcisEvent.document).where(
                    EpcisEvent.id.in_(chunk), EpcisEvent.error_declared.is_(False)
                )
            )
        )
        for event_id, role, epc in session.execute(
            select(EpcisEventObject.event_id, EpcisEventObject.role, EpcisEventObject.epc).where(
                EpcisEventObject.event_id.in_(chunk)
            )
        ):
            objects.setdefault(event_id, []).append((role, epc))
    retracted: set[str] = set()
    for chunk in _chunks(key for _id, key, _doc in rows):
        retracted.update(
            session.scalars(
                select(EpcisErrorDeclaration.declared_key).where(
                    EpcisErrorDeclaration.declared_key.in_(chunk)
                )
            )
        )
    loaded: list[StoredEvent] = []
    for row_id, key, document in rows:
        if key in retracted:
            cache.retracted.add(row_id)
            continue
        plain = document["event"]
        assert isinstance(plain, dict)
        stored = StoredEvent(row_id, key, event_from_plain(plain), tuple(objects.get(row_id, ())))
        cache.events[row_id] = stored
        loaded.append(stored)
    return loaded
