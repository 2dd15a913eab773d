"""Competence verbs: QA's qualification requirements of job roles, granting and revoking
authorisations, and recording assessments (a quiz the person takes, a practice an observer
watches). Services write; the caller commits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, SegregationOfDuties
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.kernel.workflow import perform
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.documents.periodic_review import add_months
from pharmaqms.quality.training.competence.models import (
    ASSESSMENT_KINDS,
    AssessmentStatus,
    Authorisation,
    AuthorisationFile,
    AuthorisationKind,
    AuthorisationStatus,
    CompetenceAssessment,
    QualificationRequirement,
    RequirementKind,
)
from pharmaqms.quality.training.competence.rules import kind_label
from pharmaqms.quality.training.competence.workflow import (
    ASSESSMENT_WORKFLOW,
    AUTHORISATION_WORKFLOW,
)
from pharmaqms.quality.training.models import JobRole, JobRoleAssignment
from pharmaqms.quality.training.quiz import grade
from pharmaqms.quality.training.service import quiz_of

MAX_BASIS_BYTES = 10 * 1024 * 1024
MAX_VALID_MONTHS = 120


def _person(session: Session, user_id: int, field: str = "user_id") -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.is_service_account:
        raise InvalidInput("choose an active person", field=field)
    return user


# --- what job roles require ------------------------------------------------------------------


def add_qualification_requirement(
    session: Session,
    *,
    actor: Actor,
    job_role_id: int,
    kind: str,
    title: str,
    reason: str,
    document_id: int | None = None,
    authorisation_kind: str | None = None,
    valid_months: int | None = None,
) -> QualificationRequirement:
    """From now on, holders of the job role are qualified only with this as well."""
    actor.require("training.manage", "define what job roles require")
    role = session.get(JobRole, job_role_id)
    if role is None or role.retired_at is not None:
        raise NotFound(f"no job role in use with id {job_role_id}")
    if kind not in {k.value for k in RequirementKind}:
        raise InvalidInput(
            f"kind is one of: {', '.join(k.value for k in RequirementKind)}", field="kind"
        )
    if not title.strip():
        raise InvalidInput("name the requirement", field="title")
    if not reason.strip():
        raise InvalidInput("say why the job role requires it", field="reason")
    if valid_months is not None and not 1 <= valid_months <= MAX_VALID_MONTHS:
        raise InvalidInput(
            f"re-assessment is every 1 to {MAX_VALID_MONTHS} months", field="valid_months"
        )
    if kind == RequirementKind.AUTHORISATION:
        if authorisation_kind not in {k.value for k in AuthorisationKind}:
            raise InvalidInput(
                "an authorisation requirement names the kind of authorisation: "
                + ", ".join(k.value for k in AuthorisationKind),
                field="authorisation_kind",
            )
        document_id = valid_months = None
    else:
        authorisation_kind = None
    if kind == RequirementKind.QUIZ:
        if document_id is None or quiz_of(session, document_id) is None:
            raise InvalidInput(
                "a quiz assessment names a document that has a quiz", field="document_id"
            )
    elif document_id is not None and session.get(ControlledDocument, document_id) is None:
        raise NotFound(f"no document with id {document_id}")
    requirement = QualificationRequirement(
        job_role_id=role.id,
        kind=kind,
        title=title.strip(),
        document_id=document_id,
        authorisation_kind=authorisation_kind,
        valid_months=valid_months,
    )
    with audit.changes(session, actor=actor, reason=reason.strip()):
        session.add(requirement)
    return requirement


def retire_qualification_requirement(
    session: Session, *, actor: Actor, requirement_id: int, reason: str
) -> QualificationRequirement:
    actor.require("training.manage", "define what job roles require")
    requirement = get_requirement(session, requirement_id)
    if requirement.retired_at is not None:
        raise Conflict(f"{requirement.title} is retired already")
    if not reason.strip():
        raise InvalidInput("say why the job role no longer requires it", field="reason")
    with audit.changes(session, actor=actor, reason=reason.strip(), action="retire"):
        requirement.retired_at = clock.now()
    return requirement


def get_requirement(session: Session, requirement_id: int) -> QualificationRequirement:
    requirement = session.get(QualificationRequirement, requirement_id)
    if requirement is None:
        raise NotFound(f"no qualification requirement with id {requirement_id}")
    return requirement


# --- authorisations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BasisFile:
    filename: str
    media_type: str
    content: bytes


def _store_basis(session: Session, basis_file: BasisFile) -> AuthorisationFile:
    if not basis_file.content:
        raise InvalidInput("the basis document is empty", field="basis_file")
    if len(basis_file.content) > MAX_BASIS_BYTES:
        raise InvalidInput(
            f"the basis document is larger than {MAX_BASIS_BYTES // (1024 * 1024)} MB",
            field="basis_file",
        )
    name = basis_file.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    stored = AuthorisationFile(
        sha256=hashlib.sha256(basis_file.content).hexdigest(),
        filename=name or "basis",
        media_type=(basis_file.media_type or "application/octet-stream")[:100],
        content=basis_file.content,
        stored_at=clock.now(),
    )
    session.add(stored)
    session.flush()
    return stored


def grant_authorisation(
    session: Session,
    *,
    actor: Actor,
    password: str | None,
    user_id: int,
    kind: str,
    basis: str,
    effective_from: datetime,
    effective_to: datetime | None = None,
    scope: str = "",
    basis_file: BasisFile | None = None,
    comment: str | None = None,
) -> Authorisation:
    """The head of QA authorises a person for a duty, signed "Approved". The effective start
    may lie in the past (a nomination made before it was entered here, read from its letter);
    the basis document is kept exactly as uploaded, with its SHA-256 in the signed content."""
    actor.require("training.authorise", "grant authorisations")
    person = _person(session, user_id)
    if person.id == actor.user_id:
        raise SegregationOfDuties(
            f"{actor.username} may not authorise themselves: another person of QA grants it"
        )
    if kind not in {k.value for k in AuthorisationKind}:
        raise InvalidInput(
            f"kind is one of: {', '.join(k.value for k in AuthorisationKind)}", field="kind"
        )
    if not basis.strip():
        raise InvalidInput(
            "state the basis (eligibility, nomination letter, decision)", field="basis"
        )
    if effective_from.tzinfo is None or (effective_to is not None and effective_to.tzinfo is None):
        raise InvalidInput("give the effective dates with their time zone", field="effective_from")
    if effective_to is not None and effective_to <= effective_from:
        raise InvalidInput("the authorisation ends after it starts", field="effective_to")
    if effective_to is not None and effective_to <= clock.now():
        raise InvalidInput("the authorisation would be over already", field="effective_to")
    with audit.changes(session, actor=actor, reason=f"{kind_label(kind)}: {person.username}"):
        # The basis file is sealed into the audit chain with the authorisation that cites it.
        stored = _store_basis(session, basis_file) if basis_file is not None else None
        authorisation = Authorisation(
            status=AuthorisationStatus.PROPOSED.value,
            user_id=person.id,
            kind=kind,
            scope=scope.strip(),
            basis=basis.strip(),
            basis_file_id=stored.id if stored else None,
            basis_filename=stored.filename if stored else "",
            basis_sha256=stored.sha256 if stored else "",
            effective_from=effective_from,
            effective_to=effective_to,
        )
        session.add(authorisation)
    perform(
        session,
        AUTHORISATION_WORKFLOW,
        authorisation,
        "grant",
        actor=actor,
        password=password,
        comment=comment,
    )
    with audit.changes(session, actor=actor, reason="granted"):
        authorisation.granted_by_id = actor.user_id
        authorisation.granted_at = clock.now()
    return authorisation


def revoke_authorisation(
    session: Session,
    *,
    actor: Actor,
    password: str | None,
    authorisation_id: int,
    reason: str,
) -> Authorisation:
    """Ends the authorisation now, signed "Retired" with the reason (a QP who left, a
    nomination withdrawn from the manufacturing authorisation)."""
    actor.require("training.authorise", "revoke authorisations")
    authorisation = get_authorisation(session, authorisation_id)
    if authorisation.status != AuthorisationStatus.GRANTED:
        raise Conflict(f"{authorisation.number} is {authorisation.status}, not granted")
    if not reason.strip():
        raise InvalidInput("say why the authorisation is revoked", field="reason")
    with audit.changes(session, actor=actor, reason=reason.strip()):
        authorisation.revocation_reason = reason.strip()
        authorisation.revoked_at = clock.now()
    perform(
        session,
        AUTHORISATION_WORKFLOW,
        authorisation,
        "revoke",
        actor=actor,
        password=password,
        reason=reason,
    )
    return authorisation


def get_authorisation(session: Session, authorisation_id: int) -> Authorisation:
    authorisation = session.get(Authorisation, authorisation_id)
    if authorisation is None:
        raise NotFound(f"no authorisation with id {authorisation_id}")
    return authorisation


def basis_file_of(session: Session, authorisation: Authorisation) -> AuthorisationFile:
    if authorisation.basis_file_id is None:
        raise NotFound(f"{authorisation.number} has no basis document")
    stored = session.get(AuthorisationFile, authorisation.basis_file_id)
    assert stored is not None  # a foreign key
    return stored


# --- assessments -------------------------------------------------------------------------------


def _holds(session: Session, user_id: int, job_role_id: int) -> bool:
    return (
        session.scalars(
            select(JobRoleAssignment.id).where(
                JobRoleAssignment.user_id == user_id,
                JobRoleAssignment.job_role_id == job_role_id,
                JobRoleAssignment.ended_at.is_(None),
            )
        ).first()
        is not None
    )


def _assessable(
    session: Session, user_id: int, requirement_id: int, kind: str
) -> QualificationRequirement:
    requirement = get_requirement(session, requirement_id)
    if requirement.retired_at is not None:
        raise Conflict(f"{requirement.title} is no longer required")
    if requirement.kind not in ASSESSMENT_KINDS:
        raise InvalidInput(f"{requirement.title} is not assessed", field="requirement_id")
    if requirement.kind != kind:
        raise InvalidInput(
            f"{requirement.title} is assessed by {requirement.kind.replace('_', ' ')}",
            field="requirement_id",
        )
    if not _holds(session, user_id, requirement.job_role_id):
        role = session.get(JobRole, requirement.job_role_id)
        name = role.name if role else str(requirement.job_role_id)
        raise Conflict(f"the person does not hold the job role {name}")
    return requirement


def _valid_until(
    requirement: QualificationRequirement, at: datetime, passed: bool
) -> datetime | None:
    if not passed or requirement.valid_months is None:
        return None
    return add_months(at, requirement.valid_months)


def take_quiz_assessment(
    session: Session,
    *,
    actor: Actor,
    password: str | None,
    requirement_id: int,
    answers: list[int],
) -> CompetenceAssessment:
    """The person answers the quiz of the requirement's document and signs the result
    ("Performed"), passed or not: a failed attempt is part of the record and of the pass
    rate, and the person may try again."""
    requirement = _assessable(session, actor.user_id, requirement_id, RequirementKind.QUIZ.value)
    assert requirement.document_id is not None  # a quiz requirement names its document
    quiz = quiz_of(session, requirement.document_id)
    if quiz is None:
        raise Conflict(f"the quiz of {requirement.title} is missing: ask QA")
    result = grade(quiz.questions, quiz.pass_mark_percent, answers)
    now = clock.now()
    assessment = CompetenceAssessment(
        status=AssessmentStatus.RECORDED.value,
        user_id=actor.user_id,
        requirement_id=requirement.id,
        job_role_id=requirement.job_role_id,
        kind=requirement.kind,
        title=requirement.title,
        assessed_at=now,
        passed=result.passed,
        score_percent=result.score_percent,
        answers=list(answers),
        observations=(
            f"{result.correct} of {result.total} correct; pass mark {quiz.pass_mark_percent} %"
        ),
        valid_until=_valid_until(requirement, now, result.passed),
    )
    with audit.changes(session, actor=actor, reason=f"quiz taken: {requirement.title}"):
        session.add(assessment)
    perform(session, ASSESSMENT_WORKFLOW, assessment, "attest_quiz", actor=actor, password=password)
    return assessment


def record_observed_practice(
    session: Session,
    *,
    actor: Actor,
    password: str | None,
    user_id: int,
    requirement_id: int,
    passed: bool,
    observations: str,
    observed_at: datetime | None = None,
) -> CompetenceAssessment:
    """The observer records what they saw and the outcome, signed "Verified". Never the
    person observed: an assessment of one's own practice is no assessment."""
    actor.require("training.assess", "record observed practice")
    person = _person(session, user_id)
    if person.id == actor.user_id:
        raise SegregationOfDuties(
            f"{actor.username} may not assess their own practice: another person observes it"
        )
    requirement = _assessable(
        session, person.id, requirement_id, RequirementKind.OBSERVED_PRACTICE.value
    )
    if not observations.strip():
        raise InvalidInput("write down what you observed", field="observations")
    now = clock.now()
    at = observed_at or now
    if at.tzinfo is None:
        raise InvalidInput("give the time of the observation with its zone", field="observed_at")
    if at > now:
        raise InvalidInput("the observation can't be in the future", field="observed_at")
    assessment = CompetenceAssessment(
        status=AssessmentStatus.RECORDED.value,
        user_id=person.id,
        requirement_id=requirement.id,
        job_role_id=requirement.job_role_id,
        kind=requirement.kind,
        title=requirement.title,
        assessed_at=at,
        passed=passed,
        observations=observations.strip(),
        observer_id=actor.user_id,
        valid_until=_valid_until(requirement, at, passed),
    )
    outcome = "passed" if passed else "not passed"
    with audit.changes(
        session, actor=actor, reason=f"observed practice of {person.username}: {outcome}"
    ):
        session.add(assessment)
    perform(
        session,
        ASSESSMENT_WORKFLOW,
        assessment,
        "verify_observation",
        actor=actor,
        password=password,
    )
    return assessment


def assessments_of(session: Session, user_id: int) -> list[CompetenceAssessment]:
    return list(
        session.scalars(
            select(CompetenceAssessment)
            .where(CompetenceAssessment.user_id == user_id)
            .order_by(CompetenceAssessment.assessed_at.desc(), CompetenceAssessment.id.desc())
        )
    )
