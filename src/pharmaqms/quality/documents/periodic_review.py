"""Periodic review of controlled documents: when each document in force falls due for review,
the register of due and overdue reviews, the daily job that opens them, and the two ways a
review ends (signed "no change needed", or a revision).

The due date is computed, not stored on the document: the review period runs from the later
of the moment the version in force became effective and the conclusion of the last review
that found no change needed. A new effective version therefore restarts the period by itself,
and the document rows (audited, hash-checked) need no extra column that would change the
state hash of every existing document.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import NotFound, StaleRecord, TransitionNotAllowed
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentVersion,
    PeriodicReview,
    ReviewStatus,
    VersionStatus,
)
from pharmaqms.quality.documents.workflow import PERIODIC_REVIEW_WORKFLOW

# A review opens this long before its due date, so the owner has time to do it.
REVIEW_NOTICE = timedelta(days=30)
IN_FLIGHT = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the last day of that month (31 Jan + 1 → 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class ReviewState(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    OVERDUE = "overdue"


def review_state(due_at: datetime, now: datetime) -> ReviewState:
    if now > due_at:
        return ReviewState.OVERDUE
    if now >= due_at - REVIEW_NOTICE:
        return ReviewState.DUE
    return ReviewState.SCHEDULED


@dataclass(frozen=True)
class ScheduleRow:
    document: ControlledDocument
    version: DocumentVersion  # the version in force
    basis_at: datetime  # effective date, or the last "no change needed" conclusion
    due_at: datetime
    state: ReviewState
    open_review: PeriodicReview | None
    revision: DocumentVersion | None  # a revision under way


def review_schedule(
    session: Session,
    *,
    states: Collection[ReviewState] | None = None,
    document_ids: Collection[int] | None = None,
) -> list[ScheduleRow]:
    """Every document in force with its next review due date, in document number order."""
    query = select(ControlledDocument).where(
        ControlledDocument.status == DocumentStatus.CURRENT,
        ControlledDocument.current_version_id.is_not(None),
    )
    if document_ids is not None:
        query = query.where(ControlledDocument.id.in_(list(document_ids)))
    documents = session.scalars(query.order_by(ControlledDocument.number)).all()
    if not documents:
        return []
    ids = [d.id for d in documents]
    in_force = {
        v.id: v
        for v in session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.id.in_([d.current_version_id for d in documents])
            )
        )
    }
    last_no_change: dict[int, datetime] = {}
    for document_id, concluded in session.execute(
        select(PeriodicReview.document_id, func.max(PeriodicReview.concluded_at))
        .where(
            PeriodicReview.document_id.in_(ids),
            PeriodicReview.status == ReviewStatus.NO_CHANGE,
        )
        .group_by(PeriodicReview.document_id)
    ):
        if concluded is not None:
            last_no_change[document_id] = concluded
    open_reviews = {
        r.document_id: r
        for r in session.scalars(
            select(PeriodicReview).where(
                PeriodicReview.document_id.in_(ids), PeriodicReview.status == ReviewStatus.OPEN
            )
        )
    }
    revisions = {
        v.document_id: v
        for v in session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.document_id.in_(ids), DocumentVersion.status.in_(IN_FLIGHT)
            )
        )
    }
    now = clock.now()
    rows = []
    for document in documents:
        version = in_force[document.current_version_id]  # type: ignore[index]
        effective = version.effective_at or version.created_at
        reviewed = last_no_change.get(document.id)
        basis = max(effective, reviewed) if reviewed else effective
        due = add_months(basis, document.review_period_months)
        state = review_state(due, now)
        if states is not None and state not in states:
            continue
        rows.append(
            ScheduleRow(
                document,
                version,
                basis,
                due,
                state,
                open_reviews.get(document.id),
                revisions.get(document.id),
            )
        )
    return rows


def next_review_due(session: Session, document: ControlledDocument) -> datetime | None:
    """When the document in force is next due for review; None when nothing is in force."""
    rows = review_schedule(session, document_ids=[document.id])
    return rows[0].due_at if rows else None


def get_review(session: Session, review_id: int) -> PeriodicReview:
    review = session.get(PeriodicReview, review_id)
    if review is None:
        raise NotFound(f"no periodic review with id {review_id}")
    return review


def reviews_of(session: Session, document_id: int) -> list[PeriodicReview]:
    return list(
        session.scalars(
            select(PeriodicReview)
            .where(PeriodicReview.document_id == document_id)
            .order_by(PeriodicReview.id)
        )
    )


# --- the daily job ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewJobResult:
    opened: list[PeriodicReview]
    flagged_overdue: list[PeriodicReview]


def open_due_periodic_reviews(session: Session, *, actor: Actor) -> ReviewJobResult:
    """Open a review (and a task for the document owner) for every document whose review has
    come within the notice period, unless one is open or a revision is already under way;
    flag reviews past their due date once (a task for QA). Safe to run any number of times."""
    actor.require("documents.approve", "run the periodic review job")
    now = clock.now()
    opened: list[PeriodicReview] = []
    flagged: list[PeriodicReview] = []
    for row in review_schedule(session, states=(ReviewState.DUE, ReviewState.OVERDUE)):
        review = row.open_review
        if review is None:
            if row.revision is not None:
                continue
            review = _open_review(session, row, actor=actor)
            opened.append(review)
        if review.due_at < now and review.overdue_flagged_at is None:
            _flag_overdue(session, review, row.document, actor=actor)
            flagged.append(review)
    return ReviewJobResult(opened, flagged)


def _open_review(session: Session, row: ScheduleRow, *, actor: Actor) -> PeriodicReview:
    document = row.document
    review = PeriodicReview(
        status=ReviewStatus.OPEN,
        document_id=document.id,
        version_id=row.version.id,
        reviewed_content_hash=row.version.content_hash(),
        due_at=row.due_at,
    )
    with audit.changes(
        session,
        actor=actor,
        reason=f"periodic review of {document.number} due {row.due_at:%Y-%m-%d}",
    ):
        session.add(review)
    tasks.open_task(
        session,
        review,
        actor=actor,
        kind="periodic_review",
        title=f"Periodic review of {document.number} {document.title}",
        user_id=document.owner_id,
        due_at=row.due_at,
    )
    return review


def _flag_overdue(
    session: Session, review: PeriodicReview, document: ControlledDocument, *, actor: Actor
) -> None:
    with audit.changes(
        session, actor=actor, reason=f"periodic review overdue since {review.due_at:%Y-%m-%d}"
    ):
        review.overdue_flagged_at = clock.now()
    tasks.open_task(
        session,
        review,
        actor=actor,
        kind="periodic_review_overdue",
        title=(
            f"Overdue: periodic review {review.number} of {document.number} {document.title} "
            f"was due {review.due_at:%Y-%m-%d}"
        ),
        role="qa",
    )


# --- ending a review ----------------------------------------------------------------------


def conclude_no_change(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    password: str | None,
    justification: str,
    expected_version: int | None = None,
) -> TransitionResult:
    """Signed "Reviewed": the document stays as it is and its review period restarts now."""
    review = get_review(session, review_id)
    return perform(
        session,
        PERIODIC_REVIEW_WORKFLOW,
        review,
        "conclude_no_change",
        actor=actor,
        password=password,
        reason=justification,
        expected_version=expected_version,
    )


def start_revision(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    major: bool,
    change_summary: str,
    expected_version: int | None = None,
) -> DocumentVersion:
    """End the review by revising the document: a new draft version, or the draft already
    under way, is linked to the review. The review period restarts when it becomes effective."""
    from pharmaqms.quality.documents.service import revise

    review = get_review(session, review_id)
    if expected_version is not None and review.version != expected_version:
        raise StaleRecord(
            f"{review.number} is at version {review.version}, not {expected_version}: "
            "someone changed it meanwhile; reload and try again",
            extra={"current_version": review.version},
        )
    if review.status != ReviewStatus.OPEN:
        raise TransitionNotAllowed(
            f"'Start a revision' is not possible from status '{review.status}'"
        )
    under_way = session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id == review.document_id,
            DocumentVersion.status.in_(IN_FLIGHT),
        )
    ).first()
    version = under_way or revise(
        session,
        actor=actor,
        document_id=review.document_id,
        major=major,
        change_summary=change_summary,
    )
    with audit.changes(session, actor=actor, reason=f"revision {version.label} linked"):
        review.revision_version_id = version.id
    perform(
        session,
        PERIODIC_REVIEW_WORKFLOW,
        review,
        "start_revision",
        actor=actor,
        reason=change_summary,
    )
    return version


def cancel_open_reviews(
    session: Session, document_id: int, *, actor: Actor, reason: str
) -> list[PeriodicReview]:
    """A new version in force, or the document made obsolete, makes an open review moot."""
    open_reviews = session.scalars(
        select(PeriodicReview).where(
            PeriodicReview.document_id == document_id, PeriodicReview.status == ReviewStatus.OPEN
        )
    ).all()
    for review in open_reviews:
        perform(session, PERIODIC_REVIEW_WORKFLOW, review, "cancel", actor=actor, reason=reason)
    return list(open_reviews)
