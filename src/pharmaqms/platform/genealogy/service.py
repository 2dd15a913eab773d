"""Genealogy questions: ``genealogy`` (a typed graph, up, down or both) and ``recall_scope``
(every location and customer a lot reached). Read-only: nothing here writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.platform import trace
from pharmaqms.platform.epcis import Action, AggregationEvent
from pharmaqms.platform.genealogy.containment import containment
from pharmaqms.platform.genealogy.downstream import add_down
from pharmaqms.platform.genealogy.events import EventCache
from pharmaqms.platform.genealogy.expand import backward_step, contents_step, grow
from pharmaqms.platform.genealogy.graph import Direction, Graph, Node, RecallScope
from pharmaqms.platform.genealogy.identifiers import Resolved, Subject, of_lot, resolve
from pharmaqms.platform.genealogy.providers import linked_records
from pharmaqms.platform.genealogy.scope import recall_scope_of, traced
from pharmaqms.platform.masterdata.models import Lot, LotKind, MaterialConsumption
from pharmaqms.platform.traceability.models import SerialisedPack


def _require_aware(at: datetime | None) -> None:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("'at' needs a time zone (e.g. 2026-03-01T12:00:00Z)", field="at")


def _batches_of(session: Session, material_lot_id: int) -> list[Lot]:
    """Batches a material lot went into (MaterialConsumption), at any depth."""
    found: dict[int, Lot] = {}
    queue = [material_lot_id]
    while queue:
        ids = session.scalars(
            select(MaterialConsumption.batch_id).where(
                MaterialConsumption.material_lot_id == queue.pop()
            )
        )
        for batch_id in ids:
            if batch_id not in found:
                lot = session.get(Lot, batch_id)
                if lot is not None:
                    found[batch_id] = lot
                    queue.append(batch_id)
    return list(found.values())


def _forward_starts(session: Session, subject: Resolved) -> list[str]:
    starts = [subject.canonical]
    if subject.lot_id is not None:
        starts += [of_lot(session, b).canonical for b in _batches_of(session, subject.lot_id)]
    return starts


def forward_starts_of(session: Session, identifier: str) -> tuple[str, list[str]]:
    """The canonical identifier named, and every start its forward trace follows (a material
    lot: the batches made from it too)."""
    subject = resolve(session, identifier)
    return subject.canonical, _forward_starts(session, subject)


def recall_scope(session: Session, identifier: str, at: datetime | None = None) -> RecallScope:
    """Forward trace: every lot made from it, every pack, container and shipment that carried
    it, and every location and customer it reached (up to ``at``, inclusive)."""
    _require_aware(at)
    subject = resolve(session, identifier)
    return recall_scope_of(session, subject.canonical, _forward_starts(session, subject), at)


def genealogy(
    session: Session,
    identifier: str,
    direction: Direction | str = Direction.BOTH,
    at: datetime | None = None,
) -> Graph:
    """The linked entities of a lot, a pack (SGTIN, Digital Link, element string, serial), an
    SSCC or an EPC URI: ``up`` what it was made from, ``down`` where it went, or both."""
    _require_aware(at)
    try:
        way = Direction(direction)
    except ValueError:
        raise InvalidInput(
            f"direction must be up, down or both, not {direction!r}", field="direction"
        ) from None
    subject = resolve(session, identifier)
    graph = Graph(start=subject.canonical, direction=way, at=at)
    graph.add(_node_for(subject))
    builder = _Builder(session, graph, at)
    if way in (Direction.UP, Direction.BOTH):
        builder.up(subject)
    if way in (Direction.DOWN, Direction.BOTH):
        builder.down(subject)
    builder.records()
    return graph


def _node_for(subject: Resolved) -> Node:
    kind = {
        Subject.LOT: "lot",
        Subject.PACK: "pack",
        Subject.CONTAINER: "case",
        Subject.CLASS: "lot",
        Subject.OBJECT: "pack",
    }[subject.subject]
    return Node(subject.canonical, kind, subject.label or subject.canonical)


class _Builder:
    def __init__(self, session: Session, graph: Graph, at: datetime | None) -> None:
        self.session = session
        self.graph = graph
        self.at = at
        self.lot_ids: dict[str, int] = {}  # node id → our lot

    def lot_node(self, lot: Lot) -> str:
        resolved = of_lot(self.session, lot)
        kind = "lot" if lot.kind == LotKind.FINISHED else "material"
        self.graph.add(Node(resolved.canonical, kind, lot.audit_label(), detail=lot.status))
        self.lot_ids[resolved.canonical] = lot.id
        return resolved.canonical

    def class_node(self, canonical: str, kind: str) -> str:
        lot = resolve(self.session, canonical) if "/10/" in canonical else None
        if lot is not None and lot.lot_id is not None:
            row = self.session.get(Lot, lot.lot_id)
            if row is not None:
                return self.lot_node(row)
        self.graph.add(Node(canonical, kind, _short(canonical)))
        return canonical

    # --- up: what it was made from -------------------------------------------------------

    def up(self, subject: Resolved) -> None:
        starts = [subject.canonical]
        if subject.subject is Subject.CONTAINER:
            starts = self.contents(subject.canonical)
            for item in starts:
                self.graph.add(Node(item, "pack", _short(item)))
                self.graph.link(item, subject.canonical, "packed_into")
        if subject.lot_id is not None:
            lot = self.session.get(Lot, subject.lot_id)
            if lot is not None:
                self.lot_node(lot)
                self.consumed(lot)
        for start in starts:
            self.backward(start)

    def contents(self, container: str) -> list[str]:
        cache, _reach = grow(self.session, [container], contents_step, self.at)
        inside = trace.contents(cache.ordered(), container, self.at)
        if not inside and self.at is None:
            # Unpacked by now: what it ever held is still where it came from.
            inside = frozenset(
                trace.canonical(c)
                for s in cache.events.values()
                if isinstance(s.event, AggregationEvent) and s.event.action is not Action.DELETE
                for c in s.event.child_epcs
            )
        return sorted(inside)

    def backward(self, start: str) -> None:
        cache, _reach = grow(self.session, [start], backward_step, self.at)
        result = trace.backward_trace(cache.ordered(), start, self.at)
        ids = {start: start}
        for link in result.links:
            item = ids.get(link.item) or self.class_node(link.item, "lot")
            ids[link.item] = item
            kind = "lot" if link.via == "lot" else "material"
            source = ids.get(link.made_from) or self.class_node(link.made_from, kind)
            ids[link.made_from] = source
            relation = "of_lot" if link.via == "lot" else "made_from"
            self.graph.link(source, item, relation, link.event.event_time)
            if source in self.lot_ids:
                lot = self.session.get(Lot, self.lot_ids[source])
                if lot is not None:
                    self.consumed(lot)
        self._pack_lots(start)

    def _pack_lots(self, start: str) -> None:
        pack = self.session.scalars(
            select(SerialisedPack).where(SerialisedPack.epc == start)
        ).first()
        if pack is not None and pack.lot_id is not None:
            lot = self.session.get(Lot, pack.lot_id)
            if lot is not None:
                node = self.lot_node(lot)
                self.graph.link(node, start, "of_lot", pack.commissioned_at)
                self.consumed(lot)

    def consumed(self, batch: Lot) -> None:
        """Material lots recorded as consumed into the batch (MES), at any depth."""
        queue, seen = [batch], {batch.id}
        while queue:
            current = queue.pop()
            target = self.lot_node(current)
            query = select(MaterialConsumption).where(MaterialConsumption.batch_id == current.id)
            if self.at is not None:
                query = query.where(MaterialConsumption.consumed_at <= self.at)
            for use in self.session.scalars(query.order_by(MaterialConsumption.id)):
                material = self.session.get(Lot, use.material_lot_id)
                if material is None:
                    continue
                source = self.lot_node(material)
                self.graph.link(source, target, "consumed", use.consumed_at)
                if material.id not in seen:
                    seen.add(material.id)
                    queue.append(material)

    # --- down: where it went -------------------------------------------------------------

    def down(self, subject: Resolved) -> None:
        starts = _forward_starts(self.session, subject)
        if subject.lot_id is not None:
            lot = self.session.get(Lot, subject.lot_id)
            if lot is not None:
                self.lot_node(lot)
                for batch in _batches_of(self.session, lot.id):
                    self.graph.link(self.lot_node(lot), self.lot_node(batch), "consumed")
        scope, events = traced(self.session, subject.canonical, starts, self.at)
        self.graph.scope = scope
        if subject.subject in (Subject.CONTAINER, Subject.PACK, Subject.OBJECT):
            self.held(subject.canonical)
        add_down(self.graph, scope, events, self.class_node)

    def held(self, start: str) -> None:
        """What the start held at ``at`` (pallet → cases → packs) and what held it."""
        found = containment(self.session, start, self.at)
        self.graph.containment = found
        holders = {h.parent for h in found.contents}
        for item in found.contents:
            kind = "case" if item.epc in holders else "pack"
            self.graph.add(Node(item.epc, kind, _short(item.epc)))
            self.graph.link(item.epc, item.parent, "contained_in", self.at)
        inner = start
        for depth, container in enumerate(found.containers):
            kind = "case" if depth == 0 and len(found.containers) > 1 else "pallet"
            self.graph.add(Node(container, kind, _short(container)))
            self.graph.link(inner, container, "contained_in", self.at)
            inner = container

    def records(self) -> None:
        lots = sorted(set(self.lot_ids.values()))
        node_of = {lot_id: node for node, lot_id in self.lot_ids.items()}
        for record in linked_records(self.session, lots, self.at):
            self.graph.add(Node(record.key, record.kind, record.label, record.url, record.detail))
            self.graph.link(node_of[record.lot_id], record.key, record.relation, record.time)


def _short(canonical: str) -> str:
    """A readable label for a canonical identifier: the key values without the host."""
    if canonical.startswith("https://id.gs1.org/"):
        parts = canonical.removeprefix("https://id.gs1.org/").split("/")
        names = {"01": "GTIN", "10": "lot", "21": "serial", "00": "SSCC", "414": "GLN"}
        return " ".join(
            f"{names.get(a, a)} {v}" for a, v in zip(parts[::2], parts[1::2], strict=False)
        )
    return canonical


__all__ = ["EventCache", "genealogy", "recall_scope"]
