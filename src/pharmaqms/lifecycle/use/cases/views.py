"""Pharmacovigilance pages: the case register (due and overdue flags), staff intake, and a
case's page (patient, reporter, products with their lots, events, findings, validity rules,
assessment, clocks, versions, signatures, links and audit trail). Workflow steps post to the
generic record route; every change goes through the services."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import PAGE_SIZE, ActorDep, page_offset, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.use.cases import doses, facts, merging, related, rules, service
from pharmaqms.lifecycle.use.cases.intake import (
    SERIOUSNESS_CRITERIA,
    CaseReport,
    EventReport,
    ProductReport,
    concomitant_products,
)
from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    Causality,
    PVCaseVersion,
    ReporterType,
    Sex,
)
from pharmaqms.lifecycle.use.cases.workflow import PV_CASE_WORKFLOW
from pharmaqms.lifecycle.use.e2b.codes import ROUTES
from pharmaqms.quality.view_support import record_parts, required_utc

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Use", "PV cases", "/pv/cases", "records.read", 10))


def _page(case_id: int) -> str:
    return f"/pv/cases/{case_id}"


@router.get("/pv/cases", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep, status: str = "", offset: str = "") -> HTMLResponse:
    actor.require("records.read", "read cases")
    start = page_offset(offset)
    with transaction(request) as session:
        rows, total = service.register_rows(
            session, status=status[:40] or None, limit=PAGE_SIZE, offset=start
        )
        return render(
            request,
            "pv/register.html",
            {
                "rows": rows,
                "total": total,
                "limit": PAGE_SIZE,
                "offset": start,
                "status": status,
                "statuses": [s.value for s in CaseStatus],
                "workflow": PV_CASE_WORKFLOW,
                "today": clock.now().date(),
                "can_take_in": actor.can("pv.intake"),
            },
        )


@router.get("/pv/cases/new", response_class=HTMLResponse)
def new_case(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("pv.intake", "take in adverse event reports")
    return render(
        request,
        "pv/new.html",
        {
            "moment": clock.now(),
            "sexes": [s.value for s in Sex],
            "reporter_types": [r.value for r in ReporterType],
            "criteria": SERIOUSNESS_CRITERIA,
            "labels": rules.CRITERION_LABELS,
            "routes": ROUTES,
        },
    )


@router.post("/pv/cases")
def take_in(
    request: Request,
    actor: ActorDep,
    received_at: Annotated[str, Form(max_length=40)],
    product: Annotated[str, Form(max_length=200)],
    verbatim: Annotated[str, Form(max_length=500)],
    lot_number: Annotated[str, Form(max_length=60)] = "",
    dose_value: Annotated[str, Form(max_length=30)] = "",
    dose_unit: Annotated[str, Form(max_length=40)] = "",
    route: Annotated[str, Form(max_length=60)] = "",
    concomitant: Annotated[str, Form(max_length=4000)] = "",
    patient_weight: Annotated[str, Form(max_length=20)] = "",
    meddra_code: Annotated[str, Form(max_length=8)] = "",
    onset: Annotated[str, Form(max_length=10)] = "",
    seriousness: Annotated[list[str] | None, Form(max_length=6)] = None,
    patient_initials: Annotated[str, Form(max_length=20)] = "",
    patient_age: Annotated[str, Form(max_length=20)] = "",
    patient_sex: Annotated[str, Form(max_length=10)] = "",
    reporter_type: Annotated[str, Form(max_length=20)] = "",
    reporter_country: Annotated[str, Form(max_length=2)] = "",
    narrative: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    try:
        onset_day = date.fromisoformat(onset) if onset else None
    except ValueError:
        return redirect("/pv/cases/new", "The onset is a date (year-month-day).", "error")
    report = CaseReport(
        source="staff",
        received_at=required_utc(received_at, "received_at", "the time it was received"),
        patient_initials=patient_initials,
        patient_age=patient_age or None,
        patient_sex=patient_sex or None,
        patient_weight=patient_weight or None,
        reporter_type=reporter_type or None,
        reporter_country=reporter_country or None,
        narrative=narrative,
        products=(
            ProductReport(
                product, lot_number, dose_value=dose_value or None, dose_unit=dose_unit, route=route
            ),
            *concomitant_products(concomitant),
        ),
        events=(EventReport(verbatim, meddra_code, onset_day, tuple(seriousness or ())),),
    )
    with transaction(request) as session:
        case = service.record_case(session, actor=actor, report=report)
        session.flush()
        target, number = _page(case.id), case.number
    return redirect(target, f"{number} received; triage it against the four minimum criteria.")


@router.get("/pv/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read cases")
    with transaction(request) as session:
        case = service.get_case(session, case_id)
        found = facts.of_case(session, case)
        versions = list(
            session.scalars(
                select(PVCaseVersion)
                .where(PVCaseVersion.case_id == case.id)
                .order_by(PVCaseVersion.case_version.desc())
            )
        )
        return render(
            request,
            "pv/case.html",
            {
                **record_parts(session, case, PV_CASE_WORKFLOW, actor),
                "case": case,
                "facts": found,
                "age": service.age_text(case.patient_age_years),
                "weight": doses.decimal_text(case.patient_weight_kg),
                "dose_text": doses.dose_text,
                "route_name": doses.route_name,
                "products": facts.products_of(session, case),
                "events": facts.events_of(session, case),
                "validity": rules.validity(found),
                "seriousness": rules.seriousness(found),
                "clocks": service.clocks_of(session, case),
                "versions": versions,
                "today": clock.now().date(),
                "causalities": [c.value for c in Causality],
                "causality_meaning": rules.CAUSALITY_MEANING,
                "labels": rules.CRITERION_LABELS,
                "can_assess": actor.can("pv.review") and case.status == CaseStatus.VALID,
                "duplicates": merging.find_duplicates(session, case),
                "signals": related.related_to(session, case),
                "can_merge": actor.can("pv.process")
                and case.status in (CaseStatus.RECEIVED, CaseStatus.VALID),
            },
        )


@router.post("/pv/cases/{case_id}/assessment")
def assess(
    case_id: int,
    request: Request,
    actor: ActorDep,
    causality: Annotated[str, Form(max_length=20)],
    reasoning: Annotated[str, Form(max_length=20_000)],
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        case = service.record_assessment(
            session,
            actor=actor,
            case_id=case_id,
            causality=causality,
            reasoning=reasoning,
            expected_version=expected_version,
        )
        expectedness = case.expectedness or ""
    return redirect(_page(case_id), f"Assessment saved: {causality}, {expectedness}.")


@router.post("/pv/cases/{case_id}/merge")
def merge(
    case_id: int,
    request: Request,
    actor: ActorDep,
    into_id: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        merging.merge_into(session, actor=actor, case_id=case_id, into_id=into_id, reason=reason)
    return redirect(_page(into_id), "Merged: both reports are kept, the duplicate points here.")
