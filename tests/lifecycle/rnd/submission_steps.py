"""Steps the submission-document tests share. The cast: rd generates (the author), qa2 reviews,
qa approves; ``rdqa`` holds both the scientist's and QA's role (to show that holding the right
role is not enough to approve one's own document)."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.submissions import service
from pharmaqms.lifecycle.rnd.submissions.models import SubmissionDocument, SubmissionFile

COUNTED = {
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
    "documents": SubmissionDocument,
    "files": SubmissionFile,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def generate(
    db: Database, people: Any, kind: str, product: str, authority: str = "FDA", who: str = "rd"
) -> int:
    with unit_of_work(db) as s:
        document = service.generate_document(
            s, actor=getattr(people, who), kind=kind, product=product, authority=authority
        )
        return document.id


def review(db: Database, people: Any, document_id: int, who: str = "qa2") -> None:
    with unit_of_work(db) as s:
        service.review_document(
            s, actor=getattr(people, who), document_id=document_id, password=PASSWORD
        )


def approve(db: Database, people: Any, document_id: int, who: str = "qa") -> None:
    with unit_of_work(db) as s:
        service.approve_document(
            s, actor=getattr(people, who), document_id=document_id, password=PASSWORD
        )


def pdf_of(db: Database, document_id: int) -> bytes:
    with unit_of_work(db, write=False) as s:
        return service.current_pdf(s, service.get_document(s, document_id))


def status_of(db: Database, document_id: int) -> str:
    with unit_of_work(db, write=False) as s:
        return service.get_document(s, document_id).status
