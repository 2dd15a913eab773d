"""The downstream half of a genealogy graph, drawn from a recall scope and the events that
reached affected goods: lot → packs → cases → pallets → shipments → locations and customers."""

from __future__ import annotations

from collections.abc import Callable

from pharmaqms.platform import trace
from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    EPCISEvent,
    ObjectEvent,
    TransformationEvent,
)
from pharmaqms.platform.genealogy.graph import Graph, Node, RecallScope

ClassNode = Callable[[str, str], str]


def _top(event: EPCISEvent) -> list[str]:
    """What an event moves as a whole: the parent of an aggregation, else its objects."""
    parent = getattr(event, "parent_id", None)
    if parent:
        return [trace.canonical(parent)]
    return [trace.canonical(e) for e in getattr(event, "epc_list", ())]


def add_down(
    graph: Graph, scope: RecallScope, events: list[EPCISEvent], class_node: ClassNode
) -> None:
    items, containers = set(scope.items), set(scope.containers)
    lots = {lot: class_node(lot, "lot") for lot in scope.lots}
    for item in sorted(items):
        graph.add(Node(item, "pack", _label(item)))
    held: dict[str, set[str]] = {}
    for event in events:
        if (
            isinstance(event, AggregationEvent)
            and event.parent_id
            and event.action is not Action.DELETE
        ):
            parent = trace.canonical(event.parent_id)
            held.setdefault(parent, set()).update(trace.canonical(c) for c in event.child_epcs)
    for container in sorted(containers):
        kind = "pallet" if held.get(container, set()) & containers else "case"
        graph.add(Node(container, kind, _label(container)))
    for event in events:
        _edges_of(graph, event, lots, items | containers | set(lots))
    for shipment in scope.shipments:
        node = f"shipment:{shipment.id}"
        graph.add(
            Node(
                node,
                "shipment",
                f"shipped {shipment.shipped_at:%Y-%m-%d}",
                detail=", ".join(shipment.references),
            )
        )
        for obj in shipment.objects:
            if obj in graph.nodes:
                graph.link(obj, node, "shipped_in", shipment.shipped_at)
        for target in shipment.destinations:
            graph.link(node, target, "to", shipment.shipped_at)
    for place in scope.locations:
        kind = "customer" if place.is_customer else "location"
        label = place.name if place.code is None else f"{place.name} ({place.code})"
        graph.add(Node(place.id, kind, label, detail=place.kind))


def _edges_of(graph: Graph, event: EPCISEvent, lots: dict[str, str], shown: set[str]) -> None:
    when = event.event_time
    if isinstance(event, ObjectEvent | TransformationEvent) and event.ilmd is not None:
        epcs = event.epc_list if isinstance(event, ObjectEvent) else event.output_epcs
        suffix = f"/10/{event.ilmd.lot_number}"
        for epc in (trace.canonical(e) for e in epcs):
            for lot_class, node in lots.items():
                if epc in shown and lot_class == _gtin_prefix(epc) + suffix.lstrip("/"):
                    graph.link(node, epc, "commissioned", when)
    if isinstance(event, TransformationEvent):
        inputs = {trace.canonical(q.epc_class) for q in event.input_quantities}
        inputs |= {trace.canonical(e) for e in event.input_epcs}
        outputs = {trace.canonical(q.epc_class) for q in event.output_quantities}
        for source in inputs & set(lots):
            for target in outputs & set(lots):
                graph.link(lots[source], lots[target], "made_into", when)
    if (
        isinstance(event, AggregationEvent)
        and event.parent_id
        and event.action is not Action.DELETE
    ):
        parent = trace.canonical(event.parent_id)
        for child in (trace.canonical(c) for c in event.child_epcs):
            if child in shown and parent in shown:
                graph.link(child, parent, "packed_into", when)
    if event.biz_location and event.biz_step != "shipping":
        place = trace.canonical(event.biz_location)
        for obj in _top(event):
            if obj in shown:
                graph.link(obj, place, event.biz_step or "at", when)


def _gtin_prefix(epc: str) -> str:
    """``https://id.gs1.org/01/<gtin>/`` of a pack's Digital Link (its lot shares it)."""
    head, _, _ = epc.partition("/21/")
    return head + "/"


def _label(identifier: str) -> str:
    if identifier.startswith("https://id.gs1.org/00/"):
        return "SSCC " + identifier.rsplit("/", 1)[-1]
    if "/21/" in identifier:
        return "serial " + identifier.rsplit("/", 1)[-1]
    return identifier
