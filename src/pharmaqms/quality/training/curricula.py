"""QA's training master data: job roles, their curricula, the documents in each curriculum,
and the quizzes on documents. Changing a curriculum changes what people must be trained on,
so adding a document assigns the training at once and removing one releases it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus
from pharmaqms.quality.training.models import (
    DEFAULT_DUE_DAYS,
    Curriculum,
    CurriculumItem,
    JobRole,
    JobRoleAssignment,
    RequirementSource,
    RequirementStatus,
    TrainingQuiz,
    TrainingRequirement,
)
from pharmaqms.quality.training.quiz import check_quiz
from pharmaqms.quality.training.service import assign_for_needs, release_unneeded


def _name(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} needs a name", field=field)
    if len(value) > 200:
        raise InvalidInput(f"the name of {what} is longer than 200 characters", field=field)
    return value


def get_job_role(session: Session, job_role_id: int) -> JobRole:
    role = session.get(JobRole, job_role_id)
    if role is None:
        raise NotFound(f"no job role with id {job_role_id}")
    return role


def get_curriculum(session: Session, curriculum_id: int) -> Curriculum:
    curriculum = session.get(Curriculum, curriculum_id)
    if curriculum is None:
        raise NotFound(f"no curriculum with id {curriculum_id}")
    return curriculum


def list_job_roles(session: Session) -> list[JobRole]:
    return list(session.scalars(select(JobRole).order_by(JobRole.name)))


def team_job_roles(session: Session, actor: Actor) -> list[JobRole]:
    """The job roles of a person's team: every job role for whoever manages training (QA's
    view of the site), otherwise the job roles in the areas of the person's own current job
    roles (a production supervisor sees production's job roles)."""
    if actor.can("training.manage"):
        return list_job_roles(session)
    areas = select(JobRole.area).where(
        JobRole.id.in_(
            select(JobRoleAssignment.job_role_id).where(
                JobRoleAssignment.user_id == actor.user_id, JobRoleAssignment.ended_at.is_(None)
            )
        )
    )
    in_areas = select(JobRole).where(JobRole.area.in_(areas)).order_by(JobRole.name)
    return list(session.scalars(in_areas))


def curricula_of(session: Session, job_role_id: int) -> list[Curriculum]:
    return list(
        session.scalars(
            select(Curriculum)
            .where(Curriculum.job_role_id == job_role_id, Curriculum.retired_at.is_(None))
            .order_by(Curriculum.name)
        )
    )


def items_of(
    session: Session, curriculum_id: int
) -> list[tuple[CurriculumItem, ControlledDocument]]:
    return list(
        session.execute(
            select(CurriculumItem, ControlledDocument)
            .join(ControlledDocument, ControlledDocument.id == CurriculumItem.document_id)
            .where(
                CurriculumItem.curriculum_id == curriculum_id,
                CurriculumItem.removed_at.is_(None),
            )
            .order_by(ControlledDocument.number)
        )
    )


def holders_of(session: Session, job_role_id: int) -> list[JobRoleAssignment]:
    return list(
        session.scalars(
            select(JobRoleAssignment)
            .where(
                JobRoleAssignment.job_role_id == job_role_id,
                JobRoleAssignment.ended_at.is_(None),
            )
            .order_by(JobRoleAssignment.assigned_at, JobRoleAssignment.id)
        )
    )


def create_job_role(
    session: Session, *, actor: Actor, name: str, description: str = "", area: str = ""
) -> JobRole:
    actor.require("training.manage", "define job roles")
    name = _name(name, "name", "a job role")
    if session.scalars(select(JobRole).where(JobRole.name == name)).first() is not None:
        raise Conflict(f"a job role {name!r} exists already", field="name")
    role = JobRole(name=name, description=description.strip(), area=area.strip())
    with audit.changes(session, actor=actor, reason="job role defined"):
        session.add(role)
    return role


def create_curriculum(
    session: Session, *, actor: Actor, job_role_id: int, name: str, description: str = ""
) -> Curriculum:
    actor.require("training.manage", "define curricula")
    role = get_job_role(session, job_role_id)
    if role.retired_at is not None:
        raise Conflict(f"the job role {role.name} is retired")
    name = _name(name, "name", "a curriculum")
    taken = session.scalars(
        select(Curriculum).where(Curriculum.job_role_id == role.id, Curriculum.name == name)
    ).first()
    if taken is not None:
        raise Conflict(f"{role.name} has a curriculum {name!r} already", field="name")
    curriculum = Curriculum(job_role_id=role.id, name=name, description=description.strip())
    with audit.changes(session, actor=actor, reason=f"curriculum of {role.name} defined"):
        session.add(curriculum)
    return curriculum


def add_to_curriculum(
    session: Session,
    *,
    actor: Actor,
    curriculum_id: int,
    document_id: int,
    due_in_days: int = DEFAULT_DUE_DAYS,
    recurrence_months: int | None = None,
    reason: str | None = None,
) -> tuple[CurriculumItem, list[TrainingRequirement]]:
    """The document joins the curriculum; everyone holding the job role who is not trained
    on its version in force is assigned the training now."""
    actor.require("training.manage", "change curricula")
    curriculum = get_curriculum(session, curriculum_id)
    if curriculum.retired_at is not None:
        raise Conflict(f"the curriculum {curriculum.name} is retired")
    document = session.get(ControlledDocument, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}")
    if document.status == DocumentStatus.OBSOLETE:
        raise Conflict(f"{document.number} is obsolete: nobody is trained on it any more")
    if not 1 <= due_in_days <= 365:
        raise InvalidInput("new versions are read within 1 to 365 days", field="due_in_days")
    if recurrence_months is not None and not 1 <= recurrence_months <= 120:
        raise InvalidInput(
            "a training recurs every 1 to 120 months (or not at all)", field="recurrence_months"
        )
    item = session.scalars(
        select(CurriculumItem).where(
            CurriculumItem.curriculum_id == curriculum.id,
            CurriculumItem.document_id == document.id,
        )
    ).one_or_none()
    if item is not None and item.removed_at is None:
        raise Conflict(f"{document.number} is in the curriculum {curriculum.name} already")
    why = (reason or "").strip() or f"{document.number} added to {curriculum.name}"
    with audit.changes(session, actor=actor, reason=why):
        if item is None:
            item = CurriculumItem(curriculum_id=curriculum.id, document_id=document.id)
            session.add(item)
        item.removed_at = None
        item.due_in_days = due_in_days
        item.recurrence_months = recurrence_months
    assigned = assign_for_needs(
        session,
        actor=actor,
        document_id=document.id,
        job_role_id=curriculum.job_role_id,
        source=RequirementSource.CURRICULUM,
    )
    return item, assigned


def remove_from_curriculum(
    session: Session, *, actor: Actor, item_id: int, reason: str
) -> CurriculumItem:
    actor.require("training.manage", "change curricula")
    item = session.get(CurriculumItem, item_id)
    if item is None:
        raise NotFound(f"no curriculum item with id {item_id}")
    if item.removed_at is not None:
        raise Conflict("the document was removed from the curriculum already")
    if not reason.strip():
        raise InvalidInput("say why the document leaves the curriculum", field="reason")
    with audit.changes(session, actor=actor, reason=reason, action="remove"):
        item.removed_at = clock.now()
    curriculum = get_curriculum(session, item.curriculum_id)
    holders = [a.user_id for a in holders_of(session, curriculum.job_role_id)]
    if holders:
        release_unneeded(session, actor=actor, user_ids=holders, reason=reason)
    return item


def set_quiz(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    questions: list[dict[str, Any]],
    pass_mark_percent: int,
    reason: str | None = None,
) -> TrainingQuiz:
    """Write or replace the quiz on a document. Open training on it that has not passed a
    quiz yet now needs this one."""
    actor.require("training.manage", "write quizzes")
    document = session.get(ControlledDocument, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}")
    clean = check_quiz(questions, pass_mark_percent)
    quiz = session.scalars(
        select(TrainingQuiz).where(TrainingQuiz.document_id == document_id)
    ).one_or_none()
    why = (reason or "").strip() or f"quiz on {document.number}"
    with audit.changes(session, actor=actor, reason=why):
        if quiz is None:
            quiz = TrainingQuiz(document_id=document_id, questions=clean, pass_mark_percent=0)
            session.add(quiz)
        quiz.questions = clean
        quiz.pass_mark_percent = pass_mark_percent
        for requirement in session.scalars(
            select(TrainingRequirement).where(
                TrainingRequirement.document_id == document_id,
                TrainingRequirement.status == RequirementStatus.ASSIGNED,
                TrainingRequirement.quiz_passed_at.is_(None),
            )
        ):
            requirement.quiz_required = True
    return quiz


def name_in_curriculum(
    session: Session,
    *,
    actor: Actor,
    job_role: str,
    curriculum: str,
    document_id: int,
    area: str = "",
    reason: str | None = None,
) -> CurriculumItem:
    """Name the job role a document applies to, by names: the job role and its curriculum are
    defined if the site has none of that name yet, and the document joins the curriculum
    (unless it is in it already). What a document's author does before its first version
    comes into force (``documents.training_rules``)."""
    actor.require("training.manage", "change curricula")
    role = session.scalars(select(JobRole).where(JobRole.name == job_role.strip())).first()
    if role is None:
        role = create_job_role(session, actor=actor, name=job_role, area=area)
    found = next((c for c in curricula_of(session, role.id) if c.name == curriculum.strip()), None)
    if found is None:
        found = create_curriculum(session, actor=actor, job_role_id=role.id, name=curriculum)
    present = next(
        (item for item, document in items_of(session, found.id) if document.id == document_id),
        None,
    )
    if present is not None:
        return present
    item, _assigned = add_to_curriculum(
        session, actor=actor, curriculum_id=found.id, document_id=document_id, reason=reason
    )
    return item
