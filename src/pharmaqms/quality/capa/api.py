"""CAPA API: thin. Workflow steps without their own data (submit_plan, approve_plan,
start_effectiveness_check, close, …) go through the generic
``POST /api/v1/records/capa/{id}/transitions/{name}``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.quality import events
from pharmaqms.quality.capa import effectiveness, queries, rules, service
from pharmaqms.quality.capa.models import ActionStatus, Capa, CapaAction
from pharmaqms.quality.capa.schemas import (
    ActionCancellation,
    ActionCompletion,
    ActionCreate,
    ActionOut,
    CapaCreate,
    CapaEdit,
    CapaOut,
    CapaSummary,
    EffectivenessPlan,
    EffectivenessResult,
    OnTimeRateOut,
    RegisterOut,
    TemplateOut,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1", tags=["capa"])


def summary_out(capa: Capa) -> CapaSummary:
    now = clock.now()
    out = CapaSummary.model_validate(capa)
    out.overdue = rules.is_overdue(capa, now)
    out.due_this_week = rules.is_due_soon(capa, now)
    return out


def action_out(action: CapaAction) -> ActionOut:
    out = ActionOut.model_validate(action)
    out.overdue = action.status == ActionStatus.OPEN and action.due_at < clock.now()
    return out


def capa_out(session: Session, capa: Capa) -> CapaOut:
    session.flush()
    now = clock.now()
    out = CapaOut.model_validate(capa)
    out.actions = [action_out(a) for a in capa.actions]
    out.overdue = rules.is_overdue(capa, now)
    out.due_this_week = rules.is_due_soon(capa, now)
    out.signatures = signatures_out(session, capa)
    out.links = links_out(session, capa)
    return out


@router.get("/capas", response_model=Page[CapaSummary])
def list_capas(
    actor: ActorDep,
    request: Request,
    status: str | None = None,
    owner_id: RecordId | None = None,
    open: bool = False,
    overdue: bool = False,
    due_this_week: bool = False,
    source_type: str | None = Query(default=None, max_length=60),
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[CapaSummary]:
    actor.require("records.read", "read CAPAs")
    f = queries.CapaFilter(
        status=status,
        owner_id=owner_id,
        open_only=open,
        overdue=overdue,
        due_this_week=due_this_week,
        source_type=source_type,
        text=q,
    )
    with transaction(request) as session:
        rows, total = queries.find_capas(session, f, limit=limit, offset=offset)
        return Page[CapaSummary](
            items=[summary_out(c) for c in rows], total=total, limit=limit, offset=offset
        )


@router.get("/capas/register", response_model=RegisterOut)
def register_counts(actor: ActorDep, request: Request) -> RegisterOut:
    actor.require("records.read", "read the CAPA register")
    with transaction(request) as session:
        counts = queries.register_counts(session)
    return RegisterOut(
        open=counts.open,
        overdue=counts.overdue,
        due_this_week=counts.due_this_week,
        overdue_actions=counts.overdue_actions,
    )


@router.get("/capas/on-time-rate", response_model=OnTimeRateOut)
def on_time_rate(
    actor: ActorDep, request: Request, months: int = Query(default=12, ge=1, le=60)
) -> OnTimeRateOut:
    actor.require("records.read", "read CAPA statistics")
    with transaction(request) as session:
        found = queries.on_time_rate(session, months=months)
    return OnTimeRateOut(
        months=[m.label for m in found.months],
        closed=found.closed,
        on_time=found.on_time,
        rate=found.rates,
    )


@router.post("/capas", response_model=CapaOut, status_code=201)
def create(body: CapaCreate, actor: ActorDep, request: Request) -> CapaOut:
    with transaction(request) as session:
        fields = body.record_fields()
        if body.source is None:
            capa = service.create_capa(session, actor=actor, **fields)
        else:
            capa = events.open_capa(session, actor=actor, **body.source.model_dump(), **fields)
        return capa_out(session, capa)


@router.get("/capas/{capa_id}", response_model=CapaOut)
def get_capa(capa_id: RecordId, actor: ActorDep, request: Request) -> CapaOut:
    actor.require("records.read", "read CAPAs")
    with transaction(request) as session:
        return capa_out(session, service.get_capa(session, capa_id))


@router.patch("/capas/{capa_id}", response_model=CapaOut)
def edit(capa_id: RecordId, body: CapaEdit, actor: ActorDep, request: Request) -> CapaOut:
    with transaction(request) as session:
        capa = service.edit_capa(
            session,
            actor=actor,
            capa_id=capa_id,
            expected_version=body.expected_version,
            title=body.title,
            problem_statement=body.problem_statement,
            owner_id=body.owner_id,
            due_at=body.due_at,
            reason=body.reason,
        )
        return capa_out(session, capa)


@router.post("/capas/{capa_id}/actions", response_model=ActionOut, status_code=201)
def add_action(
    capa_id: RecordId, body: ActionCreate, actor: ActorDep, request: Request
) -> ActionOut:
    with transaction(request) as session:
        action = service.add_action(
            session,
            actor=actor,
            capa_id=capa_id,
            kind=body.kind,
            description=body.description,
            owner_id=body.owner_id,
            due_at=body.due_at,
            reason=body.reason,
            document_id=body.document_id,
            job_role_id=body.job_role_id,
        )
        session.flush()
        return action_out(action)


@router.post("/capas/{capa_id}/actions/{action_id}/completion", response_model=ActionOut)
def complete_action(
    capa_id: RecordId,
    action_id: RecordId,
    body: ActionCompletion,
    actor: ActorDep,
    request: Request,
) -> ActionOut:
    with transaction(request) as session:
        action = service.complete_action(
            session, actor=actor, capa_id=capa_id, action_id=action_id, evidence=body.evidence
        )
        return action_out(action)


@router.post("/capas/{capa_id}/actions/{action_id}/cancellation", response_model=ActionOut)
def cancel_action(
    capa_id: RecordId,
    action_id: RecordId,
    body: ActionCancellation,
    actor: ActorDep,
    request: Request,
) -> ActionOut:
    with transaction(request) as session:
        action = service.cancel_action(
            session, actor=actor, capa_id=capa_id, action_id=action_id, reason=body.reason
        )
        return action_out(action)


@router.post("/capas/{capa_id}/effectiveness-plan", response_model=CapaOut)
def plan_effectiveness(
    capa_id: RecordId, body: EffectivenessPlan, actor: ActorDep, request: Request
) -> CapaOut:
    with transaction(request) as session:
        capa = service.plan_effectiveness(
            session,
            actor=actor,
            capa_id=capa_id,
            required=body.required,
            criteria=body.criteria,
            due_at=body.due_at,
            justification=body.justification,
            template_id=body.template_id,
        )
        return capa_out(session, capa)


@router.get("/capas/{capa_id}/effectiveness-templates", response_model=list[TemplateOut])
def effectiveness_templates(
    capa_id: RecordId, actor: ActorDep, request: Request
) -> list[TemplateOut]:
    """The effectiveness criteria templates in force that fit the CAPA's source, each with the
    plan it would prefill."""
    actor.require("records.read", "read CAPAs")
    with transaction(request, write=False) as session:
        capa = service.get_capa(session, capa_id)
        return [
            TemplateOut(
                template_id=p.template_id,
                title=p.title,
                criteria=p.criteria,
                due_at=p.due_at,
                period_months=p.period_months,
                configuration=p.rule.label,
            )
            for p in effectiveness.templates_for(session, capa)
        ]


@router.post("/capas/{capa_id}/effectiveness-result", response_model=CapaOut)
def record_result(
    capa_id: RecordId, body: EffectivenessResult, actor: ActorDep, request: Request
) -> CapaOut:
    with transaction(request) as session:
        service.record_effectiveness_result(
            session,
            actor=actor,
            capa_id=capa_id,
            passed=body.passed,
            evidence=body.evidence,
            password=body.password,
            reopen_action_ids=body.reopen_action_ids,
            actions_due_at=body.actions_due_at,
            next_check_due_at=body.next_check_due_at,
            next_criteria=body.next_criteria,
            early_reason=body.early_reason,
        )
        return capa_out(session, service.get_capa(session, capa_id))
