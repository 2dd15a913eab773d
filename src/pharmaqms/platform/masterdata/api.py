"""Master data maintenance: products, materials, suppliers, storage locations, sensors and
shipments, created by
the people who own them (``data.manage``) through the services, audited like any record. They
are read, filtered and exported through the data services (``GET /api/v1/data/<entity>``).

Sensors and shipments are built on master data, so their routes are served by their own
modules (``platform.sensors.api``, ``platform.traceability.api``) under the same prefix, with
the shapes kept here: master data imports neither."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.schemas import StoredRow
from pharmaqms.platform.masterdata import service
from pharmaqms.platform.masterdata.schemas import (
    LocationIn,
    LocationPositionIn,
    MaterialIn,
    ProductIn,
    SupplierIn,
)

router = APIRouter(prefix="/api/v1/data", tags=["master data"])


def created(record: Any, status_code: int = 201) -> JSONResponse:
    """The record as stored, column by column."""
    columns = {c.key: getattr(record, c.key) for c in record.__table__.columns}
    return JSONResponse(plain(columns), status_code=status_code)


@router.post("/products", status_code=201, response_model=StoredRow)
def add_product(body: ProductIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return created(service.add_product(session, actor=actor, **body.model_dump()))


@router.post("/materials", status_code=201, response_model=StoredRow)
def add_material(body: MaterialIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return created(service.add_material(session, actor=actor, **body.model_dump()))


@router.post("/suppliers", status_code=201, response_model=StoredRow)
def add_supplier(body: SupplierIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return created(service.add_supplier(session, actor=actor, **body.model_dump()))


@router.post("/locations", status_code=201, response_model=StoredRow)
def add_location(body: LocationIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return created(service.add_location(session, actor=actor, **body.model_dump()))


@router.put("/locations/{key}/position", response_model=StoredRow)
def place_location(
    key: str, body: LocationPositionIn, actor: ActorDep, request: Request
) -> JSONResponse:
    """Set where a location (its code, GLN or id) is and the region of its ambient profile —
    route planning reads them; both coordinates or neither clears them. Audited with the
    reason."""
    with transaction(request) as session:
        location = service.place_location(session, actor=actor, code=key[:60], **body.model_dump())
        return created(location, status_code=200)
