"""What the operators' tools ask: ``/healthz`` (the process answers), ``/readyz`` (it can work:
database, broker, job queue) and ``/metrics`` (Prometheus). The first two are public and say
nothing but ok or a short reason; the metrics need the permission ``metrics.read`` (a service
account's bearer token), see docs/deploy.md."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

import pharmaqms.platform.mqtt.readiness
import pharmaqms.platform.timeseries.metrics  # noqa: F401 - the ingest gauges
from pharmaqms.kernel.db import get_database
from pharmaqms.kernel.observability.health import readiness
from pharmaqms.kernel.observability.metrics import CONTENT_TYPE, exposition

router = APIRouter(tags=["operations"], include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    found = readiness(get_database())
    return JSONResponse(
        {"status": "ready" if found.ready else "not ready", "checks": found.checks},
        status_code=200 if found.ready else 503,
        headers=NO_STORE,
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(exposition(get_database()), media_type=CONTENT_TYPE, headers=NO_STORE)
