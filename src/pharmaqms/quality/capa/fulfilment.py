"""CAPA actions fulfilled by records, not by a sentence. An action that says "revise SOP-…"
names the document, and is done when a version of it came into force after the action was
planned; one that says "retrain …" names the document and the job role, and is done when every
active holder of the role has signed "read and understood" on the version in force since the
action was planned. Document control and training tell the CAPA module when that happens
(their listener registries: quality never imports sideways into them), and the action
completes then, with the record that fulfils it as its evidence; completing it by hand is
refused until the record exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.quality.capa.models import ActionStatus, Capa, CapaAction, CapaStatus
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus, DocumentVersion
from pharmaqms.quality.training import service as training
from pharmaqms.quality.training.models import (
    JobRole,
    JobRoleAssignment,
    RequirementStatus,
    TrainingRequirement,
)


def check_links(session: Session, document_id: int | None, job_role_id: int | None) -> None:
    """What an action may name: a document that can still be revised; a job role only with
    the document its holders are retrained on."""
    if job_role_id is not None and document_id is None:
        raise InvalidInput(
            "a retraining names the document the job role is retrained on", field="document_id"
        )
    if document_id is not None:
        document = session.get(ControlledDocument, document_id)
        if document is None:
            raise InvalidInput(f"there is no document with id {document_id}", field="document_id")
        if document.status == DocumentStatus.OBSOLETE:
            raise InvalidInput(f"{document.number} is obsolete", field="document_id")
    if job_role_id is not None and session.get(JobRole, job_role_id) is None:
        raise InvalidInput(f"there is no job role with id {job_role_id}", field="job_role_id")


def _in_force_since(session: Session, document_id: int, since: datetime) -> DocumentVersion | None:
    document = session.get(ControlledDocument, document_id)
    if document is None or document.current_version_id is None:
        return None
    version = session.get(DocumentVersion, document.current_version_id)
    if version is None or version.effective_at is None or version.effective_at <= since:
        return None
    return version


def fulfilment(session: Session, action: CapaAction) -> tuple[str | None, list[str]]:
    """The evidence that fulfils a linked action, or what is still missing."""
    if action.document_id is None:
        return None, []
    document = session.get(ControlledDocument, action.document_id)
    assert document is not None  # a foreign key
    if action.job_role_id is None:
        version = _in_force_since(session, document.id, action.created_at)
        if version is None:
            return None, [
                f"{document.number} has no version made effective since the action was planned"
            ]
        assert version.effective_at is not None
        return f"{version.number} in force since {format_time(version.effective_at)}", []
    role = session.get(JobRole, action.job_role_id)
    assert role is not None
    version = (
        session.get(DocumentVersion, document.current_version_id)
        if document.current_version_id
        else None
    )
    if version is None:
        return None, [f"{document.number} has no version in force to be trained on"]
    holders = list(
        session.scalars(
            select(User)
            .join(JobRoleAssignment, JobRoleAssignment.user_id == User.id)
            .where(
                JobRoleAssignment.job_role_id == role.id,
                JobRoleAssignment.ended_at.is_(None),
                User.is_active.is_(True),
            )
            .order_by(User.full_name)
        ).unique()
    )
    if not holders:
        return None, [f"nobody holds the job role {role.name}"]
    trained = {
        r.user_id: r
        for r in session.scalars(
            select(TrainingRequirement).where(
                TrainingRequirement.version_id == version.id,
                TrainingRequirement.status == RequirementStatus.COMPLETED,
                TrainingRequirement.completed_at > action.created_at,
                TrainingRequirement.user_id.in_([u.id for u in holders]),
            )
        )
    }
    missing = [u.full_name for u in holders if u.id not in trained]
    if missing:
        return None, [f"not yet trained on {version.number}: {', '.join(missing)}"]
    numbers = ", ".join(trained[u.id].number for u in holders)
    return f"{role.name} trained on {version.number} ({numbers})", []


def complete_fulfilled(session: Session, action: CapaAction, evidence: str, actor: Actor) -> None:
    capa = action.capa
    with audit.changes(session, actor=actor, reason="action fulfilled", action="complete"):
        action.status = ActionStatus.DONE.value
        action.completed_at = clock.now()
        action.completed_by_id = actor.user_id
        action.completion_evidence = evidence
    tasks.close_tasks(
        session, capa, actor=actor, outcome=f"done: {evidence[:150]}", kind=action.task_kind
    )


def _open_linked(session: Session, document_id: int) -> list[CapaAction]:
    return list(
        session.scalars(
            select(CapaAction)
            .join(Capa, Capa.id == CapaAction.capa_id)
            .where(
                CapaAction.document_id == document_id,
                CapaAction.status == ActionStatus.OPEN,
                Capa.status == CapaStatus.IMPLEMENTATION,
            )
            .order_by(CapaAction.id)
        )
    )


def complete_what_is_fulfilled(session: Session, document_id: int, actor: Actor) -> None:
    for action in _open_linked(session, document_id):
        evidence, missing = fulfilment(session, action)
        if evidence is not None and not missing:
            complete_fulfilled(session, action, evidence, actor)


def _on_version_in_force(session: Session, version: DocumentVersion, actor: Actor) -> None:
    complete_what_is_fulfilled(session, version.document_id, actor)


def _on_training_completed(
    session: Session, requirement: TrainingRequirement, actor: Actor
) -> None:
    complete_what_is_fulfilled(session, requirement.document_id, actor)


documents.register_in_force_listener("capa_actions", _on_version_in_force)
training.register_completion_listener("capa_actions", _on_training_completed)
