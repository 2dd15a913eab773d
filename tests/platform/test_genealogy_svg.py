"""The genealogy drawing (pure): layers in order, long columns folded, text escaped."""

from __future__ import annotations

from pharmaqms.platform.genealogy.graph import Direction, Graph, Node
from pharmaqms.platform.genealogy.svg import render


def _graph() -> Graph:
    graph = Graph(start="lot", direction=Direction.BOTH, at=None)
    graph.add(Node("lot", "lot", "batch <X&Y>"))
    for n in range(15):
        graph.add(Node(f"pack{n:02d}", "pack", f"serial S{n:02d}"))
        graph.link("lot", f"pack{n:02d}", "commissioned")
    graph.add(Node("pharmacy", "customer", "Central Pharmacy"))
    graph.link("pack00", "pharmacy", "dispensing")
    return graph


def test_columns_follow_the_layers_and_fold_after_twelve() -> None:
    svg = render(_graph(), lambda node: f"/data/genealogy?id={node.id}")
    titles = [part.split(">", 1)[1] for part in svg.split('<text class="layer"')[1:]]
    assert [t.split("<", 1)[0] for t in titles] == ["lots (1)", "packs (15)", "customers (1)"]
    assert '<text class="more" x="216" y="454">… 3 more</text>' in svg
    assert svg.count("<line ") == 12  # to the twelve packs drawn; a dispensing is not drawn


def test_labels_and_links_are_escaped() -> None:
    svg = render(_graph(), lambda node: f"/x?id={node.id}&a=<b>")
    assert "batch &lt;X&amp;Y&gt;" in svg and "<X&Y>" not in svg
    assert 'href="/x?id=lot&amp;a=&lt;b&gt;"' in svg
