"""Document control API: thin — parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import MAX_ID, Offset, RecordId
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.schemas import Page, SignatureOut
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.quality.documents import (
    attachments,
    compare,
    periodic_review,
    printout,
    reviews,
    service,
    templates,
)
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion, PeriodicReview
from pharmaqms.quality.documents.schemas import (
    AttachmentOut,
    ComparisonOut,
    ComparisonRowOut,
    DocumentCreate,
    DocumentOut,
    DocumentReviewOut,
    DraftEdit,
    PeriodicReviewOut,
    ReviewConclusion,
    ReviewersNamed,
    ReviewRecord,
    ReviewRevision,
    ReviewScheduleOut,
    RevisionCreate,
    TemplateOut,
    VersionOut,
)

router = APIRouter(prefix="/api/v1", tags=["documents"])


def signatures_out(session: Session, record: GxPRecord) -> list[SignatureOut]:
    return [
        SignatureOut(
            id=s.id,
            signer_name=s.signer_name,
            signer_username=s.signer_username,
            meaning=s.meaning,
            signed_at=s.signed_at,
            content_hash=s.content_hash,
            valid_for_current_content=s.valid_for_current_content,
            manifestation=s.manifestation,
        )
        for s in signatures_of(session, record)
    ]


def version_out(session: Session, version: DocumentVersion) -> VersionOut:
    out = VersionOut.model_validate(version)
    out.signed_content_hash = version.content_hash()
    out.signatures = signatures_out(session, version)
    out.attachments = [
        AttachmentOut.model_validate(a) for a in attachments.attachments_of(session, version.id)
    ]
    out.reviews = [
        DocumentReviewOut.model_validate(r) for r in reviews.reviews_of(session, version.id)
    ]
    return out


def new_document_version_out(version: DocumentVersion) -> VersionOut:
    """The first version of a document this request created: nothing can have been signed,
    attached or reviewed on it yet, so the answer does not ask (three queries of a create's
    thirteen, bench/profile_create.py). A revision carries attachments over: not for it."""
    out = VersionOut.model_validate(version)
    out.signed_content_hash = version.content_hash()
    return out


def document_out(session: Session, document: ControlledDocument) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        number=document.number,
        doc_type=document.doc_type,
        title=document.title,
        area=document.area,
        status=document.status,
        owner_id=document.owner_id,
        review_period_months=document.review_period_months,
        current_version_id=document.current_version_id,
        next_review_due=periodic_review.next_review_due(session, document),
        versions=[version_out(session, v) for v in document.versions],
    )


@router.get("/documents", response_model=Page[DocumentOut])
def list_documents(
    actor: ActorDep,
    request: Request,
    doc_type: str | None = None,
    status: str | None = None,
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[DocumentOut]:
    actor.require("records.read", "read documents")
    found = {"doc_type": doc_type, "status": status, "q": q}
    with transaction(request) as session:
        rows = service.list_documents(session, **found, limit=limit, offset=offset)
        return Page[DocumentOut](
            items=[document_out(session, row.document) for row in rows],
            total=service.count_documents(session, **found),
            limit=limit,
            offset=offset,
        )


@router.post("/documents", response_model=VersionOut, status_code=201)
def create_document(body: DocumentCreate, actor: ActorDep, request: Request) -> VersionOut:
    with transaction(request) as session:
        version = service.create_document(
            session,
            actor=actor,
            doc_type=body.doc_type,
            title=body.title,
            body=body.body,
            area=body.area,
            review_period_months=body.review_period_months,
            effective_from=body.effective_from,
        )
        session.flush()
        return new_document_version_out(version)


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: RecordId, actor: ActorDep, request: Request) -> DocumentOut:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        return document_out(session, service.get_document(session, document_id))


@router.post("/documents/{document_id}/revisions", response_model=VersionOut, status_code=201)
def revise(
    document_id: RecordId, body: RevisionCreate, actor: ActorDep, request: Request
) -> VersionOut:
    with transaction(request) as session:
        version = service.revise(
            session,
            actor=actor,
            document_id=document_id,
            major=body.major,
            change_summary=body.change_summary,
        )
        session.flush()
        return version_out(session, version)


@router.get("/document-versions/{version_id}", response_model=VersionOut)
def get_version(version_id: RecordId, actor: ActorDep, request: Request) -> VersionOut:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        return version_out(session, service.get_version(session, version_id))


@router.patch("/document-versions/{version_id}", response_model=VersionOut)
def edit_draft(
    version_id: RecordId, body: DraftEdit, actor: ActorDep, request: Request
) -> VersionOut:
    with transaction(request) as session:
        version = service.edit_draft(
            session,
            actor=actor,
            version_id=version_id,
            expected_version=body.expected_version,
            title=body.title,
            body=body.body,
            change_summary=body.change_summary,
            effective_from=body.effective_from,
            reason=body.reason,
        )
        session.flush()
        return version_out(session, version)


@router.get(
    "/document-versions/{version_id}/pdf",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def version_pdf(
    version_id: RecordId,
    actor: ActorDep,
    request: Request,
    copy: str = Query(default="controlled", pattern="^(controlled|uncontrolled)$"),
) -> Response:
    actor.require("records.read", "print documents")
    with transaction(request) as session:
        version = service.get_version(session, version_id)
        pdf = printout.render_pdf(
            session, version, printed_by=actor, uncontrolled=copy == "uncontrolled"
        )
        filename = version.number.replace(" ", "_")
    return download(
        pdf, filename=f"{filename}.pdf", media_type="application/pdf", disposition="inline"
    )


# --- periodic review ----------------------------------------------------------------------


def review_out(session: Session, review: PeriodicReview) -> PeriodicReviewOut:
    out = PeriodicReviewOut.model_validate(review)
    out.signatures = signatures_out(session, review)
    return out


@router.get("/periodic-reviews/schedule", response_model=list[ReviewScheduleOut])
def review_schedule(
    actor: ActorDep,
    request: Request,
    state: Annotated[list[periodic_review.ReviewState] | None, Query()] = None,
) -> list[ReviewScheduleOut]:
    """Documents in force with their next review due date; filter by state (due, overdue)."""
    actor.require("records.read", "read the periodic review register")
    with transaction(request) as session:
        return [
            ReviewScheduleOut(
                document_id=row.document.id,
                number=row.document.number,
                title=row.document.title,
                owner_id=row.document.owner_id,
                version_id=row.version.id,
                version=row.version.label,
                review_period_months=row.document.review_period_months,
                basis_at=row.basis_at,
                due_at=row.due_at,
                state=row.state,
                open_review_id=row.open_review.id if row.open_review else None,
                open_review_number=row.open_review.number if row.open_review else None,
                revision_version_id=row.revision.id if row.revision else None,
            )
            for row in periodic_review.review_schedule(session, states=state)
        ]


@router.get("/documents/{document_id}/periodic-reviews", response_model=list[PeriodicReviewOut])
def reviews_of(document_id: RecordId, actor: ActorDep, request: Request) -> list[PeriodicReviewOut]:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        service.get_document(session, document_id)
        return [review_out(session, r) for r in periodic_review.reviews_of(session, document_id)]


@router.get("/periodic-reviews/{review_id}", response_model=PeriodicReviewOut)
def get_review(review_id: RecordId, actor: ActorDep, request: Request) -> PeriodicReviewOut:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        return review_out(session, periodic_review.get_review(session, review_id))


@router.post("/periodic-reviews/{review_id}/conclude-no-change", response_model=PeriodicReviewOut)
def conclude_no_change(
    review_id: RecordId, body: ReviewConclusion, actor: ActorDep, request: Request
) -> PeriodicReviewOut:
    with transaction(request) as session:
        periodic_review.conclude_no_change(
            session,
            actor=actor,
            review_id=review_id,
            password=body.password,
            justification=body.justification,
            expected_version=body.expected_version,
        )
        session.flush()
        return review_out(session, periodic_review.get_review(session, review_id))


@router.post(
    "/periodic-reviews/{review_id}/start-revision", response_model=VersionOut, status_code=201
)
def start_revision(
    review_id: RecordId, body: ReviewRevision, actor: ActorDep, request: Request
) -> VersionOut:
    with transaction(request) as session:
        version = periodic_review.start_revision(
            session,
            actor=actor,
            review_id=review_id,
            major=body.major,
            change_summary=body.change_summary,
            expected_version=body.expected_version,
        )
        session.flush()
        return version_out(session, version)


# --- templates, reviewers, attachments, comparison ---------------------------------------


@router.get("/document-templates/{doc_type}", response_model=TemplateOut)
def document_template(doc_type: str, actor: ActorDep) -> TemplateOut:
    """The sections a new document of this type starts with."""
    actor.require("records.read", "read documents")
    try:
        body = templates.template_for(doc_type)
    except ValueError:
        raise InvalidInput(f"unknown document type {doc_type!r}", field="doc_type") from None
    return TemplateOut(doc_type=doc_type, body=body)


@router.post("/document-versions/{version_id}/reviewers", response_model=VersionOut)
def name_reviewers(
    version_id: RecordId, body: ReviewersNamed, actor: ActorDep, request: Request
) -> VersionOut:
    with transaction(request) as session:
        version = reviews.name_reviewers(
            session,
            actor=actor,
            version_id=version_id,
            reviewer_ids=body.reviewer_ids,
            in_sequence=body.in_sequence,
            expected_version=body.expected_version,
        )
        session.flush()
        return version_out(session, version)


@router.post(
    "/document-versions/{version_id}/reviews", response_model=DocumentReviewOut, status_code=201
)
def record_review(
    version_id: RecordId, body: ReviewRecord, actor: ActorDep, request: Request
) -> DocumentReviewOut:
    with transaction(request) as session:
        review = reviews.record_review(
            session,
            actor=actor,
            version_id=version_id,
            comments=body.comments,
            expected_version=body.expected_version,
        )
        session.flush()
        return DocumentReviewOut.model_validate(review)


@router.post(
    "/document-versions/{version_id}/attachments", response_model=AttachmentOut, status_code=201
)
async def attach_file(
    version_id: RecordId,
    actor: ActorDep,
    request: Request,
    file: Annotated[UploadFile, File()],
) -> AttachmentOut:
    content = await file.read(attachments.MAX_BYTES + 1)
    with transaction(request, write=True) as session:
        attachment = attachments.attach_file(
            session,
            actor=actor,
            version_id=version_id,
            filename=file.filename or "",
            content=content,
        )
        session.flush()
        return AttachmentOut.model_validate(attachment)


@router.get(
    "/document-attachments/{attachment_id}",
    response_class=Response,
    responses=file_responses(*sorted(set(attachments.MEDIA_TYPES.values()))),
)
def attachment_file(attachment_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The file as it was attached, byte for byte (its SHA-256 in ``X-Content-SHA256``)."""
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        attachment = attachments.get_attachment(session, attachment_id)
        content = attachments.content_of(attachment)
        name, media, sha = attachment.filename, attachment.media_type, attachment.sha256
    return download(content, filename=name, media_type=media, headers={"x-content-sha256": sha})


@router.get("/documents/{document_id}/compare", response_model=ComparisonOut)
def compare_versions(
    document_id: RecordId,
    actor: ActorDep,
    request: Request,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_ID)],
) -> ComparisonOut:
    """Two versions of the document side by side, line by line."""
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        old, new = service.versions_to_compare(session, document_id, from_version, to_version)
        result = compare.side_by_side(old.body, new.body)
        return ComparisonOut(
            document_id=document_id,
            from_version=old.label,
            to_version=new.label,
            changed_lines=result.changed,
            rows=[ComparisonRowOut(**vars(r)) for r in result.rows],
        )
