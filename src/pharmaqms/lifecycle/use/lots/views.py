"""The lot safety page: the lot's reporting rate against the product's other lots, the cases
citing it, and its life from raw materials to shipments as each module reports it; one form
opens a CAPA with that evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.use.lots import service
from pharmaqms.quality.capa.workflow import OWNERS
from pharmaqms.quality.view_support import people_with, required_utc

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get("/pv/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(lot_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the lot safety review")
    with transaction(request) as session:
        safety = service.lot_safety(session, lot_id)
        signals = service.lot_signals(session, safety.product) if safety.product is not None else []
        return render(
            request,
            "pv/lot.html",
            {
                "safety": safety,
                "signals": signals,
                "evidence": service.evidence(safety),
                "can_raise": actor.can("capa.raise"),
                "owners": people_with(session, OWNERS),
            },
        )


@router.post("/pv/lots/{lot_id}/capa")
def open_capa(
    lot_id: RecordId,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    with transaction(request) as session:
        capa = service.open_capa_for_lot(
            session,
            actor=actor,
            lot_id=lot_id,
            title=title,
            owner_id=owner_id,
            due_at=required_utc(due_at, "due_at", "the due date"),
        )
        number = capa.number
    return redirect(f"/pv/lots/{lot_id}", f"{number} opened with the lot's evidence.")
