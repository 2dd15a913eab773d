"""Annual product quality reviews: generate (figures gathered and frozen with their SHA-256, a
new edition each time), write the conclusions and actions (draft only), sign them as authored,
approve (a second person; the PDF is rendered from the frozen figures with both signatures and
stored append-only), and the register of reviews due per product and year. Nothing here
commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.compliance.apqr import figures as apqr_figures
from pharmaqms.compliance.apqr.models import ProductQualityReview, ReviewFile, ReviewStatus
from pharmaqms.compliance.apqr.pdf import Signed, render_review
from pharmaqms.compliance.apqr.workflow import REVIEW_WORKFLOW
from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.db import replica_reads
from pharmaqms.kernel.errors import InvalidInput, NotFound, StaleRecord, TransitionNotAllowed
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports.signed import checked_pdf, pdf_sha256, store_pdf
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of

__all__ = ["content_hash", "signatures_of"]
from pharmaqms.kernel.workflow import perform
from pharmaqms.platform.masterdata.service import batch_years

WRITE = "apqr.write"
APPROVE = "apqr.approve"
MAX_TEXT = 20_000
# Editions that still count for their product and year (a superseded one does not).
LIVE = (ReviewStatus.DRAFT.value, ReviewStatus.CONCLUDED.value, ReviewStatus.EFFECTIVE.value)


def get_review(session: Session, review_id: int) -> ProductQualityReview:
    review = session.get(ProductQualityReview, review_id)
    if review is None:
        raise NotFound(f"no annual product quality review with id {review_id}")
    return review


def reviews(
    session: Session, *, product_code: str | None = None, year: int | None = None
) -> list[ProductQualityReview]:
    query = select(ProductQualityReview).order_by(
        ProductQualityReview.year.desc(),
        ProductQualityReview.product_code,
        ProductQualityReview.edition.desc(),
    )
    if product_code:
        query = query.where(ProductQualityReview.product_code == product_code)
    if year is not None:
        query = query.where(ProductQualityReview.year == year)
    return list(session.scalars(query))


def effective_review(session: Session, product_code: str, year: int) -> ProductQualityReview | None:
    return session.scalars(
        select(ProductQualityReview).where(
            ProductQualityReview.product_code == product_code,
            ProductQualityReview.year == year,
            ProductQualityReview.status == ReviewStatus.EFFECTIVE.value,
        )
    ).first()


def _previous_actions(session: Session, product_code: str, year: int) -> dict[str, Any]:
    previous = effective_review(session, product_code, year - 1)
    basis = "The actions the effective review of the previous year decided, as it states them."
    if previous is None:
        return {
            "key": "previous_actions",
            "title": "Actions from the previous review",
            "basis": basis,
            "empty": f"no effective review of {product_code} for {year - 1} in the register",
        }
    return {
        "key": "previous_actions",
        "title": "Actions from the previous review",
        "basis": basis,
        "empty": None,
        "review": previous.number,
        "actions": previous.actions,
    }


def _supersede(
    session: Session,
    review: ProductQualityReview,
    *,
    actor: Actor,
    by: str,
    statuses: tuple[str, ...],
) -> None:
    for older in reviews(session, product_code=review.product_code, year=review.year):
        if older.id != review.id and older.status in statuses:
            perform(
                session,
                REVIEW_WORKFLOW,
                older,
                "supersede",
                actor=actor,
                reason=f"superseded by {by}",
            )


def generate_review(
    session: Session, *, actor: Actor, product: str, year: int
) -> ProductQualityReview:
    """Gather the product's figures for the year as the registers stand now and freeze them in
    a new edition (draft). Earlier editions of the same product and year that were not yet
    effective are superseded by it; an effective one stays effective until this one is
    approved."""
    actor.require(WRITE, "generate annual product quality reviews")
    found = apqr_figures.resolve(session, product)
    with replica_reads(session) as reads:
        made = apqr_figures.collect(reads, found, year)
    made["sections"].append(_previous_actions(session, found.code, year))
    last = session.scalar(
        select(func.max(ProductQualityReview.edition)).where(
            ProductQualityReview.product_code == found.code, ProductQualityReview.year == year
        )
    )
    review = ProductQualityReview(
        status=ReviewStatus.DRAFT.value,
        product_code=found.code,
        product_name=found.name,
        year=year,
        edition=(last or 0) + 1,
        figures=made,
        figures_sha256=content_hash(made),
        conclusions="",
        actions="",
        pdf_sha256="",
    )
    with audit.changes(session, actor=actor, reason="annual product quality review generated"):
        session.add(review)
        session.flush()
    _supersede(
        session,
        review,
        actor=actor,
        by=review.number,
        statuses=(ReviewStatus.DRAFT.value, ReviewStatus.CONCLUDED.value),
    )
    return review


def _check_version(review: ProductQualityReview, expected_version: int | None) -> None:
    if expected_version is not None and review.version != expected_version:
        raise StaleRecord(
            f"{review.audit_label()} is at version {review.version}, not {expected_version}: "
            "someone changed it meanwhile; reload and try again",
            extra={"current_version": review.version},
        )


def write_conclusions(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    conclusions: str,
    actions: str,
    expected_version: int | None = None,
) -> ProductQualityReview:
    """QA's conclusions on the frozen figures, and the actions decided. Only while the review is
    a draft: a signed review is never edited (generate a new edition instead)."""
    actor.require(WRITE, "write the conclusions of annual product quality reviews")
    review = get_review(session, review_id)
    if review.status != ReviewStatus.DRAFT.value:
        raise TransitionNotAllowed(
            f"{review.audit_label()} is {review.status}: its conclusions are signed and are not "
            "edited; generate a new edition to review the product again"
        )
    _check_version(review, expected_version)
    conclusions, actions = conclusions.strip(), actions.strip()
    for name, text in (("conclusions", conclusions), ("actions", actions)):
        if not text:
            raise InvalidInput(f"write the {name}", field=name)
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"the {name} are at most {MAX_TEXT} characters", field=name)
    with audit.changes(session, actor=actor, reason="conclusions written"):
        review.conclusions = conclusions
        review.actions = actions
        review.concluded_by_id = actor.user_id
    return review


def _take(
    session: Session, review_id: int, name: str, *, actor: Actor, **given: Any
) -> ProductQualityReview:
    review = get_review(session, review_id)
    perform(session, REVIEW_WORKFLOW, review, name, actor=actor, **given)
    return review


def conclude_review(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    password: str,
    expected_version: int | None = None,
    comment: str = "",
) -> ProductQualityReview:
    """The QA person who wrote the conclusions signs them ("Authored", password re-entered)."""
    actor.require(WRITE, "sign the conclusions of annual product quality reviews")
    return _take(
        session,
        review_id,
        "conclude",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


def return_review(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    reason: str,
    expected_version: int | None = None,
) -> ProductQualityReview:
    """The approver sends the concluded review back to its author (a reason is required)."""
    actor.require(APPROVE, "return annual product quality reviews for rework")
    return _take(
        session, review_id, "return", actor=actor, reason=reason, expected_version=expected_version
    )


def signature_blocks(session: Session, review: ProductQualityReview) -> list[Signed]:
    """The signatures of the current round (after the last return for rework, if any)."""
    found: dict[str, Signed] = {}
    for s in signatures_of(session, review):
        if s.meaning in ("Authored", "Approved"):
            found[s.meaning] = Signed(s.meaning, s.manifestation, s.content_hash)
    return [found[m] for m in ("Authored", "Approved") if m in found]


def render_pdf(session: Session, review: ProductQualityReview) -> bytes:
    """The review rendered from its frozen figures; marked draft until it is effective."""
    signed = signature_blocks(session, review) if review.status != ReviewStatus.DRAFT else []
    return render_review(
        review.figures,
        number=review.number,
        edition=review.edition,
        conclusions=review.conclusions,
        actions=review.actions,
        figures_sha256=review.figures_sha256,
        site=get_settings().site_name,
        signed=signed,
        final=review.status == ReviewStatus.EFFECTIVE.value,
    )


def approve_review(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    password: str,
    expected_version: int | None = None,
    comment: str = "",
) -> ProductQualityReview:
    """The QP or head of QA approves (a person other than the author): the review becomes
    effective, its PDF is rendered with both signatures and stored with its SHA-256, and an
    earlier effective edition of the same product and year is superseded."""
    actor.require(APPROVE, "approve annual product quality reviews")
    review = _take(
        session,
        review_id,
        "approve",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )
    content = render_pdf(session, review)
    digest = pdf_sha256(content)
    with audit.changes(session, actor=actor, reason=f"approved PDF stored (SHA-256 {digest})"):
        stored = store_pdf(session, ReviewFile, content)
        review.pdf_file_id = stored.id
        review.pdf_sha256 = digest
    _supersede(
        session, review, actor=actor, by=review.number, statuses=(ReviewStatus.EFFECTIVE.value,)
    )
    return review


def stored_pdf(session: Session, review: ProductQualityReview) -> bytes:
    """The PDF as approved; refused when the stored bytes no longer match their hash."""
    if review.pdf_file_id is None:
        raise NotFound(f"{review.number} is not approved: it has no stored PDF")
    refusal = f"the stored PDF of {review.number} does not match the SHA-256 recorded at approval"
    return checked_pdf(session, ReviewFile, review.pdf_file_id, review.pdf_sha256, refusal=refusal)


def current_pdf(session: Session, review: ProductQualityReview) -> bytes:
    """The PDF as approved once the review is effective; before, rendered now from its frozen
    figures and marked draft."""
    if review.pdf_file_id is not None:
        return stored_pdf(session, review)
    return render_pdf(session, review)


# --- the register of reviews due -------------------------------------------------------------


@dataclass(frozen=True)
class DueReview:
    """One product and year with batches: the review it needs, when, and where it stands."""

    product_code: str
    product_name: str
    year: int
    due_on: date
    # The effective edition, else the latest live one: its id, number and status.
    review_id: int | None
    review_number: str | None
    state: str  # the review's status, or "not started"
    overdue: bool


def due_date(year: int) -> date:
    return date(year, 12, 31) + timedelta(days=get_settings().apqr_grace_days)


def register(session: Session) -> list[DueReview]:
    """Every product and year with batches made, newest year first: due at the end of the year
    plus the configured grace (``PHARMAQMS_APQR_GRACE_DAYS``), overdue when that day has passed
    without an effective review. The current year is listed too, not yet due."""
    today = clock.now().date()
    live: dict[tuple[str, int], ProductQualityReview] = {}
    for review in session.scalars(
        select(ProductQualityReview)
        .where(ProductQualityReview.status.in_(LIVE))
        .order_by(ProductQualityReview.edition)
    ):
        key = (review.product_code, review.year)
        held = live.get(key)
        if held is None or held.status != ReviewStatus.EFFECTIVE.value:
            live[key] = review
    rows = []
    for (code, name), years in batch_years(session).items():
        for year in sorted(years, reverse=True):
            found = live.get((code, year))
            due = due_date(year)
            effective = found is not None and found.status == ReviewStatus.EFFECTIVE.value
            rows.append(
                DueReview(
                    code,
                    name,
                    year,
                    due,
                    found.id if found else None,
                    found.number if found else None,
                    found.status if found else "not started",
                    not effective and today > due,
                )
            )
    return sorted(rows, key=lambda r: (-r.year, r.product_code))
