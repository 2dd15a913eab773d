"""Deviation API: thin — parse, call the service, shape the answer. Workflow steps without
their own data (submit, approve, close, …) go through the generic
``POST /api/v1/records/deviation/{id}/transitions/{name}``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.quality import events
from pharmaqms.quality.deviations import extensions, impact, queries, rules, service
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.deviations.schemas import (
    BatchAssessment,
    BatchDispositionIn,
    BatchLink,
    BatchOut,
    Classification,
    DeviationEdit,
    DeviationOut,
    DeviationReport,
    DeviationSummary,
    DeviationTrendOut,
    ExtensionDecision,
    ExtensionOut,
    ExtensionRequest,
    Investigation,
    NoCapa,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1", tags=["deviations"])


def summary_out(deviation: Deviation) -> DeviationSummary:
    out = DeviationSummary.model_validate(deviation)
    out.overdue = rules.is_overdue(deviation.due_at, deviation.status, clock.now())
    return out


def deviation_out(session: Session, deviation: Deviation) -> DeviationOut:
    session.flush()
    out = DeviationOut.model_validate(deviation)
    out.overdue = rules.is_overdue(deviation.due_at, deviation.status, clock.now())
    out.signatures = signatures_out(session, deviation)
    out.links = links_out(session, deviation)
    return out


@router.get("/deviations", response_model=Page[DeviationSummary])
def list_deviations(
    actor: ActorDep,
    request: Request,
    status: str | None = None,
    classification: str | None = None,
    area: str | None = None,
    investigator_id: RecordId | None = None,
    overdue: bool = False,
    open: bool = False,
    batch: str | None = Query(default=None, max_length=60),
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[DeviationSummary]:
    actor.require("records.read", "read deviations")
    f = queries.DeviationFilter(
        status=status,
        classification=classification,
        area=area,
        investigator_id=investigator_id,
        overdue=overdue,
        open_only=open,
        batch_id=batch,
        text=q,
    )
    with transaction(request) as session:
        rows, total = queries.find_deviations(session, f, limit=limit, offset=offset)
        return Page[DeviationSummary](
            items=[summary_out(d) for d in rows], total=total, limit=limit, offset=offset
        )


@router.get("/deviations/trend", response_model=DeviationTrendOut)
def deviation_trend(
    actor: ActorDep, request: Request, months: int = Query(default=12, ge=1, le=60)
) -> DeviationTrendOut:
    actor.require("records.read", "read deviation trends")
    with transaction(request) as session:
        found = queries.trend(session, months=months)
    return DeviationTrendOut(
        months=[m.label for m in found.months], by_class=found.by_class, by_area=found.by_area
    )


@router.post("/deviations", response_model=DeviationOut, status_code=201)
def report(body: DeviationReport, actor: ActorDep, request: Request) -> DeviationOut:
    with transaction(request) as session:
        fields = body.record_fields()
        if body.source is None:
            deviation = service.report_deviation(session, actor=actor, **fields)
        else:
            deviation = events.raise_deviation(
                session, actor=actor, **body.source.model_dump(), **fields
            )
        return deviation_out(session, deviation)


@router.get("/deviations/{deviation_id}", response_model=DeviationOut)
def get_deviation(deviation_id: RecordId, actor: ActorDep, request: Request) -> DeviationOut:
    actor.require("records.read", "read deviations")
    with transaction(request) as session:
        return deviation_out(session, service.get_deviation(session, deviation_id))


@router.patch("/deviations/{deviation_id}", response_model=DeviationOut)
def edit(
    deviation_id: RecordId, body: DeviationEdit, actor: ActorDep, request: Request
) -> DeviationOut:
    with transaction(request) as session:
        deviation = service.edit_report(
            session,
            actor=actor,
            deviation_id=deviation_id,
            expected_version=body.expected_version,
            title=body.title,
            description=body.description,
            area=body.area,
            product=body.product,
            occurred_at=body.occurred_at,
            discovered_at=body.discovered_at,
            immediate_actions=body.immediate_actions,
            reason=body.reason,
        )
        return deviation_out(session, deviation)


@router.post("/deviations/{deviation_id}/classification", response_model=DeviationOut)
def classify(
    deviation_id: RecordId, body: Classification, actor: ActorDep, request: Request
) -> DeviationOut:
    with transaction(request) as session:
        deviation = service.classify_deviation(
            session,
            actor=actor,
            deviation_id=deviation_id,
            classification=body.classification,
            severity=body.severity,
            probability=body.probability,
            detectability=body.detectability,
            severity_basis=body.severity_basis,
            probability_basis=body.probability_basis,
            detectability_basis=body.detectability_basis,
            investigator_id=body.investigator_id,
            immediate_actions=body.immediate_actions,
            expected_version=body.expected_version,
            reason=body.reason,
        )
        return deviation_out(session, deviation)


@router.post("/deviations/{deviation_id}/investigation", response_model=DeviationOut)
def investigate(
    deviation_id: RecordId, body: Investigation, actor: ActorDep, request: Request
) -> DeviationOut:
    with transaction(request) as session:
        deviation = service.record_investigation(
            session,
            actor=actor,
            deviation_id=deviation_id,
            expected_version=body.expected_version,
            root_cause=body.root_cause,
            root_cause_category=body.root_cause_category,
            why_chain=body.why_chain,
            fishbone=body.fishbone,
        )
        return deviation_out(session, deviation)


@router.post("/deviations/{deviation_id}/no-capa", response_model=DeviationOut)
def no_capa(
    deviation_id: RecordId, body: NoCapa, actor: ActorDep, request: Request
) -> DeviationOut:
    with transaction(request) as session:
        deviation = service.decide_no_capa(
            session, actor=actor, deviation_id=deviation_id, rationale=body.rationale
        )
        return deviation_out(session, deviation)


@router.post("/deviations/{deviation_id}/batches", response_model=BatchOut, status_code=201)
def add_batch(
    deviation_id: RecordId, body: BatchLink, actor: ActorDep, request: Request
) -> BatchOut:
    with transaction(request) as session:
        batch = impact.link_batch(
            session,
            actor=actor,
            deviation_id=deviation_id,
            batch_id=body.batch_id,
            product=body.product,
            reason=body.reason,
        )
        session.flush()
        return BatchOut.model_validate(batch)


@router.post(
    "/deviations/{deviation_id}/batches/{batch_ref_id}/assessment", response_model=BatchOut
)
def assess_batch(
    deviation_id: RecordId,
    batch_ref_id: RecordId,
    body: BatchAssessment,
    actor: ActorDep,
    request: Request,
) -> BatchOut:
    with transaction(request) as session:
        batch = impact.assess_batch(
            session,
            actor=actor,
            deviation_id=deviation_id,
            batch_ref_id=batch_ref_id,
            impact_assessment=body.impact_assessment,
        )
        return BatchOut.model_validate(batch)


@router.post(
    "/deviations/{deviation_id}/batches/{batch_ref_id}/disposition", response_model=BatchOut
)
def disposition(
    deviation_id: RecordId,
    batch_ref_id: RecordId,
    body: BatchDispositionIn,
    actor: ActorDep,
    request: Request,
) -> BatchOut:
    with transaction(request) as session:
        batch = impact.record_disposition(
            session,
            actor=actor,
            deviation_id=deviation_id,
            batch_ref_id=batch_ref_id,
            disposition=body.disposition,
            note=body.note,
        )
        return BatchOut.model_validate(batch)


@router.post("/deviations/{deviation_id}/extensions", response_model=ExtensionOut, status_code=201)
def request_extension(
    deviation_id: RecordId, body: ExtensionRequest, actor: ActorDep, request: Request
) -> ExtensionOut:
    with transaction(request) as session:
        extension = extensions.request_extension(
            session,
            actor=actor,
            deviation_id=deviation_id,
            requested_due_at=body.requested_due_at,
            justification=body.justification,
        )
        session.flush()
        return ExtensionOut.model_validate(extension)


@router.post(
    "/deviations/{deviation_id}/extensions/{extension_id}/decision", response_model=ExtensionOut
)
def decide_extension(
    deviation_id: RecordId,
    extension_id: RecordId,
    body: ExtensionDecision,
    actor: ActorDep,
    request: Request,
) -> ExtensionOut:
    with transaction(request) as session:
        extension = extensions.decide_extension(
            session,
            actor=actor,
            deviation_id=deviation_id,
            extension_id=extension_id,
            approve=body.approve,
            reason=body.reason,
        )
        return ExtensionOut.model_validate(extension)
