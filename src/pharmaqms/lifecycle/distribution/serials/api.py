"""Serial ranges and pack verification (the EU FMD / DSCSA verification call): thin."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.lifecycle.distribution.serials import service
from pharmaqms.lifecycle.distribution.serials.models import SerialRange

router = APIRouter(prefix="/api/v1", tags=["serials"])


class SerialRangeIn(BaseModel):
    gtin: str = Field(max_length=14)
    lot_number: str = Field(max_length=20)
    expires_on: date
    prefix: str = Field(default="", max_length=19)
    first: int
    last: int
    width: int


def _range(record: SerialRange) -> dict[str, Any]:
    out: dict[str, Any] = plain(
        {
            "id": record.id,
            "gtin": record.gtin,
            "lot_number": record.lot_number,
            "expires_on": record.expires_on,
            "prefix": record.prefix,
            "first": record.first,
            "last": record.last,
            "width": record.width,
            "count": record.last - record.first + 1,
        }
    )
    return out


@router.post("/serials/ranges", status_code=201)
def commission_range(body: SerialRangeIn, request: Request, actor: ActorDep) -> JSONResponse:
    with transaction(request) as session:
        record = service.commission_serial_range(session, actor=actor, **body.model_dump())
        out = _range(record)
    return JSONResponse(out, status_code=201)


@router.get("/serials/ranges")
def list_ranges(
    request: Request, actor: ActorDep, gtin: Annotated[str | None, Query()] = None
) -> JSONResponse:
    actor.require("records.read", "read serial ranges")
    with transaction(request, write=False) as session:
        out = [_range(r) for r in service.serial_ranges(session, gtin)]
    return JSONResponse(out)


@router.get("/verify/01/{gtin}/10/{lot}/21/{serial}")
def verify(
    gtin: str,
    lot: str,
    serial: str,
    request: Request,
    actor: ActorDep,
    exp: Annotated[str | None, Query(description="Expiry as on the pack, YYMMDD")] = None,
) -> JSONResponse:
    """Is this pack genuine? Answers genuine, unknown_serial, wrong_lot_or_expiry, recalled,
    decommissioned, already_dispensed or expired; every verification is recorded."""
    with transaction(request, write=True) as session:
        done = service.verify_pack(
            session, actor=actor, gtin=gtin, lot_number=lot, serial=serial, exp=exp
        )
        out = plain(
            {
                "verification_id": done.record.id,
                "gtin": done.record.gtin,
                "lot": done.record.lot_number,
                "serial": done.record.serial,
                "expiry": done.record.expiry_given,
                "answer": done.verdict.answer.value,
                "detail": done.verdict.detail,
                "basis": done.verdict.basis,
                "verified_at": done.record.verified_at,
                "suspected_falsification": done.alert_deviation,
            }
        )
    return JSONResponse(out)
