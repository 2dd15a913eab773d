"""Change control API: thin. Workflow steps without their own data (submit,
submit_for_approval, complete_implementation, close, …) go through the generic
``POST /api/v1/records/change_request/{id}/transitions/{name}``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.quality import events
from pharmaqms.quality.changes import affected, authority, rules, service
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.changes.schemas import (
    AffectedIn,
    AffectedOut,
    AffectedRemoval,
    ApprovalOut,
    ChangeActionCompletion,
    ChangeActionCreate,
    ChangeActionOut,
    ChangeCreate,
    ChangeEdit,
    ChangeOut,
    ChangeSummary,
    EffectivenessReview,
    FunctionDecision,
    ImpactAssessmentIn,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1", tags=["change control"])


def change_out(session: Session, change: ChangeRequest) -> ChangeOut:
    session.flush()
    out = ChangeOut.model_validate(change)
    current = change.content_hash()
    out.approvals = [
        ApprovalOut.model_validate(a).model_copy(
            update={
                "valid_for_current_content": a.content_hash == current
                and a.round == change.approval_round
            }
        )
        for a in change.approvals
    ]
    out.affected = [AffectedOut.model_validate(i) for i in change.affected]
    _approved, out.functions_waiting = rules.approval_status(change)
    out.signatures = signatures_out(session, change)
    out.links = links_out(session, change)
    return out


@router.get("/changes", response_model=Page[ChangeSummary])
def list_changes(
    actor: ActorDep,
    request: Request,
    status: str | None = None,
    regulatory_category: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[ChangeSummary]:
    actor.require("records.read", "read change requests")
    query = select(ChangeRequest).order_by(ChangeRequest.id.desc())
    if status:
        query = query.where(ChangeRequest.status == status)
    if regulatory_category:
        query = query.where(ChangeRequest.regulatory_category == regulatory_category)
    with transaction(request) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.limit(limit).offset(offset))
        return Page[ChangeSummary](
            items=[ChangeSummary.model_validate(c) for c in rows],
            total=int(total or 0),
            limit=limit,
            offset=offset,
        )


@router.post("/changes", response_model=ChangeOut, status_code=201)
def create(body: ChangeCreate, actor: ActorDep, request: Request) -> ChangeOut:
    with transaction(request) as session:
        fields = body.record_fields()
        if body.source is None:
            change = service.request_change(session, actor=actor, **fields)
        else:
            change = events.request_change(
                session, actor=actor, **body.source.model_dump(), **fields
            )
        return change_out(session, change)


@router.get("/changes/{change_id}", response_model=ChangeOut)
def get_change(change_id: RecordId, actor: ActorDep, request: Request) -> ChangeOut:
    actor.require("records.read", "read change requests")
    with transaction(request) as session:
        return change_out(session, service.get_change(session, change_id))


@router.patch("/changes/{change_id}", response_model=ChangeOut)
def edit(change_id: RecordId, body: ChangeEdit, actor: ActorDep, request: Request) -> ChangeOut:
    with transaction(request) as session:
        change = service.edit_change(
            session,
            actor=actor,
            change_id=change_id,
            expected_version=body.expected_version,
            title=body.title,
            description=body.description,
            justification=body.justification,
            change_type=body.change_type,
            reason=body.reason,
        )
        return change_out(session, change)


@router.post("/changes/{change_id}/impact-assessment", response_model=ChangeOut)
def assess(
    change_id: RecordId, body: ImpactAssessmentIn, actor: ActorDep, request: Request
) -> ChangeOut:
    with transaction(request) as session:
        change = service.assess_impact(
            session,
            actor=actor,
            change_id=change_id,
            impacts=[service.ImpactInput(i.area, i.impacted, i.assessment) for i in body.impacts],
            regulatory_category=body.regulatory_category,
            regulatory_rationale=body.regulatory_rationale,
            functions=body.functions,
            reason=body.reason,
        )
        return change_out(session, change)


@router.post("/changes/{change_id}/decisions", response_model=ChangeOut)
def decide(
    change_id: RecordId, body: FunctionDecision, actor: ActorDep, request: Request
) -> ChangeOut:
    with transaction(request) as session:
        service.decide_as_function(
            session,
            actor=actor,
            change_id=change_id,
            function=body.function,
            approve=body.approve,
            password=body.password,
            comment=body.comment,
        )
        return change_out(session, service.get_change(session, change_id))


@router.post("/changes/{change_id}/actions", response_model=ChangeActionOut, status_code=201)
def add_action(
    change_id: RecordId, body: ChangeActionCreate, actor: ActorDep, request: Request
) -> ChangeActionOut:
    with transaction(request) as session:
        action = service.add_action(
            session,
            actor=actor,
            change_id=change_id,
            kind=body.kind,
            description=body.description,
            owner_id=body.owner_id,
            due_at=body.due_at,
            document_id=body.document_id,
            role=body.role,
            reason=body.reason,
        )
        session.flush()
        return ChangeActionOut.model_validate(action)


@router.post("/changes/{change_id}/actions/{action_id}/completion", response_model=ChangeActionOut)
def complete_action(
    change_id: RecordId,
    action_id: RecordId,
    body: ChangeActionCompletion,
    actor: ActorDep,
    request: Request,
) -> ChangeActionOut:
    with transaction(request) as session:
        action = service.complete_action(
            session, actor=actor, change_id=change_id, action_id=action_id, evidence=body.evidence
        )
        return ChangeActionOut.model_validate(action)


@router.post("/changes/{change_id}/effectiveness-review", response_model=ChangeOut)
def review(
    change_id: RecordId, body: EffectivenessReview, actor: ActorDep, request: Request
) -> ChangeOut:
    with transaction(request) as session:
        change = service.record_effectiveness_review(
            session,
            actor=actor,
            change_id=change_id,
            effective=body.effective,
            summary=body.summary,
        )
        return change_out(session, change)


# --- what the change affects, the authority's approval -------------------------------------


@router.post("/changes/{change_id}/affected", response_model=AffectedOut, status_code=201)
def name_affected(
    change_id: RecordId, body: AffectedIn, actor: ActorDep, request: Request
) -> AffectedOut:
    """Name a product (its code), specification or master batch record (its number)."""
    with transaction(request) as session:
        item = affected.name_affected(
            session, actor=actor, change_id=change_id, kind=body.kind, reference=body.reference
        )
        session.flush()
        return AffectedOut.model_validate(item)


@router.post("/changes/{change_id}/affected/{item_id}/removal", response_model=AffectedOut)
def remove_affected(
    change_id: RecordId, item_id: RecordId, body: AffectedRemoval, actor: ActorDep, request: Request
) -> AffectedOut:
    with transaction(request) as session:
        item = affected.remove_affected(
            session, actor=actor, change_id=change_id, item_id=item_id, reason=body.reason
        )
        return AffectedOut.model_validate(item)


@router.post("/changes/{change_id}/submission", response_model=ChangeOut)
async def record_submission(
    change_id: RecordId,
    actor: ActorDep,
    request: Request,
    reference: Annotated[str, Form(min_length=1, max_length=100)],
    submitted_on: Annotated[date, Form()],
    file: Annotated[UploadFile, File()],
) -> ChangeOut:
    """The submission sent to the authority, with the file sent: it fulfils the submission
    tasks."""
    content = await file.read(authority.MAX_FILE_BYTES + 1)
    with transaction(request, write=True) as session:
        change = authority.record_submission(
            session,
            actor=actor,
            change_id=change_id,
            reference=reference,
            submitted_on=submitted_on,
            filename=file.filename or "",
            content=content,
        )
        return change_out(session, change)


@router.get(
    "/changes/{change_id}/regulatory-files/{kind}",
    response_class=Response,
    responses=file_responses("application/pdf", "image/png", "image/jpeg", "image/tiff"),
)
def regulatory_file(
    change_id: RecordId,
    kind: Annotated[str, Path(pattern="^(submission|approval)$")],
    actor: ActorDep,
    request: Request,
) -> Response:
    """The submission sent, or the authority's approval letter, as stored."""
    actor.require("records.read", "read change requests")
    with transaction(request) as session:
        change = service.get_change(session, change_id)
        stored = authority.file_of(session, change, kind)
        content, name, media = stored.content, stored.filename, stored.media_type
    return download(content, filename=name, media_type=media)


@router.post("/changes/{change_id}/authority-approval", response_model=ChangeOut)
async def record_authority_approval(
    change_id: RecordId,
    actor: ActorDep,
    request: Request,
    reference: Annotated[str, Form(min_length=1, max_length=100)],
    approved_on: Annotated[date, Form()],
    letter: Annotated[UploadFile, File()],
) -> ChangeOut:
    """The authority's approval of a prior-approval change, with its scanned letter."""
    content = await letter.read(authority.MAX_LETTER_BYTES + 1)
    with transaction(request, write=True) as session:
        change = authority.record_authority_approval(
            session,
            actor=actor,
            change_id=change_id,
            reference=reference,
            approved_on=approved_on,
            filename=letter.filename or "",
            content=content,
        )
        return change_out(session, change)
