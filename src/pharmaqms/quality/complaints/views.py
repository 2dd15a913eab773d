"""Complaint pages: the register with the trend by product and lot, intake, and a complaint's
page with triage (quality complaint or adverse event, handed to pharmacovigilance),
investigation, response, links, signatures, workflow buttons and audit trail. Thin: every change
goes through the services; workflow steps post to the generic record route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, select

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    fixed_options,
    register_response,
    status_in,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.quality import events
from pharmaqms.quality.capa.workflow import OWNERS as CAPA_OWNERS
from pharmaqms.quality.complaints import service
from pharmaqms.quality.complaints.models import (
    OPEN_STATUSES,
    ComplainantType,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Criticality,
)
from pharmaqms.quality.complaints.workflow import COMPLAINT_WORKFLOW, INVESTIGATORS
from pharmaqms.quality.view_support import people_with, record_parts, required_utc

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Complaints", "/complaints", "records.read", 50))


def _page(complaint_id: int) -> str:
    return f"/complaints/{complaint_id}"


def _overdue(query: Select[Any], _value: Any) -> Select[Any]:
    return query.where(
        Complaint.status.in_([s.value for s in OPEN_STATUSES]), Complaint.due_at < clock.now()
    )


def _lot(query: Select[Any], value: Any) -> Select[Any]:
    # Exact: a lot's link from the trend below lists that lot, not every lot containing it.
    return query.where(Complaint.lot == str(value).strip())


REGISTER = Register(
    name="complaints",
    title="Complaints",
    query=lambda _session, _actor: select(Complaint),
    columns=(
        Column("number", "Number", lambda c: c.number, Complaint.number),
        Column("product", "Product", lambda c: c.product, Complaint.product, filter="text"),
        Column("lot", "Lot", lambda c: c.lot, Complaint.lot),
        Column("received", "Received", lambda c: c.received_at, Complaint.received_at),
        Column(
            "category",
            "Triage",
            lambda c: c.category,
            Complaint.category,
            filter="choice",
            options=fixed_options([c.value for c in ComplaintCategory]),
        ),
        Column("due", "Due", lambda c: c.due_at, Complaint.due_at),
        Column(
            "status",
            "Status",
            lambda c: c.status,
            Complaint.status,
            filter="choice",
            options=fixed_options(
                [s.value for s in ComplaintStatus], COMPLAINT_WORKFLOW.state_label
            ),
        ),
    ),
    default_sort="-received",
    tiebreak=Complaint.id,
    extra_filters=(
        Filter("lot", "Lot", "text", _lot),
        Filter("open", "open only", "flag", status_in(Complaint.status, OPEN_STATUSES)),
        Filter("overdue", "overdue only", "flag", _overdue),
    ),
)


@router.get("/complaints", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read complaints")
    return register_response(
        request,
        actor,
        REGISTER,
        "complaints/register.html",
        lambda session: {
            "by_product": service.trend(session),
            "by_lot": service.trend(session, by_lot=True),
            "workflow": COMPLAINT_WORKFLOW,
            "open_statuses": [s.value for s in OPEN_STATUSES],
            "moment": clock.now(),
            "can_register": actor.can("complaints.register"),
        },
    )


@router.get("/complaints/new", response_class=HTMLResponse)
def new_complaint(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("complaints.register", "register complaints")
    return render(
        request,
        "complaints/new.html",
        {"types": [t.value for t in ComplainantType], "moment": clock.now()},
    )


@router.post("/complaints")
def create(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Form(max_length=200)],
    lot: Annotated[str, Form(max_length=60)],
    complainant_name: Annotated[str, Form(max_length=200)],
    complainant_type: Annotated[str, Form(max_length=30)],
    received_at: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(max_length=20_000)],
    complainant_contact: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        complaint = service.register_complaint(
            session,
            actor=actor,
            product=product,
            lot=lot,
            complainant_name=complainant_name,
            complainant_type=complainant_type,
            complainant_contact=complainant_contact,
            received_at=required_utc(received_at, "received_at", "the time it was received"),
            description=description,
        )
        session.flush()
        target, number = _page(complaint.id), complaint.number
    return redirect(target, f"{number} registered; QA will triage it.")


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(complaint_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read complaints")
    with transaction(request) as session:
        complaint = service.get_complaint(session, complaint_id)
        return render(
            request,
            "complaints/complaint.html",
            {
                **record_parts(session, complaint, COMPLAINT_WORKFLOW, actor),
                "cp": complaint,
                "is_open": complaint.status in OPEN_STATUSES,
                "categories": [c.value for c in ComplaintCategory],
                "criticalities": [c.value for c in Criticality],
                "investigators": people_with(session, INVESTIGATORS),
                "capa_owners": people_with(session, CAPA_OWNERS),
                "can_manage": actor.can("complaints.manage"),
                "can_investigate": actor.can("complaints.manage")
                or complaint.investigator_id == actor.user_id,
                "can_acknowledge": actor.can("complaints.pv_handover"),
                "can_raise_capa": actor.can("capa.raise"),
            },
        )


@router.post("/complaints/{complaint_id}/triage")
def triage(
    complaint_id: int,
    request: Request,
    actor: ActorDep,
    category: Annotated[str, Form(max_length=30)],
    criticality: Annotated[str, Form(max_length=20)],
    rationale: Annotated[str, Form(max_length=4000)],
    investigator_id: Annotated[int, Form()],
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        complaint = service.triage_complaint(
            session,
            actor=actor,
            complaint_id=complaint_id,
            category=category,
            criticality=criticality,
            rationale=rationale,
            investigator_id=investigator_id,
            expected_version=expected_version,
        )
        handed = complaint.pv_handover_status is not None
    extra = " The adverse event is handed to pharmacovigilance." if handed else ""
    return redirect(_page(complaint_id), f"Triaged as {category.replace('_', ' ')}.{extra}")


@router.post("/complaints/{complaint_id}/pv-acknowledgement")
def acknowledge(
    complaint_id: int,
    request: Request,
    actor: ActorDep,
    pv_reference: Annotated[str, Form(max_length=100)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.acknowledge_handover(
            session, actor=actor, complaint_id=complaint_id, pv_reference=pv_reference
        )
    return redirect(_page(complaint_id), f"Handover acknowledged as {pv_reference}.")


@router.post("/complaints/{complaint_id}/investigation")
def investigate(
    complaint_id: int,
    request: Request,
    actor: ActorDep,
    summary: Annotated[str, Form(max_length=20_000)],
    confirmed: Annotated[str, Form(pattern="^(yes|no)$")],
    root_cause: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.record_investigation(
            session,
            actor=actor,
            complaint_id=complaint_id,
            summary=summary,
            confirmed=confirmed == "yes",
            root_cause=root_cause,
        )
    return redirect(_page(complaint_id), "Investigation saved.")


@router.post("/complaints/{complaint_id}/response")
def respond(
    complaint_id: int,
    request: Request,
    actor: ActorDep,
    response_text: Annotated[str, Form(max_length=20_000)],
    responded_at: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.record_response(
            session,
            actor=actor,
            complaint_id=complaint_id,
            response_text=response_text,
            responded_at=required_utc(responded_at, "responded_at", "the time of the response"),
        )
    return redirect(_page(complaint_id), "Response recorded.")


@router.post("/complaints/{complaint_id}/capa")
def raise_capa(
    complaint_id: int,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    problem_statement: Annotated[str, Form(max_length=20_000)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    with transaction(request) as session:
        capa = events.open_capa(
            session,
            actor=actor,
            source_type="complaint",
            source_id=complaint_id,
            source_label=None,
            title=title,
            problem_statement=problem_statement,
            owner_id=owner_id,
            due_at=required_utc(due_at, "due_at", "the due date"),
        )
        session.flush()
        target, number = f"/capas/{capa.id}", capa.number
    return redirect(target, f"{number} raised from the complaint.")
