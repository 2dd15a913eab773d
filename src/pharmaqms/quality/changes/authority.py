"""The authority's approval of a prior-approval change (ICH Q12 §2.5; EU type II variation,
US prior approval supplement): its reference, the date it was granted and the scanned letter,
recorded by QA before the change is implemented. Until then only the submission itself may be
done of the implementation tasks, and the implementation can't be declared done."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality import common
from pharmaqms.quality.changes.models import (
    ActionKind,
    AuthorityLetter,
    ChangeRequest,
    ChangeStatus,
    RegulatoryCategory,
)

MAX_LETTER_BYTES = 20 * 1024 * 1024
LETTER_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".tif": ("image/tiff", b""),
    ".tiff": ("image/tiff", b""),
}


def needs_authority(change: Any) -> bool:
    return bool(change.regulatory_category == RegulatoryCategory.PRIOR_APPROVAL)


def authority_approved(change: Any) -> list[str]:
    """Guard of ``complete_implementation``: a prior-approval change is implemented only
    with the authority's approval on record."""
    if needs_authority(change) and change.authority_approved_on is None:
        return [
            f"{change.audit_label()} needs the authority's prior approval: record its "
            "reference, date and letter first"
        ]
    return []


def may_implement_task(change: ChangeRequest, kind: str) -> list[str]:
    """Before the authority approved, only the submission to it may be done."""
    if kind == ActionKind.REGULATORY_SUBMISSION:
        return []
    return authority_approved(change)


def record_authority_approval(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    reference: str,
    approved_on: date,
    filename: str,
    content: bytes,
) -> ChangeRequest:
    from pharmaqms.quality.changes.service import get_change

    actor.require("changes.assess", "record the authority's approval of changes")
    change = get_change(session, change_id)
    if not needs_authority(change):
        raise Conflict(
            f"{change.number} is reported as {change.regulatory_category or 'not yet decided'}: "
            "only a prior-approval change waits for the authority's approval"
        )
    common.require_status(
        change,
        (ChangeStatus.APPROVAL, ChangeStatus.IMPLEMENTATION),
        "recording the authority's approval",
    )
    if change.authority_approved_on is not None:
        raise Conflict(
            f"{change.number} has the authority's approval on record already "
            f"({change.authority_reference})"
        )
    ref = common.required_text(reference, "reference", "the authority's reference", max_length=100)
    if approved_on > clock.now().date():
        raise InvalidInput("the approval date is in the future", field="approved_on")
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    suffix = PurePath(name).suffix.lower()
    if suffix not in LETTER_TYPES:
        raise InvalidInput(
            "the authority's letter as a scanned PDF or image (.pdf, .png, .jpg, .tif)",
            field="letter",
        )
    media, magic = LETTER_TYPES[suffix]
    if not content or len(content) > MAX_LETTER_BYTES or not content.startswith(magic):
        raise InvalidInput(f"{name} is not a readable {suffix} file", field="letter")
    sha = hashlib.sha256(content).hexdigest()
    with audit.changes(
        session, actor=actor, reason=f"authority approval {ref} of {approved_on:%Y-%m-%d}"
    ):
        session.add(
            AuthorityLetter(
                change_id=change.id,
                filename=name[:255],
                media_type=media,
                sha256=sha,
                content=content,
                stored_by_id=actor.user_id,
                stored_at=clock.now(),
            )
        )
        session.flush()
        change.authority_reference = ref
        change.authority_approved_on = approved_on
        change.authority_letter_sha256 = sha
    return change


def letter_of(session: Session, change: ChangeRequest) -> AuthorityLetter:
    letter = session.scalars(
        select(AuthorityLetter)
        .where(
            AuthorityLetter.change_id == change.id,
            AuthorityLetter.sha256 == change.authority_letter_sha256,
        )
        .order_by(AuthorityLetter.id.desc())
    ).first()
    if letter is None or not change.authority_letter_sha256:
        raise NotFound(f"{change.number} has no authority letter on record")
    if hashlib.sha256(letter.content).hexdigest() != letter.sha256:
        raise Conflict(f"the letter of {change.number} no longer matches its SHA-256")
    return letter
