"""The change's exchange with the authority (ICH Q12 §2.5; EU variations, US supplements):
the submission sent (its reference, date and the file) and, for a prior-approval change, the
authority's approval (its reference, date and the scanned letter). A "regulatory submission"
task is fulfilled by the submission record, never by a sentence; a prior-approval change is
implemented only once the approval is on record — until then only the submission task may be
done, and the implementation can't be declared done."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality import common
from pharmaqms.quality.changes.models import (
    ActionKind,
    ActionStatus,
    ChangeRequest,
    ChangeStatus,
    RegulatoryCategory,
    RegulatoryFile,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LETTER_BYTES = MAX_FILE_BYTES
# What a submission or a scanned letter may be, with the bytes it starts with.
FILE_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".tif": ("image/tiff", b""),
    ".tiff": ("image/tiff", b""),
    ".zip": ("application/zip", b"PK\x03\x04"),  # an eCTD sequence
}
REPORTED = (RegulatoryCategory.PRIOR_APPROVAL, RegulatoryCategory.NOTIFICATION)


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
    """Before the authority approved, only the submission to it may be done; a submission
    task is done by its record."""
    if kind == ActionKind.REGULATORY_SUBMISSION:
        if not change.submission_sha256:
            return [
                f"{change.number}: the submission is done when it is recorded (reference, date "
                "and the file sent)"
            ]
        return []
    return authority_approved(change)


def submission_evidence(change: ChangeRequest) -> str:
    return (
        f"submitted {change.submission_reference} on {change.submitted_on:%Y-%m-%d} "
        f"(file SHA-256 {change.submission_sha256[:12]}…)"
    )


def _file(kind: str, filename: str, content: bytes) -> tuple[str, str, str]:
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    suffix = PurePath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        raise InvalidInput(
            f"the {kind} as a PDF, an image or an eCTD zip (.pdf, .png, .jpg, .tif, .zip)",
            field="file" if kind == "submission" else "letter",
        )
    media, magic = FILE_TYPES[suffix]
    if not content or len(content) > MAX_FILE_BYTES or not content.startswith(magic):
        raise InvalidInput(
            f"{name} is not a readable {suffix} file",
            field="file" if kind == "submission" else "letter",
        )
    return name[:255], media, hashlib.sha256(content).hexdigest()


def _store(
    session: Session,
    change: ChangeRequest,
    kind: str,
    name: str,
    media: str,
    sha: str,
    content: bytes,
    actor: Actor,
) -> None:
    session.add(
        RegulatoryFile(
            change_id=change.id,
            kind=kind,
            filename=name,
            media_type=media,
            sha256=sha,
            content=content,
            stored_by_id=actor.user_id,
            stored_at=clock.now(),
        )
    )
    session.flush()


def _dated(value: date, field: str) -> date:
    if value > clock.now().date():
        raise InvalidInput("the date is in the future", field=field)
    return value


def record_submission(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    reference: str,
    submitted_on: date,
    filename: str,
    content: bytes,
) -> ChangeRequest:
    """The submission sent to the authority; its open submission tasks are done by it."""
    from pharmaqms.quality.changes.service import get_change

    actor.require("changes.implement", "record the regulatory submission of changes")
    change = get_change(session, change_id)
    if change.regulatory_category not in REPORTED:
        raise Conflict(
            f"{change.number} is reported as {change.regulatory_category or 'not yet decided'}: "
            "nothing is submitted to the authority before it is implemented"
        )
    common.require_status(
        change,
        (ChangeStatus.APPROVAL, ChangeStatus.IMPLEMENTATION),
        "recording the submission",
    )
    if change.submission_sha256:
        raise Conflict(
            f"{change.number} has its submission on record ({change.submission_reference})"
        )
    ref = common.required_text(reference, "reference", "the submission's reference", max_length=100)
    when = _dated(submitted_on, "submitted_on")
    name, media, sha = _file("submission", filename, content)
    with audit.changes(session, actor=actor, reason=f"submission {ref} of {when:%Y-%m-%d}"):
        _store(session, change, "submission", name, media, sha, content, actor)
        change.submission_reference = ref
        change.submitted_on = when
        change.submission_sha256 = sha
    if change.status == ChangeStatus.IMPLEMENTATION:
        _complete_submission_tasks(session, change, actor)
    return change


def _complete_submission_tasks(session: Session, change: ChangeRequest, actor: Actor) -> None:
    evidence = submission_evidence(change)
    for action in change.actions:
        if action.kind == ActionKind.REGULATORY_SUBMISSION and action.status == ActionStatus.OPEN:
            with audit.changes(session, actor=actor, reason="task fulfilled", action="complete"):
                action.status = ActionStatus.DONE.value
                action.completed_at = clock.now()
                action.completed_by_id = actor.user_id
                action.completion_evidence = evidence
            tasks.close_tasks(
                session, change, actor=actor, outcome=f"done: {evidence}", kind=action.task_kind
            )


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
    if change.submitted_on is None:
        raise Conflict(f"{change.number}: record the submission the authority approved first")
    ref = common.required_text(reference, "reference", "the authority's reference", max_length=100)
    when = _dated(approved_on, "approved_on")
    if when < change.submitted_on:
        raise InvalidInput(
            f"approved before it was submitted ({change.submitted_on:%Y-%m-%d})",
            field="approved_on",
        )
    name, media, sha = _file("letter", filename, content)
    with audit.changes(session, actor=actor, reason=f"authority approval {ref} of {when:%Y-%m-%d}"):
        _store(session, change, "approval", name, media, sha, content, actor)
        change.authority_reference = ref
        change.authority_approved_on = when
        change.authority_letter_sha256 = sha
    return change


def file_of(session: Session, change: ChangeRequest, kind: str) -> RegulatoryFile:
    sha = change.submission_sha256 if kind == "submission" else change.authority_letter_sha256
    found = session.scalars(
        select(RegulatoryFile)
        .where(
            RegulatoryFile.change_id == change.id,
            RegulatoryFile.kind == kind,
            RegulatoryFile.sha256 == sha,
        )
        .order_by(RegulatoryFile.id.desc())
    ).first()
    if found is None or not sha:
        raise NotFound(f"{change.number} has no {kind} file on record")
    if hashlib.sha256(found.content).hexdigest() != found.sha256:
        raise Conflict(f"the {kind} file of {change.number} no longer matches its SHA-256")
    return found


def letter_of(session: Session, change: ChangeRequest) -> RegulatoryFile:
    return file_of(session, change, "approval")
