"""Training requirements: the only code that assigns, completes and cancels them, who holds
which job role, and the daily job that brings recurring training due again.

Hooks document control calls (registered with it by ``document_control``):
``on_version_effective`` (everyone whose curriculum contains the document is assigned
read-and-understood training on the new version) and ``on_document_obsolete``. Gating a step
on training: ``gate.require_current_training``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleRecord,
    TransitionNotAllowed,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentVersion,
)
from pharmaqms.quality.documents.periodic_review import add_months
from pharmaqms.quality.training.models import (
    DEFAULT_DUE_DAYS,
    JobRole,
    JobRoleAssignment,
    QuizAttempt,
    RequirementSource,
    RequirementStatus,
    TrainingQuiz,
    TrainingRequirement,
)
from pharmaqms.quality.training.quiz import Grade, QuizFailed, grade
from pharmaqms.quality.training.status import required_documents
from pharmaqms.quality.training.workflow import TRAINING_REQUIREMENT_WORKFLOW

# A recurring training is assigned this long before the previous one falls due again.
RECURRENCE_NOTICE = timedelta(days=30)


# Modules above waiting for people to be trained (a CAPA action "retrain …") are told here
# when a read and understood is signed.
CompletionListener = Callable[[Session, TrainingRequirement, Actor], None]
_COMPLETION_LISTENERS: dict[str, CompletionListener] = {}


def register_completion_listener(name: str, listener: CompletionListener) -> None:
    _COMPLETION_LISTENERS[name] = listener


def get_requirement(session: Session, requirement_id: int) -> TrainingRequirement:
    requirement = session.get(TrainingRequirement, requirement_id)
    if requirement is None:
        raise NotFound(f"no training requirement with id {requirement_id}")
    return requirement


def requirements_of(
    session: Session, user_id: int, *, statuses: Collection[str] | None = None
) -> list[TrainingRequirement]:
    query = select(TrainingRequirement).where(TrainingRequirement.user_id == user_id)
    if statuses is not None:
        query = query.where(TrainingRequirement.status.in_(list(statuses)))
    return list(session.scalars(query.order_by(TrainingRequirement.due_at, TrainingRequirement.id)))


def quiz_of(session: Session, document_id: int) -> TrainingQuiz | None:
    return session.scalars(
        select(TrainingQuiz).where(TrainingQuiz.document_id == document_id)
    ).one_or_none()


def _version_in_force(session: Session, document: ControlledDocument) -> DocumentVersion:
    if document.status != DocumentStatus.CURRENT or document.current_version_id is None:
        raise Conflict(f"{document.number} has no version in force: there is nothing to train on")
    version = session.get(DocumentVersion, document.current_version_id)
    assert version is not None
    return version


# --- assigning --------------------------------------------------------------------------------


def _assign(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    version: DocumentVersion,
    due_at: datetime,
    source: RequirementSource,
    renewal: bool = False,
    why: str | None = None,
) -> TrainingRequirement | None:
    """Assign training on ``version`` unless the person already has it assigned, or (unless
    this is a renewal) holds a valid training on it. Open training on older versions of the
    document is superseded."""
    now = clock.now()
    existing = session.scalars(
        select(TrainingRequirement).where(
            TrainingRequirement.user_id == user_id,
            TrainingRequirement.document_id == version.document_id,
            TrainingRequirement.status != RequirementStatus.CANCELLED,
        )
    ).all()
    for requirement in existing:
        if requirement.version_id != version.id:
            continue
        if requirement.status == RequirementStatus.ASSIGNED:
            return None
        valid = requirement.expires_at is None or requirement.expires_at > now
        if valid and not renewal:
            return None
    for older in existing:
        if older.status == RequirementStatus.ASSIGNED:
            perform(
                session,
                TRAINING_REQUIREMENT_WORKFLOW,
                older,
                "cancel",
                actor=actor,
                reason=f"superseded by training on {version.number}",
            )
    requirement = TrainingRequirement(
        status=RequirementStatus.ASSIGNED,
        user_id=user_id,
        document_id=version.document_id,
        version_id=version.id,
        version_number=version.number,
        title=version.title,
        read_content_hash=version.content_hash(),
        source=source.value,
        due_at=due_at,
        quiz_required=quiz_of(session, version.document_id) is not None,
    )
    with audit.changes(session, actor=actor, reason=why or f"training assigned ({source.value})"):
        session.add(requirement)
    tasks.open_task(
        session,
        requirement,
        actor=actor,
        kind="training",
        title=f"Read and understand {version.number}: {version.title}",
        user_id=user_id,
        due_at=due_at,
    )
    return requirement


def assign_for_needs(
    session: Session,
    *,
    actor: Actor,
    user_ids: Collection[int] | None = None,
    document_id: int | None = None,
    job_role_id: int | None = None,
    source: RequirementSource,
) -> list[TrainingRequirement]:
    """Assign what curricula require and the person lacks (documents in force only)."""
    needs = required_documents(
        session, user_ids=user_ids, document_id=document_id, job_role_id=job_role_id
    )
    now = clock.now()
    assigned = []
    for user_id, per_document in sorted(needs.items()):
        for doc_id, need in sorted(per_document.items()):
            document = session.get(ControlledDocument, doc_id)
            if document is None or document.status != DocumentStatus.CURRENT:
                continue
            requirement = _assign(
                session,
                actor=actor,
                user_id=user_id,
                version=_version_in_force(session, document),
                due_at=now + timedelta(days=need.due_in_days),
                source=source,
            )
            if requirement is not None:
                assigned.append(requirement)
    return assigned


def on_version_effective(
    session: Session, version: DocumentVersion, *, actor: Actor
) -> list[TrainingRequirement]:
    """A version came into force. To read it: everyone whose curriculum contains the document,
    everyone with open training on an earlier version, and everyone QA trained on it directly
    (they keep being trained on it until QA says otherwise)."""
    assigned = assign_for_needs(
        session, actor=actor, document_id=version.document_id, source=RequirementSource.NEW_VERSION
    )
    covered = {r.user_id for r in assigned} | set(
        required_documents(session, document_id=version.document_id)
    )
    earlier = session.scalars(
        select(TrainingRequirement)
        .join(User, User.id == TrainingRequirement.user_id)
        .where(
            TrainingRequirement.document_id == version.document_id,
            TrainingRequirement.version_id != version.id,
            User.is_active.is_(True),
            (TrainingRequirement.status == RequirementStatus.ASSIGNED)
            | (
                (TrainingRequirement.status == RequirementStatus.COMPLETED)
                & (TrainingRequirement.source == RequirementSource.AD_HOC)
            ),
        )
        .order_by(TrainingRequirement.id)
    ).all()
    for user_id in sorted({r.user_id for r in earlier} - covered):
        direct = any(r.user_id == user_id and r.source == RequirementSource.AD_HOC for r in earlier)
        requirement = _assign(
            session,
            actor=actor,
            user_id=user_id,
            version=version,
            due_at=clock.now() + timedelta(days=DEFAULT_DUE_DAYS),
            source=RequirementSource.AD_HOC if direct else RequirementSource.NEW_VERSION,
        )
        if requirement is not None:
            assigned.append(requirement)
    return assigned


def on_document_obsolete(
    session: Session, document: ControlledDocument, *, actor: Actor
) -> list[TrainingRequirement]:
    cancelled = list(
        session.scalars(
            select(TrainingRequirement).where(
                TrainingRequirement.document_id == document.id,
                TrainingRequirement.status == RequirementStatus.ASSIGNED,
            )
        )
    )
    for requirement in cancelled:
        perform(
            session,
            TRAINING_REQUIREMENT_WORKFLOW,
            requirement,
            "cancel",
            actor=actor,
            reason=f"{document.number} made obsolete",
        )
    return cancelled


def assign_training(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    document_id: int,
    due_in_days: int = DEFAULT_DUE_DAYS,
    reason: str,
) -> TrainingRequirement:
    """QA assigns training outside any curriculum (a new task, a retraining after a CAPA)."""
    actor.require("training.manage", "assign training")
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.is_service_account:
        raise InvalidInput("training is assigned to an active person", field="user_id")
    if not 1 <= due_in_days <= 365:
        raise InvalidInput("the training is due in 1 to 365 days", field="due_in_days")
    if not reason.strip():
        raise InvalidInput("say why the training is assigned", field="reason")
    document = session.get(ControlledDocument, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}")
    version = _version_in_force(session, document)
    requirement = _assign(
        session,
        actor=actor,
        user_id=user_id,
        version=version,
        due_at=clock.now() + timedelta(days=due_in_days),
        source=RequirementSource.AD_HOC,
        why=reason.strip(),
    )
    if requirement is None:
        raise Conflict(
            f"{user.username} already has training on {version.number} assigned or current"
        )
    return requirement


# --- job roles held by people -------------------------------------------------------------


def assign_job_role(
    session: Session, *, actor: Actor, user_id: int, job_role_id: int
) -> tuple[JobRoleAssignment, list[TrainingRequirement]]:
    """The person takes on the job role and is assigned the training it requires."""
    actor.require("training.manage", "assign job roles")
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.is_service_account:
        raise InvalidInput("a job role is held by an active person", field="user_id")
    role = session.get(JobRole, job_role_id)
    if role is None or role.retired_at is not None:
        raise NotFound(f"no active job role with id {job_role_id}")
    held = session.scalars(
        select(JobRoleAssignment).where(
            JobRoleAssignment.user_id == user_id,
            JobRoleAssignment.job_role_id == job_role_id,
            JobRoleAssignment.ended_at.is_(None),
        )
    ).first()
    if held is not None:
        raise Conflict(f"{user.username} already holds the job role {role.name}")
    assignment = JobRoleAssignment(
        user_id=user_id, job_role_id=job_role_id, assigned_at=clock.now()
    )
    with audit.changes(session, actor=actor, reason=f"{user.username} takes on {role.name}"):
        session.add(assignment)
    assigned = assign_for_needs(
        session,
        actor=actor,
        user_ids=[user_id],
        job_role_id=job_role_id,
        source=RequirementSource.JOB_ROLE,
    )
    return assignment, assigned


def end_job_role(
    session: Session, *, actor: Actor, assignment_id: int, reason: str
) -> JobRoleAssignment:
    """The person leaves the job role; open training nothing requires any more is cancelled."""
    actor.require("training.manage", "end job roles")
    assignment = session.get(JobRoleAssignment, assignment_id)
    if assignment is None:
        raise NotFound(f"no job role assignment with id {assignment_id}")
    if assignment.ended_at is not None:
        raise Conflict("the person no longer holds this job role")
    if not reason.strip():
        raise InvalidInput("say why the person leaves the job role", field="reason")
    with audit.changes(session, actor=actor, reason=reason, action="end"):
        assignment.ended_at = clock.now()
    release_unneeded(session, actor=actor, user_ids=[assignment.user_id], reason=reason)
    return assignment


def release_unneeded(
    session: Session, *, actor: Actor, user_ids: Collection[int], reason: str
) -> list[TrainingRequirement]:
    """Cancel open curriculum training that no curriculum requires of the person any more
    (training QA assigned directly stays)."""
    needs = required_documents(session, user_ids=user_ids)
    cancelled = []
    for requirement in session.scalars(
        select(TrainingRequirement).where(
            TrainingRequirement.user_id.in_(list(user_ids)),
            TrainingRequirement.status == RequirementStatus.ASSIGNED,
            TrainingRequirement.source != RequirementSource.AD_HOC,
        )
    ).all():
        if requirement.document_id in needs.get(requirement.user_id, {}):
            continue
        perform(
            session,
            TRAINING_REQUIREMENT_WORKFLOW,
            requirement,
            "cancel",
            actor=actor,
            reason=f"no longer required: {reason}",
        )
        cancelled.append(requirement)
    return cancelled


def job_roles_of(session: Session, user_id: int) -> list[tuple[JobRoleAssignment, JobRole]]:
    return list(
        session.execute(
            select(JobRoleAssignment, JobRole)
            .join(JobRole, JobRole.id == JobRoleAssignment.job_role_id)
            .where(JobRoleAssignment.user_id == user_id, JobRoleAssignment.ended_at.is_(None))
            .order_by(JobRole.name)
        )
    )


# --- completing -------------------------------------------------------------------------------


def _record_attempt(
    session: Session, requirement_id: int, *, actor: Actor, answers: list[int], result: Grade
) -> None:
    verdict = "passed" if result.passed else "failed"
    with audit.changes(
        session, actor=actor, reason=f"quiz {verdict}: {result.score_percent} %", action="quiz"
    ):
        session.add(
            QuizAttempt(
                requirement_id=requirement_id,
                user_id=actor.user_id,
                attempted_at=clock.now(),
                answers=list(answers),
                score_percent=result.score_percent,
                passed=result.passed,
            )
        )


def open_for_reading(
    session: Session, *, actor: Actor, requirement_id: int
) -> tuple[TrainingRequirement, DocumentVersion]:
    """The trainee opens the document to read it: the version their signature will bind to
    (its content hash is the requirement's). The first opening is recorded; signing "Read and
    understood" is refused before it."""
    requirement = get_requirement(session, requirement_id)
    if requirement.user_id != actor.user_id:
        raise PermissionDenied(
            f"{requirement.number} is another person's training: only the trainee opens it "
            "for reading"
        )
    if requirement.status != RequirementStatus.ASSIGNED:
        raise TransitionNotAllowed(f"{requirement.number} is {requirement.status}, not open")
    version = session.get(DocumentVersion, requirement.version_id)
    if version is None:
        raise NotFound(f"the version of {requirement.number} no longer exists")
    if version.content_hash() != requirement.read_content_hash:
        # The text to be read is the text the signature will name; anything else is not it.
        raise Conflict(
            f"{requirement.version_number} no longer reads as when the training was assigned: "
            "ask QA"
        )
    if requirement.opened_at is None:
        with audit.changes(
            session, actor=actor, reason=f"{requirement.version_number} opened for reading"
        ):
            requirement.opened_at = clock.now()
    return requirement, version


def complete_training(
    session: Session,
    *,
    actor: Actor,
    requirement_id: int,
    password: str | None,
    answers: list[int] | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """The trainee signs "Read and understood". Where the document has a quiz, the answers
    are graded first: below the pass mark the attempt is recorded and nothing is signed."""
    requirement = get_requirement(session, requirement_id)
    if requirement.user_id != actor.user_id:
        raise PermissionDenied(
            f"{requirement.number} is another person's training: only the trainee signs "
            "their own read and understood"
        )
    if expected_version is not None and requirement.version != expected_version:
        raise StaleRecord(
            f"{requirement.number} is at version {requirement.version}, not {expected_version}: "
            "reload and try again",
            extra={"current_version": requirement.version},
        )
    if requirement.status != RequirementStatus.ASSIGNED:
        raise TransitionNotAllowed(f"{requirement.number} is {requirement.status}, not open")
    if requirement.opened_at is None:
        raise Conflict(
            f"{requirement.version_number} has not been opened: open its text on the training "
            "page and read it before signing that you read and understood it"
        )
    if requirement.quiz_required and requirement.quiz_passed_at is None:
        quiz = quiz_of(session, requirement.document_id)
        if quiz is None:
            raise Conflict(f"the quiz on {requirement.version_number} is missing: ask QA")
        if answers is None:
            raise InvalidInput(
                f"{requirement.version_number} has a quiz: answer its questions", field="answers"
            )
        result = grade(quiz.questions, quiz.pass_mark_percent, answers)
        if not result.passed:
            error = QuizFailed(
                f"{result.correct} of {result.total} answers correct ({result.score_percent} %); "
                f"the pass mark is {quiz.pass_mark_percent} %. The attempt is recorded: read "
                f"{requirement.version_number} again and retry",
                extra={
                    "score_percent": result.score_percent,
                    "pass_mark_percent": quiz.pass_mark_percent,
                },
            )
            kept = list(answers)
            error.after_rollback.append(
                lambda s: _record_attempt(
                    s, requirement_id, actor=actor, answers=kept, result=result
                )
            )
            raise error
        _record_attempt(session, requirement.id, actor=actor, answers=answers, result=result)
        with audit.changes(session, actor=actor, reason="quiz passed"):
            requirement.quiz_score_percent = result.score_percent
            requirement.quiz_passed_at = clock.now()
    return perform(
        session,
        TRAINING_REQUIREMENT_WORKFLOW,
        requirement,
        "complete",
        actor=actor,
        password=password,
    )


def on_completed(session: Session, requirement: TrainingRequirement, *, actor: Actor) -> None:
    """Signed: record when, and when the training falls due again if it recurs."""
    need = (
        required_documents(
            session, user_ids=[requirement.user_id], document_id=requirement.document_id
        )
        .get(requirement.user_id, {})
        .get(requirement.document_id)
    )
    now = clock.now()
    with audit.changes(session, actor=actor, reason="read and understood"):
        requirement.completed_at = now
        if need is not None and need.recurrence_months:
            requirement.expires_at = add_months(now, need.recurrence_months)
    for _name, listener in sorted(_COMPLETION_LISTENERS.items()):
        listener(session, requirement, actor)


# --- the daily job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingJobResult:
    renewed: list[TrainingRequirement]
    overdue: list[TrainingRequirement]


def open_recurrent_training(session: Session, *, actor: Actor) -> TrainingJobResult:
    """Assign the refresher of every recurring training that falls due again within the
    notice period (due when the previous one runs out), and list what is overdue. Safe to
    run any number of times: a training already renewed is not renewed again."""
    actor.require("training.manage", "run the training job")
    now = clock.now()
    expiring = session.scalars(
        select(TrainingRequirement)
        .where(
            TrainingRequirement.status == RequirementStatus.COMPLETED,
            TrainingRequirement.expires_at.is_not(None),
            TrainingRequirement.expires_at <= now + RECURRENCE_NOTICE,
        )
        .order_by(TrainingRequirement.expires_at, TrainingRequirement.id)
    ).all()
    renewed = []
    for previous in expiring:
        newer = session.scalars(
            select(TrainingRequirement.id).where(
                TrainingRequirement.user_id == previous.user_id,
                TrainingRequirement.document_id == previous.document_id,
                TrainingRequirement.id > previous.id,
                TrainingRequirement.status != RequirementStatus.CANCELLED,
            )
        ).first()
        if newer is not None:
            continue
        needs = required_documents(
            session, user_ids=[previous.user_id], document_id=previous.document_id
        )
        document = session.get(ControlledDocument, previous.document_id)
        if not needs or document is None or document.status != DocumentStatus.CURRENT:
            continue
        assert previous.expires_at is not None
        requirement = _assign(
            session,
            actor=actor,
            user_id=previous.user_id,
            version=_version_in_force(session, document),
            due_at=previous.expires_at,
            source=RequirementSource.RECURRENCE,
            renewal=True,
        )
        if requirement is not None:
            renewed.append(requirement)
    return TrainingJobResult(renewed, overdue_training(session))


def overdue_training(session: Session) -> list[TrainingRequirement]:
    return list(
        session.scalars(
            select(TrainingRequirement)
            .where(
                TrainingRequirement.status == RequirementStatus.ASSIGNED,
                TrainingRequirement.due_at < clock.now(),
            )
            .order_by(TrainingRequirement.due_at, TrainingRequirement.id)
        )
    )
