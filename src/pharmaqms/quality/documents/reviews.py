"""Named reviewers of a document version (EU GMP Chapter 4.3: documents are reviewed by
appropriate people before approval).

The author names the reviewers on the draft, in sequence (each reviews after the one before,
the way a line of sign-off goes round a site) or in parallel (all at once). Submitting the
draft opens a review round with one review per reviewer; each records their comments, and the
version can't be approved while a review of the current round is open. Returned to draft and
submitted again, the version gets a new round: comments of an earlier round stay on record but
don't count. A version with no named reviewer goes to the approver directly, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel import audit, auth, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.quality import common
from pharmaqms.quality.documents.models import (
    DocumentReview,
    DocumentVersion,
    ReviewOutcome,
    VersionStatus,
)

MAX_REVIEWERS = 12


def _task_kind(review: DocumentReview) -> str:
    return f"document_review:{review.id}"


def reviews_of(session: Session, version_id: int) -> list[DocumentReview]:
    return list(
        session.scalars(
            select(DocumentReview)
            .where(DocumentReview.version_id == version_id)
            .order_by(DocumentReview.round, DocumentReview.position)
        )
    )


def current_reviews(session: Session, version: DocumentVersion) -> list[DocumentReview]:
    return [r for r in reviews_of(session, version.id) if r.round == version.review_round]


def name_reviewers(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    reviewer_ids: Sequence[int],
    in_sequence: bool,
    expected_version: int | None = None,
) -> DocumentVersion:
    """Name who reviews the draft before approval (an empty list: nobody, the approver
    decides alone)."""
    from pharmaqms.quality.documents.service import get_version

    actor.require("documents.author", "name the reviewers of documents")
    version = get_version(session, version_id)
    common.check_version(version, expected_version)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            f"{version.number} is {version.status.replace('_', ' ')}: reviewers are named on a "
            "draft (return it to draft first)"
        )
    ids = list(reviewer_ids)
    if len(ids) != len(set(ids)):
        raise InvalidInput("a reviewer is named twice", field="reviewer_ids")
    if len(ids) > MAX_REVIEWERS:
        raise InvalidInput(f"at most {MAX_REVIEWERS} reviewers", field="reviewer_ids")
    for user_id in ids:
        person = common.active_user(session, user_id, "reviewer_ids", "a reviewer")
        if not auth.actor_for(session, person).can("documents.review"):
            raise InvalidInput(
                f"{person.full_name} does not review documents (none of their roles may)",
                field="reviewer_ids",
            )
        if user_id == version.created_by_id:
            raise InvalidInput(
                "the author of the version does not review it: name someone else",
                field="reviewer_ids",
            )
    with audit.changes(session, actor=actor, reason="reviewers named"):
        version.reviewer_ids = ids
        version.reviewers_in_sequence = bool(in_sequence) and len(ids) > 1
    return version


def open_review_round(session: Session, version: Any, actor: Actor) -> None:
    """The effect of ``submit``: a new round with one open review per named reviewer, and a
    task for whoever may review now (everyone in parallel, the first in sequence)."""
    if not version.reviewer_ids:
        return
    with audit.changes(session, actor=actor, reason="review round opened"):
        version.review_round = (version.review_round or 0) + 1
    created = []
    for position, user_id in enumerate(version.reviewer_ids, start=1):
        review = DocumentReview(
            version_id=version.id,
            round=version.review_round,
            position=position,
            in_sequence=version.reviewers_in_sequence,
            reviewer_id=user_id,
            outcome=ReviewOutcome.PENDING.value,
            comments="",
            reviewed_content_hash="",
        )
        with audit.changes(session, actor=actor, reason=f"review round {version.review_round}"):
            session.add(review)
        created.append(review)
    for review in created if not version.reviewers_in_sequence else created[:1]:
        _open_task(session, version, review, actor)


def _open_task(
    session: Session, version: DocumentVersion, review: DocumentReview, actor: Actor
) -> None:
    tasks.open_task(
        session,
        version,
        actor=actor,
        kind=_task_kind(review),
        title=f"Review {version.number} {version.title}",
        user_id=review.reviewer_id,
        due_in=None,
    )


def reviews_done(version: Any) -> list[str]:
    """Guard of ``approve``: every named review of the current round is recorded."""
    session = object_session(version)
    if session is None or not version.review_round:
        return []
    pending = [r for r in current_reviews(session, version) if r.outcome == ReviewOutcome.PENDING]
    if not pending:
        return []
    names = {
        u.id: u.full_name
        for u in session.scalars(select(User).where(User.id.in_([r.reviewer_id for r in pending])))
    }
    return [
        f"the review by {names.get(r.reviewer_id, r.reviewer_id)} (reviewer {r.position}) is "
        "not recorded yet"
        for r in pending
    ]


def record_review(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    comments: str,
    expected_version: int | None = None,
) -> DocumentReview:
    """A named reviewer's comments on the version in review (``"no comments"`` is a comment:
    what matters is that the reviewer says they read it)."""
    from pharmaqms.quality.documents.service import get_version

    actor.require("documents.review", "review documents")
    version = get_version(session, version_id)
    common.check_version(version, expected_version)
    if version.status != VersionStatus.IN_REVIEW:
        raise Conflict(
            f"{version.number} is {version.status.replace('_', ' ')}: reviews are recorded "
            "while it is in review"
        )
    text = common.required_text(comments, "comments", "the review comments", max_length=20_000)
    current = current_reviews(session, version)
    mine = next((r for r in current if r.reviewer_id == actor.user_id), None)
    if mine is None:
        raise PermissionDenied(f"{actor.username} is not a named reviewer of {version.number}")
    if mine.outcome != ReviewOutcome.PENDING:
        raise Conflict(f"{actor.username} has already reviewed {version.number} in this round")
    if mine.in_sequence:
        before = [
            r for r in current if r.position < mine.position and r.outcome == ReviewOutcome.PENDING
        ]
        if before:
            raise Conflict(
                f"{version.number} is reviewed in sequence: reviewer {before[0].position} has "
                "not reviewed it yet"
            )
    with audit.changes(session, actor=actor, reason="document reviewed", action="review"):
        mine.outcome = ReviewOutcome.REVIEWED.value
        mine.comments = text
        mine.reviewed_content_hash = version.content_hash()
        mine.reviewed_at = clock.now()
    tasks.close_tasks(session, version, actor=actor, outcome="reviewed", kind=_task_kind(mine))
    if mine.in_sequence:
        following = next((r for r in current if r.position == mine.position + 1), None)
        if following is not None:
            _open_task(session, version, following, actor)
    return mine


def close_open_review_tasks(session: Session, version: Any, actor: Actor) -> None:
    """A version leaving review (returned to draft, approved) leaves no review task behind."""
    for review in current_reviews(session, version):
        if review.outcome == ReviewOutcome.PENDING:
            tasks.close_tasks(
                session,
                version,
                actor=actor,
                outcome=f"version {version.status.replace('_', ' ')}",
                kind=_task_kind(review),
            )
