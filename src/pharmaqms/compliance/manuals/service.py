"""Loading the shipped manuals as controlled documents, through document control.

On a real installation a manual arrives as a **draft** (new) or a **revision** (the release
changed its text) for the site to review and approve; a manual whose text in force — or in
an open draft — already equals the shipped one is left alone, so loading twice changes
nothing. The demonstration also approves and makes them effective (``approve_as``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.compliance.manuals.files import Manual
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentVersion,
    VersionStatus,
)
from pharmaqms.quality.documents.training_rules import needs_training
from pharmaqms.quality.training.curricula import name_in_curriculum

OPEN = (VersionStatus.DRAFT.value, VersionStatus.IN_REVIEW.value, VersionStatus.APPROVED.value)


@dataclass(frozen=True)
class Loaded:
    manual: Manual
    number: str
    outcome: str  # "draft created", "revision opened", "unchanged", "revision already open"
    version_id: int | None = None


@dataclass(frozen=True)
class Approval:
    """Who approves and makes the loaded versions effective (the demonstration's QA), and the
    job role and curriculum that are trained on each manual (a manual that needs training
    comes into force only once a curriculum names it: ``documents.training_rules``)."""

    approver: Actor
    password: str
    job_role: str = "QA specialist"
    curriculum: str = "System manuals"


def _document(session: Session, title: str) -> ControlledDocument | None:
    return session.scalars(
        select(ControlledDocument)
        .where(
            ControlledDocument.title == title,
            ControlledDocument.status != DocumentStatus.OBSOLETE.value,
        )
        .order_by(ControlledDocument.id)
    ).first()


def _versions(session: Session, document_id: int) -> list[DocumentVersion]:
    return list(
        session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.id)
        )
    )


def _load_one(session: Session, manual: Manual, actor: Actor) -> Loaded:
    document = _document(session, manual.title)
    if document is None:
        version = documents.create_document(
            session,
            actor=actor,
            doc_type=manual.doc_type,
            title=manual.title,
            body=manual.body,
            area=manual.area,
            review_period_months=manual.review_months,
        )
        created = session.get(ControlledDocument, version.document_id)
        assert created is not None
        return Loaded(manual, created.number, "draft created", version.id)
    versions = _versions(session, document.id)
    in_force = next((v for v in versions if v.id == document.current_version_id), None)
    open_ones = [v for v in versions if v.status in OPEN]
    if any(v.body == manual.body for v in open_ones) or (
        in_force is not None and in_force.body == manual.body and not open_ones
    ):
        return Loaded(manual, document.number, "unchanged")
    if open_ones:
        # Someone is already revising it: the shipped text waits for that revision to end.
        return Loaded(manual, document.number, "revision already open", open_ones[-1].id)
    revision = documents.revise(
        session,
        actor=actor,
        document_id=document.id,
        major=False,
        change_summary=f"Text of {manual.file} as shipped with this release of pharmaqms.",
    )
    documents.edit_draft(
        session,
        actor=actor,
        version_id=revision.id,
        expected_version=revision.version,
        body=manual.body,
        reason="shipped manual updated",
    )
    return Loaded(manual, document.number, "revision opened", revision.id)


def _make_effective(session: Session, version_id: int, author: Actor, approval: Approval) -> None:
    documents.transition(session, actor=author, version_id=version_id, name="submit")
    documents.transition(
        session,
        actor=approval.approver,
        version_id=version_id,
        name="approve",
        password=approval.password,
        comment="shipped manual reviewed for this installation",
    )
    version = documents.get_version(session, version_id)
    if needs_training(version.document.doc_type):
        name_in_curriculum(
            session,
            actor=approval.approver,
            job_role=approval.job_role,
            curriculum=approval.curriculum,
            document_id=version.document_id,
        )
    documents.transition(
        session, actor=approval.approver, version_id=version_id, name="make_effective"
    )


def load_manuals(
    session: Session,
    manuals: list[Manual],
    *,
    actor: Actor,
    approval: Approval | None = None,
) -> list[Loaded]:
    """Each manual as a draft or revision authored by ``actor``; with ``approval``, submitted,
    approved and made effective at once (the demonstration only: a site reviews its own)."""
    actor.require("documents.author", "load the shipped manuals as documents")
    loaded = []
    for manual in manuals:
        result = _load_one(session, manual, actor)
        if approval is not None and result.outcome in ("draft created", "revision opened"):
            assert result.version_id is not None
            _make_effective(session, result.version_id, actor, approval)
        loaded.append(result)
    return loaded


def shipped_status(session: Session, manuals: list[Manual]) -> list[tuple[Manual, str, str]]:
    """(manual, document number or "—", whether the text in force equals the shipped one)."""
    found = []
    for manual in manuals:
        document = _document(session, manual.title)
        if document is None:
            found.append((manual, "—", "not loaded"))
            continue
        in_force = session.get(DocumentVersion, document.current_version_id or 0)
        if in_force is None:
            state = "no version in force yet"
        elif in_force.body == manual.body:
            state = f"in force as shipped (v{in_force.major}.{in_force.minor})"
        else:
            state = f"in force v{in_force.major}.{in_force.minor} differs from the shipped text"
        found.append((manual, document.number, state))
    return found
