"""Which events a trace needs, found by indexed lookups grown to a fixed point.

Each step looks up the events that name identifiers reached so far, then follows the links the
pure algorithm follows (:mod:`pharmaqms.platform.trace`) to new identifiers. It may load more
than the trace uses — the pure algorithm then decides — but never less: every event that names
an affected lot, pack or container is loaded. The cost grows with the lot's own history, not
with the size of the event table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    ObjectEvent,
    TransformationEvent,
)
from pharmaqms.platform.genealogy.events import EventCache, StoredEvent, naming

INPUTS: Final = frozenset({"input", "input_quantity"})
OUTPUTS: Final = frozenset({"output", "output_quantity", "lot"})
HELD: Final = frozenset({"child", "quantity"})

Step = Callable[[StoredEvent, set[str]], Iterable[str]]


def _ids(stored: StoredEvent, roles: Collection[str]) -> list[str]:
    return [epc for role, epc in stored.objects if role in roles]


def _names_any(stored: StoredEvent, roles: Collection[str], reach: set[str]) -> bool:
    return any(role in roles and epc in reach for role, epc in stored.objects)


def forward_step(stored: StoredEvent, reach: set[str]) -> Iterable[str]:
    """Made from it, commissioned with it, or holding it."""
    event = stored.event
    if isinstance(event, TransformationEvent):
        if _names_any(stored, INPUTS | {"lot"}, reach):
            return _ids(stored, OUTPUTS | {"output"})
    elif isinstance(event, ObjectEvent) and event.action is Action.ADD:
        if _names_any(stored, {"lot"}, reach):
            return _ids(stored, {"epc"})
    elif (
        isinstance(event, AggregationEvent)
        and event.action is not Action.DELETE
        and _names_any(stored, HELD, reach)
    ):
        return _ids(stored, {"parent"})
    return ()


def backward_step(stored: StoredEvent, reach: set[str]) -> Iterable[str]:
    """Its lot, and what the lot was made from."""
    event = stored.event
    found: list[str] = []
    commissioning = isinstance(event, TransformationEvent) or (
        isinstance(event, ObjectEvent) and event.action is Action.ADD
    )
    if commissioning and _names_any(stored, {"epc", "output"}, reach):
        found.extend(_ids(stored, {"lot"}))
    if isinstance(event, TransformationEvent) and _names_any(stored, OUTPUTS, reach):
        found.extend(_ids(stored, INPUTS))
    return found


def contents_step(stored: StoredEvent, reach: set[str]) -> Iterable[str]:
    """What was ever put into it."""
    event = stored.event
    if isinstance(event, AggregationEvent) and _names_any(stored, {"parent"}, reach):
        return _ids(stored, HELD)
    return ()


def grow(
    session: Session,
    starts: Iterable[str],
    step: Step,
    at: datetime | None,
    cache: EventCache | None = None,
) -> tuple[EventCache, set[str]]:
    """Load events from ``starts`` outwards until no step reaches a new identifier."""
    cache = cache or EventCache(at)
    reach = set(starts)
    while pending := reach - cache.queried:
        naming(session, cache, pending)
        changed = True
        while changed:
            changed = False
            for stored in list(cache.events.values()):
                new = set(step(stored, reach)) - reach
                if new:
                    reach |= new
                    changed = True
    return cache, reach
