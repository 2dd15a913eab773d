"""Training API: thin — parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import NotFound, TrainingMissing
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.models import User
from pharmaqms.quality.documents.api import signatures_out
from pharmaqms.quality.documents.attachments import attachments_of
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.training import curricula, gate, service, status
from pharmaqms.quality.training.models import JobRole, RequirementStatus, TrainingRequirement
from pharmaqms.quality.training.quiz import without_answers
from pharmaqms.quality.training.schemas import (
    AdHocTraining,
    AssignmentOut,
    AssignmentResult,
    CellOut,
    CheckOut,
    Completion,
    CurriculumCreate,
    CurriculumItemCreate,
    CurriculumItemOut,
    CurriculumOut,
    GoverningRuleCreate,
    GoverningRuleOut,
    HolderOut,
    JobRoleAssign,
    JobRoleCreate,
    JobRoleOut,
    MatrixDocumentOut,
    MatrixOut,
    MatrixPersonOut,
    QuizOut,
    QuizWrite,
    ReadingOut,
    Reason,
    RequirementOut,
)

router = APIRouter(prefix="/api/v1/training", tags=["training"])


def requirement_out(session: Session, requirement: TrainingRequirement) -> RequirementOut:
    out = RequirementOut.model_validate(requirement)
    out.overdue = (
        requirement.status == RequirementStatus.ASSIGNED and requirement.due_at < clock.now()
    )
    out.signatures = signatures_out(session, requirement)
    return out


def job_role_out(session: Session, role: JobRole) -> JobRoleOut:
    holders = []
    for assignment in curricula.holders_of(session, role.id):
        user = session.get(User, assignment.user_id)
        assert user is not None
        holders.append(
            HolderOut(
                assignment_id=assignment.id,
                user_id=user.id,
                username=user.username,
                full_name=user.full_name,
                assigned_at=assignment.assigned_at,
            )
        )
    return JobRoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        area=role.area,
        version=role.version,
        curricula=[
            CurriculumOut(
                id=c.id,
                job_role_id=c.job_role_id,
                name=c.name,
                description=c.description,
                items=[
                    CurriculumItemOut(
                        id=item.id,
                        document_id=document.id,
                        document_number=document.number,
                        document_title=document.title,
                        due_in_days=item.due_in_days,
                        recurrence_months=item.recurrence_months,
                    )
                    for item, document in curricula.items_of(session, c.id)
                ],
            )
            for c in curricula.curricula_of(session, role.id)
        ],
        holders=holders,
    )


# --- job roles and curricula (QA) ------------------------------------------------------------


@router.get("/job-roles", response_model=list[JobRoleOut])
def list_job_roles(actor: ActorDep, request: Request) -> list[JobRoleOut]:
    actor.require("records.read", "read job roles")
    with transaction(request) as session:
        return [job_role_out(session, r) for r in curricula.list_job_roles(session)]


@router.post("/job-roles", response_model=JobRoleOut, status_code=201)
def create_job_role(body: JobRoleCreate, actor: ActorDep, request: Request) -> JobRoleOut:
    with transaction(request) as session:
        role = curricula.create_job_role(
            session, actor=actor, name=body.name, description=body.description, area=body.area
        )
        return job_role_out(session, role)


@router.get("/job-roles/{job_role_id}", response_model=JobRoleOut)
def get_job_role(job_role_id: RecordId, actor: ActorDep, request: Request) -> JobRoleOut:
    actor.require("records.read", "read job roles")
    with transaction(request) as session:
        return job_role_out(session, curricula.get_job_role(session, job_role_id))


@router.post("/job-roles/{job_role_id}/curricula", response_model=CurriculumOut, status_code=201)
def create_curriculum(
    job_role_id: RecordId, body: CurriculumCreate, actor: ActorDep, request: Request
) -> CurriculumOut:
    with transaction(request) as session:
        c = curricula.create_curriculum(
            session,
            actor=actor,
            job_role_id=job_role_id,
            name=body.name,
            description=body.description,
        )
        return CurriculumOut(
            id=c.id, job_role_id=c.job_role_id, name=c.name, description=c.description, items=[]
        )


@router.post(
    "/curricula/{curriculum_id}/items", response_model=list[RequirementOut], status_code=201
)
def add_to_curriculum(
    curriculum_id: RecordId, body: CurriculumItemCreate, actor: ActorDep, request: Request
) -> list[RequirementOut]:
    """Returns the training this assigned to the holders of the job role."""
    with transaction(request) as session:
        _item, assigned = curricula.add_to_curriculum(
            session,
            actor=actor,
            curriculum_id=curriculum_id,
            document_id=body.document_id,
            due_in_days=body.due_in_days,
            recurrence_months=body.recurrence_months,
            reason=body.reason,
        )
        return [requirement_out(session, r) for r in assigned]


@router.post("/curriculum-items/{item_id}/remove", status_code=204)
def remove_from_curriculum(
    item_id: RecordId, body: Reason, actor: ActorDep, request: Request
) -> None:
    with transaction(request) as session:
        curricula.remove_from_curriculum(session, actor=actor, item_id=item_id, reason=body.reason)


@router.post("/job-roles/{job_role_id}/holders", response_model=AssignmentResult, status_code=201)
def assign_job_role(
    job_role_id: RecordId, body: JobRoleAssign, actor: ActorDep, request: Request
) -> AssignmentResult:
    with transaction(request) as session:
        assignment, assigned = service.assign_job_role(
            session, actor=actor, user_id=body.user_id, job_role_id=job_role_id
        )
        return AssignmentResult(
            assignment=AssignmentOut.model_validate(assignment),
            assigned=[requirement_out(session, r) for r in assigned],
        )


@router.post("/job-role-assignments/{assignment_id}/end", response_model=AssignmentOut)
def end_job_role(
    assignment_id: RecordId, body: Reason, actor: ActorDep, request: Request
) -> AssignmentOut:
    with transaction(request) as session:
        assignment = service.end_job_role(
            session, actor=actor, assignment_id=assignment_id, reason=body.reason
        )
        return AssignmentOut.model_validate(assignment)


# --- quizzes ------------------------------------------------------------------------------------


@router.put("/quizzes/{document_id}", response_model=QuizOut)
def set_quiz(document_id: RecordId, body: QuizWrite, actor: ActorDep, request: Request) -> QuizOut:
    with transaction(request) as session:
        quiz = curricula.set_quiz(
            session,
            actor=actor,
            document_id=document_id,
            questions=[q.model_dump() for q in body.questions],
            pass_mark_percent=body.pass_mark_percent,
            reason=body.reason,
        )
        return QuizOut(
            document_id=quiz.document_id,
            pass_mark_percent=quiz.pass_mark_percent,
            questions=quiz.questions,
        )


@router.get("/quizzes/{document_id}", response_model=QuizOut)
def get_quiz(document_id: RecordId, actor: ActorDep, request: Request) -> QuizOut:
    """QA sees the answers; everyone else only the questions."""
    actor.require("records.read", "read quizzes")
    with transaction(request) as session:
        quiz = service.quiz_of(session, document_id)
        if quiz is None:
            raise NotFound(f"document {document_id} has no quiz")
        questions = (
            quiz.questions if actor.can("training.manage") else without_answers(quiz.questions)
        )
        return QuizOut(
            document_id=quiz.document_id,
            pass_mark_percent=quiz.pass_mark_percent,
            questions=questions,
        )


# --- requirements -------------------------------------------------------------------------------


@router.get("/my", response_model=list[RequirementOut])
def my_training(
    actor: ActorDep, request: Request, include_closed: bool = False
) -> list[RequirementOut]:
    with transaction(request) as session:
        statuses = None if include_closed else [RequirementStatus.ASSIGNED.value]
        return [
            requirement_out(session, r)
            for r in service.requirements_of(session, actor.user_id, statuses=statuses)
        ]


@router.get("/people/{user_id}/requirements", response_model=list[RequirementOut])
def requirements_of(user_id: RecordId, actor: ActorDep, request: Request) -> list[RequirementOut]:
    actor.require("records.read", "read training records")
    with transaction(request) as session:
        return [requirement_out(session, r) for r in service.requirements_of(session, user_id)]


@router.post("/requirements", response_model=RequirementOut, status_code=201)
def assign_training(body: AdHocTraining, actor: ActorDep, request: Request) -> RequirementOut:
    with transaction(request) as session:
        requirement = service.assign_training(
            session,
            actor=actor,
            user_id=body.user_id,
            document_id=body.document_id,
            due_in_days=body.due_in_days,
            reason=body.reason,
        )
        return requirement_out(session, requirement)


@router.get("/requirements/{requirement_id}", response_model=RequirementOut)
def get_requirement(requirement_id: RecordId, actor: ActorDep, request: Request) -> RequirementOut:
    actor.require("records.read", "read training records")
    with transaction(request) as session:
        return requirement_out(session, service.get_requirement(session, requirement_id))


@router.post("/requirements/{requirement_id}/open", response_model=ReadingOut)
def open_for_reading(requirement_id: RecordId, actor: ActorDep, request: Request) -> ReadingOut:
    """The trainee opens the document's text (recorded the first time): signing needs it."""
    with transaction(request) as session:
        requirement, version = service.open_for_reading(
            session, actor=actor, requirement_id=requirement_id
        )
        assert requirement.opened_at is not None
        return ReadingOut(
            requirement_id=requirement.id,
            version_id=version.id,
            version_number=version.number,
            title=version.title,
            body=version.body,
            content_hash=version.content_hash(),
            opened_at=requirement.opened_at,
            attachments=[a.filename for a in attachments_of(session, version.id)],
        )


@router.post("/requirements/{requirement_id}/complete", response_model=RequirementOut)
def complete_training(
    requirement_id: RecordId, body: Completion, actor: ActorDep, request: Request
) -> RequirementOut:
    """Sign "Read and understood" (with the quiz answers, where the document has a quiz)."""
    with transaction(request) as session:
        service.complete_training(
            session,
            actor=actor,
            requirement_id=requirement_id,
            password=body.password,
            answers=body.answers,
            expected_version=body.expected_version,
        )
        session.flush()
        return requirement_out(session, service.get_requirement(session, requirement_id))


# --- matrix, gate -------------------------------------------------------------------------------


@router.get("/matrix", response_model=MatrixOut)
def matrix(actor: ActorDep, request: Request, job_role_id: RecordId | None = None) -> MatrixOut:
    actor.require("records.read", "read the training matrix")
    with transaction(request) as session:
        m = status.training_matrix(session, job_role_id=job_role_id)
        return MatrixOut(
            people=[
                MatrixPersonOut(
                    user_id=p.user_id,
                    username=p.username,
                    full_name=p.full_name,
                    job_roles=list(p.job_roles),
                )
                for p in m.people
            ],
            documents=[
                MatrixDocumentOut(
                    document_id=d.document_id, number=d.number, title=d.title, version=d.version
                )
                for d in m.documents
            ],
            cells=[
                CellOut(
                    user_id=user_id,
                    document_id=document_id,
                    standing=cell.standing.value,
                    due_at=cell.due_at,
                    requirement_id=(
                        cell.open_requirement.id
                        if cell.open_requirement
                        else (cell.last_completed.id if cell.last_completed else None)
                    ),
                )
                for (user_id, document_id), cell in sorted(m.cells.items())
            ],
            counts=m.counts(),
        )


@router.get("/check", response_model=CheckOut)
def check(
    actor: ActorDep,
    request: Request,
    document: Annotated[list[str], Query(min_length=1, max_length=50)],
) -> CheckOut:
    """May I work under these documents? (What the gate would answer, without acting.)"""
    with transaction(request) as session:
        try:
            gate.require_current_training(session, actor, document)
        except TrainingMissing as refusal:
            return CheckOut(allowed=False, reasons=refusal.reasons)
        return CheckOut(allowed=True, reasons=[])


@router.get("/governing", response_model=list[GoverningRuleOut])
def governing_rules(actor: ActorDep, request: Request) -> list[GoverningRuleOut]:
    actor.require("records.read", "read the governing documents")
    with transaction(request) as session:
        return [
            GoverningRuleOut(
                id=rule.id,
                record_type=rule.record_type,
                transition=rule.transition,
                document_id=document.id,
                document_number=document.number,
                document_title=document.title,
                retired_at=rule.retired_at,
            )
            for rule, document in gate.governing_rules(session)
        ]


@router.post("/governing", response_model=GoverningRuleOut, status_code=201)
def add_governing_document(
    body: GoverningRuleCreate, actor: ActorDep, request: Request
) -> GoverningRuleOut:
    with transaction(request) as session:
        rule = gate.add_governing_document(
            session,
            actor=actor,
            record_type=body.record_type,
            transition=body.transition,
            document_id=body.document_id,
            reason=body.reason,
        )
        document = session.get(ControlledDocument, rule.document_id)
        assert document is not None
        return GoverningRuleOut(
            id=rule.id,
            record_type=rule.record_type,
            transition=rule.transition,
            document_id=document.id,
            document_number=document.number,
            document_title=document.title,
            retired_at=rule.retired_at,
        )


@router.post("/governing/{rule_id}/retire", status_code=204)
def retire_governing_document(
    rule_id: RecordId, body: Reason, actor: ActorDep, request: Request
) -> None:
    with transaction(request) as session:
        gate.retire_governing_document(session, actor=actor, rule_id=rule_id, reason=body.reason)
