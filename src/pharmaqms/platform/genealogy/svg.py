"""The genealogy graph as a server-rendered SVG: one column per layer (materials → lot →
records → packs → cases → pallets → shipments → locations → customers), each node a link that
re-centres the page on it. Long columns (a lot's thousands of packs) show their first nodes and
a count of the rest, so the drawing stays readable at any size."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Final

from pharmaqms.platform.genealogy.graph import LAYERS, Graph, Node, titled

COLUMN: Final = 200
ROW: Final = 34
BOX_W: Final = 170
BOX_H: Final = 24
MAX_PER_LAYER: Final = 12
COLOURS: Final = {
    "material": "#d9ead3",
    "lot": "#cfe2f3",
    "record": "#fff2cc",
    "pack": "#eeeeee",
    "case": "#fce5cd",
    "pallet": "#f9cb9c",
    "shipment": "#d9d2e9",
    "location": "#d0e0e3",
    "customer": "#f4cccc",
}
TITLES: Final = {
    "material": "materials",
    "lot": "lots",
    "record": "records",
    "pack": "packs",
    "case": "cases",
    "pallet": "pallets",
    "shipment": "shipments",
    "location": "locations",
    "customer": "customers",
}


# Where each thing came from and went is drawn; each stop of a journey (received, dispensed)
# is in the graph's data but not drawn, or the lines of a lot's packs hide everything else.
HIDDEN_RELATIONS: Final = frozenset(
    {"receiving", "dispensing", "unpacking", "packing", "at", "commissioning", "storing"}
)


def _fit(text: str, limit: int = 22) -> str:
    """Shorten to the box. Identifiers differ at their end (the serial, the SSCC's serial
    reference, the lot), so those keep their tail; names keep their start."""
    if len(text) <= limit:
        return text
    word, _, rest = text.partition(" ")
    if word in ("SSCC", "serial", "GTIN"):
        return f"{word} …{rest[-(limit - len(word) - 2) :]}"
    return text[: limit - 1] + "…"


def render(graph: Graph, link: Callable[[Node], str]) -> str:
    """SVG markup (escaped throughout); ``link`` gives each node's URL."""
    columns: dict[str, list[Node]] = {}
    for node in sorted(graph.nodes.values(), key=lambda n: (n.kind, n.label, n.id)):
        columns.setdefault(node.layer, []).append(node)
    layers = [layer for layer in LAYERS if layer in columns]
    placed: dict[str, tuple[float, float]] = {}
    parts: list[str] = []
    tallest = 1
    for x_index, layer in enumerate(layers):
        nodes = columns[layer]
        # The start node first, so re-centring never hides it in "… more".
        nodes.sort(key=lambda n: n.id != graph.start)
        shown, hidden = nodes[:MAX_PER_LAYER], len(nodes) - MAX_PER_LAYER
        x = 10 + x_index * COLUMN
        parts.append(
            f'<text class="layer" x="{x}" y="16">{escape(TITLES[layer])} ({len(nodes)})</text>'
        )
        for y_index, node in enumerate(shown):
            y = 30 + y_index * ROW
            placed[node.id] = (x, y)
            stroke = ' stroke-width="3"' if node.id == graph.start else ""
            tip = escape(f"{titled(node)}\n{node.id}\n{node.detail}".strip())
            parts.append(
                f'<a href="{escape(link(node))}"><g class="node node-{escape(node.kind)}">'
                f"<title>{tip}</title>"
                f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" '
                f'fill="{COLOURS[layer]}" stroke="#555"{stroke}/>'
                f'<text x="{x + 6}" y="{y + 16}">{escape(_fit(node.label))}</text></g></a>'
            )
        if hidden > 0:
            y = 30 + len(shown) * ROW
            parts.append(f'<text class="more" x="{x + 6}" y="{y + 16}">… {hidden} more</text>')
        tallest = max(tallest, len(shown) + (1 if hidden > 0 else 0))
    lines: list[str] = []
    for edge in graph.edges.values():
        if (
            edge.source in placed
            and edge.target in placed
            and edge.relation not in HIDDEN_RELATIONS
        ):
            (x1, y1), (x2, y2) = placed[edge.source], placed[edge.target]
            if x1 > x2:
                (x1, y1), (x2, y2) = (x2, y2), (x1, y1)
            start_x = x1 + BOX_W if x1 != x2 else x1
            lines.append(
                f'<line x1="{start_x}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" '
                f'stroke="#999"><title>{escape(edge.relation.replace("_", " "))}</title></line>'
            )
    width = 20 + max(len(layers), 1) * COLUMN
    height = 40 + tallest * ROW
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="genealogy" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="genealogy of {escape(graph.start)}" font-family="sans-serif" '
        f'font-size="12">{"".join(lines)}{"".join(parts)}</svg>'
    )
