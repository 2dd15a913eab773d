"""The search box in the header: a record by its number or by words of its title and text,
among the record types the person may read (kernel/search.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep, record_url
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.search import MAX_QUERY, search_records

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, actor: ActorDep, q: str = "") -> HTMLResponse:
    actor.require("records.read", "search records")
    text = q[:MAX_QUERY]
    with transaction(request) as session:
        hits = search_records(session, actor, text)
        return render(
            request,
            "kernel/search.html",
            {
                "q": text,
                "hits": [(h, record_url(h.record_type.name, h.record)) for h in hits],
            },
        )
