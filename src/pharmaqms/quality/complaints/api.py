"""Complaint API: thin. Workflow steps without their own data (complete_investigation, close,
cancel, …) go through the generic ``POST /api/v1/records/complaint/{id}/transitions/{name}``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.quality import events
from pharmaqms.quality.complaints import service
from pharmaqms.quality.complaints.models import OPEN_STATUSES, Complaint
from pharmaqms.quality.complaints.schemas import (
    ComplaintCreate,
    ComplaintInvestigation,
    ComplaintOut,
    ComplaintResponse,
    ComplaintSummary,
    ComplaintTrendOut,
    HandoverAcknowledgement,
    TrendRowOut,
    Triage,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1", tags=["complaints"])


def _overdue(complaint: Complaint) -> bool:
    return complaint.status in OPEN_STATUSES and complaint.due_at < clock.now()


def summary_out(complaint: Complaint) -> ComplaintSummary:
    out = ComplaintSummary.model_validate(complaint)
    out.overdue = _overdue(complaint)
    return out


def complaint_out(session: Session, complaint: Complaint) -> ComplaintOut:
    session.flush()
    out = ComplaintOut.model_validate(complaint)
    out.overdue = _overdue(complaint)
    out.signatures = signatures_out(session, complaint)
    out.links = links_out(session, complaint)
    return out


@router.get("/complaints", response_model=Page[ComplaintSummary])
def list_complaints(
    actor: ActorDep,
    request: Request,
    status: str | None = None,
    category: str | None = None,
    product: str | None = Query(default=None, max_length=200),
    lot: str | None = Query(default=None, max_length=60),
    overdue: bool = False,
    open: bool = False,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[ComplaintSummary]:
    actor.require("records.read", "read complaints")
    f = service.ComplaintFilter(
        status=status, category=category, product=product, lot=lot, overdue=overdue, open_only=open
    )
    with transaction(request) as session:
        rows, total = service.find_complaints(session, f, limit=limit, offset=offset)
        return Page[ComplaintSummary](
            items=[summary_out(c) for c in rows], total=total, limit=limit, offset=offset
        )


@router.get("/complaints/trend", response_model=ComplaintTrendOut)
def complaint_trend(
    actor: ActorDep,
    request: Request,
    by: str = Query(default="product", pattern="^(product|lot)$"),
    months: int = Query(default=12, ge=1, le=60),
) -> ComplaintTrendOut:
    actor.require("records.read", "read complaint trends")
    with transaction(request) as session:
        found = service.trend(session, by_lot=by == "lot", months=months)
    return ComplaintTrendOut(
        months=[m.label for m in found.months],
        rows=[
            TrendRowOut(
                product=r.product,
                lot=r.lot,
                total=r.total,
                adverse_events=r.adverse_events,
                confirmed=r.confirmed,
                per_month=r.per_month,
            )
            for r in found.rows
        ],
    )


@router.post("/complaints", response_model=ComplaintOut, status_code=201)
def register(body: ComplaintCreate, actor: ActorDep, request: Request) -> ComplaintOut:
    with transaction(request) as session:
        fields = body.record_fields()
        if body.source is None:
            complaint = service.register_complaint(session, actor=actor, **fields)
        else:
            complaint = events.register_complaint(
                session, actor=actor, **body.source.model_dump(), **fields
            )
        return complaint_out(session, complaint)


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
def get_complaint(complaint_id: RecordId, actor: ActorDep, request: Request) -> ComplaintOut:
    actor.require("records.read", "read complaints")
    with transaction(request) as session:
        return complaint_out(session, service.get_complaint(session, complaint_id))


@router.post("/complaints/{complaint_id}/triage", response_model=ComplaintOut)
def triage(complaint_id: RecordId, body: Triage, actor: ActorDep, request: Request) -> ComplaintOut:
    with transaction(request) as session:
        complaint = service.triage_complaint(
            session,
            actor=actor,
            complaint_id=complaint_id,
            category=body.category,
            criticality=body.criticality,
            rationale=body.rationale,
            investigator_id=body.investigator_id,
            expected_version=body.expected_version,
        )
        return complaint_out(session, complaint)


@router.post("/complaints/{complaint_id}/pv-acknowledgement", response_model=ComplaintOut)
def acknowledge(
    complaint_id: RecordId, body: HandoverAcknowledgement, actor: ActorDep, request: Request
) -> ComplaintOut:
    with transaction(request) as session:
        complaint = service.acknowledge_handover(
            session, actor=actor, complaint_id=complaint_id, pv_reference=body.pv_reference
        )
        return complaint_out(session, complaint)


@router.post("/complaints/{complaint_id}/investigation", response_model=ComplaintOut)
def investigate(
    complaint_id: RecordId, body: ComplaintInvestigation, actor: ActorDep, request: Request
) -> ComplaintOut:
    with transaction(request) as session:
        complaint = service.record_investigation(
            session,
            actor=actor,
            complaint_id=complaint_id,
            summary=body.summary,
            confirmed=body.confirmed,
            root_cause=body.root_cause,
        )
        return complaint_out(session, complaint)


@router.post("/complaints/{complaint_id}/response", response_model=ComplaintOut)
def respond(
    complaint_id: RecordId, body: ComplaintResponse, actor: ActorDep, request: Request
) -> ComplaintOut:
    with transaction(request) as session:
        complaint = service.record_response(
            session,
            actor=actor,
            complaint_id=complaint_id,
            response_text=body.response_text,
            responded_at=body.responded_at,
        )
        return complaint_out(session, complaint)
