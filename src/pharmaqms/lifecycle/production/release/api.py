"""Release API: the checklist of a batch (every rule, its result and its evidence), the QP's
release or rejection with an e-signature, and the release certificate PDF. Thin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.lifecycle.production.release import certificate, service
from pharmaqms.lifecycle.production.release.schemas import (
    DecisionOut,
    QueueItemOut,
    RejectRequest,
    ReleaseOut,
    ReleaseRequest,
    RuleOut,
)

router = APIRouter(prefix=PREFIX, tags=["production: batch release"])


def release_out(session: Session, lot_id: RecordId) -> ReleaseOut:
    evaluation = service.evaluate_release(session, lot_id)
    decided = service.decision_of(session, lot_id)
    return ReleaseOut(
        lot_id=evaluation.lot_id,
        lot_number=evaluation.lot_number,
        product_code=evaluation.product_code,
        lot_status=evaluation.lot_status,
        batch_record_id=evaluation.batch_record_id,
        batch_record_number=evaluation.batch_record_number,
        manufacturing_ended_at=evaluation.manufacturing_ended_at,
        evaluated_at=evaluation.evaluated_at,
        passed=evaluation.passed,
        failing_rules=[r.code for r in evaluation.failing],
        evaluation_hash=evaluation.hash,
        took_ms=round(evaluation.took_ms, 2),
        product_family=evaluation.family,
        product_family_title=evaluation.family_title,
        rule_set=evaluation.rule_set.label,
        rules=[RuleOut(**r.as_dict()) for r in evaluation.results],
        decision=None
        if decided is None
        else DecisionOut(
            id=decided.id,
            number=decided.number,
            status=decided.status,
            decision=decided.decision,
            decided_at=decided.decided_at,
            manufacturing_ended_at=decided.manufacturing_ended_at,
            cycle_time_hours=decided.cycle_time_hours,
            evaluation_hash=decided.evaluation_hash,
            evaluation=decided.evaluation,
            signatures=signatures_out(session, decided),
        ),
    )


@router.get("/release/queue", response_model=list[QueueItemOut])
def queue(actor: ActorDep, request: Request) -> list[QueueItemOut]:
    actor.require("records.read", "read the release queue")
    with transaction(request) as session:
        return [
            QueueItemOut(
                lot_id=item.lot.id,
                lot_number=item.lot.lot_number,
                product_code=item.lot.item_code,
                batch_record_number=item.record.number,
                manufacturing_ended_at=item.lot.manufacturing_ended_at,
                passed=item.evaluation.passed,
                failing_rules=[r.code for r in item.evaluation.failing],
            )
            for item in service.awaiting_release(session)
        ]


@router.get("/batches/{lot_id}/release", response_model=ReleaseOut)
def checklist(lot_id: RecordId, actor: ActorDep, request: Request) -> ReleaseOut:
    actor.require("records.read", "read release checklists")
    with transaction(request) as session:
        return release_out(session, lot_id)


@router.post("/batches/{lot_id}/release", response_model=ReleaseOut)
def release(
    lot_id: RecordId, body: ReleaseRequest, actor: ActorDep, request: Request
) -> ReleaseOut:
    with transaction(request) as session:
        service.release_batch(
            session,
            actor=actor,
            lot_id=lot_id,
            password=body.password,
            comment=body.comment,
            expected_evaluation=body.evaluation_hash,
        )
        return release_out(session, lot_id)


@router.post("/batches/{lot_id}/reject", response_model=ReleaseOut)
def reject(lot_id: RecordId, body: RejectRequest, actor: ActorDep, request: Request) -> ReleaseOut:
    with transaction(request) as session:
        service.reject_batch(
            session,
            actor=actor,
            lot_id=lot_id,
            password=body.password,
            reason=body.reason,
            comment=body.comment,
        )
        return release_out(session, lot_id)


@router.get(
    "/batches/{lot_id}/release-certificate.pdf",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def certificate_pdf(lot_id: RecordId, actor: ActorDep, request: Request) -> Response:
    actor.require("records.read", "print release certificates")
    with transaction(request, write=False) as session:
        pdf, name = certificate.render_release_certificate(session, lot_id, printed_by=actor)
    return download(pdf, filename=name, media_type="application/pdf", disposition="inline")
