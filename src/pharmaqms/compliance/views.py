"""Compliance pages: the regulations register with each regulation's coverage as a bar, one
regulation with its requirements and their controls (uncovered ones flagged, and the change
control QA opens from it), and the traceability view requirement → control. Thin: every change
goes through the compliance services."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.compliance import service
from pharmaqms.compliance.models import ControlMapping, Regulation, Requirement
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, register_page
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/compliance/regulations"
TRACE = "/compliance/traceability"

add(NavItem("Compliance", "Regulations", BASE, "records.read", 10))
add(NavItem("Compliance", "Traceability", TRACE, "records.read", 20))
# A task on a regulation (QA's impact assessment) opens the regulation's page.
register_page("regulation", lambda regulation_id: f"{BASE}/{regulation_id}")


@router.get(BASE, response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the regulations register")
    with transaction(request, write=False) as session:
        covers = service.coverage(session)
        rows = [(r, covers.get(r.id, service.Coverage(0, 0))) for r in service.regulations(session)]
        return render(request, "compliance/regulations.html", {"rows": rows})


@router.get(f"{BASE}/{{regulation_id}}", response_class=HTMLResponse)
def regulation_page(regulation_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the regulations register")
    with transaction(request, write=False) as session:
        regulation = service.get_regulation(session, regulation_id)
        rows = service.requirements(session, regulation.id)
        controls = service.controls_by_requirement(session, [r.id for r in rows])
        changes = (
            json.loads(regulation.changes_from_previous)
            if regulation.changes_from_previous
            else None
        )
        superseded_by = (
            service.get_regulation(session, regulation.superseded_by_id)
            if regulation.superseded_by_id
            else None
        )
        return render(
            request,
            "compliance/regulation.html",
            {
                "regulation": regulation,
                "rows": [(r, controls[r.id]) for r in rows],
                "uncovered": sum(1 for r in rows if not controls[r.id]),
                "changes": changes,
                "superseded_by": superseded_by,
                "led_to": service.led_to(session, regulation.id),
                "can_manage": actor.can(service.MANAGE) and actor.can("changes.request"),
            },
        )


@router.post(f"{BASE}/{{regulation_id}}/change")
def request_change(
    regulation_id: RecordId,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        change = service.request_change(
            session,
            actor=actor,
            regulation_id=regulation_id,
            title=title,
            description=description,
        )
        session.flush()
        number = change.number
    response = RedirectResponse(f"{BASE}/{regulation_id}", status_code=303)
    set_flash(response, "success", f"{number} requested from this regulation.")
    return response


@router.get(TRACE, response_class=HTMLResponse)
def traceability(request: Request, actor: ActorDep) -> HTMLResponse:
    """Every requirement in force → the controls that meet it, one line per pair (a
    requirement without a control is one line, flagged)."""
    actor.require("records.read", "read the regulations register")
    with transaction(request, write=False) as session:
        lines: list[tuple[Regulation, Requirement, ControlMapping | None]] = []
        for regulation in service.regulations(session, include_superseded=False):
            rows = service.requirements(session, regulation.id)
            controls = service.controls_by_requirement(session, [r.id for r in rows])
            for requirement in rows:
                found: list[ControlMapping | None] = [*controls[requirement.id]] or [None]
                lines.extend((regulation, requirement, control) for control in found)
        return render(request, "compliance/traceability.html", {"lines": lines})
