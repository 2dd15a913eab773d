"""Sensors as master data over the API: registering a sensor and recording its calibration,
beside the rest of the master data under ``/api/v1/data`` (``platform.masterdata.api``).

Served here, not by master data's router: sensors are built on master data (a sensor sits in a
storage location), so master data importing the sensors' service would be a cycle. The shapes
stay with the other master data shapes (``platform.masterdata.schemas``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.schemas import StoredRow
from pharmaqms.platform.masterdata.api import created
from pharmaqms.platform.masterdata.schemas import CalibrationIn, SensorIn
from pharmaqms.platform.sensors import service as sensors

router = APIRouter(prefix="/api/v1/data", tags=["master data"])


@router.post("/sensors", status_code=201, response_model=StoredRow)
def add_sensor(body: SensorIn, actor: ActorDep, request: Request) -> JSONResponse:
    """A temperature or humidity sensor in a place or travelling with a shipment: its code is
    the last level of its MQTT topic."""
    with transaction(request) as session:
        return created(sensors.register_sensor(session, actor=actor, **body.model_dump()))


@router.post("/sensors/{code}/calibration", response_model=StoredRow)
def record_calibration(
    code: str, body: CalibrationIn, actor: ActorDep, request: Request
) -> JSONResponse:
    with transaction(request) as session:
        sensor = sensors.record_calibration(session, actor=actor, code=code, **body.model_dump())
        return created(sensor, status_code=200)
