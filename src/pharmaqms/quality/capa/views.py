"""CAPA pages: the register (open / overdue / due this week, overdue actions), a new CAPA, and a
CAPA's page with its plan, actions, effectiveness check, links, signatures, workflow buttons and
audit trail. Thin: every change goes through the services; workflow steps post to the generic
record route."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import AuthenticationFailed, Conflict, InvalidInput, QMSError
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    any_contains,
    fixed_options,
    id_equals,
    person_name,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.quality import events
from pharmaqms.quality.capa import effectiveness, queries, rules, service
from pharmaqms.quality.capa.models import OPEN_STATUSES, ActionKind, Capa, CapaStatus
from pharmaqms.quality.capa.rules import DUE_SOON
from pharmaqms.quality.capa.workflow import CAPA_WORKFLOW, OWNERS
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.links import RECORD_TYPE_PATTERN, QualityLink
from pharmaqms.quality.training.models import JobRole
from pharmaqms.quality.view_support import (
    lines,
    people_with,
    record_parts,
    required_utc,
    utc_from_form,
)

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "CAPA", "/capas", "records.read", 30))

# Sources outside the system, named by a label only (the form of a new CAPA offers these; a
# record of this system, an OOS investigation say, raises its CAPA from its own page or API).
SOURCE_KINDS = (
    ("audit_finding", "Audit finding"),
    ("excursion", "Temperature excursion"),
    ("signal", "Pharmacovigilance signal"),
    ("management_review", "Management review"),
)
# The quality records that raise CAPAs whether or not one has been raised yet.
QUALITY_SOURCES = ("deviation", "complaint")


def source_filter_options(session: Session, chosen: str) -> list[tuple[str, str]]:
    """The register's source filter: the record types CAPAs were actually raised from, named
    as the registry names them, with the usual sources offered even before their first CAPA."""
    named = dict(SOURCE_KINDS)
    kinds = [*QUALITY_SOURCES, *named, *queries.source_types(session)]
    if RECORD_TYPE_PATTERN.match(chosen):
        kinds.append(chosen)
    options: dict[str, str] = {}
    for kind in kinds:
        registered = RECORD_TYPES.get(kind)
        options[kind] = (
            registered.label if registered else named.get(kind, kind.replace("_", " ").capitalize())
        )
    return sorted(options.items(), key=lambda item: item[1].lower())


def _page(capa_id: int) -> str:
    return f"/capas/{capa_id}"


def _view(query: Select[Any], value: Any) -> Select[Any]:
    """The register's views: open, overdue, due this week (as the counts above it)."""
    if value not in ("open", "overdue", "due_this_week"):
        return query
    now = clock.now()
    query = query.where(Capa.status.in_([s.value for s in OPEN_STATUSES]))
    if value == "overdue":
        query = query.where(Capa.due_at < now)
    elif value == "due_this_week":
        query = query.where(Capa.due_at >= now, Capa.due_at < now + DUE_SOON)
    return query


# CAPA ageing: how long an open CAPA has been open, in the bands a QA review reads.
AGE_BANDS = {"0-30": (0, 30), "31-90": (31, 90), "91-180": (91, 180), "over-180": (181, None)}


def _age(query: Select[Any], value: Any) -> Select[Any]:
    band = AGE_BANDS.get(str(value))
    if band is None:
        return query
    now = clock.now()
    youngest, oldest = band
    query = query.where(
        Capa.status.in_([s.value for s in OPEN_STATUSES]),
        Capa.created_at <= now - timedelta(days=youngest),
    )
    if oldest is not None:
        query = query.where(Capa.created_at > now - timedelta(days=oldest + 1))
    return query


def _raised_from(query: Select[Any], value: Any) -> Select[Any]:
    return query.where(
        Capa.id.in_(
            select(QualityLink.target_id).where(
                QualityLink.target_type == "capa", QualityLink.source_type == str(value)
            )
        )
    )


OWNER = person_name(Capa.owner_id)

REGISTER = Register(
    name="capas",
    title="CAPA",
    query=lambda _session, _actor: select(Capa, OWNER.label("owner")),
    columns=(
        Column("number", "Number", lambda r: r[0].number, Capa.number),
        Column("title", "Title", lambda r: r[0].title, Capa.title),
        Column("owner", "Owner", lambda r: r.owner, OWNER),
        Column("due", "Due", lambda r: r[0].due_at, Capa.due_at),
        Column(
            "status",
            "Status",
            lambda r: r[0].status,
            Capa.status,
            filter="choice",
            options=fixed_options([s.value for s in CapaStatus], CAPA_WORKFLOW.state_label),
        ),
    ),
    default_sort="due",
    tiebreak=Capa.id,
    extra_filters=(
        Filter(
            "view",
            "View",
            "choice",
            _view,
            fixed_options(["open", "overdue", "due_this_week"]),
        ),
        Filter(
            "age",
            "Open for (days)",
            "choice",
            _age,
            fixed_options(list(AGE_BANDS), lambda band: band.replace("over-", "> ")),
        ),
        Filter(
            "owner_id",
            "Owner",
            "choice",
            id_equals(Capa.owner_id),
            lambda session: [(str(p.id), p.full_name) for p in people_with(session, OWNERS)],
        ),
        Filter(
            "source_type",
            "Raised from",
            "choice",
            _raised_from,
            lambda session: source_filter_options(session, ""),
        ),
        Filter("q", "Search", "text", any_contains(Capa.number, Capa.title)),
    ),
)


@router.get("/capas", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read CAPAs")

    def context(session: Session) -> dict[str, Any]:
        now = clock.now()
        return {
            "counts": queries.register_counts(session),
            "overdue_actions": queries.overdue_actions(session),
            "owners": people_with(session, OWNERS),
            "workflow": CAPA_WORKFLOW,
            "is_overdue": lambda capa: rules.is_overdue(capa, now),
            "is_due_soon": lambda capa: rules.is_due_soon(capa, now),
            "can_raise": actor.can("capa.raise"),
        }

    return register_response(request, actor, REGISTER, "capa/register.html", context)


@router.get("/capas/new", response_class=HTMLResponse)
def new_capa(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("capa.raise", "raise CAPAs")
    with transaction(request) as session:
        return render(
            request,
            "capa/new.html",
            {"owners": people_with(session, OWNERS), "source_kinds": SOURCE_KINDS},
        )


@router.post("/capas")
def create(
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    problem_statement: Annotated[str, Form(max_length=20_000)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
    source_type: Annotated[str, Form(max_length=60)] = "",
    source_label: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        due = required_utc(due_at, "due_at", "the due date")
        if source_type:
            capa = events.open_capa(
                session,
                actor=actor,
                source_type=source_type,
                source_id=None,
                source_label=source_label,
                title=title,
                problem_statement=problem_statement,
                owner_id=owner_id,
                due_at=due,
            )
        else:
            capa = service.create_capa(
                session,
                actor=actor,
                title=title,
                problem_statement=problem_statement,
                owner_id=owner_id,
                due_at=due,
            )
        session.flush()
        target, number = _page(capa.id), capa.number
    return redirect(target, f"{number} raised; its owner plans the actions.")


@router.get("/capas/{capa_id}", response_class=HTMLResponse)
def capa_page(capa_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read CAPAs")
    return _capa_page(request, actor, capa_id)


def _capa_page(
    request: Request,
    actor: Actor,
    capa_id: int,
    *,
    refused: QMSError | None = None,
    form: str = "",
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """The CAPA's page; after a refused form, with the reason beside that form and what was
    typed still in it (status of the refusal), so nothing typed is lost."""
    with transaction(request, write=False) as session:
        capa = service.get_capa(session, capa_id)
        now = clock.now()
        planner = actor.user_id in (capa.owner_id, capa.created_by_id) or actor.can("capa.approve")
        return render(
            request,
            "capa/capa.html",
            {
                "form_error": refused.detail if refused is not None else "",
                "refused_form": form,
                "typed": typed or {},
                **record_parts(
                    session,
                    capa,
                    CAPA_WORKFLOW,
                    actor,
                    children=(
                        ("capa_action", [a.id for a in capa.actions]),
                        ("capa_effectiveness_check", [c.id for c in capa.checks]),
                    ),
                ),
                "c": capa,
                "overdue": rules.is_overdue(capa, now),
                "is_open": capa.status in OPEN_STATUSES,
                "kinds": [k.value for k in ActionKind],
                "owners": people_with(session, OWNERS),
                "can_plan": planner and actor.can("capa.manage"),
                "can_verify": actor.can("capa.approve") and actor.user_id != capa.owner_id,
                "pending_check": capa.pending_check,
                "templates": (
                    effectiveness.templates_for(session, capa)
                    if capa.status == CapaStatus.DRAFT
                    else []
                ),
                "job_roles": {r.id: r.name for r in session.scalars(select(JobRole))},
                "linked_documents": {
                    d.id: d.number
                    for d in session.scalars(
                        select(ControlledDocument).where(
                            ControlledDocument.id.in_(
                                [a.document_id for a in capa.actions if a.document_id]
                            )
                        )
                    )
                },
            },
            refused.status if refused is not None else 200,
        )


@router.post("/capas/{capa_id}/actions")
def add_action(
    capa_id: int,
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=20)],
    description: Annotated[str, Form(max_length=4000)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    document_number: Annotated[str, Form(max_length=60)] = "",
    job_role_id: Annotated[str, Form(max_length=12)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        document_id = None
        if document_number.strip():
            document_id = session.scalars(
                select(ControlledDocument.id).where(
                    ControlledDocument.number == document_number.strip()
                )
            ).first()
            if document_id is None:
                raise InvalidInput(f"no document {document_number.strip()}", field="document_id")
        service.add_action(
            session,
            actor=actor,
            capa_id=capa_id,
            kind=kind,
            description=description,
            owner_id=owner_id,
            due_at=required_utc(due_at, "due_at", "the action's due date"),
            reason=reason or None,
            document_id=document_id,
            job_role_id=int(job_role_id) if job_role_id.strip().isdigit() else None,
        )
    return redirect(_page(capa_id), f"{kind.capitalize()} action added.")


@router.post("/capas/{capa_id}/actions/{action_id}/completion")
def complete_action(
    capa_id: int,
    action_id: int,
    request: Request,
    actor: ActorDep,
    evidence: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.complete_action(
            session, actor=actor, capa_id=capa_id, action_id=action_id, evidence=evidence
        )
    return redirect(_page(capa_id), f"Action #{action_id} done.")


@router.post("/capas/{capa_id}/actions/{action_id}/cancellation")
def cancel_action(
    capa_id: int,
    action_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.cancel_action(
            session, actor=actor, capa_id=capa_id, action_id=action_id, reason=reason
        )
    return redirect(_page(capa_id), f"Action #{action_id} cancelled.")


@router.post("/capas/{capa_id}/effectiveness-plan")
def plan_effectiveness(
    capa_id: int,
    request: Request,
    actor: ActorDep,
    required: Annotated[str, Form(pattern="^(yes|no)$")],
    criteria: Annotated[str, Form(max_length=4000)] = "",
    due_at: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=4000)] = "",
    template_id: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    typed = {
        "required": required,
        "criteria": criteria,
        "due_at": due_at,
        "justification": justification,
        "template_id": template_id,
    }
    try:
        with transaction(request) as session:
            service.plan_effectiveness(
                session,
                actor=actor,
                capa_id=capa_id,
                required=required == "yes",
                criteria=criteria or None,
                due_at=utc_from_form(due_at, "due_at"),
                justification=justification or None,
                template_id=template_id or None,
            )
    except (InvalidInput, Conflict) as refused:
        return _capa_page(request, actor, capa_id, refused=refused, form="plan", typed=typed)
    return redirect(_page(capa_id), "Effectiveness plan saved.")


@router.post("/capas/{capa_id}/effectiveness-result")
def record_result(
    capa_id: int,
    request: Request,
    actor: ActorDep,
    result: Annotated[str, Form(pattern="^(passed|failed)$")],
    evidence: Annotated[str, Form(max_length=20_000)],
    password: Annotated[str, Form(max_length=256)] = "",
    reopen_action_ids: Annotated[str, Form(max_length=400)] = "",
    actions_due_at: Annotated[str, Form(max_length=40)] = "",
    next_check_due_at: Annotated[str, Form(max_length=40)] = "",
    early_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    # Everything but the password comes back into the form after a refusal.
    typed = {
        "result": result,
        "evidence": evidence,
        "reopen_action_ids": reopen_action_ids,
        "actions_due_at": actions_due_at,
        "next_check_due_at": next_check_due_at,
        "early_reason": early_reason,
    }
    try:
        chosen = [int(x) for line in lines(reopen_action_ids) for x in line.split(",") if x.strip()]
    except ValueError:
        refused = InvalidInput(
            "the actions to reopen are their ids, separated by commas", field="reopen_action_ids"
        )
        return _capa_page(request, actor, capa_id, refused=refused, form="result", typed=typed)
    try:
        with transaction(request) as session:
            service.record_effectiveness_result(
                session,
                actor=actor,
                capa_id=capa_id,
                passed=result == "passed",
                evidence=evidence,
                password=password or None,
                reopen_action_ids=chosen or None,
                actions_due_at=utc_from_form(actions_due_at, "actions_due_at"),
                next_check_due_at=utc_from_form(next_check_due_at, "next_check_due_at"),
                early_reason=early_reason or None,
            )
    except (InvalidInput, Conflict, AuthenticationFailed) as refused:
        return _capa_page(request, actor, capa_id, refused=refused, form="result", typed=typed)
    message = (
        "Effectiveness check passed (signed): the CAPA can be closed."
        if result == "passed"
        else "Effectiveness check failed (signed): actions reopened, next check planned."
    )
    return redirect(_page(capa_id), message)
