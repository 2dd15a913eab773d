"""Master data maintenance: products, materials, suppliers and storage locations, created by
the people who own them (``data.manage``) through the services, audited like any record. They
are read, filtered and exported through the data services (``GET /api/v1/data/<entity>``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import current_actor, transaction
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata import service
from pharmaqms.platform.masterdata.schemas import LocationIn, MaterialIn, ProductIn, SupplierIn

router = APIRouter(prefix="/api/v1/data", tags=["master data"])
ActorDep = Annotated[Actor, Depends(current_actor)]


def _created(record: Any) -> JSONResponse:
    """The new record as stored, column by column."""
    columns = {c.key: getattr(record, c.key) for c in record.__table__.columns}
    return JSONResponse(plain(columns), status_code=201)


@router.post("/products", status_code=201)
def add_product(body: ProductIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_product(session, actor=actor, **body.model_dump()))


@router.post("/materials", status_code=201)
def add_material(body: MaterialIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_material(session, actor=actor, **body.model_dump()))


@router.post("/suppliers", status_code=201)
def add_supplier(body: SupplierIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_supplier(session, actor=actor, **body.model_dump()))


@router.post("/locations", status_code=201)
def add_location(body: LocationIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_location(session, actor=actor, **body.model_dump()))
