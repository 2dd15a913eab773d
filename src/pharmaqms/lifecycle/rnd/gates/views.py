"""Stage-gate pages: the projects with their progress (and the form that plans one), a project's
timeline (server-side SVG, planned against actual) with its gates, a gate with its
deliverables, evidence and the functions' signature dialogs, and the R&D KPI page with the time
to launch and its definition. Thin: every change goes through the gate services."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import User
from pharmaqms.lifecycle.rnd.eln import service as notebook
from pharmaqms.lifecycle.rnd.gates import launch, rules, service
from pharmaqms.lifecycle.rnd.gates.models import PHASES, DevelopmentPhase
from pharmaqms.lifecycle.rnd.gates.panels import project_panels
from pharmaqms.lifecycle.rnd.gates.progress import progress
from pharmaqms.lifecycle.rnd.gates.timeline import launch_svg, timeline_svg
from pharmaqms.platform.masterdata.models import Product

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("R&D", "Stage gates", "/rnd/gates", "records.read", 20))
add(NavItem("R&D", "R&D KPIs", "/rnd/kpi", "records.read", 30))


def _back(url: str, message: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    set_flash(response, "success", message)
    return response


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: a date as YYYY-MM-DD, not {value!r}", field=field) from None


@router.get("/rnd/gates", response_class=HTMLResponse)
def gates_home(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read R&D stage gates")
    with transaction(request, write=False) as session:
        planned = {p.project_id for p in service.plans(session)}
        return render(
            request,
            "rnd/gates/home.html",
            {
                "progress": [progress(session, p.project_id) for p in service.plans(session)],
                "projects": {p.id: p for p in notebook.projects(session)},
                "products": {p.id: p for p in session.scalars(select(Product))},
                "unplanned": [
                    p
                    for p in notebook.projects(session)
                    if p.id not in planned and p.status == "active"
                ],
                "phases": [(p.value, rules.phase_label(p)) for p in PHASES],
            },
        )


@router.post("/rnd/gates/plans")
async def plan_development(request: Request, actor: ActorDep) -> RedirectResponse:
    form = await request.form()
    project_id = str(form.get("project_id") or "")
    if not project_id.isdecimal() or len(project_id) > 10:
        raise InvalidInput("choose a project", field="project_id")
    phases = {
        p.value: (
            _date(str(form.get(f"{p.value}_start") or ""), f"{p.value}_start"),
            _date(str(form.get(f"{p.value}_end") or ""), f"{p.value}_end"),
        )
        for p in PHASES
    }
    with transaction(request) as session:
        service.plan_development(
            session,
            actor=actor,
            project_id=int(project_id),
            product_code=str(form.get("product_code") or "")[:40],
            phases=phases,
        )
    return _back(f"/rnd/projects/{project_id}/gates", "Development plan set up.")


@router.get("/rnd/projects/{project_id}/gates", response_class=HTMLResponse)
def project_gates(project_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read R&D stage gates")
    with transaction(request, write=False) as session:
        found = progress(session, project_id)
        return render(
            request,
            "rnd/gates/project.html",
            {
                "project": service.get_project(session, project_id),
                "product": launch.product_of(session, found.plan),
                "progress": found,
                "timeline": Markup(timeline_svg(found, clock.now())),  # noqa: S704 - built from escaped values
                "launch": launch.time_to_launch(session, project_id),
                "phase_label": rules.phase_label,
                "panels": project_panels(session, project_id, actor),
            },
        )


@router.post("/rnd/projects/{project_id}/gates")
def open_gate(
    project_id: RecordId,
    request: Request,
    actor: ActorDep,
    phase: Annotated[str, Form(max_length=30)],
    summary: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        gate = service.open_gate(
            session, actor=actor, project_id=project_id, phase=phase, summary=summary
        )
        session.flush()
        gate_id, number = gate.id, gate.number
    return _back(f"/rnd/gates/{gate_id}", f"Gate {number} opened.")


@router.get("/rnd/gates/{gate_id}", response_class=HTMLResponse)
def gate_page(gate_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read R&D stage gates")
    with transaction(request, write=False) as session:
        gate = service.get_gate(session, gate_id)
        phase = DevelopmentPhase(gate.phase)
        approvals = {a.function: a for a in gate.current_approvals()}
        people = {
            u.id: u.full_name
            for u in session.scalars(
                select(User).where(
                    User.id.in_(
                        [a.approver_id for a in gate.approvals]
                        + [e.added_by_id for e in gate.evidence]
                        + [gate.submitted_by_id or 0]
                    )
                )
            )
        }
        return render(
            request,
            "rnd/gates/gate.html",
            {
                "gate": gate,
                "project": service.get_project(session, gate.project_id),
                "phase_label": rules.phase_label(gate.phase),
                "deliverables": rules.DELIVERABLES[phase],
                "evidence": gate.evidence,
                "functions": [
                    (f.value, rules.FUNCTION_LABELS[f], approvals.get(f.value))
                    for f in rules.APPROVERS[phase]
                ],
                "missing": rules.missing_deliverables(
                    gate.phase, {e.deliverable for e in gate.current_evidence()}
                ),
                "people": people,
            },
        )


@router.post("/rnd/gates/{gate_id}/evidence")
def add_evidence(
    gate_id: RecordId,
    request: Request,
    actor: ActorDep,
    deliverable: Annotated[str, Form(max_length=40)],
    reference: Annotated[str, Form(max_length=80)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        evidence = service.add_evidence(
            session,
            actor=actor,
            gate_id=gate_id,
            deliverable=deliverable,
            reference=reference,
            note=note,
        )
        number = evidence.reference
    return _back(f"/rnd/gates/{gate_id}", f"{number} added as evidence.")


@router.post("/rnd/evidence/{evidence_id}/withdraw")
def withdraw_evidence(
    evidence_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        evidence = service.withdraw_evidence(
            session, actor=actor, evidence_id=evidence_id, reason=reason
        )
        gate_id, number = evidence.gate_id, evidence.reference
    return _back(f"/rnd/gates/{gate_id}", f"{number} withdrawn.")


@router.post("/rnd/gates/{gate_id}/submit")
def submit_gate(gate_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        number = service.submit_gate(session, actor=actor, gate_id=gate_id).number
    return _back(f"/rnd/gates/{gate_id}", f"{number} submitted to the functions.")


@router.post("/rnd/gates/{gate_id}/approve")
def approve_gate(
    gate_id: RecordId,
    request: Request,
    actor: ActorDep,
    function: Annotated[str, Form(max_length=30)],
    password: Annotated[str, Form(max_length=256)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        service.approve_gate(
            session,
            actor=actor,
            gate_id=gate_id,
            function=function,
            password=password,
            comment=comment,
            expected_version=expected_version,
        )
        gate = service.get_gate(session, gate_id)
        message = f"Approved for {rules.FUNCTION_LABELS[rules.Function(function)]}" + (
            f": {gate.number} approved, the next phase is open"
            if gate.status == "approved"
            else "."
        )
    return _back(f"/rnd/gates/{gate_id}", message)


@router.post("/rnd/gates/{gate_id}/return")
def return_gate(
    gate_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
    password: Annotated[str, Form(max_length=256)] = "",
    expected_version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        number = service.return_gate(
            session,
            actor=actor,
            gate_id=gate_id,
            password=password,
            reason=reason,
            expected_version=expected_version,
        ).number
    return _back(f"/rnd/gates/{gate_id}", f"{number} returned for rework.")


@router.get("/rnd/kpi", response_class=HTMLResponse)
def kpi_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the R&D KPIs")
    with transaction(request, write=False) as session:
        times = launch.launch_times(session)
        return render(
            request,
            "rnd/gates/kpi.html",
            {
                "times": times,
                "chart": Markup(launch_svg(times)),  # noqa: S704 - built from escaped values
                "definition": launch.DEFINITION,
            },
        )
