"""Master data maintenance: products, materials, suppliers, storage locations, sensors and
shipments, created by
the people who own them (``data.manage``) through the services, audited like any record. They
are read, filtered and exported through the data services (``GET /api/v1/data/<entity>``)."""

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
    CalibrationIn,
    LocationIn,
    LocationPositionIn,
    MaterialIn,
    ProductIn,
    SensorIn,
    ShipmentIn,
    SupplierIn,
)
from pharmaqms.platform.sensors import service as sensors
from pharmaqms.platform.traceability.shipments import register_shipment

router = APIRouter(prefix="/api/v1/data", tags=["master data"])


def _created(record: Any, status_code: int = 201) -> JSONResponse:
    """The record as stored, column by column."""
    columns = {c.key: getattr(record, c.key) for c in record.__table__.columns}
    return JSONResponse(plain(columns), status_code=status_code)


@router.post("/products", status_code=201, response_model=StoredRow)
def add_product(body: ProductIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_product(session, actor=actor, **body.model_dump()))


@router.post("/materials", status_code=201, response_model=StoredRow)
def add_material(body: MaterialIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_material(session, actor=actor, **body.model_dump()))


@router.post("/suppliers", status_code=201, response_model=StoredRow)
def add_supplier(body: SupplierIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_supplier(session, actor=actor, **body.model_dump()))


@router.post("/locations", status_code=201, response_model=StoredRow)
def add_location(body: LocationIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(service.add_location(session, actor=actor, **body.model_dump()))


@router.put("/locations/{key}/position", response_model=StoredRow)
def place_location(
    key: str, body: LocationPositionIn, actor: ActorDep, request: Request
) -> JSONResponse:
    """Set where a location (its code, GLN or id) is and the region of its ambient profile —
    route planning reads them; both coordinates or neither clears them. Audited with the
    reason."""
    with transaction(request) as session:
        location = service.place_location(session, actor=actor, code=key[:60], **body.model_dump())
        return _created(location, status_code=200)


@router.post("/sensors", status_code=201, response_model=StoredRow)
def add_sensor(body: SensorIn, actor: ActorDep, request: Request) -> JSONResponse:
    """A temperature or humidity sensor in a place or travelling with a shipment: its code is
    the last level of its MQTT topic."""
    with transaction(request) as session:
        return _created(sensors.register_sensor(session, actor=actor, **body.model_dump()))


@router.post("/sensors/{code}/calibration", response_model=StoredRow)
def record_calibration(
    code: str, body: CalibrationIn, actor: ActorDep, request: Request
) -> JSONResponse:
    with transaction(request) as session:
        sensor = sensors.record_calibration(session, actor=actor, code=code, **body.model_dump())
        return _created(sensor, status_code=200)


@router.post("/shipments", status_code=201, response_model=StoredRow)
def add_shipment(body: ShipmentIn, actor: ActorDep, request: Request) -> JSONResponse:
    with transaction(request) as session:
        return _created(register_shipment(session, actor=actor, **body.model_dump()))
