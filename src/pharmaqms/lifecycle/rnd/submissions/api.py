"""Submission document API (``/api/v1/rnd/submissions…``): thin. Reading is
``submissions.read``; generating ``submissions.write`` (a scientist, regulatory affairs);
reviewing or returning ``submissions.review``; approving ``submissions.approve`` (QA)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.rnd.http import PREFIX
from pharmaqms.lifecycle.rnd.submissions import service
from pharmaqms.lifecycle.rnd.submissions.schemas import (
    DocumentOut,
    DocumentRowOut,
    GenerateIn,
    ReturnIn,
    SignIn,
    document_out,
    row_out,
)

router = APIRouter(prefix=f"{PREFIX}/submissions", tags=["rnd"])
READ = "read submission documents"


@router.get("", response_model=list[DocumentRowOut])
def list_documents(
    actor: ActorDep,
    request: Request,
    product: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> list[DocumentRowOut]:
    actor.require(service.READ, READ)
    with transaction(request, write=False) as session:
        return [row_out(d) for d in service.documents(session, product_code=product, kind=kind)]


@router.post("", response_model=DocumentOut, status_code=201)
def generate(body: GenerateIn, actor: ActorDep, request: Request) -> DocumentOut:
    """Gather the section from the data now, freeze it and its PDF (a new edition, draft)."""
    with transaction(request) as session:
        document = service.generate_document(
            session, actor=actor, kind=body.kind, product=body.product, authority=body.authority
        )
        return document_out(session, document)


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: RecordId, actor: ActorDep, request: Request) -> DocumentOut:
    actor.require(service.READ, READ)
    with transaction(request, write=False) as session:
        return document_out(session, service.get_document(session, document_id))


@router.post("/{document_id}/review", response_model=DocumentOut)
def review(document_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> DocumentOut:
    """A second person signs "Reviewed" (never whoever generated it)."""
    with transaction(request) as session:
        document = service.review_document(
            session,
            actor=actor,
            document_id=document_id,
            password=body.password,
            expected_version=body.expected_version,
            comment=body.comment,
        )
        return document_out(session, document)


@router.post("/{document_id}/approve", response_model=DocumentOut)
def approve(document_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> DocumentOut:
    """QA signs "Approved" (neither the author nor the reviewer): the PDF with its signature
    page is stored with its SHA-256."""
    with transaction(request) as session:
        document = service.approve_document(
            session,
            actor=actor,
            document_id=document_id,
            password=body.password,
            expected_version=body.expected_version,
            comment=body.comment,
        )
        return document_out(session, document)


@router.post("/{document_id}/return", response_model=DocumentOut)
def return_for_rework(
    document_id: RecordId, body: ReturnIn, actor: ActorDep, request: Request
) -> DocumentOut:
    with transaction(request) as session:
        document = service.return_document(
            session,
            actor=actor,
            document_id=document_id,
            reason=body.reason,
            expected_version=body.expected_version,
        )
        return document_out(session, document)


@router.get(
    "/{document_id}/pdf", response_class=Response, responses=file_responses("application/pdf")
)
def document_pdf(document_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The PDF as approved once approved; before, the PDF frozen at generation (marked draft).
    Both are checked against their recorded SHA-256; the hand-out is recorded as an export."""
    with transaction(request, write=True) as session:  # the hand-out is audited
        content, name = service.hand_out_pdf(session, actor=actor, document_id=document_id)
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
