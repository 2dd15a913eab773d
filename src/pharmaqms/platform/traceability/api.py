"""Shipments as master data over the API: registering a shipment, beside the rest of the master
data under ``/api/v1/data`` (``platform.masterdata.api``).

Served here, not by master data's router: a shipment is built on master data (it goes from one
location to another), so master data importing the shipments would be a cycle. The shape stays
with the other master data shapes (``platform.masterdata.schemas``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.schemas import StoredRow
from pharmaqms.platform.masterdata.api import created
from pharmaqms.platform.masterdata.schemas import ShipmentIn
from pharmaqms.platform.traceability.shipments import register_shipment

router = APIRouter(prefix="/api/v1/data", tags=["master data"])


@router.post("/shipments", status_code=201, response_model=StoredRow)
def add_shipment(body: ShipmentIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return created(register_shipment(session, actor=actor, **body.model_dump()))
