"""Competence API: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import MAX_ID, RecordId
from pharmaqms.kernel.models import User
from pharmaqms.quality.documents.api import signatures_out
from pharmaqms.quality.training.competence import effectiveness, service, status
from pharmaqms.quality.training.competence.models import Authorisation, CompetenceAssessment
from pharmaqms.quality.training.competence.rules import DUTY_RULES, kind_label
from pharmaqms.quality.training.competence.schemas import (
    AssessmentOut,
    AuthorisationCreate,
    AuthorisationOut,
    DutyOut,
    GapOut,
    ObservedPracticeIn,
    PersonOut,
    QualificationOut,
    QuizAssessmentIn,
    RequirementCreate,
    RequirementOut,
    Revocation,
)
from pharmaqms.quality.training.schemas import Reason

router = APIRouter(prefix="/api/v1/training", tags=["training"])


def authorisation_out(session: Session, authorisation: Authorisation) -> AuthorisationOut:
    out = AuthorisationOut.model_validate(authorisation)
    holder = session.get(User, authorisation.user_id)
    out.username, out.full_name = (holder.username, holder.full_name) if holder else ("", "")
    out.kind_label = kind_label(authorisation.kind)
    out.state = status.authorisation_state(authorisation, clock.now()).value
    out.signatures = signatures_out(session, authorisation)
    return out


def assessment_out(session: Session, assessment: CompetenceAssessment) -> AssessmentOut:
    out = AssessmentOut.model_validate(assessment)
    out.signatures = signatures_out(session, assessment)
    return out


def _gaps(gaps: Any) -> list[GapOut]:
    return [GapOut(**g.as_dict()) for g in gaps]


def qualification_out(q: status.RoleQualification, people: dict[int, User]) -> QualificationOut:
    person = people[q.user_id]
    return QualificationOut(
        user_id=q.user_id,
        username=person.username,
        full_name=person.full_name,
        job_role_id=q.job_role_id,
        job_role=q.job_role_name,
        qualified=q.qualified,
        gaps=_gaps(q.gaps),
    )


def _people(session: Session, ids: set[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(ids))))}


# --- what job roles require ------------------------------------------------------------------


@router.post(
    "/job-roles/{job_role_id}/qualification-requirements",
    response_model=RequirementOut,
    status_code=201,
)
def add_requirement(
    job_role_id: RecordId, body: RequirementCreate, actor: ActorDep, request: Request
) -> RequirementOut:
    with transaction(request) as session:
        requirement = service.add_qualification_requirement(
            session, actor=actor, job_role_id=job_role_id, **body.model_dump()
        )
        return RequirementOut.model_validate(requirement)


@router.post("/qualification-requirements/{requirement_id}/retire", response_model=RequirementOut)
def retire_requirement(
    requirement_id: RecordId, body: Reason, actor: ActorDep, request: Request
) -> RequirementOut:
    with transaction(request) as session:
        requirement = service.retire_qualification_requirement(
            session, actor=actor, requirement_id=requirement_id, reason=body.reason
        )
        return RequirementOut.model_validate(requirement)


# --- authorisations ------------------------------------------------------------------------------


@router.get("/authorisations", response_model=list[AuthorisationOut])
def authorisation_register(actor: ActorDep, request: Request) -> list[AuthorisationOut]:
    actor.require("records.read", "read the authorisation register")
    with transaction(request) as session:
        return [
            authorisation_out(session, a)
            for held in status.authorisations_of(session).values()
            for a in held
        ]


@router.post("/authorisations", response_model=AuthorisationOut, status_code=201)
def grant_authorisation(
    body: AuthorisationCreate, actor: ActorDep, request: Request
) -> AuthorisationOut:
    basis_file = None
    if body.basis_file is not None:
        try:
            content = base64.b64decode(body.basis_file.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidInput("the basis file is not valid base64", field="basis_file") from error
        basis_file = service.BasisFile(
            body.basis_file.filename, body.basis_file.media_type, content
        )
    with transaction(request) as session:
        authorisation = service.grant_authorisation(
            session,
            actor=actor,
            password=body.password,
            user_id=body.user_id,
            kind=body.kind,
            basis=body.basis,
            scope=body.scope,
            effective_from=body.effective_from,
            effective_to=body.effective_to,
            basis_file=basis_file,
            comment=body.comment,
        )
        return authorisation_out(session, authorisation)


@router.get("/authorisations/{authorisation_id}", response_model=AuthorisationOut)
def get_authorisation(
    authorisation_id: RecordId, actor: ActorDep, request: Request
) -> AuthorisationOut:
    actor.require("records.read", "read authorisations")
    with transaction(request) as session:
        return authorisation_out(session, service.get_authorisation(session, authorisation_id))


@router.get("/authorisations/{authorisation_id}/basis")
def authorisation_basis(authorisation_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The basis document exactly as uploaded; its SHA-256 in a header to check against."""
    actor.require("records.read", "read authorisations")
    with transaction(request) as session:
        stored = service.basis_file_of(
            session, service.get_authorisation(session, authorisation_id)
        )
        return download(
            stored.content,
            filename=stored.filename,
            media_type=stored.media_type,
            headers={"x-content-sha256": stored.sha256},
        )


@router.post("/authorisations/{authorisation_id}/revoke", response_model=AuthorisationOut)
def revoke_authorisation(
    authorisation_id: RecordId, body: Revocation, actor: ActorDep, request: Request
) -> AuthorisationOut:
    with transaction(request) as session:
        authorisation = service.revoke_authorisation(
            session,
            actor=actor,
            password=body.password,
            authorisation_id=authorisation_id,
            reason=body.reason,
        )
        return authorisation_out(session, authorisation)


# --- assessments -------------------------------------------------------------------------------


@router.post("/assessments/quiz", response_model=AssessmentOut, status_code=201)
def take_quiz(body: QuizAssessmentIn, actor: ActorDep, request: Request) -> AssessmentOut:
    with transaction(request) as session:
        assessment = service.take_quiz_assessment(
            session,
            actor=actor,
            password=body.password,
            requirement_id=body.requirement_id,
            answers=body.answers,
        )
        return assessment_out(session, assessment)


@router.post("/assessments/observed", response_model=AssessmentOut, status_code=201)
def record_observed(body: ObservedPracticeIn, actor: ActorDep, request: Request) -> AssessmentOut:
    with transaction(request) as session:
        assessment = service.record_observed_practice(
            session,
            actor=actor,
            password=body.password,
            user_id=body.user_id,
            requirement_id=body.requirement_id,
            passed=body.passed,
            observations=body.observations,
            observed_at=body.observed_at,
        )
        return assessment_out(session, assessment)


# --- qualification -------------------------------------------------------------------------------


@router.get("/qualification", response_model=list[QualificationOut])
def qualification_matrix(
    actor: ActorDep,
    request: Request,
    job_role_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[QualificationOut]:
    actor.require("records.read", "read the qualification matrix")
    with transaction(request) as session:
        found = status.qualifications(session, job_role_id=job_role_id)
        people = _people(session, {q.user_id for q in found})
        return [qualification_out(q, people) for q in found]


def person_out(session: Session, user_id: int) -> PersonOut:
    person = session.get(User, user_id)
    if person is None or person.is_service_account:
        raise NotFound(f"no person with id {user_id}")
    found = status.qualifications(session, user_ids=[user_id])
    duties = []
    for rule in DUTY_RULES:
        gaps = status.duty_gaps(session, user_id, rule)
        duties.append(
            DutyOut(
                code=rule.code,
                duty=rule.duty,
                record_type=rule.record_type,
                step=rule.step,
                basis=rule.basis,
                qualified=not gaps,
                gaps=_gaps(gaps),
            )
        )
    return PersonOut(
        user_id=person.id,
        username=person.username,
        full_name=person.full_name,
        qualifications=[qualification_out(q, {person.id: person}) for q in found],
        duties=duties,
        authorisations=[
            authorisation_out(session, a)
            for a in status.authorisations_of(session, [user_id]).get(user_id, [])
        ],
        assessments=[assessment_out(session, a) for a in service.assessments_of(session, user_id)],
    )


@router.get("/qualification/people/{user_id}", response_model=PersonOut)
def qualification_of_person(user_id: RecordId, actor: ActorDep, request: Request) -> PersonOut:
    actor.require("records.read", "read qualifications")
    with transaction(request) as session:
        return person_out(session, user_id)


# --- effectiveness -------------------------------------------------------------------------------


@router.get("/effectiveness")
def training_effectiveness(
    actor: ActorDep,
    request: Request,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> dict[str, object]:
    actor.require("records.read", "read the training-effectiveness figures")
    for value, name in ((since, "since"), (until, "until")):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"give {name} with its time zone", field=name)
    if since is not None and until is not None and since > until:
        raise InvalidInput("since comes before until", field="since")
    with transaction(request) as session:
        return effectiveness.figures(session, since=since, until=until).as_dict()
