"""Training pages: my training (with the read-and-understood dialog and the quiz), a training
requirement, the training matrix, and QA's pages for job roles, curricula, quizzes and the
documents that govern workflow steps. Thin: every change goes through the training services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import export_table
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import User
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.quality.documents.attachments import attachments_of
from pharmaqms.quality.documents.markdown import render_markdown
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus, DocumentVersion
from pharmaqms.quality.training import curricula, gate, service, status
from pharmaqms.quality.training.models import QuizAttempt, RequirementStatus
from pharmaqms.quality.training.quiz import parse_quiz_text, quiz_as_text, without_answers

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "My training", "/training/my", "records.read", 20))
add(NavItem("Quality", "Training matrix", "/training/matrix", "records.read", 21))
add(NavItem("Quality", "Job roles and curricula", "/training/job-roles", "training.manage", 22))
add(NavItem("Quality", "Governing documents", "/training/governing", "records.read", 23))

STANDING_LABEL = {
    status.Standing.CURRENT: "current",
    status.Standing.DUE: "due",
    status.Standing.OVERDUE: "overdue",
    status.Standing.MISSING: "missing",
}


# --- my training ------------------------------------------------------------------------------


@router.get("/training/my", response_class=HTMLResponse)
def my_training(request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        mine = service.requirements_of(session, actor.user_id)
        open_ones = [r for r in mine if r.status == RequirementStatus.ASSIGNED]
        quizzes = {}
        for requirement in open_ones:
            quiz = service.quiz_of(session, requirement.document_id)
            if requirement.quiz_required and quiz is not None:
                quizzes[requirement.id] = (without_answers(quiz.questions), quiz.pass_mark_percent)
        return render(
            request,
            "training/my.html",
            {
                "open_requirements": open_ones,
                "history": [r for r in reversed(mine) if r.status != RequirementStatus.ASSIGNED],
                "quizzes": quizzes,
                "at": clock.now(),
            },
        )


@router.get("/training/requirements/{requirement_id}", response_class=HTMLResponse)
def requirement_page(requirement_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read training records")
    with transaction(request) as session:
        requirement = service.get_requirement(session, requirement_id)
        trainee = session.get(User, requirement.user_id)
        quiz = service.quiz_of(session, requirement.document_id)
        attempts = session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.requirement_id == requirement.id)
            .order_by(QuizAttempt.id)
        ).all()
        mine_to_sign = (
            requirement.user_id == actor.user_id
            and requirement.status == RequirementStatus.ASSIGNED
        )
        # The text is on the page for whoever reads the record, and for the trainee once
        # they opened it (the opening is what their signature needs).
        version = session.get(DocumentVersion, requirement.version_id)
        show_text = version is not None and (not mine_to_sign or requirement.opened_at is not None)
        return render(
            request,
            "training/requirement.html",
            {
                "requirement": requirement,
                "trainee": trainee,
                "signatures": signatures_of(session, requirement),
                "attempts": attempts,
                "mine_to_sign": mine_to_sign,
                "document_text": render_markdown(version.body) if show_text and version else None,
                "sources": attachments_of(session, version.id) if show_text and version else [],
                "quiz": (
                    (without_answers(quiz.questions), quiz.pass_mark_percent)
                    if quiz is not None and requirement.quiz_required
                    else None
                ),
                "at": clock.now(),
            },
        )


@router.post("/training/requirements/{requirement_id}/open")
def open_for_reading(requirement_id: int, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        requirement, _version = service.open_for_reading(
            session, actor=actor, requirement_id=requirement_id
        )
        number = requirement.version_number
    return redirect(
        f"/training/requirements/{requirement_id}#document", f"{number} opened: read it below."
    )


@router.post("/training/requirements/{requirement_id}/complete")
def complete(
    requirement_id: int,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    answers: Annotated[list[int] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        service.complete_training(
            session,
            actor=actor,
            requirement_id=requirement_id,
            password=password or None,
            answers=answers,
            expected_version=expected_version,
        )
        requirement = service.get_requirement(session, requirement_id)
        message = f"{requirement.version_number}: read and understood, signed."
    return redirect("/training/my", message)


# --- the matrix -------------------------------------------------------------------------------


def _matrix_table(m: status.TrainingMatrix) -> tuple[list[str], list[list[object]]]:
    """The matrix as a sheet: a row per person, a column per document (its standing, and the
    due date where one is open)."""
    headers = ["Person", "Username", "Job roles"] + [
        f"{d.number} v{d.version}" for d in m.documents
    ]
    rows: list[list[object]] = []
    for p in m.people:
        row: list[object] = [p.full_name, p.username, ", ".join(p.job_roles)]
        for d in m.documents:
            cell = m.cell(p.user_id, d.document_id)
            if cell is None:
                row.append("")
            else:
                label = STANDING_LABEL[cell.standing]
                due = f" (due {cell.due_at:%Y-%m-%d})" if cell.due_at is not None else ""
                row.append(label + due)
        rows.append(row)
    return headers, rows


@router.get("/training/matrix", response_class=HTMLResponse)
def matrix(
    request: Request, actor: ActorDep, job_role_id: int | None = None, export: str = ""
) -> Response:
    actor.require("records.read", "read the training matrix")
    if export:
        # People × documents is a grid, not a list: exported whole (the job role filter
        # applied) rather than sorted and paged.
        with transaction(request, write=True) as session:
            headers, rows = _matrix_table(status.training_matrix(session, job_role_id=job_role_id))
            content, filename, media = export_table(
                session,
                actor,
                name="training-matrix",
                title="Training matrix",
                headers=headers,
                rows=rows,
                fmt=export[:10],
                filters={"job_role_id": str(job_role_id)} if job_role_id is not None else {},
            )
        return download(content, filename=filename, media_type=media)
    with transaction(request) as session:
        return render(
            request,
            "training/matrix.html",
            {
                "matrix": status.training_matrix(session, job_role_id=job_role_id),
                "job_roles": curricula.list_job_roles(session),
                "job_role_id": job_role_id,
                "labels": STANDING_LABEL,
            },
        )


# --- job roles and curricula (QA) ----------------------------------------------------------


@router.get("/training/job-roles", response_class=HTMLResponse)
def job_roles(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read job roles")
    with transaction(request) as session:
        roles = curricula.list_job_roles(session)
        return render(
            request,
            "training/job_roles.html",
            {
                "rows": [
                    (
                        r,
                        len(curricula.curricula_of(session, r.id)),
                        len(curricula.holders_of(session, r.id)),
                    )
                    for r in roles
                ],
                "can_manage": actor.can("training.manage"),
            },
        )


@router.post("/training/job-roles")
def create_job_role(
    request: Request,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=4000)] = "",
    area: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        role = curricula.create_job_role(
            session, actor=actor, name=name, description=description, area=area
        )
        target, label = f"/training/job-roles/{role.id}", role.name
    return redirect(target, f"Job role {label} defined.")


@router.get("/training/job-roles/{job_role_id}", response_class=HTMLResponse)
def job_role_page(job_role_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read job roles")
    with transaction(request) as session:
        role = curricula.get_job_role(session, job_role_id)
        holders = [
            (a, session.get(User, a.user_id)) for a in curricula.holders_of(session, role.id)
        ]
        held = {a.user_id for a, _u in holders}
        people = session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.is_service_account.is_(False))
            .order_by(User.full_name)
        ).all()
        documents = session.scalars(
            select(ControlledDocument)
            .where(ControlledDocument.status != DocumentStatus.OBSOLETE)
            .order_by(ControlledDocument.number)
        ).all()
        return render(
            request,
            "training/job_role.html",
            {
                "role": role,
                "curricula": [
                    (c, curricula.items_of(session, c.id))
                    for c in curricula.curricula_of(session, role.id)
                ],
                "holders": holders,
                "candidates": [p for p in people if p.id not in held],
                "documents": documents,
                "can_manage": actor.can("training.manage"),
            },
        )


@router.post("/training/job-roles/{job_role_id}/curricula")
def create_curriculum(
    job_role_id: int,
    request: Request,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        curriculum = curricula.create_curriculum(
            session, actor=actor, job_role_id=job_role_id, name=name, description=description
        )
        label = curriculum.name
    return redirect(f"/training/job-roles/{job_role_id}", f"Curriculum {label} defined.")


@router.post("/training/curricula/{curriculum_id}/items")
def add_item(
    curriculum_id: int,
    request: Request,
    actor: ActorDep,
    document_id: Annotated[int, Form(ge=1)],
    due_in_days: Annotated[int, Form(ge=1, le=365)] = 14,
    recurrence_months: Annotated[str, Form(max_length=4)] = "",
) -> RedirectResponse:
    recurrence = int(recurrence_months) if recurrence_months.strip().isdecimal() else None
    with transaction(request) as session:
        curriculum = curricula.get_curriculum(session, curriculum_id)
        _item, assigned = curricula.add_to_curriculum(
            session,
            actor=actor,
            curriculum_id=curriculum_id,
            document_id=document_id,
            due_in_days=due_in_days,
            recurrence_months=recurrence,
        )
        target = f"/training/job-roles/{curriculum.job_role_id}"
        message = f"Document added to {curriculum.name}; training assigned to {len(assigned)}."
    return redirect(target, message)


@router.post("/training/curriculum-items/{item_id}/remove")
def remove_item(
    item_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        item = curricula.remove_from_curriculum(
            session, actor=actor, item_id=item_id, reason=reason
        )
        curriculum = curricula.get_curriculum(session, item.curriculum_id)
        target = f"/training/job-roles/{curriculum.job_role_id}"
    return redirect(target, "Document removed from the curriculum.")


@router.post("/training/job-roles/{job_role_id}/holders")
def assign_person(
    job_role_id: int,
    request: Request,
    actor: ActorDep,
    user_id: Annotated[int, Form(ge=1)],
) -> RedirectResponse:
    with transaction(request) as session:
        _assignment, assigned = service.assign_job_role(
            session, actor=actor, user_id=user_id, job_role_id=job_role_id
        )
        message = f"Job role assigned; {len(assigned)} training(s) assigned."
    return redirect(f"/training/job-roles/{job_role_id}", message)


@router.post("/training/job-role-assignments/{assignment_id}/end")
def end_assignment(
    assignment_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        assignment = service.end_job_role(
            session, actor=actor, assignment_id=assignment_id, reason=reason
        )
        target = f"/training/job-roles/{assignment.job_role_id}"
    return redirect(target, "The person no longer holds the job role.")


@router.get("/training/quizzes/{document_id}", response_class=HTMLResponse)
def quiz_page(document_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("training.manage", "write quizzes")
    with transaction(request) as session:
        document = session.get(ControlledDocument, document_id)
        quiz = service.quiz_of(session, document_id)
        return render(
            request,
            "training/quiz.html",
            {
                "document": document,
                "text": quiz_as_text(quiz.questions) if quiz else "",
                "pass_mark": quiz.pass_mark_percent if quiz else 80,
            },
        )


@router.post("/training/quizzes/{document_id}")
def save_quiz(
    document_id: int,
    request: Request,
    actor: ActorDep,
    quiz: Annotated[str, Form(max_length=50_000)],
    pass_mark_percent: Annotated[int, Form(ge=1, le=100)],
) -> RedirectResponse:
    with transaction(request) as session:
        curricula.set_quiz(
            session,
            actor=actor,
            document_id=document_id,
            questions=parse_quiz_text(quiz),
            pass_mark_percent=pass_mark_percent,
        )
    return redirect(f"/training/quizzes/{document_id}", "Quiz saved.")


# --- governing documents ----------------------------------------------------------------------


@router.get("/training/governing", response_class=HTMLResponse)
def governing(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the governing documents")
    with transaction(request) as session:
        documents = session.scalars(
            select(ControlledDocument)
            .where(ControlledDocument.status != DocumentStatus.OBSOLETE)
            .order_by(ControlledDocument.number)
        ).all()
        return render(
            request,
            "training/governing.html",
            {
                "rules": gate.governing_rules(session),
                "documents": documents,
                "steps": [
                    (rt.name, rt.label, gate.governable_steps(rt.name))
                    for rt in sorted(RECORD_TYPES.values(), key=lambda r: r.label)
                    if rt.name != "training_requirement"
                ],
                "can_manage": actor.can("training.manage"),
            },
        )


@router.post("/training/governing")
def add_rule(
    request: Request,
    actor: ActorDep,
    step: Annotated[str, Form(max_length=130)],
    document_id: Annotated[int, Form(ge=1)],
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    record_type, _, transition = step.partition(".")
    with transaction(request) as session:
        gate.add_governing_document(
            session,
            actor=actor,
            record_type=record_type,
            transition=transition,
            document_id=document_id,
            reason=reason,
        )
    return redirect("/training/governing", f"{step} is now governed by the document.")


@router.post("/training/governing/{rule_id}/retire")
def retire_rule(
    rule_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        gate.retire_governing_document(session, actor=actor, rule_id=rule_id, reason=reason)
    return redirect("/training/governing", "The rule is retired.")
