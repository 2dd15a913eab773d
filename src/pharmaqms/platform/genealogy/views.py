"""The genealogy page: the graph of a lot (or pack, or container) drawn as SVG, with its recall
scope beside it. Thin: parse the query, ask the service, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pharmaqms.kernel.errors import InvalidInput, QMSError
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.timezones import local, parse_typed
from pharmaqms.platform.genealogy.graph import Direction, Graph, Node, titled
from pharmaqms.platform.genealogy.service import genealogy
from pharmaqms.platform.genealogy.starts import starting_points
from pharmaqms.platform.genealogy.svg import render as render_svg

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem(section="Data", label="Genealogy and recall", url="/data/genealogy", order=20))


def _parse_at(text: str) -> datetime:
    """With an offset as written; without one, in the reader's time zone. ``ValueError``
    (with the reason) when it is not a time there."""
    try:
        return parse_typed(text, field="at")
    except InvalidInput as problem:
        raise ValueError(problem.detail) from None
    except ValueError:
        raise ValueError(f"the time {text!r} is not an ISO 8601 time") from None


def _scope_csv(identifier: str, moment: datetime | None) -> str:
    """The recall scope as a CSV file, from the data API (one row per entity reached)."""
    query = {"format": "csv"} | ({"at": moment.isoformat()} if moment else {})
    return f"/api/v1/data/trace/{quote(identifier.strip(), safe='/:')}/recall-scope?" + urlencode(
        query
    )


@router.get("/data/genealogy", response_class=HTMLResponse)
def genealogy_page(
    request: Request,
    actor: ActorDep,
    id: Annotated[str, Query()] = "",
    direction: Annotated[str, Query()] = "both",
    at: Annotated[str, Query()] = "",
) -> HTMLResponse:
    actor.require("records.read", "read genealogy")
    graph: Graph | None = None
    problem: str | None = None
    status = 200
    moment: datetime | None = None
    if at.strip():
        try:
            moment = _parse_at(at)
        except ValueError as error:
            problem = str(error)
    way = direction if direction in {d.value for d in Direction} else "both"
    with transaction(request, write=False) as session:
        starts = starting_points(session)
    if id.strip() and problem is None:
        try:
            with transaction(request, write=False) as session:
                graph = genealogy(session, id, way, moment)
        except QMSError as error:
            problem, status = f"{error.code}: {error.detail}", error.status

    def link(node: Node) -> str:
        query = {"id": node.id, "direction": way} | ({"at": at} if at.strip() else {})
        return node.url or "/data/genealogy?" + urlencode(query)

    drawing = Markup(render_svg(graph, link)) if graph is not None else None  # noqa: S704 - escaped in svg.py
    records = (
        sorted((n for n in graph.nodes.values() if n.layer == "record"), key=lambda n: n.id)
        if graph
        else []
    )
    return render(
        request,
        "genealogy/page.html",
        {
            "query": {"id": id, "direction": way, "at": at},
            "graph": graph,
            "drawing": drawing,
            "scope": graph.scope if graph else None,
            "records": records,
            "problem": problem,
            "link": link,
            "heading": titled(graph.nodes[graph.start]) if graph else "",
            # The datetime-local field shows the moment on the reader's wall clock.
            "at_local": local(moment).strftime("%Y-%m-%dT%H:%M:%S") if moment else at,
            "starts": starts,
            "scope_csv": _scope_csv(id, moment) if graph is not None and graph.scope else None,
        },
        status=status,
    )
