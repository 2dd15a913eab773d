"""The review of an externally executed batch: opened on a batch the MES delivered (and that
has no electronic batch record here), refreshed when more data arrives, each exception assessed,
then signed through the workflow."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.lifecycle.production.batchrecords.external_evidence import imported
from pharmaqms.lifecycle.production.batchrecords.external_models import (
    ExternalBatchReview,
    ExternalReviewStatus,
)
from pharmaqms.lifecycle.production.batchrecords.external_workflow import EXTERNAL_REVIEW_WORKFLOW
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord
from pharmaqms.platform.masterdata.models import Lot, LotKind


def get_review(session: Session, review_id: int) -> ExternalBatchReview:
    review = session.get(ExternalBatchReview, review_id)
    if review is None:
        raise NotFound(f"no MES batch record review with id {review_id}")
    return review


def review_of_lot(session: Session, lot_id: int) -> ExternalBatchReview | None:
    return session.scalars(
        select(ExternalBatchReview)
        .where(ExternalBatchReview.lot_id == lot_id)
        .order_by(ExternalBatchReview.id.desc())
    ).first()


def open_review(session: Session, *, actor: Actor, lot_id: int) -> ExternalBatchReview:
    actor.require("batchrecords.review_external", "review imported batch records")
    lot = session.get(Lot, lot_id)
    if lot is None or lot.kind != LotKind.FINISHED:
        raise NotFound(f"no batch with id {lot_id}")
    if session.scalars(select(BatchRecord.id).where(BatchRecord.lot_id == lot.id)).first():
        raise Conflict(
            f"{lot.audit_label()} was made here: it is reviewed through its electronic batch record"
        )
    existing = review_of_lot(session, lot.id)
    if existing is not None:
        raise Conflict(f"{lot.audit_label()} has its review already: {existing.number}")
    found = imported(session, lot)
    if not found.executed_elsewhere:
        raise InvalidInput(
            f"nothing of {lot.audit_label()} was imported from an MES (no process reading, no "
            "material consumption)",
            field="lot_id",
        )
    review = ExternalBatchReview(
        status=ExternalReviewStatus.OPEN.value,
        lot_id=lot.id,
        lot_label=lot.audit_label(),
        summary=found.summary,
        evidence_digest=found.digest,
        exceptions=found.exceptions,
        comments={},
    )
    with audit.changes(session, actor=actor, reason="review of the imported record opened"):
        session.add(review)
    return review


def refresh(session: Session, *, actor: Actor, review_id: int) -> ExternalBatchReview:
    """Read the imported record again (more data arrived); assessments of exceptions that
    are still there are kept."""
    actor.require("batchrecords.review_external", "review imported batch records")
    review = get_review(session, review_id)
    if review.status != ExternalReviewStatus.OPEN:
        raise Conflict(f"{review.number} is {review.status}: reopen it first")
    lot = session.get(Lot, review.lot_id)
    assert lot is not None
    found = imported(session, lot)
    keys = {e["key"] for e in found.exceptions}
    with audit.changes(session, actor=actor, reason="imported record read again"):
        review.summary = found.summary
        review.evidence_digest = found.digest
        review.exceptions = found.exceptions
        review.comments = {k: v for k, v in (review.comments or {}).items() if k in keys}
    return review


def assess_exception(
    session: Session, *, actor: Actor, review_id: int, key: str, comment: str
) -> ExternalBatchReview:
    actor.require("batchrecords.review_external", "review imported batch records")
    review = get_review(session, review_id)
    if review.status != ExternalReviewStatus.OPEN:
        raise Conflict(f"{review.number} is {review.status}: reopen it first")
    if key not in {e["key"] for e in review.exceptions}:
        raise InvalidInput(f"{review.number} has no exception {key!r}", field="key")
    text = (comment or "").strip()
    if not text:
        raise InvalidInput("say how the exception was assessed", field="comment")
    if len(text) > 4000:
        raise InvalidInput("the assessment is longer than 4000 characters", field="comment")
    with audit.changes(session, actor=actor, reason="exception assessed"):
        review.comments = {**(review.comments or {}), key: text}
    return review


def transition(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    return perform(
        session,
        EXTERNAL_REVIEW_WORKFLOW,
        get_review(session, review_id),
        name,
        actor=actor,
        password=password,
        reason=reason,
        expected_version=expected_version,
    )
