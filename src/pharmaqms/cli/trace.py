"""``pharmaqms trace ID``: where a lot, pack or container came from and where it went."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from pharmaqms.cli.common import echo_json
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.containment import Containment
from pharmaqms.platform.genealogy.graph import Direction, Graph, Node, titled
from pharmaqms.platform.genealogy.service import genealogy
from pharmaqms.platform.gs1 import GS1Error

app = typer.Typer(
    help="Trace a lot, a pack (serial/SGTIN), an SSCC or an EPC URI up and down the chain.",
    no_args_is_help=True,
    # The group has no sub-commands: its callback is the command, and options may follow ID.
    context_settings={"allow_interspersed_args": True},
    subcommand_metavar="",
)
SHOWN_PACKS = 10


def _fail(message: str) -> NoReturn:
    # Plain echo, one line: identifiers may hold brackets that Rich would read as markup.
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-03-01T12:00:00Z)")
    if at.tzinfo is None:
        _fail(f"--at {text!r} has no UTC offset (e.g. 2026-03-01T12:00:00+01:00)")
    return at


# A callback, not a command: the command line is ``pharmaqms trace ID``.
@app.callback(invoke_without_command=True)
def trace(
    identifier: Annotated[
        str,
        typer.Argument(
            help="A lot (ITEM/LOT or a lot number), a serial or SGTIN (EPC URI, Digital Link, "
            "scanned element string), an SSCC or an EPC URI."
        ),
    ],
    direction: Annotated[
        Direction, typer.Option("--direction", "-d", help="up: made from; down: went to.")
    ] = Direction.BOTH,
    at: Annotated[
        str | None, typer.Option("--at", help="As it stood at this time (ISO 8601 with offset).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the graph as JSON.")] = False,
) -> None:
    """Show the linked entities: materials, lots, packs, containers, shipments, locations."""
    moment = _parse_at(at)
    try:
        with unit_of_work(write=False) as session:
            graph = genealogy(session, identifier, direction, moment)
    except GS1Error as error:
        _fail(f"{error.code}: {error.message}")
    except QMSError as error:
        _fail(f"{error.code}: {error.detail}")
    if as_json:
        echo_json(graph.as_dict())
        return
    _print(graph)


def _label(node: Node) -> Text:
    text = Text(node.label)
    if node.detail:
        text.append(f"  {node.detail}", style="dim")
    return text


def _upstream(graph: Graph) -> Tree | None:
    """What the start was made from, as a tree grown against the edges."""
    feeds: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        if edge.relation in ("of_lot", "made_from", "consumed"):
            feeds.setdefault(edge.target, []).append(edge.source)
    if not feeds:
        return None
    root = Tree(Text("made from", style="bold"))

    def grow(branch: Tree, node_id: str, seen: frozenset[str]) -> None:
        for source in sorted(feeds.get(node_id, [])):
            if source in seen:
                continue
            node = graph.nodes[source]
            child = branch.add(Text.assemble((f"{node.kind}: ", "cyan"), _label(node)))
            grow(child, source, seen | {source})

    grow(root, graph.start, frozenset({graph.start}))
    for node in graph.of_kind("lot"):
        if (
            node.id != graph.start
            and node.id in feeds
            and not any(node.id in sources for sources in feeds.values())
        ):
            grow(root.add(Text.assemble(("lot: ", "cyan"), _label(node))), node.id, frozenset())
    return root


def _print(graph: Graph) -> None:
    console = Console(highlight=False)
    start = graph.nodes[graph.start]
    when = f" as at {graph.at:%Y-%m-%d %H:%M UTC}" if graph.at else ""
    console.print(Text(f"{titled(start)}{when}", style="bold"))
    console.print(Text(start.id, style="dim"))
    if graph.direction in (Direction.UP, Direction.BOTH):
        tree = _upstream(graph)
        console.print(tree if tree is not None else Text("made from: nothing recorded"))
    if graph.direction in (Direction.DOWN, Direction.BOTH) and graph.containment is not None:
        _print_containment(console, graph, graph.containment)
    if graph.direction in (Direction.DOWN, Direction.BOTH) and graph.scope is not None:
        scope = graph.scope
        packs = list(scope.items)
        shown = ", ".join(graph.nodes[p].label for p in packs[:SHOWN_PACKS] if p in graph.nodes)
        more = f" … and {len(packs) - SHOWN_PACKS} more" if len(packs) > SHOWN_PACKS else ""
        console.print(Text(f"packs ({len(packs)}): {shown}{more}"))
        for kind in ("case", "pallet"):
            nodes = graph.of_kind(kind)
            console.print(Text(f"{kind}s ({len(nodes)}): " + ", ".join(n.label for n in nodes)))
        shipments = Table(title=f"shipments ({len(scope.shipments)})", title_justify="left")
        for column in ("shipped (UTC)", "what", "to", "reference"):
            shipments.add_column(column)
        for s in scope.shipments:
            what = ", ".join(graph.nodes[o].label if o in graph.nodes else o for o in s.objects)
            to = ", ".join(graph.nodes[d].label if d in graph.nodes else d for d in s.destinations)
            shipments.add_row(
                f"{s.shipped_at:%Y-%m-%d %H:%M}",
                Text(what),
                Text(to),
                Text(", ".join(s.references)),
            )
        console.print(shipments)
        places = Table(
            title=f"recall scope: {len(scope.locations)} locations, "
            f"{len(scope.customers)} customers",
            title_justify="left",
        )
        for column in ("location", "code", "kind", "customer", "first reached (UTC)", "as"):
            places.add_column(column)
        for loc in scope.locations:
            places.add_row(
                Text(loc.name),
                Text(loc.code or "—"),
                loc.kind,
                "yes" if loc.is_customer else "no",
                f"{loc.first_reached:%Y-%m-%d %H:%M}",
                loc.how,
            )
        console.print(places)
    records = [n for n in graph.nodes.values() if n.layer == "record"]
    if records:
        table = Table(title="linked records", title_justify="left")
        for column in ("kind", "record", "detail"):
            table.add_column(column)
        for node in sorted(records, key=lambda n: (n.kind, n.id)):
            table.add_row(node.kind.replace("_", " "), Text(node.label), Text(node.detail))
        console.print(table)


def _print_containment(console: Console, graph: Graph, held: Containment) -> None:
    """What the start held at the time asked (pallet → cases → packs) and what held it."""
    name = {n.id: n.label for n in graph.nodes.values()}
    chain = " → ".join(name.get(c, c) for c in held.containers) or "no container"
    console.print(Text(f"in: {chain}" + ("  (decommissioned)" if held.decommissioned else "")))
    tree = Tree(Text(f"holds {len(held.contents)}", style="bold"))
    branches = {held.subject: tree}
    for item in held.contents:
        branches[item.epc] = branches[item.parent].add(Text(name.get(item.epc, item.epc)))
    console.print(tree)
