"""API shapes of submission documents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.lifecycle.rnd.http import PREFIX
from pharmaqms.lifecycle.rnd.submissions.models import SubmissionDocument
from pharmaqms.quality.schemas import signatures_out


class GenerateIn(Strict):
    kind: Literal["stability_summary", "process_development", "batch_analyses"] = Field(
        description="stability_summary (3.2.P.8), process_development (3.2.P.2), "
        "batch_analyses (3.2.P.5.4)"
    )
    product: str = Field(min_length=1, max_length=40, description="the product code")
    authority: Literal["NMPA", "FDA", "EMA"] = Field(description="named on the cover")


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)
    expected_version: int = Field(description="the version of the document you read")
    comment: str = Field(default="", max_length=4000)


class ReturnIn(Strict):
    reason: str = Field(min_length=1, max_length=4000)
    expected_version: int | None = None


class DocumentRowOut(BaseModel):
    id: int
    number: str
    status: str
    kind: str
    ctd_section: str
    product_code: str
    authority: str
    edition: int
    content_sha256: str
    draft_pdf_sha256: str
    pdf_sha256: str


class DocumentOut(DocumentRowOut):
    version: int
    product_name: str
    pdf_url: str
    content: dict[str, Any] = Field(
        description="the frozen content: product, authority, data_cut_off, sources and "
        "sections (title, basis, text, tables of heading, columns and rows, charts, and empty: "
        "the sentence saying the section had no data, else null)"
    )
    signatures: list[SignatureOut]


def row_out(document: SubmissionDocument) -> DocumentRowOut:
    return DocumentRowOut(
        id=document.id,
        number=document.number,
        status=document.status,
        kind=document.kind,
        ctd_section=str(document.content.get("ctd_section", "")),
        product_code=document.product_code,
        authority=document.authority,
        edition=document.edition,
        content_sha256=document.content_sha256,
        draft_pdf_sha256=document.draft_pdf_sha256,
        pdf_sha256=document.pdf_sha256,
    )


def document_out(session: Session, document: SubmissionDocument) -> DocumentOut:
    return DocumentOut(
        **row_out(document).model_dump(),
        version=document.version,
        product_name=document.product_name,
        pdf_url=f"{PREFIX}/submissions/{document.id}/pdf",
        content=document.content,
        signatures=signatures_out(session, document),
    )
