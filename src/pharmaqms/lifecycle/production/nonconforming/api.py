"""Nonconforming product API. Thin: the disposition is drafted here and decided through the
generic record transitions (propose, approve, approve_for_qp, certify_concession, close,
cancel) at ``/api/v1/records/nonconforming_product/<id>/transitions/<name>``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.lifecycle.production.nonconforming import deviations, service
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.nonconforming.schemas import (
    DeviationOutcomeOut,
    DispositionDraft,
    ExecutionRecord,
    NonconformanceOut,
    NonconformanceReport,
)
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(prefix=f"{PREFIX}/nonconformances", tags=["production: nonconforming product"])


def nonconformance_out(session: Session, nc: NonconformingProduct) -> NonconformanceOut:
    out = NonconformanceOut.model_validate(nc)
    lot = session.get(Lot, nc.lot_id)
    if lot is not None:
        out.lot_label, out.lot_status = lot.audit_label(), lot.status
    out.signatures = signatures_out(session, nc)
    return out


@router.get("", response_model=list[NonconformanceOut])
def list_nonconformances(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=20),
    lot_id: RecordId | None = None,
) -> list[NonconformanceOut]:
    actor.require("records.read", "read nonconforming product records")
    with transaction(request) as session:
        return [
            nonconformance_out(session, nc)
            for nc in service.list_nonconformances(session, status=status, lot_id=lot_id)
        ]


@router.post("", response_model=NonconformanceOut, status_code=201)
def report(body: NonconformanceReport, actor: ActorDep, request: Request) -> NonconformanceOut:
    with transaction(request) as session:
        nc = service.report_nonconformance(
            session,
            actor=actor,
            lot_id=body.lot_id,
            found_in=body.found_in,
            description=body.description,
        )
        session.flush()
        return nonconformance_out(session, nc)


@router.get("/{nc_id}", response_model=NonconformanceOut)
def get_nonconformance(nc_id: RecordId, actor: ActorDep, request: Request) -> NonconformanceOut:
    actor.require("records.read", "read nonconforming product records")
    with transaction(request) as session:
        return nonconformance_out(session, service.get_nonconformance(session, nc_id))


@router.post("/{nc_id}/disposition", response_model=NonconformanceOut)
def draft_disposition(
    nc_id: RecordId, body: DispositionDraft, actor: ActorDep, request: Request
) -> NonconformanceOut:
    with transaction(request) as session:
        nc = service.draft_disposition(
            session,
            actor=actor,
            nc_id=nc_id,
            disposition=body.disposition,
            rationale=body.rationale,
            concession_terms=body.concession_terms,
            expected_version=body.expected_version,
        )
        session.flush()
        return nonconformance_out(session, nc)


@router.post("/{nc_id}/execution", response_model=NonconformanceOut)
def record_execution(
    nc_id: RecordId, body: ExecutionRecord, actor: ActorDep, request: Request
) -> NonconformanceOut:
    with transaction(request) as session:
        nc = service.record_execution(
            session, actor=actor, nc_id=nc_id, execution_record=body.execution_record
        )
        session.flush()
        return nonconformance_out(session, nc)


@router.post("/from-deviation/{deviation_id}", response_model=DeviationOutcomeOut)
def from_deviation(
    deviation_id: RecordId, actor: ActorDep, request: Request
) -> DeviationOutcomeOut:
    """Open the records of a critical deviation's batches (idempotent)."""
    with transaction(request) as session:
        outcome = deviations.open_for_deviation(session, actor=actor, deviation_id=deviation_id)
        session.flush()
        return DeviationOutcomeOut(
            opened=[nc.number for nc in outcome.opened],
            already_open=outcome.already_open,
            unknown_batches=outcome.unknown_batches,
        )
