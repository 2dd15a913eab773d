"""Competence pages: the qualification matrix (people × job roles, with the reasons for "not
qualified") and what job roles require, a person's qualification (with the observed-practice
and quiz forms), the authorisation register (with its expiry flags and the grant form), an
authorisation (basis document, revocation), and the training-effectiveness figures. Thin:
every change goes through the competence services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import User
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import parse_typed
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.training import curricula
from pharmaqms.quality.training.competence import effectiveness, service, status
from pharmaqms.quality.training.competence.models import (
    QualificationRequirement,
    RequirementKind,
)
from pharmaqms.quality.training.competence.rules import (
    AUTHORISATION_KINDS,
    CHECKS,
    DUTY_RULES,
    kind_label,
)
from pharmaqms.quality.training.quiz import without_answers
from pharmaqms.quality.training.service import quiz_of

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Qualification matrix", "/training/qualification", "records.read", 24))
add(NavItem("Quality", "Authorisations", "/training/authorisations", "records.read", 25))
add(NavItem("Quality", "Training effectiveness", "/training/effectiveness", "records.read", 26))

STATE_LABEL = {
    status.AuthorisationState.PROPOSED: "proposed",
    status.AuthorisationState.NOT_YET_EFFECTIVE: "not yet effective",
    status.AuthorisationState.IN_FORCE: "in force",
    status.AuthorisationState.EXPIRING_SOON: "expiring soon",
    status.AuthorisationState.EXPIRED: "expired",
    status.AuthorisationState.REVOKED: "revoked",
}


def _people(session: Session, ids: set[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(ids))))}


def _typed(text: str, field: str) -> datetime | None:
    """A date or date-time typed in the reader's zone, in UTC; None when left empty."""
    if not text.strip():
        return None
    try:
        return parse_typed(text.strip(), field=field)
    except ValueError as error:
        raise InvalidInput(
            f"{text.strip()!r} is not a date (2026-03-29) or a time (2026-03-29T14:30)",
            field=field,
        ) from error


# --- the qualification matrix -----------------------------------------------------------------


@router.get("/training/qualification", response_class=HTMLResponse)
def qualification_matrix(
    request: Request, actor: ActorDep, job_role_id: int | None = None
) -> HTMLResponse:
    actor.require("records.read", "read the qualification matrix")
    with transaction(request) as session:
        found = status.qualifications(session, job_role_id=job_role_id)
        roles = curricula.list_job_roles(session)
        requirements = status.requirements_of_roles(session, [r.id for r in roles])
        people = _people(session, {q.user_id for q in found})
        shown_roles = sorted({q.job_role_name for q in found})
        rows: dict[int, dict[str, status.RoleQualification]] = {}
        for q in found:
            rows.setdefault(q.user_id, {})[q.job_role_name] = q
        return render(
            request,
            "training/qualification.html",
            {
                "rows": [(people[u], cells) for u, cells in rows.items()],
                "shown_roles": shown_roles,
                "job_roles": roles,
                "job_role_id": job_role_id,
                "requirements": requirements,
                "kinds": [k.value for k in RequirementKind],
                "authorisation_kinds": AUTHORISATION_KINDS,
                "checks": CHECKS,
                "kind_label": kind_label,
                "can_manage": actor.can("training.manage"),
                "qualified_count": sum(1 for q in found if q.qualified),
                "total": len(found),
            },
        )


@router.post("/training/qualification-requirements")
def add_requirement(
    request: Request,
    actor: ActorDep,
    job_role_id: Annotated[int, Form(ge=1)],
    kind: Annotated[str, Form(max_length=30)],
    title: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    document_number: Annotated[str, Form(max_length=60)] = "",
    authorisation_kind: Annotated[str, Form(max_length=40)] = "",
    valid_months: Annotated[str, Form(max_length=4)] = "",
) -> RedirectResponse:
    if valid_months.strip() and not valid_months.strip().isdecimal():
        raise InvalidInput("re-assessment every how many months (a number)", field="valid_months")
    with transaction(request) as session:
        document_id = None
        if document_number.strip():
            document = session.scalars(
                select(ControlledDocument).where(
                    ControlledDocument.number == document_number.strip()
                )
            ).first()
            if document is None:
                raise NotFound(f"no document {document_number.strip()}")
            document_id = document.id
        requirement = service.add_qualification_requirement(
            session,
            actor=actor,
            job_role_id=job_role_id,
            kind=kind,
            title=title,
            reason=reason,
            document_id=document_id,
            authorisation_kind=authorisation_kind or None,
            valid_months=int(valid_months) if valid_months.strip() else None,
        )
        message = f"{requirement.title}: now required of the job role."
    return redirect("/training/qualification", message)


@router.post("/training/qualification-requirements/{requirement_id}/retire")
def retire_requirement(
    requirement_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        requirement = service.retire_qualification_requirement(
            session, actor=actor, requirement_id=requirement_id, reason=reason
        )
        message = f"{requirement.title}: no longer required."
    return redirect("/training/qualification", message)


# --- a person ----------------------------------------------------------------------------------


@router.get("/training/qualification/people/{user_id}", response_class=HTMLResponse)
def person_page(user_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read qualifications")
    with transaction(request) as session:
        person = session.get(User, user_id)
        if person is None or person.is_service_account:
            raise NotFound(f"no person with id {user_id}")
        found = status.qualifications(session, user_ids=[user_id])
        requirements = status.requirements_of_roles(session, [q.job_role_id for q in found])
        observable: list[QualificationRequirement] = []
        quizzes = []
        for q in found:
            for r in requirements.get(q.job_role_id, []):
                if r.kind == RequirementKind.OBSERVED_PRACTICE:
                    observable.append(r)
                elif r.kind == RequirementKind.QUIZ and r.document_id is not None:
                    quiz = quiz_of(session, r.document_id)
                    if quiz is not None and user_id == actor.user_id:
                        quizzes.append((r, without_answers(quiz.questions), quiz.pass_mark_percent))
        now = clock.now()
        authorisations = status.authorisations_of(session, [user_id]).get(user_id, [])
        assessments = service.assessments_of(session, user_id)
        observers = _people(session, {a.observer_id for a in assessments if a.observer_id})
        return render(
            request,
            "training/qualification_person.html",
            {
                "person": person,
                "qualifications": found,
                "duties": [(rule, status.duty_gaps(session, user_id, rule)) for rule in DUTY_RULES],
                "authorisations": [
                    (a, STATE_LABEL[status.authorisation_state(a, now)]) for a in authorisations
                ],
                "assessments": assessments,
                "observers": observers,
                "observable": observable,
                "quizzes": quizzes,
                "kind_label": kind_label,
                "can_assess": actor.can("training.assess") and actor.user_id != user_id,
            },
        )


@router.post("/training/qualification/people/{user_id}/observed")
def record_observed(
    user_id: RecordId,
    request: Request,
    actor: ActorDep,
    requirement_id: Annotated[int, Form(ge=1)],
    outcome: Annotated[str, Form(max_length=10)],
    observations: Annotated[str, Form(max_length=8000)],
    password: Annotated[str, Form(max_length=256)] = "",
    observed_at: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    if outcome not in ("pass", "fail"):
        raise InvalidInput("the outcome is pass or fail", field="outcome")
    with transaction(request) as session:
        assessment = service.record_observed_practice(
            session,
            actor=actor,
            password=password or None,
            user_id=user_id,
            requirement_id=requirement_id,
            passed=outcome == "pass",
            observations=observations,
            observed_at=_typed(observed_at, "observed_at"),
        )
        message = f"{assessment.number}: observed practice recorded and signed."
    return redirect(f"/training/qualification/people/{user_id}", message)


@router.post("/training/qualification/quiz")
def take_quiz(
    request: Request,
    actor: ActorDep,
    requirement_id: Annotated[int, Form(ge=1)],
    password: Annotated[str, Form(max_length=256)] = "",
    answers: Annotated[list[int] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        assessment = service.take_quiz_assessment(
            session,
            actor=actor,
            password=password or None,
            requirement_id=requirement_id,
            answers=answers or [],
        )
        outcome = "passed" if assessment.passed else "not passed, you may try again"
        message = f"{assessment.number}: {assessment.score_percent} %, {outcome}."
    return redirect(f"/training/qualification/people/{actor.user_id}", message)


# --- authorisations ----------------------------------------------------------------------------


@router.get("/training/authorisations", response_class=HTMLResponse)
def authorisation_register(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the authorisation register")
    with transaction(request) as session:
        now = clock.now()
        held = [a for found in status.authorisations_of(session).values() for a in found]
        people = _people(session, {a.user_id for a in held})
        rows = sorted(
            ((a, people[a.user_id], status.authorisation_state(a, now)) for a in held),
            key=lambda row: (row[1].full_name, row[0].kind, row[0].effective_from),
        )
        candidates = session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.is_service_account.is_(False))
            .order_by(User.full_name)
        ).all()
        flagged = [
            r
            for r in rows
            if r[2] in (status.AuthorisationState.EXPIRED, status.AuthorisationState.EXPIRING_SOON)
        ]
        return render(
            request,
            "training/authorisations.html",
            {
                "rows": rows,
                "flagged": flagged,
                "labels": STATE_LABEL,
                "kinds": AUTHORISATION_KINDS,
                "kind_label": kind_label,
                "candidates": [u for u in candidates if u.id != actor.user_id],
                "can_authorise": actor.can("training.authorise"),
                "expiring_days": status.EXPIRING_SOON_DAYS,
            },
        )


@router.post("/training/authorisations")
async def grant_authorisation(
    request: Request,
    actor: ActorDep,
    user_id: Annotated[int, Form(ge=1)],
    kind: Annotated[str, Form(max_length=40)],
    basis: Annotated[str, Form(max_length=4000)],
    effective_from: Annotated[str, Form(max_length=40)],
    effective_to: Annotated[str, Form(max_length=40)] = "",
    scope: Annotated[str, Form(max_length=2000)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    basis_file: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    upload = None
    if basis_file is not None and basis_file.filename:
        content = await basis_file.read(service.MAX_BASIS_BYTES + 1)
        upload = service.BasisFile(
            basis_file.filename, basis_file.content_type or "application/octet-stream", content
        )
    start = _typed(effective_from, "effective_from")
    if start is None:
        raise InvalidInput("give the date the authorisation takes effect", field="effective_from")
    with transaction(request) as session:
        authorisation = service.grant_authorisation(
            session,
            actor=actor,
            password=password or None,
            user_id=user_id,
            kind=kind,
            basis=basis,
            scope=scope,
            effective_from=start,
            effective_to=_typed(effective_to, "effective_to"),
            basis_file=upload,
        )
        session.flush()
        number, authorisation_id = authorisation.number, authorisation.id
    return redirect(f"/training/authorisations/{authorisation_id}", f"{number}: granted, signed.")


@router.get("/training/authorisations/{authorisation_id}", response_class=HTMLResponse)
def authorisation_page(
    authorisation_id: RecordId, request: Request, actor: ActorDep
) -> HTMLResponse:
    actor.require("records.read", "read authorisations")
    with transaction(request) as session:
        authorisation = service.get_authorisation(session, authorisation_id)
        ids = {authorisation.user_id}
        if authorisation.granted_by_id is not None:
            ids.add(authorisation.granted_by_id)
        people = _people(session, ids)
        return render(
            request,
            "training/authorisation.html",
            {
                "a": authorisation,
                "holder": people[authorisation.user_id],
                "granted_by": people.get(authorisation.granted_by_id or 0),
                "state": STATE_LABEL[status.authorisation_state(authorisation, clock.now())],
                "kind_label": kind_label,
                "kind_basis": AUTHORISATION_KINDS.get(authorisation.kind),
                "signatures": signatures_of(session, authorisation),
                "can_revoke": actor.can("training.authorise") and authorisation.status == "granted",
            },
        )


@router.get("/training/authorisations/{authorisation_id}/basis")
def authorisation_basis(authorisation_id: RecordId, request: Request, actor: ActorDep) -> Response:
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


@router.post("/training/authorisations/{authorisation_id}/revoke")
def revoke_authorisation(
    authorisation_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
    password: Annotated[str, Form(max_length=256)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        authorisation = service.revoke_authorisation(
            session,
            actor=actor,
            password=password or None,
            authorisation_id=authorisation_id,
            reason=reason,
        )
        number = authorisation.number
    return redirect(f"/training/authorisations/{authorisation_id}", f"{number}: revoked.")


# --- effectiveness -----------------------------------------------------------------------------


@router.get("/training/effectiveness", response_class=HTMLResponse)
def effectiveness_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the training-effectiveness figures")
    with transaction(request) as session:
        return render(
            request,
            "training/effectiveness.html",
            {"figures": effectiveness.figures(session)},
        )
