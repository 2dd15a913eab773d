"""Batch-level signal API (``/api/v1/pv/…``): thin. The lot-level rate test for a product, a
lot's safety review (cases and the facts every module contributes), and the CAPA opened from it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.use.lots import service
from pharmaqms.lifecycle.use.lots.schemas import (
    LotCapaIn,
    LotCapaOut,
    LotRateOut,
    LotSafetyOut,
    rate_out,
    safety_out,
)

router = APIRouter(prefix="/api/v1/pv", tags=["pharmacovigilance"])


@router.get("/lot-signals", response_model=list[LotRateOut])
def lot_signals(
    actor: ActorDep,
    request: Request,
    product: Annotated[str, Query(min_length=1, max_length=40, description="product code")],
) -> list[LotRateOut]:
    actor.require("records.read", "read lot signals")
    with transaction(request) as session:
        found = service.lot_signals(session, service.get_product(session, product))
        return [rate_out(s) for s in found]


@router.get("/lots/{lot_id}", response_model=LotSafetyOut)
def lot_safety(lot_id: RecordId, actor: ActorDep, request: Request) -> LotSafetyOut:
    actor.require("records.read", "read the lot safety review")
    with transaction(request) as session:
        return safety_out(service.lot_safety(session, lot_id))


@router.post("/lots/{lot_id}/capa", response_model=LotCapaOut, status_code=201)
def open_capa(lot_id: RecordId, body: LotCapaIn, actor: ActorDep, request: Request) -> LotCapaOut:
    with transaction(request) as session:
        capa = service.open_capa_for_lot(
            session,
            actor=actor,
            lot_id=lot_id,
            title=body.title,
            owner_id=body.owner_id,
            due_at=body.due_at,
        )
        cases = [c.number for c in service.cases_citing(session, lot_id)]
        return LotCapaOut(
            capa_id=capa.id, number=capa.number, url=f"/capas/{capa.id}", linked_cases=cases
        )
