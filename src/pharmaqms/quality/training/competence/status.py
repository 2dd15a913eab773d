"""Who is qualified for what: per person and job role, from current training on the role's
curricula (``training.status``), the role's required assessments passed and still valid, and
its required authorisations in force; per signed duty (``rules.DUTY_RULES``), for the gate.
Reads only. Each "not qualified" comes with its gaps, each naming what exactly is missing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import User
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus
from pharmaqms.quality.training.competence.models import (
    AssessmentStatus,
    Authorisation,
    AuthorisationStatus,
    CompetenceAssessment,
    QualificationRequirement,
    RequirementKind,
)
from pharmaqms.quality.training.competence.rules import DutyRule, Gap, kind_label
from pharmaqms.quality.training.gate import _explain as explain_training
from pharmaqms.quality.training.models import (
    Curriculum,
    CurriculumItem,
    JobRole,
    JobRoleAssignment,
)
from pharmaqms.quality.training.status import assessments as training_standing

# An authorisation ending within this many days is flagged on the register.
EXPIRING_SOON_DAYS = 60


def _day(at: datetime) -> str:
    return f"{at:%Y-%m-%d}"


# --- authorisations ------------------------------------------------------------------------------


class AuthorisationState(StrEnum):
    PROPOSED = "proposed"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    IN_FORCE = "in_force"
    EXPIRING_SOON = "expiring_soon"  # in force, ends within EXPIRING_SOON_DAYS
    EXPIRED = "expired"  # granted, and its effective period is over
    REVOKED = "revoked"


def authorisation_state(authorisation: Authorisation, now: datetime) -> AuthorisationState:
    if authorisation.status == AuthorisationStatus.PROPOSED:
        return AuthorisationState.PROPOSED
    if authorisation.status == AuthorisationStatus.REVOKED:
        return AuthorisationState.REVOKED
    if authorisation.effective_from > now:
        return AuthorisationState.NOT_YET_EFFECTIVE
    end = authorisation.effective_to
    if end is not None and end <= now:
        return AuthorisationState.EXPIRED
    if end is not None and end - now <= timedelta(days=EXPIRING_SOON_DAYS):
        return AuthorisationState.EXPIRING_SOON
    return AuthorisationState.IN_FORCE


IN_FORCE_STATES = frozenset({AuthorisationState.IN_FORCE, AuthorisationState.EXPIRING_SOON})


def authorisation_gap(held: Iterable[Authorisation], kind: str, now: datetime) -> str | None:
    """None when an authorisation of the kind is in force; else what is wrong with the
    nearest one (expired, revoked, not yet effective, only proposed) or that there is none."""
    mine = sorted(
        (a for a in held if a.kind == kind), key=lambda a: (a.effective_from, a.id), reverse=True
    )
    states = [(a, authorisation_state(a, now)) for a in mine]
    if any(s in IN_FORCE_STATES for _, s in states):
        return None
    label = kind_label(kind)
    for authorisation, state in states:
        if state == AuthorisationState.EXPIRED and authorisation.effective_to is not None:
            return f"{label}: {authorisation.number} expired on {_day(authorisation.effective_to)}"
    for authorisation, state in states:
        if state == AuthorisationState.NOT_YET_EFFECTIVE:
            return (
                f"{label}: {authorisation.number} is effective only from "
                f"{_day(authorisation.effective_from)}"
            )
    for authorisation, state in states:
        if state == AuthorisationState.REVOKED:
            return f"{label}: {authorisation.number} revoked" + (
                f" ({authorisation.revocation_reason})" if authorisation.revocation_reason else ""
            )
    for authorisation, state in states:
        if state == AuthorisationState.PROPOSED:
            return f"{label}: {authorisation.number} proposed, not yet granted"
    return f"{label}: no authorisation"


def authorisations_of(
    session: Session, user_ids: Collection[int] | None = None
) -> dict[int, list[Authorisation]]:
    query = select(Authorisation).order_by(Authorisation.effective_from, Authorisation.id)
    if user_ids is not None:
        query = query.where(Authorisation.user_id.in_(list(user_ids)))
    found: dict[int, list[Authorisation]] = defaultdict(list)
    for authorisation in session.scalars(query):
        found[authorisation.user_id].append(authorisation)
    return found


# --- assessments ---------------------------------------------------------------------------------


def assessment_gap(
    done: Iterable[CompetenceAssessment], requirement: QualificationRequirement, now: datetime
) -> str | None:
    """None when a confirmed pass is still valid; else why not."""
    mine = sorted(done, key=lambda a: (a.assessed_at, a.id), reverse=True)
    if any(a.passed and (a.valid_until is None or a.valid_until > now) for a in mine):
        return None
    kind = requirement.kind.replace("_", " ")
    name = f"{requirement.title} ({kind})"
    if not mine:
        return f"{name}: never assessed"
    latest = mine[0]
    if latest.passed and latest.valid_until is not None:
        return (
            f"{name}: {latest.number} passed on {_day(latest.assessed_at)}, "
            f"due again since {_day(latest.valid_until)}"
        )
    return f"{name}: {latest.number} on {_day(latest.assessed_at)} not passed"


def confirmed_assessments(
    session: Session, user_ids: Collection[int], requirement_ids: Collection[int]
) -> dict[tuple[int, int], list[CompetenceAssessment]]:
    found: dict[tuple[int, int], list[CompetenceAssessment]] = defaultdict(list)
    if not user_ids or not requirement_ids:
        return found
    for assessment in session.scalars(
        select(CompetenceAssessment).where(
            CompetenceAssessment.user_id.in_(list(user_ids)),
            CompetenceAssessment.requirement_id.in_(list(requirement_ids)),
            CompetenceAssessment.status == AssessmentStatus.CONFIRMED,
        )
    ):
        found[(assessment.user_id, assessment.requirement_id)].append(assessment)
    return found


def requirements_of_roles(
    session: Session, job_role_ids: Collection[int]
) -> dict[int, list[QualificationRequirement]]:
    found: dict[int, list[QualificationRequirement]] = defaultdict(list)
    for requirement in session.scalars(
        select(QualificationRequirement)
        .where(
            QualificationRequirement.job_role_id.in_(list(job_role_ids)),
            QualificationRequirement.retired_at.is_(None),
        )
        .order_by(QualificationRequirement.id)
    ):
        found[requirement.job_role_id].append(requirement)
    return found


# --- qualification per person and job role ---------------------------------------------------


@dataclass(frozen=True)
class RoleQualification:
    user_id: int
    job_role_id: int
    job_role_name: str
    gaps: tuple[Gap, ...]

    @property
    def qualified(self) -> bool:
        return not self.gaps


def _curriculum_documents(
    session: Session, job_role_ids: Collection[int]
) -> dict[int, list[ControlledDocument]]:
    found: dict[int, list[ControlledDocument]] = defaultdict(list)
    rows = session.execute(
        select(Curriculum.job_role_id, ControlledDocument)
        .join(CurriculumItem, CurriculumItem.curriculum_id == Curriculum.id)
        .join(ControlledDocument, ControlledDocument.id == CurriculumItem.document_id)
        .where(
            Curriculum.job_role_id.in_(list(job_role_ids)),
            Curriculum.retired_at.is_(None),
            CurriculumItem.removed_at.is_(None),
            ControlledDocument.status == DocumentStatus.CURRENT,
        )
        .order_by(ControlledDocument.number)
    )
    for job_role_id, document in rows:
        if document not in found[job_role_id]:
            found[job_role_id].append(document)
    return found


def qualifications(
    session: Session,
    *,
    user_ids: Collection[int] | None = None,
    job_role_id: int | None = None,
) -> list[RoleQualification]:
    """Every active holding of a job role by an active person, qualified or with its gaps."""
    query = (
        select(JobRoleAssignment.user_id, JobRole)
        .join(JobRole, JobRole.id == JobRoleAssignment.job_role_id)
        .join(User, User.id == JobRoleAssignment.user_id)
        .where(
            JobRoleAssignment.ended_at.is_(None),
            JobRole.retired_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(User.full_name, JobRole.name)
    )
    if user_ids is not None:
        query = query.where(JobRoleAssignment.user_id.in_(list(user_ids)))
    if job_role_id is not None:
        query = query.where(JobRole.id == job_role_id)
    holdings = list(dict.fromkeys((u, r) for u, r in session.execute(query)))
    if not holdings:
        return []
    people = {u for u, _ in holdings}
    roles = {r.id for _, r in holdings}
    documents = _curriculum_documents(session, roles)
    standing = training_standing(
        session, people, {d.id for docs in documents.values() for d in docs}
    )
    requirements = requirements_of_roles(session, roles)
    done = confirmed_assessments(
        session, people, {q.id for qs in requirements.values() for q in qs}
    )
    held = authorisations_of(session, people)
    now = clock.now()
    found = []
    for user_id, role in holdings:
        gaps: list[Gap] = []
        for document in documents.get(role.id, []):
            assessment = standing[(user_id, document.id)]
            if not assessment.allows_work:
                gaps.append(Gap("training_current", explain_training(document, assessment)))
        for requirement in requirements.get(role.id, []):
            if requirement.kind == RequirementKind.AUTHORISATION:
                why = authorisation_gap(
                    held.get(user_id, []), requirement.authorisation_kind or "", now
                )
                if why:
                    gaps.append(Gap("authorisation_in_force", why))
            else:
                why = assessment_gap(done.get((user_id, requirement.id), []), requirement, now)
                if why:
                    gaps.append(Gap("assessment_valid", why))
        found.append(RoleQualification(user_id, role.id, role.name, tuple(gaps)))
    return found


def roles_carrying(session: Session, kind: str) -> list[JobRole]:
    """The job roles that require an authorisation of this kind: the roles of the duty."""
    return list(
        session.scalars(
            select(JobRole)
            .join(QualificationRequirement, QualificationRequirement.job_role_id == JobRole.id)
            .where(
                QualificationRequirement.kind == RequirementKind.AUTHORISATION,
                QualificationRequirement.authorisation_kind == kind,
                QualificationRequirement.retired_at.is_(None),
                JobRole.retired_at.is_(None),
            )
            .order_by(JobRole.name)
            .distinct()
        )
    )


def duty_gaps(session: Session, user_id: int, rule: DutyRule) -> list[Gap]:
    """Why the person may not take this duty now (empty: qualified).

    The authorisation the rule names must be in force. Where the organisation has job roles
    that carry the duty (roles requiring that authorisation), the person must hold one of them
    and be qualified in every one they hold: training current and the assessments the role
    requires passed and valid. Where no job role carries it yet, the authorisation alone is
    checked (an installation that has not defined its job roles)."""
    now = clock.now()
    gaps: list[Gap] = []
    why = authorisation_gap(
        authorisations_of(session, [user_id]).get(user_id, []), rule.authorisation, now
    )
    if why:
        gaps.append(Gap("authorisation_in_force", why))
    carrying = roles_carrying(session, rule.authorisation.value)
    if not carrying:
        return gaps
    mine = [
        q
        for q in qualifications(session, user_ids=[user_id])
        if q.job_role_id in {r.id for r in carrying}
    ]
    if not mine:
        gaps.append(
            Gap(
                "holds_duty_role",
                "holds none of the job roles that carry this duty: "
                + ", ".join(r.name for r in carrying),
            )
        )
    seen = {g.detail for g in gaps}
    for qualification in mine:
        for gap in qualification.gaps:
            if gap.detail not in seen:
                seen.add(gap.detail)
                gaps.append(gap)
    return gaps
