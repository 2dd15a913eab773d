"""Submission documents: generate (the content gathered from the data and frozen with its
SHA-256, the PDF rendered and stored append-only; a new edition each time, superseding the live
earlier ones), review and approve by electronic signature (never the author; the approver not
the reviewer), return for rework, and the approved PDF re-rendered with its signature page and
stored. Nothing here commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.numbering import allocate_number
from pharmaqms.kernel.reports.signed import checked_pdf, pdf_sha256, store_pdf
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.rnd.submissions import batch_analyses, development, stability_summary
from pharmaqms.lifecycle.rnd.submissions.common import (
    AUTHORITY_NAME,
    CTD_SECTION,
    TITLE,
    utc_time,
)
from pharmaqms.lifecycle.rnd.submissions.models import (
    Authority,
    DocumentKind,
    SubmissionDocument,
    SubmissionFile,
    SubmissionStatus,
)
from pharmaqms.lifecycle.rnd.submissions.pdf import Signed, render_document
from pharmaqms.lifecycle.rnd.submissions.workflow import SUBMISSION_WORKFLOW
from pharmaqms.platform.masterdata.models import Product

READ = "submissions.read"
WRITE = "submissions.write"
REVIEW = "submissions.review"
APPROVE = "submissions.approve"
PREFIX = "SUB"
LIVE = (SubmissionStatus.DRAFT.value, SubmissionStatus.REVIEWED.value)

COLLECTORS: dict[DocumentKind, Callable[[Session, str], list[dict[str, Any]]]] = {
    DocumentKind.STABILITY_SUMMARY: stability_summary.collect,
    DocumentKind.PROCESS_DEVELOPMENT: development.collect,
    DocumentKind.BATCH_ANALYSES: batch_analyses.collect,
}
SOURCES = {
    DocumentKind.STABILITY_SUMMARY: "the product's stability studies (approved or completed) "
    "and their results",
    DocumentKind.PROCESS_DEVELOPMENT: "the product's approved development recipe, the signed "
    "notebook entries of its project, its stability studies and process risk assessments",
    DocumentKind.BATCH_ANALYSES: "the initial results of the stability batches and the QC "
    "results of the production batches (through the quality front door)",
}


def get_document(session: Session, document_id: int) -> SubmissionDocument:
    document = session.get(SubmissionDocument, document_id)
    if document is None:
        raise NotFound(f"no submission document with id {document_id}")
    return document


def documents(
    session: Session, *, product_code: str | None = None, kind: str | None = None
) -> list[SubmissionDocument]:
    query = select(SubmissionDocument).order_by(
        SubmissionDocument.product_code,
        SubmissionDocument.kind,
        SubmissionDocument.authority,
        SubmissionDocument.edition.desc(),
    )
    if product_code:
        query = query.where(SubmissionDocument.product_code == product_code)
    if kind:
        query = query.where(SubmissionDocument.kind == kind)
    return list(session.scalars(query))


def _kind(value: str) -> DocumentKind:
    try:
        return DocumentKind(value)
    except ValueError:
        known = ", ".join(k.value for k in DocumentKind)
        raise InvalidInput(f"kind {value!r} is one of {known}", field="kind") from None


def _authority(value: str) -> Authority:
    try:
        return Authority(value.strip().upper())
    except ValueError:
        known = ", ".join(a.value for a in Authority)
        raise InvalidInput(f"authority {value!r} is one of {known}", field="authority") from None


def _product(session: Session, code: str) -> Product:
    product = session.scalars(select(Product).where(Product.code == code.strip())).first()
    if product is None:
        raise InvalidInput(f"no product {code!r} in the master data", field="product")
    return product


def _supersede(
    session: Session, document: SubmissionDocument, *, actor: Actor, statuses: tuple[str, ...]
) -> None:
    for older in documents(session, product_code=document.product_code, kind=document.kind):
        if (
            older.id != document.id
            and older.authority == document.authority
            and older.status in statuses
        ):
            perform(
                session,
                SUBMISSION_WORKFLOW,
                older,
                "supersede",
                actor=actor,
                reason=f"superseded by {document.number}",
            )


def generate_document(
    session: Session, *, actor: Actor, kind: str, product: str, authority: str
) -> SubmissionDocument:
    """Gather the section's content from the data as it stands now, freeze it with its SHA-256
    and render the PDF (stored with its SHA-256): a new edition, draft. Live earlier editions of
    the same kind, product and authority are superseded; an approved one stays until this one is
    approved. No data for the section: refused, nothing stored."""
    actor.require(WRITE, "generate submission documents")
    found_kind, found_authority = _kind(kind), _authority(authority)
    if found_kind is DocumentKind.PROCESS_DEVELOPMENT:
        # The evidence is read from the notebook in clear.
        actor.require("rnd.read", "read the notebook for a process development summary")
    found = _product(session, product)
    sections = COLLECTORS[found_kind](session, found.code)
    content = {
        "kind": found_kind.value,
        "ctd_section": CTD_SECTION[found_kind],
        "title": TITLE[found_kind],
        "product": {"code": found.code, "name": found.name},
        "authority": found_authority.value,
        "authority_name": AUTHORITY_NAME[found_authority],
        "data_cut_off": utc_time(clock.now()),
        "sources": SOURCES[found_kind],
        "sections": sections,
    }
    digest = content_hash(content)
    last = session.scalar(
        select(func.max(SubmissionDocument.edition)).where(
            SubmissionDocument.kind == found_kind.value,
            SubmissionDocument.product_code == found.code,
            SubmissionDocument.authority == found_authority.value,
        )
    )
    edition = (last or 0) + 1
    number = allocate_number(
        session, SubmissionDocument.__number_prefix__ or "SUB", clock.now().year
    )
    pdf = render_document(
        content,
        number=number,
        edition=edition,
        content_sha256=digest,
        site=get_settings().site_name,
        signed=[],
        final=False,
    )
    with audit.changes(session, actor=actor, reason="submission document generated"):
        stored = store_pdf(session, SubmissionFile, pdf)
        document = SubmissionDocument(
            number=number,
            status=SubmissionStatus.DRAFT.value,
            kind=found_kind.value,
            product_code=found.code,
            product_name=found.name,
            authority=found_authority.value,
            edition=edition,
            content=content,
            content_sha256=digest,
            draft_file_id=stored.id,
            draft_pdf_sha256=stored.sha256,
            pdf_sha256="",
        )
        session.add(document)
        session.flush()
    _supersede(session, document, actor=actor, statuses=LIVE)
    return document


def _take(
    session: Session, document_id: int, name: str, *, actor: Actor, **given: Any
) -> SubmissionDocument:
    document = get_document(session, document_id)
    perform(session, SUBMISSION_WORKFLOW, document, name, actor=actor, **given)
    return document


def review_document(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    password: str,
    expected_version: int | None = None,
    comment: str = "",
) -> SubmissionDocument:
    """A second person (not whoever generated it) signs "Reviewed", password re-entered."""
    actor.require(REVIEW, "review submission documents")
    return _take(
        session,
        document_id,
        "review",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


def return_document(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    reason: str,
    expected_version: int | None = None,
) -> SubmissionDocument:
    actor.require(REVIEW, "return submission documents")
    return _take(
        session,
        document_id,
        "return",
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )


def signature_blocks(session: Session, document: SubmissionDocument) -> list[Signed]:
    """The signatures of the current round (after the last return, if any)."""
    found: dict[str, Signed] = {}
    for s in signatures_of(session, document):
        if s.meaning in ("Reviewed", "Approved"):
            found[s.meaning] = Signed(s.meaning, s.manifestation, s.content_hash)
    return [found[m] for m in ("Reviewed", "Approved") if m in found]


def render_pdf(session: Session, document: SubmissionDocument) -> bytes:
    """The document rendered from its frozen content with the signatures so far; marked draft
    until it is approved."""
    approved = document.status == SubmissionStatus.APPROVED.value
    return render_document(
        document.content,
        number=document.number,
        edition=document.edition,
        content_sha256=document.content_sha256,
        site=get_settings().site_name,
        signed=signature_blocks(session, document) if document.status != "draft" else [],
        final=approved,
    )


def approve_document(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    password: str,
    expected_version: int | None = None,
    comment: str = "",
) -> SubmissionDocument:
    """QA approves (neither the author nor the reviewer): the PDF is re-rendered with its
    signature page and stored with its SHA-256, and an approved earlier edition of the same
    kind, product and authority is superseded."""
    actor.require(APPROVE, "approve submission documents")
    document = _take(
        session,
        document_id,
        "approve",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )
    content = render_pdf(session, document)
    with audit.changes(session, actor=actor, reason="approved PDF stored"):
        stored = store_pdf(session, SubmissionFile, content)
        document.pdf_file_id = stored.id
        document.pdf_sha256 = stored.sha256
    _supersede(session, document, actor=actor, statuses=(SubmissionStatus.APPROVED.value,))
    return document


def _checked(session: Session, document: SubmissionDocument, file_id: int, digest: str) -> bytes:
    refusal = f"the stored PDF of {document.number} does not match the SHA-256 recorded for it"
    return checked_pdf(session, SubmissionFile, file_id, digest, refusal=refusal)


def current_pdf(session: Session, document: SubmissionDocument) -> bytes:
    """The approved PDF once approved; before, the PDF frozen at generation. Both are checked
    against the SHA-256 recorded for them."""
    if document.pdf_file_id is not None:
        return _checked(session, document, document.pdf_file_id, document.pdf_sha256)
    return _checked(session, document, document.draft_file_id, document.draft_pdf_sha256)


def file_name(document: SubmissionDocument) -> str:
    section = document.content.get("ctd_section", document.kind)
    state = "approved" if document.pdf_file_id is not None else "draft"
    return (
        f"{document.number}-{section}-{document.product_code}-{document.authority}-"
        f"edition-{document.edition}-{state}.pdf"
    )


def hand_out_pdf(session: Session, *, actor: Actor, document_id: int) -> tuple[bytes, str]:
    """The document's PDF (``current_pdf``) and its file name, for whoever may read it; the
    hand-out is recorded in the audit trail as an export (which bytes: their SHA-256)."""
    actor.require(READ, "read submission documents")
    document = get_document(session, document_id)
    content = current_pdf(session, document)
    audit.record_event(
        session,
        actor=actor,
        action="export",
        record=document,
        details={
            "format": "PDF submission document",
            "approved": document.pdf_file_id is not None,
            "sha256": pdf_sha256(content),
        },
    )
    return content, file_name(document)
