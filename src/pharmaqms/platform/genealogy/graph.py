"""The answer of a genealogy question: a typed graph, and the recall scope of a forward trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

from pharmaqms.platform.genealogy.containment import Containment


class Direction(StrEnum):
    UP = "up"  # where it came from: materials, lots
    DOWN = "down"  # where it went: packs, containers, shipments, locations
    BOTH = "both"


# Node kinds in the order the genealogy page draws them, left to right.
LAYERS: Final = (
    "material",
    "lot",
    "record",
    "pack",
    "case",
    "pallet",
    "shipment",
    "location",
    "customer",
)
# Kinds of records that link providers add are drawn in the "record" layer.
CORE_KINDS: Final = frozenset(LAYERS) - {"record"}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    label: str
    url: str | None = None
    detail: str = ""

    @property
    def layer(self) -> str:
        return self.kind if self.kind in CORE_KINDS else "record"


# Words a label may begin with that already say what kind of thing it is: a lot's label is
# "lot API-PARA/A2502" or "batch PARA500/PB26-101", a case's "SSCC 0950…".
_KIND_WORDS: Final = {
    "material": ("lot", "gtin", "material"),
    "lot": ("lot", "batch", "gtin"),
    "pack": ("pack", "serial"),
    "case": ("case", "sscc", "shipment"),
    "pallet": ("pallet", "sscc", "shipment"),
}


def titled(node: Node) -> str:
    """The node named with its kind, the kind said once: "lot API-PARA/A2502" for a lot
    labelled so (never "lot lot API-PARA/A2502"), "deviation DEV-2026-0007" for a record whose
    label is its number."""
    kind = node.kind.replace("_", " ")
    first = node.label.split(" ", 1)[0].lower()
    if first in (kind.lower(), *_KIND_WORDS.get(node.kind, ())) or node.label.lower().startswith(
        kind.lower() + " "
    ):
        return node.label
    return f"{kind} {node.label}"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    relation: str
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScopeLocation:
    id: str
    """Canonical identifier (the SGLN as a Digital Link) as the events name it."""
    code: str | None
    name: str
    kind: str
    is_customer: bool
    first_reached: datetime
    how: str
    """``bizLocation`` (the goods were there) or ``destination`` (they were sent there)."""


@dataclass(frozen=True, slots=True)
class ScopeShipment:
    id: str
    shipped_at: datetime
    origin: str | None
    destinations: tuple[str, ...]
    objects: tuple[str, ...]
    references: tuple[str, ...]
    """Business transactions (despatch advice, bill of lading) and Shipment record codes."""


@dataclass(frozen=True, slots=True)
class RecallScope:
    start: str
    lots: tuple[str, ...]
    items: tuple[str, ...]
    containers: tuple[str, ...]
    shipments: tuple[ScopeShipment, ...]
    locations: tuple[ScopeLocation, ...]
    events: int
    at: datetime | None = None

    @property
    def customers(self) -> tuple[ScopeLocation, ...]:
        return tuple(loc for loc in self.locations if loc.is_customer)

    ROW_COLUMNS: ClassVar[tuple[str, ...]] = ("kind", "id", "name", "detail", "time")

    def rows(self) -> list[dict[str, Any]]:
        """The scope as one table, a row per lot, pack, container, shipment and place: the
        list a recall coordinator works down (customers first among the places)."""
        rows: list[dict[str, Any]] = []
        rows += [{"kind": "lot", "id": lot, "name": "", "detail": "", "time": None}
                 for lot in self.lots]  # fmt: skip
        rows += [{"kind": "pack", "id": item, "name": "", "detail": "", "time": None}
                 for item in self.items]  # fmt: skip
        rows += [{"kind": "container", "id": c, "name": "", "detail": "", "time": None}
                 for c in self.containers]  # fmt: skip
        for s in self.shipments:
            detail = f"from {s.origin or '?'} to {', '.join(s.destinations) or '?'}"
            if s.references:
                detail += f"; {', '.join(s.references)}"
            rows.append(
                {"kind": "shipment", "id": s.id, "name": "", "detail": detail, "time": s.shipped_at}
            )
        for loc in sorted(self.locations, key=lambda loc: (not loc.is_customer, loc.id)):
            rows.append(
                {
                    "kind": "customer" if loc.is_customer else "location",
                    "id": loc.id,
                    "name": loc.name,
                    "detail": ", ".join(part for part in (loc.code, loc.kind, loc.how) if part),
                    "time": loc.first_reached,
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "at": self.at,
            "lots": list(self.lots),
            "items": list(self.items),
            "containers": list(self.containers),
            "shipments": [
                {
                    "id": s.id,
                    "shipped_at": s.shipped_at,
                    "origin": s.origin,
                    "destinations": list(s.destinations),
                    "objects": list(s.objects),
                    "references": list(s.references),
                }
                for s in self.shipments
            ],
            "locations": [_location(loc) for loc in self.locations],
            "customers": [_location(loc) for loc in self.customers],
            "events": self.events,
        }


def _location(loc: ScopeLocation) -> dict[str, Any]:
    return {
        "id": loc.id,
        "code": loc.code,
        "name": loc.name,
        "kind": loc.kind,
        "is_customer": loc.is_customer,
        "first_reached": loc.first_reached,
        "how": loc.how,
    }


@dataclass
class Graph:
    start: str
    direction: Direction
    at: datetime | None
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)
    scope: RecallScope | None = None
    containment: Containment | None = None
    """What the start held, and what held it, at ``at`` (containers and packs, going down)."""

    def add(self, node: Node) -> Node:
        # The first description of a node wins: the most specific one is added first.
        return self.nodes.setdefault(node.id, node)

    def link(self, source: str, target: str, relation: str, time: datetime | None = None) -> None:
        """One edge per (source, target, relation), at its earliest time."""
        if source == target:
            return
        key = (source, target, relation)
        known = self.edges.get(key)
        if known is None or (time is not None and (known.time is None or time < known.time)):
            self.edges[key] = Edge(source, target, relation, time)

    def of_kind(self, kind: str) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.kind == kind), key=lambda n: n.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "direction": self.direction.value,
            "at": self.at,
            "nodes": [
                {"id": n.id, "kind": n.kind, "label": n.label, "url": n.url, "detail": n.detail}
                for n in sorted(self.nodes.values(), key=lambda n: (LAYERS.index(n.layer), n.id))
            ],
            "edges": [
                {"source": e.source, "target": e.target, "relation": e.relation, "time": e.time}
                for e in sorted(self.edges.values(), key=lambda e: (e.source, e.target, e.relation))
            ],
            "recall_scope": self.scope.as_dict() if self.scope else None,
            "containment": self.containment.as_dict() if self.containment else None,
        }

    ROW_COLUMNS: ClassVar[tuple[str, ...]] = ("kind", "id", "label", "detail", "url")

    def rows(self) -> list[dict[str, Any]]:
        """The graph's entities as one table, a row per node, layer by layer."""
        return [
            {"kind": n.kind, "id": n.id, "label": n.label, "detail": n.detail, "url": n.url}
            for n in sorted(self.nodes.values(), key=lambda n: (LAYERS.index(n.layer), n.id))
        ]
