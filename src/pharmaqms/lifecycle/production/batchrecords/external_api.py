"""Review of an imported MES batch record: open it on a batch, refresh it, assess each
exception, sign it. Thin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.batchrecords import external_service as service
from pharmaqms.lifecycle.production.batchrecords.external_models import ExternalBatchReview
from pharmaqms.lifecycle.production.batchrecords.external_schemas import (
    ExceptionAssessment,
    ExternalReviewOut,
    ReviewOpen,
    ReviewSign,
)
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out

router = APIRouter(prefix=PREFIX, tags=["production: MES batch record review"])


def review_out(session: Session, review: ExternalBatchReview) -> ExternalReviewOut:
    session.flush()
    out = ExternalReviewOut.model_validate(review)
    out.signatures = signatures_out(session, review)
    return out


@router.post("/external-reviews", response_model=ExternalReviewOut, status_code=201)
def open_review(body: ReviewOpen, actor: ActorDep, request: Request) -> ExternalReviewOut:
    with transaction(request) as session:
        return review_out(session, service.open_review(session, actor=actor, lot_id=body.lot_id))


@router.get("/external-reviews/{review_id}", response_model=ExternalReviewOut)
def get_review(review_id: RecordId, actor: ActorDep, request: Request) -> ExternalReviewOut:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        return review_out(session, service.get_review(session, review_id))


@router.post("/external-reviews/{review_id}/refresh", response_model=ExternalReviewOut)
def refresh(review_id: RecordId, actor: ActorDep, request: Request) -> ExternalReviewOut:
    with transaction(request) as session:
        return review_out(session, service.refresh(session, actor=actor, review_id=review_id))


@router.post("/external-reviews/{review_id}/assessments", response_model=ExternalReviewOut)
def assess(
    review_id: RecordId, body: ExceptionAssessment, actor: ActorDep, request: Request
) -> ExternalReviewOut:
    with transaction(request) as session:
        review = service.assess_exception(
            session, actor=actor, review_id=review_id, key=body.key, comment=body.comment
        )
        return review_out(session, review)


@router.post("/external-reviews/{review_id}/review", response_model=ExternalReviewOut)
def sign_review(
    review_id: RecordId, body: ReviewSign, actor: ActorDep, request: Request
) -> ExternalReviewOut:
    """Sign "Reviewed": every exception assessed, the evidence as it was read."""
    with transaction(request) as session:
        service.transition(
            session,
            actor=actor,
            review_id=review_id,
            name="review",
            password=body.password,
            expected_version=body.expected_version,
        )
        return review_out(session, service.get_review(session, review_id))
