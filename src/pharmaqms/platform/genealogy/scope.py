"""Forward trace of a lot (or pack, or container) in the database: the recall scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform import trace
from pharmaqms.platform.epcis import EPCISEvent
from pharmaqms.platform.genealogy.events import EventCache, StoredEvent
from pharmaqms.platform.genealogy.expand import forward_step, grow
from pharmaqms.platform.genealogy.graph import RecallScope, ScopeLocation, ScopeShipment
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.traceability.models import Shipment


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    kind: str
    is_customer: bool


_PLACES = Location.__table__
# Columns of the table, not the entity: one trace needs only these, and loading entities would
# cost more than the rest of the question.
_PLACES_QUERY = select(
    _PLACES.c.epc_uri, _PLACES.c.code, _PLACES.c.name, _PLACES.c.kind, _PLACES.c.is_customer
).where(_PLACES.c.epc_uri.is_not(None))


def known_locations(session: Session) -> dict[str, Place]:
    """Our locations by the canonical spelling of their EPC URI (what the events carry)."""
    return {
        trace.canonical(uri): Place(code, name, kind, bool(customer))
        for uri, code, name, kind, customer in session.connection().execute(_PLACES_QUERY)
    }


def forward(
    session: Session, starts: Iterable[str], at: datetime | None
) -> tuple[EventCache, list[trace.RecallScope]]:
    """The pure forward trace of each start, over the events the indexed lookups found."""
    starts = list(dict.fromkeys(starts))
    cache, _reach = grow(session, starts, forward_step, at)
    events = cache.ordered()
    return cache, [trace.forward_trace(events, start, at) for start in starts]


def _named_top(event: EPCISEvent) -> list[str]:
    parent = getattr(event, "parent_id", None)
    if parent:
        return [trace.canonical(parent)]
    return [trace.canonical(e) for e in getattr(event, "epc_list", ())]


def recall_scope_of(
    session: Session, start: str, starts: Iterable[str], at: datetime | None
) -> RecallScope:
    return traced(session, start, starts, at)[0]


def traced(
    session: Session, start: str, starts: Iterable[str], at: datetime | None
) -> tuple[RecallScope, list[EPCISEvent]]:
    """The recall scope, and the events that reached affected goods (in time order)."""
    cache, scopes = forward(session, starts, at)
    by_event: dict[int, StoredEvent] = {id(s.event): s for s in cache.events.values()}
    reached: dict[int, EPCISEvent] = {id(e): e for scope in scopes for e in scope.events}
    events = sorted(reached.values(), key=lambda e: e.event_time)
    containers = sorted({c for scope in scopes for c in scope.containers})
    places = known_locations(session)
    first: dict[str, tuple[datetime, str]] = {}

    def note(place: str, when: datetime, how: str) -> None:
        if place not in first or when < first[place][0]:
            first[place] = (when, how)

    shipments: list[ScopeShipment] = []
    sscc_codes = _shipment_codes(session, containers)
    for event in events:
        if event.biz_location:
            note(trace.canonical(event.biz_location), event.event_time, "bizLocation")
        targets = [trace.canonical(d.value) for d in event.destinations if d.type == "location"]
        for target in targets:
            note(target, event.event_time, "destination")
        if event.biz_step == "shipping":
            objects = _named_top(event)
            origin = event.biz_location or event.read_point
            shipments.append(
                ScopeShipment(
                    id=event.event_id or f"event-{by_event[id(event)].row_id}",
                    shipped_at=event.event_time,
                    origin=trace.canonical(origin) if origin else None,
                    destinations=tuple(targets),
                    objects=tuple(objects),
                    references=tuple(
                        [t.value for t in event.biz_transactions]
                        + [code for o in objects for code in sscc_codes.get(o, [])]
                    ),
                )
            )
    locations = []
    for place, (when, how) in sorted(first.items(), key=lambda kv: (kv[1][0], kv[0])):
        loc = places.get(place)
        locations.append(
            ScopeLocation(
                id=place,
                code=loc.code if loc else None,
                name=loc.name if loc else place,
                kind=loc.kind if loc else "unknown",
                is_customer=bool(loc and loc.is_customer),
                first_reached=when,
                how=how,
            )
        )
    scope = RecallScope(
        start=start,
        lots=tuple(sorted({c for scope in scopes for c in scope.classes})),
        items=tuple(sorted({i for scope in scopes for i in scope.items})),
        containers=tuple(containers),
        shipments=tuple(shipments),
        locations=tuple(locations),
        events=len(events),
        at=at,
    )
    return scope, events


def _shipment_codes(session: Session, containers: list[str]) -> dict[str, list[str]]:
    """Shipment records by the SSCC they travel under (canonical SSCC → codes)."""
    ssccs = {c.rsplit("/", 1)[-1]: c for c in containers if "/00/" in c}
    if not ssccs:
        return {}
    found: dict[str, list[str]] = {}
    table = Shipment.__table__
    query = select(table.c.code, table.c.sscc).where(table.c.sscc.in_(list(ssccs)))
    for code, sscc in session.connection().execute(query):
        if sscc is not None:
            found.setdefault(ssccs[sscc], []).append(code)
    return found
