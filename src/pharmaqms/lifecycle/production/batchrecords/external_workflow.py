"""The review of an imported MES record: open → reviewed ("Reviewed" signature by production
or QA), reviewed → open when QA reopens it (new data arrived). Reviewing needs every exception
assessed and the evidence unchanged since it was read."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.batchrecords.external_models import ExternalBatchReview
from pharmaqms.platform.masterdata.models import Lot

grant("batchrecords.review_external", "production_supervisor", "qa")

REVIEWERS = roles("production_supervisor", "qa")


def every_exception_assessed(review: Any) -> list[str]:
    comments = review.comments or {}
    return [
        f"assess the exception: {e['text']}"
        for e in review.exceptions
        if not (comments.get(e["key"]) or "").strip()
    ]


def evidence_unchanged(review: Any) -> list[str]:
    from pharmaqms.lifecycle.production.batchrecords.external_evidence import imported

    session = object_session(review)
    if session is None:
        return []
    lot = session.get(Lot, review.lot_id)
    if lot is None or imported(session, lot).digest != review.evidence_digest:
        return ["the imported record changed since the review read it: refresh the review"]
    return []


def _stamp(session: Session, review: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="imported record reviewed"):
        review.reviewed_at = clock.now()


EXTERNAL_REVIEW_WORKFLOW = Workflow(
    record_type="external_batch_review",
    states=("open", "reviewed"),
    initial="open",
    transitions=(
        Transition(
            "review",
            "Reviewed by exception",
            states("open"),
            "reviewed",
            REVIEWERS,
            signature="Reviewed",
            guards=(every_exception_assessed, evidence_unchanged),
            effects=(_stamp,),
        ),
        Transition(
            "reopen",
            "Reopen the review",
            states("reviewed"),
            "open",
            roles("qa"),
            reason_required=True,
        ),
    ),
)

EXTERNAL_REVIEW = register(
    RecordType(
        name="external_batch_review",
        label="MES batch record review",
        plural="MES batch record reviews",
        model=ExternalBatchReview,
        workflow=EXTERNAL_REVIEW_WORKFLOW,
        list_columns=(("number", "Number"), ("lot_label", "Batch"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("lot_label", "Batch"),
            ("status", "Status"),
            ("evidence_digest", "Evidence (SHA-256)"),
            ("reviewed_at", "Reviewed"),
        ),
        module="batchrecords",
        detail_url=lambda r: f"/production/external-reviews/{r.id}",
        searchable=("number", "lot_label"),
    )
)
