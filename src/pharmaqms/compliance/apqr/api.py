"""Annual product quality review API (``/api/v1/compliance/apqr…``): thin. Reading is
``records.read``; generating, writing and signing the conclusions is QA's (``apqr.write``);
approving or returning is the QP's or the head of QA's (``apqr.approve``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.schemas import (
    ConclusionsIn,
    DueReviewOut,
    GenerateIn,
    ReturnIn,
    ReviewOut,
    ReviewRowOut,
    SignIn,
    due_out,
    review_out,
    row_out,
)
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId

router = APIRouter(prefix="/api/v1/compliance/apqr", tags=["compliance"])
READ = "read annual product quality reviews"


@router.get("/register", response_model=list[DueReviewOut])
def register(actor: ActorDep, request: Request) -> list[DueReviewOut]:
    """Every product and year with batches: the review due, its due date, state and overdue
    flag (due = end of the year + ``PHARMAQMS_APQR_GRACE_DAYS``)."""
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        return [due_out(row) for row in service.register(session)]


@router.get("/reviews", response_model=list[ReviewRowOut])
def list_reviews(
    actor: ActorDep,
    request: Request,
    product: Annotated[str | None, Query(max_length=40)] = None,
    year: Annotated[int | None, Query(ge=2000, le=9999)] = None,
) -> list[ReviewRowOut]:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        return [row_out(r) for r in service.reviews(session, product_code=product, year=year)]


@router.post("/reviews", response_model=ReviewOut, status_code=201)
def generate(body: GenerateIn, actor: ActorDep, request: Request) -> ReviewOut:
    """Gather the figures now and freeze them in a new edition (draft)."""
    with transaction(request) as session:
        review = service.generate_review(session, actor=actor, product=body.product, year=body.year)
        return review_out(session, review)


@router.get("/reviews/{review_id}", response_model=ReviewOut)
def get_review(review_id: RecordId, actor: ActorDep, request: Request) -> ReviewOut:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        return review_out(session, service.get_review(session, review_id))


@router.post("/reviews/{review_id}/conclusions", response_model=ReviewOut)
def write_conclusions(
    review_id: RecordId, body: ConclusionsIn, actor: ActorDep, request: Request
) -> ReviewOut:
    with transaction(request) as session:
        review = service.write_conclusions(
            session,
            actor=actor,
            review_id=review_id,
            conclusions=body.conclusions,
            actions=body.actions,
            expected_version=body.expected_version,
        )
        return review_out(session, review)


@router.post("/reviews/{review_id}/conclude", response_model=ReviewOut)
def conclude(review_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> ReviewOut:
    """The QA author signs the conclusions ("Authored", password re-entered)."""
    with transaction(request) as session:
        review = service.conclude_review(
            session,
            actor=actor,
            review_id=review_id,
            password=body.password,
            expected_version=body.expected_version,
            comment=body.comment,
        )
        return review_out(session, review)


@router.post("/reviews/{review_id}/approve", response_model=ReviewOut)
def approve(review_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> ReviewOut:
    """A person other than the author approves ("Approved"): the review becomes effective and
    its PDF is stored."""
    with transaction(request) as session:
        review = service.approve_review(
            session,
            actor=actor,
            review_id=review_id,
            password=body.password,
            expected_version=body.expected_version,
            comment=body.comment,
        )
        return review_out(session, review)


@router.post("/reviews/{review_id}/return", response_model=ReviewOut)
def return_for_rework(
    review_id: RecordId, body: ReturnIn, actor: ActorDep, request: Request
) -> ReviewOut:
    with transaction(request) as session:
        review = service.return_review(
            session,
            actor=actor,
            review_id=review_id,
            reason=body.reason,
            expected_version=body.expected_version,
        )
        return review_out(session, review)


@router.get(
    "/reviews/{review_id}/pdf", response_class=Response, responses=file_responses("application/pdf")
)
def review_pdf(review_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The PDF as approved (checked against its SHA-256) once effective; before, the review
    rendered now from its frozen figures, marked draft."""
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        review = service.get_review(session, review_id)
        content = service.current_pdf(session, review)
        name = f"{review.number}-edition-{review.edition}.pdf"
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
