"""Change control pages: the register, a new change request, and a change's page with its impact
assessment, the signed decision of each impacted function, implementation tasks, effectiveness
review, links, signatures, workflow buttons and audit trail. Thin: every change goes through the
services; workflow steps post to the generic record route."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, select

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    distinct_options,
    fixed_options,
    register_response,
    status_in,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.quality.changes import affected, authority, closure, rules, service
from pharmaqms.quality.changes.models import (
    FUNCTION_ROLE,
    OPEN_STATUSES,
    ActionKind,
    ActionStatus,
    ChangeAction,
    ChangeFunction,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    ImpactArea,
    RegulatoryCategory,
)
from pharmaqms.quality.changes.workflow import CHANGE_WORKFLOW, REQUESTERS
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.view_support import people_with, record_parts, required_utc

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Change control", "/changes", "records.read", 40))


def _page(change_id: int) -> str:
    return f"/changes/{change_id}"


def _overdue(query: Select[Any], _value: Any) -> Select[Any]:
    """An open change with an implementation task past its due date and not yet done."""
    late = select(ChangeAction.change_id).where(
        ChangeAction.status == ActionStatus.OPEN.value, ChangeAction.due_at < clock.now()
    )
    return query.where(
        ChangeRequest.status.in_([s.value for s in OPEN_STATUSES]), ChangeRequest.id.in_(late)
    )


REGISTER = Register(
    name="changes",
    title="Change control",
    query=lambda _session, _actor: select(ChangeRequest),
    columns=(
        Column("number", "Number", lambda c: c.number, ChangeRequest.number),
        Column("title", "Title", lambda c: c.title, ChangeRequest.title, filter="text"),
        Column(
            "change_type",
            "Type",
            lambda c: c.change_type,
            ChangeRequest.change_type,
            filter="choice",
            options=distinct_options(ChangeRequest.change_type),
        ),
        Column(
            "regulatory_category",
            "Reporting category",
            lambda c: c.regulatory_category,
            ChangeRequest.regulatory_category,
            filter="choice",
            options=fixed_options([c.value for c in RegulatoryCategory]),
        ),
        Column("requested", "Requested", lambda c: c.created_at, ChangeRequest.created_at),
        Column(
            "status",
            "Status",
            lambda c: c.status,
            ChangeRequest.status,
            filter="choice",
            options=fixed_options([s.value for s in ChangeStatus], CHANGE_WORKFLOW.state_label),
        ),
    ),
    default_sort="-requested",
    tiebreak=ChangeRequest.id,
    extra_filters=(
        Filter("open", "open only", "flag", status_in(ChangeRequest.status, OPEN_STATUSES)),
        Filter("overdue", "with an overdue task", "flag", _overdue),
    ),
)


@router.get("/changes", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read change requests")
    return register_response(
        request,
        actor,
        REGISTER,
        "changes/register.html",
        lambda _session: {
            "workflow": CHANGE_WORKFLOW,
            "can_request": actor.can("changes.request"),
        },
    )


@router.get("/changes/new", response_class=HTMLResponse)
def new_change(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("changes.request", "request changes")
    with transaction(request) as session:
        return render(
            request,
            "changes/new.html",
            {
                "types": [t.value for t in ChangeType],
                "owners": people_with(session, REQUESTERS),
            },
        )


@router.post("/changes")
def create(
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)],
    justification: Annotated[str, Form(max_length=20_000)],
    change_type: Annotated[str, Form(max_length=20)] = "permanent",
    owner_id: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        change = service.request_change(
            session,
            actor=actor,
            title=title,
            description=description,
            justification=justification,
            change_type=change_type,
            owner_id=owner_id,
        )
        session.flush()
        target, number = _page(change.id), change.number
    return redirect(target, f"{number} requested as a draft.")


@router.get("/changes/{change_id}", response_class=HTMLResponse)
def change_page(change_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read change requests")
    with transaction(request) as session:
        change = service.get_change(session, change_id)
        approved, waiting = rules.approval_status(change)
        signable = [
            f
            for f in waiting
            if FUNCTION_ROLE[ChangeFunction(f)] in actor.roles
            and actor.user_id != change.created_by_id
        ]
        return render(
            request,
            "changes/change.html",
            {
                **record_parts(
                    session,
                    change,
                    CHANGE_WORKFLOW,
                    actor,
                    children=(
                        ("change_impact", [i.id for i in change.impacts]),
                        ("change_approval", [a.id for a in change.approvals]),
                        ("change_action", [a.id for a in change.actions]),
                    ),
                ),
                "ch": change,
                "impacts": {i.area: i for i in change.impacts},
                "areas": [a.value for a in ImpactArea],
                "categories": [c.value for c in RegulatoryCategory],
                "functions": [f.value for f in ChangeFunction],
                "function_role": {f.value: r for f, r in FUNCTION_ROLE.items()},
                "approved_functions": approved,
                "waiting_functions": waiting,
                "signable": signable,
                "current_hash": change.content_hash(),
                "kinds": [k.value for k in ActionKind],
                "roles": sorted(r.name for r in auth.known_roles(session)),
                "documents": list(
                    session.scalars(select(ControlledDocument).order_by(ControlledDocument.number))
                ),
                "people": people_with(session, REQUESTERS),
                "can_assess": actor.can("changes.assess"),
                "can_implement": actor.can("changes.implement"),
                "closure_checks": closure.closure_checks(session, change),
                "affected_labels": {k.value: v for k, v in affected.KIND_LABEL.items()},
            },
        )


@router.post("/changes/{change_id}/impact-assessment")
async def assess(change_id: int, request: Request, actor: ActorDep) -> RedirectResponse:
    """One form for every area: ``impacted_<area>`` (on/absent) and ``assessment_<area>``."""
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name)
        return value[:4000] if isinstance(value, str) else ""

    impacts = [
        service.ImpactInput(
            area.value, field(f"impacted_{area.value}") == "on", field(f"assessment_{area.value}")
        )
        for area in ImpactArea
        if field(f"assessment_{area.value}").strip()
    ]
    functions = [f.value for f in ChangeFunction if field(f"function_{f.value}") == "on"]
    with transaction(request) as session:
        service.assess_impact(
            session,
            actor=actor,
            change_id=change_id,
            impacts=impacts,
            regulatory_category=field("regulatory_category"),
            regulatory_rationale=field("regulatory_rationale"),
            functions=functions,
            reason=field("reason") or None,
        )
    return redirect(_page(change_id), "Impact assessment saved.")


@router.post("/changes/{change_id}/decisions")
def decide(
    change_id: int,
    request: Request,
    actor: ActorDep,
    function: Annotated[str, Form(max_length=30)],
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    password: Annotated[str, Form(max_length=256)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.decide_as_function(
            session,
            actor=actor,
            change_id=change_id,
            function=function,
            approve=decision == "approve",
            password=password or None,
            comment=comment or None,
        )
        status = service.get_change(session, change_id).status
    verb = "approved" if decision == "approve" else "rejected"
    return redirect(
        _page(change_id),
        f"{function.replace('_', ' ').capitalize()} {verb} (signed); status now "
        f"{CHANGE_WORKFLOW.state_label(status)}.",
    )


@router.post("/changes/{change_id}/actions")
def add_action(
    change_id: int,
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=30)],
    description: Annotated[str, Form(max_length=4000)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
    document_id: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.add_action(
            session,
            actor=actor,
            change_id=change_id,
            kind=kind,
            description=description,
            owner_id=owner_id,
            due_at=required_utc(due_at, "due_at", "the task's due date"),
            document_id=int(document_id) if document_id.isdecimal() else None,
            role=role or None,
            reason=reason or None,
        )
    return redirect(_page(change_id), "Implementation task added.")


@router.post("/changes/{change_id}/actions/{action_id}/completion")
def complete_action(
    change_id: int,
    action_id: int,
    request: Request,
    actor: ActorDep,
    evidence: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.complete_action(
            session, actor=actor, change_id=change_id, action_id=action_id, evidence=evidence
        )
    return redirect(_page(change_id), f"Task #{action_id} done.")


@router.post("/changes/{change_id}/affected")
def name_affected(
    change_id: int,
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=30)],
    reference: Annotated[str, Form(max_length=100)],
) -> RedirectResponse:
    with transaction(request) as session:
        item = affected.name_affected(
            session, actor=actor, change_id=change_id, kind=kind, reference=reference
        )
        label = item.label
    return redirect(_page(change_id), f"{label} named as affected.")


@router.post("/changes/{change_id}/submission")
async def record_submission(
    change_id: int,
    request: Request,
    actor: ActorDep,
    reference: Annotated[str, Form(max_length=100)],
    submitted_on: Annotated[date, Form()],
    file: Annotated[UploadFile, File()],
) -> RedirectResponse:
    content = await file.read(authority.MAX_FILE_BYTES + 1)
    with transaction(request, write=True) as session:
        authority.record_submission(
            session,
            actor=actor,
            change_id=change_id,
            reference=reference,
            submitted_on=submitted_on,
            filename=file.filename or "",
            content=content,
        )
    return redirect(_page(change_id), "The submission is on record.")


@router.post("/changes/{change_id}/authority-approval")
async def record_authority_approval(
    change_id: int,
    request: Request,
    actor: ActorDep,
    reference: Annotated[str, Form(max_length=100)],
    approved_on: Annotated[date, Form()],
    letter: Annotated[UploadFile, File()],
) -> RedirectResponse:
    content = await letter.read(authority.MAX_LETTER_BYTES + 1)
    with transaction(request, write=True) as session:
        authority.record_authority_approval(
            session,
            actor=actor,
            change_id=change_id,
            reference=reference,
            approved_on=approved_on,
            filename=letter.filename or "",
            content=content,
        )
    return redirect(_page(change_id), "The authority's approval is on record.")


@router.post("/changes/{change_id}/effectiveness-review")
def review(
    change_id: int,
    request: Request,
    actor: ActorDep,
    effective: Annotated[str, Form(pattern="^(yes|no)$")],
    summary: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.record_effectiveness_review(
            session, actor=actor, change_id=change_id, effective=effective == "yes", summary=summary
        )
    return redirect(_page(change_id), "Effectiveness review recorded.")
