"""Risk assessment pages: the list, a new FMEA attached to a record, and an assessment's page
with its FMEA table, the risk matrix it is scored against, signatures, workflow buttons and audit
trail. Thin: every change goes through the service; workflow steps post to the generic record
route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.quality.risk import register, service
from pharmaqms.quality.risk.configuration import matrix_in_force
from pharmaqms.quality.risk.register import PRODUCT_SUBJECT
from pharmaqms.quality.risk.service import Scores, assessments_of
from pharmaqms.quality.risk.workflow import RISK_WORKFLOW
from pharmaqms.quality.view_support import record_parts, register_record_part

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Risk assessments", "/risk-assessments", "records.read", 60))

# The risk panel of every quality record page (its FMEAs): registered, not imported by
# view_support, since risk's own pages use view_support (the import would be a cycle).
register_record_part("risk_assessments", assessments_of)


def _page(assessment_id: int) -> str:
    return f"/risk-assessments/{assessment_id}"


@router.get("/risk-assessments", response_class=HTMLResponse)
def listing(request: Request, actor: ActorDep, status: str = "") -> HTMLResponse:
    actor.require("records.read", "read risk assessments")
    with transaction(request) as session:
        return render(
            request,
            "risk/list.html",
            {
                "rows": service.list_assessments(session, status=status or None),
                "products": register.products(session),
                "status": status,
                "workflow": RISK_WORKFLOW,
            },
        )


@router.get("/risk-assessments/new", response_class=HTMLResponse)
def new_assessment(
    request: Request, actor: ActorDep, subject_type: str = "", subject_id: str = ""
) -> HTMLResponse:
    actor.require("risk.assess", "assess risks")
    with transaction(request, write=False) as session:
        in_force, grid = matrix_in_force(session)
    return render(
        request,
        "risk/new.html",
        {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "record_types": sorted(RECORD_TYPES.values(), key=lambda rt: rt.label),
            "matrix": grid,
            "in_force": in_force,
        },
    )


@router.post("/risk-assessments")
def create(
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    scope: Annotated[str, Form(max_length=20_000)],
    subject_type: Annotated[str, Form(max_length=60)],
    subject_id: Annotated[int, Form()],
) -> RedirectResponse:
    with transaction(request) as session:
        assessment = service.create_assessment(
            session,
            actor=actor,
            title=title,
            scope=scope,
            subject_type=subject_type,
            subject_id=subject_id,
        )
        session.flush()
        target, number = _page(assessment.id), assessment.number
    return redirect(target, f"{number} started.")


@router.get("/risk-assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(assessment_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read risk assessments")
    with transaction(request) as session:
        assessment = service.get_assessment(session, assessment_id)
        subject = RECORD_TYPES.get(assessment.subject_type)
        subject_record = (
            session.get(subject.model, assessment.subject_id) if subject is not None else None
        )
        return render(
            request,
            "risk/assessment.html",
            {
                **record_parts(
                    session,
                    assessment,
                    RISK_WORKFLOW,
                    actor,
                    children=(("risk_item", [i.id for i in assessment.items]),),
                ),
                "ra": assessment,
                "matrix": service.assessment_matrix(session, assessment),
                "subject_url": (
                    f"/risk-register/products/{assessment.subject_id}"
                    if assessment.subject_type == PRODUCT_SUBJECT
                    else subject.detail_url(subject_record)
                    if subject is not None and subject.detail_url and subject_record is not None
                    else f"/records/{assessment.subject_type}/{assessment.subject_id}"
                ),
                "can_edit": actor.can("risk.assess") and assessment.status == "draft",
            },
        )


@router.post("/risk-assessments/{assessment_id}/items")
def add_item(
    assessment_id: int,
    request: Request,
    actor: ActorDep,
    failure_mode: Annotated[str, Form(max_length=4000)],
    effect: Annotated[str, Form(max_length=4000)],
    cause: Annotated[str, Form(max_length=4000)],
    severity: Annotated[int, Form()],
    occurrence: Annotated[int, Form()],
    detectability: Annotated[int, Form()],
    controls: Annotated[str, Form(max_length=20_000)] = "",
    residual_severity: Annotated[str, Form(max_length=3)] = "",
    residual_occurrence: Annotated[str, Form(max_length=3)] = "",
    residual_detectability: Annotated[str, Form(max_length=3)] = "",
) -> RedirectResponse:
    residual_fields = (residual_severity, residual_occurrence, residual_detectability)
    residual = (
        Scores(*(int(v) for v in residual_fields))
        if all(v.strip().isdecimal() for v in residual_fields)
        else None
    )
    with transaction(request) as session:
        item = service.add_item(
            session,
            actor=actor,
            assessment_id=assessment_id,
            failure_mode=failure_mode,
            effect=effect,
            cause=cause,
            scores=Scores(severity, occurrence, detectability),
            controls=controls,
            residual=residual,
        )
        rpn, level = item.rpn, item.risk_level
    return redirect(_page(assessment_id), f"Failure mode added: RPN {rpn}, {level} risk.")


@router.post("/risk-assessments/{assessment_id}/items/{item_id}/retirement")
def retire_item(
    assessment_id: int,
    item_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.retire_item(
            session, actor=actor, assessment_id=assessment_id, item_id=item_id, reason=reason
        )
    return redirect(_page(assessment_id), f"Line #{item_id} taken out of the table.")


@router.post("/risk-assessments/{assessment_id}/acceptance")
def accept(
    assessment_id: int,
    request: Request,
    actor: ActorDep,
    rationale: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.accept_residual_risk(
            session, actor=actor, assessment_id=assessment_id, rationale=rationale
        )
    return redirect(_page(assessment_id), "Risk acceptance recorded.")


@router.get("/risk-register/products/{product_id}", response_class=HTMLResponse)
def product_risk_register(product_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    """The product's risk register: its product FMEAs and the FMEAs of its processes."""
    actor.require("records.read", "read risk assessments")
    with transaction(request, write=False) as session:
        return render(
            request,
            "risk/register.html",
            {
                "product": register.product_by_id(session, product_id),
                "rows": register.risk_register(session, product_id),
                "workflow": RISK_WORKFLOW,
            },
        )
