"""What the web tests share: SOPs in a given state made through the document services, and
the counts a refused form must leave untouched."""

from __future__ import annotations

import html as html_module
import re

from sqlalchemy import func, select
from tests.support import PASSWORD, name_job_role_in

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import DocumentVersion

SOP_BODY = (
    "1. Purpose\n\nDescribes the cleaning of the tablet press after each batch.\n\n"
    "2. Steps\n\n2.1 Dismantle.\n2.2 Wash.\n2.3 Record."
)


def counts(db: Database) -> tuple[int, int]:
    """(audit entries, e-signatures): what a refusal must not add to."""
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(s.scalar(select(func.count()).select_from(ElectronicSignature)) or 0),
        )


def last_audit_action(db: Database) -> str:
    with unit_of_work(db, write=False) as s:
        return str(s.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1)))


def make_sop(
    db: Database,
    author: Actor,
    *,
    state: str = "draft",
    approver: Actor | None = None,
    title: str = "Cleaning of the tablet press",
) -> tuple[int, int, str]:
    """An SOP whose version 1.0 is in ``state`` (draft, in_review, approved, effective).
    Returns (document id, version id, version number)."""
    with unit_of_work(db) as s:
        version = service.create_document(
            s, actor=author, doc_type="sop", title=title, body=SOP_BODY, area="Production"
        )
        s.flush()
        ids = (version.document_id, version.id, version.number)
        if state != "draft":
            service.transition(s, actor=author, version_id=version.id, name="submit")
        if state in ("approved", "effective"):
            assert approver is not None
            service.transition(
                s, actor=approver, version_id=version.id, name="approve", password=PASSWORD
            )
        if state in ("approved", "effective"):
            # Named at approval: an approved version shows "Make effective" open.
            assert approver is not None
            name_job_role_in(s, approver, version.document_id)
        if state == "effective":
            assert approver is not None
            service.transition(s, actor=approver, version_id=version.id, name="make_effective")
    return ids


def version_status(db: Database, version_id: int) -> str:
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, version_id)
        assert version is not None
        return version.status


def flash_of(html: str) -> str:
    found = re.search(r'data-testid="flash">\s*(.*?)\s*</div>', html, re.S)
    return html_module.unescape(found.group(1)) if found else ""
