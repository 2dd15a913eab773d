"""EPCIS traceability over canonical events, in memory and without a database.

The algorithm is the one in the domain reference (§2, "Traceability algorithm"):

1. Replay the events in ``eventTime`` order up to a time ``at`` to build ``parent[child]``:
   Aggregation ADD/OBSERVE sets the parent, Aggregation DELETE removes the named children (all
   of them when the list is empty), ObjectEvent DELETE removes the object entirely (and frees
   whatever it contained).
2. ``contents`` is the transitive closure of that map downwards, ``ancestors`` upwards.
3. The state of an object is set by the last event naming it *or any of its ancestors*: while
   aggregated, contents go where their container goes.
4. Backward trace: serial → lot (ILMD of its commissioning, or of the transformation that made
   it) → the transformations whose output is that lot → their inputs, recursively.
5. Forward trace (recall scope): input class → transformations consuming it → their outputs →
   serials commissioned with those lots → every container that ever aggregated them, to a fixed
   point → every business location and destination the affected goods reached.

Conventions where the standard leaves room (pinned by tests):

* Identifiers are compared in canonical form (:func:`pharmaqms.platform.gs1.canonical_id`), so
  an SGTIN URN and a Digital Link of the same pack are one object; results are canonical too.
* Events are ordered by ``eventTime``, ties by their order in the input. ``at`` is inclusive.
* ``location`` is the ``bizLocation`` of the deciding event, which EPCIS defines as where the
  object is until a later event says otherwise; an event without one (shipping) leaves the
  location unknown (``None``). An event without a disposition keeps the previous one.
* An event that carries an error declaration, and the event it retracts (same eventID, or the
  same content), are left out: the trace shows the corrected history.
* AssociationEvents (a sensor on a pallet) name objects but are not containment.
* The recall scope counts a location only for events that reached an affected item at that
  moment: a container's trips before the item was packed, or after it was taken out, are not in
  scope; the container itself is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from pharmaqms.platform.epcis.model import (
    Action,
    AggregationEvent,
    AssociationEvent,
    EPCISEvent,
    ObjectEvent,
    SourceDestination,
    TransactionEvent,
    TransformationEvent,
)
from pharmaqms.platform.gs1 import GS1Error, KeyKind, digital_link_uri, parse_identifier

__all__ = [
    "BackwardTrace",
    "EpcState",
    "GenealogyLink",
    "RecallScope",
    "Snapshot",
    "ancestors",
    "backward_trace",
    "canonical",
    "contents",
    "forward_trace",
    "replay",
    "state_of",
]

_CLASS_KINDS: Final = (KeyKind.LGTIN, KeyKind.GTIN)


# Already canonical: id.gs1.org, GTIN-14 (then lot, then serial) or SSCC or GLN (+ extension),
# values of unreserved characters only (which the canonical form leaves unencoded). For such a
# text the full parse returns it unchanged when the key is valid, and returns it as written
# when it is not (a bad check digit), so skipping the parse changes no answer.
_CANONICAL_DL: Final = re.compile(
    r"https://id\.gs1\.org/(?:01/\d{14}(?:/10/[\w.~-]{1,20})?(?:/21/[\w.~-]{1,20})?"
    r"|00/\d{18}|414/\d{13}(?:/254/[\w.~-]{1,20})?)",
    re.ASCII,
)


# Parsing a Digital Link costs ~0.5 ms (biip) and a trace spells the same identifiers many
# times; the spelling depends on nothing but the text, so it is remembered.
@functools.lru_cache(maxsize=1 << 16)
def canonical(identifier: str) -> str:
    """The canonical spelling used for matching; identifiers that aren't GS1 keys as written."""
    if _CANONICAL_DL.fullmatch(identifier):
        return identifier
    try:
        key = parse_identifier(identifier)
    except GS1Error:
        return identifier  # the parser quarantines malformed keys; here they are just names
    return identifier if key is None else key.canonical


def _lot_class(epc: str, lot: str) -> str | None:
    """The LGTIN (as canonical Digital Link) of a serialised pack and a lot number."""
    try:
        key = parse_identifier(epc)
        if key is None or key.gtin is None:
            return None
        return _lgtin(key.gtin, lot)
    except GS1Error:
        return None


# A commissioning names hundreds of packs of one product and lot: one lot class for all.
@functools.lru_cache(maxsize=1 << 12)
def _lgtin(gtin: str, lot: str) -> str:
    return digital_link_uri(gtin, lot=lot)


def _is_class(identifier: str) -> bool:
    try:
        key = parse_identifier(identifier)
    except GS1Error:
        return False
    return key is not None and key.kind in _CLASS_KINDS


def _require_aware(at: datetime | None) -> None:
    if at is not None and at.tzinfo is None:
        raise ValueError("'at' must be an aware datetime")


# --- ordering and retracted events ------------------------------------------------------------


def _content(event: EPCISEvent) -> EPCISEvent:
    return replace(event, index=0, raw="", event_id=None, record_time=None, error_declaration=None)


def _in_force(events: Iterable[EPCISEvent], at: datetime | None) -> list[EPCISEvent]:
    """Events that stand (not declared in error), in time order, up to ``at``."""
    _require_aware(at)
    listed = list(events)
    declarations = [e for e in listed if e.error_declaration is not None]
    retracted_ids = {e.event_id for e in declarations if e.event_id is not None}
    retracted_content = {_content(e) for e in declarations}
    # Comparing content means copying every event: only worth it when something is retracted.
    standing = [
        e
        for e in listed
        if e.error_declaration is None
        and (e.event_id is None or e.event_id not in retracted_ids)
        and (not retracted_content or _content(e) not in retracted_content)
    ]
    ordered = sorted(enumerate(standing), key=lambda pair: (pair[1].event_time, pair[0]))
    return [e for _, e in ordered if at is None or e.event_time <= at]


def _named(event: EPCISEvent) -> list[str]:
    """Every object (not class) the event names, canonical."""
    match event:
        case ObjectEvent():
            ids: Sequence[str] = event.epc_list
        case AggregationEvent() | AssociationEvent():
            ids = [*([event.parent_id] if event.parent_id else []), *event.child_epcs]
        case TransactionEvent():
            ids = [*([event.parent_id] if event.parent_id else []), *event.epc_list]
        case TransformationEvent():
            ids = [*event.input_epcs, *event.output_epcs]
    return [canonical(i) for i in ids]


def _classes(event: EPCISEvent) -> list[str]:
    match event:
        case ObjectEvent() | TransactionEvent():
            quantities = event.quantity_list
        case AggregationEvent() | AssociationEvent():
            quantities = event.child_quantity_list
        case TransformationEvent():
            quantities = (*event.input_quantities, *event.output_quantities)
    return [canonical(q.epc_class) for q in quantities]


# --- replay: containment and state at a time ------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpcState:
    """Where an object is and what state it is in, as of the snapshot's time."""

    epc: str
    parent: str | None
    location: str | None
    read_point: str | None
    disposition: str | None
    biz_step: str | None
    decommissioned: bool
    last_event: EPCISEvent
    """The event that decided this state: one naming the object or one of its containers."""


class _Containment:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.children: dict[str, set[str]] = {}

    def link(self, child: str, parent: str) -> None:
        if child == parent or child in self.ancestors(parent):
            return  # would close a cycle: bad data must not hang the replay
        self.unlink(child)
        self.parent[child] = parent
        self.children.setdefault(parent, set()).add(child)

    def unlink(self, child: str) -> None:
        old = self.parent.pop(child, None)
        if old is not None:
            self.children[old].discard(child)

    def descendants(self, node: str) -> set[str]:
        found: set[str] = set()
        stack = [node]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def ancestors(self, node: str) -> list[str]:
        chain: list[str] = []
        current = self.parent.get(node)
        while current is not None and current not in chain and current != node:
            chain.append(current)
            current = self.parent.get(current)
        return chain


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Containment and state of every object as of ``at`` (``None``: after all events)."""

    at: datetime | None
    parents: Mapping[str, str]
    states: Mapping[str, EpcState]
    _children: Mapping[str, frozenset[str]] = field(repr=False)

    def contents(self, container: str) -> frozenset[str]:
        found: set[str] = set()
        stack = [canonical(container)]
        while stack:
            for child in self._children.get(stack.pop(), frozenset()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return frozenset(found)

    def ancestors(self, epc: str) -> tuple[str, ...]:
        """Containers of ``epc``, nearest first."""
        node = canonical(epc)
        chain: list[str] = []
        current = self.parents.get(node)
        while current is not None and current not in chain and current != node:
            chain.append(current)
            current = self.parents.get(current)
        return tuple(chain)

    def state(self, epc: str) -> EpcState | None:
        return self.states.get(canonical(epc))


class _Replay:
    def __init__(self) -> None:
        self.tree = _Containment()
        self.last: dict[str, EPCISEvent] = {}
        self.disposition: dict[str, str] = {}
        self.decommissioned: set[str] = set()

    def touch(self, event: EPCISEvent, named: Iterable[str]) -> None:
        reached: set[str] = set()
        for node in named:
            reached.add(node)
            reached |= self.tree.descendants(node)
        for node in reached:
            self.last[node] = event
            if event.disposition is not None:
                self.disposition[node] = event.disposition

    def apply(self, event: EPCISEvent) -> None:
        match event:
            case AggregationEvent(parent_id=str(raw_parent)):
                parent = canonical(raw_parent)
                children = [canonical(c) for c in event.child_epcs]
                if event.action is Action.DELETE:
                    if not children:  # an empty DELETE empties the container
                        children = sorted(self.tree.children.get(parent, ()))
                    self.touch(event, [parent, *children])
                    for child in children:
                        if self.tree.parent.get(child) == parent:
                            self.tree.unlink(child)
                else:
                    for child in children:
                        self.tree.link(child, parent)
                    self.touch(event, [parent, *children])
            case ObjectEvent(action=Action.DELETE):
                named = _named(event)
                self.touch(event, named)
                for node in named:
                    self.tree.unlink(node)
                    for child in list(self.tree.children.get(node, ())):
                        self.tree.unlink(child)
                    self.decommissioned.add(node)
            case _:
                self.touch(event, _named(event))

    def snapshot(self, at: datetime | None) -> Snapshot:
        parents = dict(self.tree.parent)
        states = {
            node: EpcState(
                epc=node,
                parent=parents.get(node),
                location=canonical(event.biz_location) if event.biz_location else None,
                read_point=canonical(event.read_point) if event.read_point else None,
                disposition=self.disposition.get(node),
                biz_step=event.biz_step,
                decommissioned=node in self.decommissioned,
                last_event=event,
            )
            for node, event in self.last.items()
        }
        children = {p: frozenset(c) for p, c in self.tree.children.items() if c}
        return Snapshot(at=at, parents=parents, states=states, _children=children)


def replay(events: Iterable[EPCISEvent], at: datetime | None = None) -> Snapshot:
    """Replay the standing events up to ``at`` (inclusive) into a :class:`Snapshot`."""
    state = _Replay()
    for event in _in_force(events, at):
        state.apply(event)
    return state.snapshot(at)


def contents(
    events: Iterable[EPCISEvent], container: str, at: datetime | None = None
) -> frozenset[str]:
    """Everything inside ``container`` at ``at``, at any depth."""
    return replay(events, at).contents(container)


def ancestors(
    events: Iterable[EPCISEvent], epc: str, at: datetime | None = None
) -> tuple[str, ...]:
    """The containers of ``epc`` at ``at``, nearest first."""
    return replay(events, at).ancestors(epc)


def state_of(events: Iterable[EPCISEvent], epc: str, at: datetime | None = None) -> EpcState | None:
    """Location and state of ``epc`` at ``at``; ``None`` if no event had named it by then."""
    return replay(events, at).state(epc)


# --- genealogy ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenealogyLink:
    """``made_from`` went into ``item``: as its lot (``via="lot"``) or as a transformation input."""

    item: str
    made_from: str
    via: str
    event: EPCISEvent


@dataclass(frozen=True, slots=True)
class _Transformation:
    event: TransformationEvent
    inputs: frozenset[str]
    outputs: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Genealogy:
    lots_of: Mapping[str, tuple[tuple[str, EPCISEvent], ...]]
    """Serial → (lot class, commissioning or transformation event) pairs."""
    transformations: tuple[_Transformation, ...]


def _genealogy(events: Sequence[EPCISEvent]) -> _Genealogy:
    lots_of: dict[str, list[tuple[str, EPCISEvent]]] = {}
    transformations: list[_Transformation] = []

    def note_lot(epcs: Iterable[str], lot: str | None, event: EPCISEvent) -> list[str]:
        classes: list[str] = []
        for epc in epcs if lot else ():
            lot_class = _lot_class(epc, lot or "")
            if lot_class is not None:
                lots_of.setdefault(canonical(epc), []).append((lot_class, event))
                classes.append(lot_class)
        return classes

    for event in events:
        if isinstance(event, ObjectEvent) and event.action is Action.ADD and event.ilmd:
            note_lot(event.epc_list, event.ilmd.lot_number, event)
        elif isinstance(event, TransformationEvent):
            lot = event.ilmd.lot_number if event.ilmd else None
            lot_classes = note_lot(event.output_epcs, lot, event)
            inputs = {canonical(i) for i in event.input_epcs}
            inputs |= {canonical(q.epc_class) for q in event.input_quantities}
            outputs = {canonical(o) for o in event.output_epcs} | set(lot_classes)
            outputs |= {canonical(q.epc_class) for q in event.output_quantities}
            transformations.append(_Transformation(event, frozenset(inputs), frozenset(outputs)))
    return _Genealogy(
        lots_of={epc: tuple(pairs) for epc, pairs in lots_of.items()},
        transformations=tuple(transformations),
    )


@dataclass(frozen=True, slots=True)
class BackwardTrace:
    start: str
    lots: frozenset[str]
    """The lot classes the start item belongs to."""
    upstream: frozenset[str]
    """Every lot, class and object it was made from, at any depth."""
    links: tuple[GenealogyLink, ...]


def backward_trace(
    events: Iterable[EPCISEvent], item: str, at: datetime | None = None
) -> BackwardTrace:
    """Serial (or lot) → its lot → transformation inputs → their inputs, recursively."""
    genealogy = _genealogy(_in_force(events, at))
    start = canonical(item)
    links: list[GenealogyLink] = []
    seen = {start}
    queue = [start]
    while queue:
        node = queue.pop(0)
        found: list[tuple[str, str, EPCISEvent]] = [
            (lot, "lot", event) for lot, event in genealogy.lots_of.get(node, ())
        ]
        for step in genealogy.transformations:
            if node in step.outputs:
                found.extend(
                    (source, "transformation", step.event) for source in sorted(step.inputs)
                )
        for source, via, event in found:
            links.append(GenealogyLink(item=node, made_from=source, via=via, event=event))
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return BackwardTrace(
        start=start,
        lots=frozenset(lot for lot, _ in genealogy.lots_of.get(start, ())),
        upstream=frozenset(seen - {start}),
        links=tuple(links),
    )


@dataclass(frozen=True, slots=True)
class RecallScope:
    start: str
    classes: frozenset[str]
    """Affected lots and product classes (the start, if a class, and every output lot)."""
    items: frozenset[str]
    """Affected serialised objects."""
    containers: frozenset[str]
    """Every container that ever held an affected item or class, at any depth."""
    locations: frozenset[str]
    """Business locations where affected goods were, per the events that reached them."""
    destinations: frozenset[SourceDestination]
    """Destinations (location, owning or possessing party) of those events."""
    events: tuple[EPCISEvent, ...]
    """The events that reached affected goods, in time order."""


def _grow(affected: set[str], new: Iterable[str]) -> bool:
    before = len(affected)
    affected.update(new)
    return len(affected) != before


def _affected(events: Sequence[EPCISEvent], start: str) -> tuple[set[str], set[str]]:
    """(affected lots, classes and objects; containers that ever held them), to a fixed point."""
    genealogy = _genealogy(events)
    affected = {start}
    containers: set[str] = set()
    aggregations = [e for e in events if isinstance(e, AggregationEvent) and e.parent_id]
    changed = True
    while changed:
        changed = False
        for step in genealogy.transformations:
            if step.inputs & (affected | containers):
                changed |= _grow(affected, step.outputs)
        for epc, pairs in genealogy.lots_of.items():
            if epc not in affected and any(lot in affected for lot, _ in pairs):
                changed |= _grow(affected, [epc])
        for event in aggregations:
            if event.action is Action.DELETE or event.parent_id is None:
                continue
            held = {canonical(c) for c in event.child_epcs}
            held |= {canonical(q.epc_class) for q in event.child_quantity_list}
            if held & (affected | containers):
                changed |= _grow(containers, [canonical(event.parent_id)])
    return affected, containers


def _carrying(affected: set[str], carriers: set[str], event: EPCISEvent) -> None:
    """Track containers holding affected goods that are known only as a class quantity."""
    if not isinstance(event, AggregationEvent) or event.parent_id is None:
        return
    parent = canonical(event.parent_id)
    quantities = {canonical(q.epc_class) for q in event.child_quantity_list}
    if event.action is Action.DELETE:
        if (not event.child_epcs and not quantities) or quantities & affected:
            carriers.discard(parent)
    elif quantities & affected:
        carriers.add(parent)


def forward_trace(
    events: Iterable[EPCISEvent], item: str, at: datetime | None = None
) -> RecallScope:
    """Input lot, class or object → everything made from it → where it all went."""
    standing = _in_force(events, at)
    start = canonical(item)
    affected, containers = _affected(standing, start)
    state = _Replay()
    carriers: set[str] = set()
    reached: list[EPCISEvent] = []
    for event in standing:
        named = _named(event)
        # Who the event reaches is decided before it changes containment, except for packing,
        # which takes the new contents along: the event names them itself.
        inside = set(named)
        for node in named:
            inside |= state.tree.descendants(node)
        if inside & (affected | carriers) or set(_classes(event)) & affected:
            reached.append(event)
        _carrying(affected, carriers, event)
        state.apply(event)
    locations = {canonical(e.biz_location) for e in reached if e.biz_location}
    destinations = {
        SourceDestination(type=d.type, value=canonical(d.value))
        for e in reached
        for d in e.destinations
    }
    return RecallScope(
        start=start,
        classes=frozenset(a for a in affected if _is_class(a)),
        items=frozenset(a for a in affected if not _is_class(a)),
        containers=frozenset(containers),
        locations=frozenset(locations),
        destinations=frozenset(destinations),
        events=tuple(reached),
    )
