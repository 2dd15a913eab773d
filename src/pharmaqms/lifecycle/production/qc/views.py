"""QC pages: the overview (open OOS investigations, results out of trend, lots and their QC
standing), a lot's QC page (results, retests, certificates, entering a result), a
specification, and an OOS investigation with its phase I and phase II forms. Thin: every change
goes through the QC services; workflow steps post to the generic record route, whose buttons and
signature dialog these pages reuse."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page
from pharmaqms.kernel.http.registers import Column, Register, distinct_options, register_response
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.numbers import typed_number
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import from_form
from pharmaqms.kernel.workflow import Workflow, options
from pharmaqms.lifecycle.production.qc import (
    certificates,
    investigations,
    results,
    specifications,
)
from pharmaqms.lifecycle.production.qc.models import OPEN_INVESTIGATION_STATUSES
from pharmaqms.lifecycle.production.qc.status import qc_status_of_lot
from pharmaqms.lifecycle.production.qc.workflow import (
    CERTIFICATE_WORKFLOW,
    OOS_WORKFLOW,
    SPECIFICATION_WORKFLOW,
)
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(tags=["ui"], include_in_schema=False)

register_page("qc_result", lambda result_id: f"/production/qc/results/{result_id}")

add(NavItem("Production", "QC testing and OOS", "/production/qc", "records.read", 30))

AUDIT_ON_PAGE = 100


def _utc(value: str, field: str) -> datetime:
    """A datetime-local field, read in the reader's time zone and stored UTC."""
    moment = from_form(value, field)
    if moment is None:
        raise InvalidInput("a date and time is required", field=field)
    return moment


def _number(value: str, field: str) -> float | None:
    # The shop floor's reading: "93,0" is 93.0, but "99,500" is refused, not guessed.
    return typed_number(value, field) if value.strip() else None


def _record_context(
    session: Session, record: GxPRecord, workflow: Workflow, actor: Actor
) -> dict[str, object]:
    trail = AuditFilter(record_type=record.__audit_type__, record_id=record.id)
    return {
        "signatures": signatures_of(session, record),
        "options": options(session, workflow, record, actor),
        "workflow": workflow,
        "audit_entries": find_entries(session, trail, limit=AUDIT_ON_PAGE),
        "audit_total": count_entries(session, trail),
        "audit_url": "/audit?"
        + urlencode({"record_type": record.__audit_type__, "record_id": record.id}),
        "csv_url": f"/api/v1/records/{record.__audit_type__}/{record.id}/audit?format=csv",
        # The configuration versions its actions ran under (the phase I checklist).
        "config_uses": config_store.uses_of(session, record.__audit_type__, record.id),
    }


def _with_qc_status(session: Session, rows: list[Any]) -> list[Any]:
    return [(lot, qc_status_of_lot(session, lot.id)) for lot in rows]


QC_LOT_REGISTER = Register(
    name="qc-lots",
    title="QC lots",
    query=lambda _session, _actor: select(Lot),
    columns=(
        Column("lot", "Lot", lambda r: r[0].lot_number, Lot.lot_number, "text"),
        Column(
            "item",
            "Item",
            lambda r: r[0].item_code,
            Lot.item_code,
            "choice",
            distinct_options(Lot.item_code),
        ),
        Column("kind", "Kind", lambda r: r[0].kind, Lot.kind, "choice", distinct_options(Lot.kind)),
        Column(
            "status",
            "Lot status",
            lambda r: r[0].status,
            Lot.status,
            "choice",
            distinct_options(Lot.status),
        ),
        Column("qc", "QC", lambda r: r[1].verdict.value),
        Column(
            "open",
            "Open",
            lambda r: ", ".join([*r[1].open_investigations, *r[1].open_nonconformances]),
        ),
    ),
    default_sort="-lot",
    tiebreak=Lot.id,
    enrich=_with_qc_status,
)


@router.get("/production/qc", response_class=HTMLResponse)
def overview(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read QC")

    def context(session: Session) -> dict[str, Any]:
        open_oos = [
            i
            for i in investigations.list_investigations(session)
            if i.status in OPEN_INVESTIGATION_STATUSES
        ]
        return {
            "open_oos": open_oos,
            "oos_workflow": OOS_WORKFLOW,
            "trends": results.open_trend_findings(session),
            "specifications": specifications.list_specifications(session),
            "spec_workflow": SPECIFICATION_WORKFLOW,
        }

    return register_response(
        request, actor, QC_LOT_REGISTER, "production/qc_overview.html", context
    )


@router.get("/production/qc/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(lot_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read QC")
    with transaction(request) as session:
        lot = results.get_lot(session, lot_id)
        coas = certificates.certificates_of_lot(session, lot.id)
        return render(
            request,
            "production/qc_lot.html",
            {
                "lot": lot,
                "status": qc_status_of_lot(session, lot.id),
                "results": results.results_of_lot(session, lot.id),
                "investigations": investigations.investigations_of_lot(session, lot.id),
                "oos_workflow": OOS_WORKFLOW,
                "certificates": [
                    (
                        c,
                        signatures_of(session, c),
                        options(session, CERTIFICATE_WORKFLOW, c, actor),
                    )
                    for c in coas
                ],
                "coa_workflow": CERTIFICATE_WORKFLOW,
                "specs": specifications.approved_specifications(session, lot.item_code),
                "can_enter": actor.can("qc.results"),
                "can_certify": actor.can("qc.certificates"),
                "can_assess": actor.can("qc.investigate"),
            },
        )


@router.post("/production/qc/lots/{lot_id}/results")
def enter_result(
    lot_id: int,
    request: Request,
    actor: ActorDep,
    test_code: Annotated[str, Form(max_length=60)],
    sample_id: Annotated[str, Form(max_length=60)],
    tested_at: Annotated[str, Form(max_length=40)],
    value: Annotated[str, Form(max_length=40)] = "",
    text_value: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        recorded = results.record_result(
            session,
            actor=actor,
            lot_id=lot_id,
            sample_id=sample_id,
            test_code=test_code,
            tested_at=_utc(tested_at, "tested_at"),
            value=_number(value, "value"),
            text_value=text_value or None,
            unit=unit,
        )
        outcome = recorded.result.outcome.replace("_", " ")
        message = f"{recorded.result.audit_label()} recorded: {outcome}."
        if recorded.investigation is not None:
            message += (
                f" Out of specification: {recorded.investigation.number} opened, lot on hold."
            )
        if recorded.trend_findings:
            message += " Out of trend: " + "; ".join(recorded.trend_findings)
    return redirect(f"/production/qc/lots/{lot_id}", message)


@router.post("/production/qc/lots/{lot_id}/certificates")
def prepare_certificate(
    lot_id: int,
    request: Request,
    actor: ActorDep,
    specification_id: Annotated[int, Form(ge=1)],
) -> RedirectResponse:
    with transaction(request) as session:
        coa = certificates.prepare_certificate(
            session, actor=actor, lot_id=lot_id, specification_id=specification_id
        )
        number = coa.number
    return redirect(f"/production/qc/lots/{lot_id}", f"{number} prepared: review and sign it.")


@router.post("/production/qc/results/{result_id}/trend-assessment")
def assess_trend(
    result_id: int,
    request: Request,
    actor: ActorDep,
    assessment: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        result = results.assess_trend(
            session, actor=actor, result_id=result_id, assessment=assessment
        )
        target = f"/production/qc/lots/{result.lot_id}"
    return redirect(target, "Out-of-trend result assessed.")


@router.get("/production/qc/results/{result_id}")
def result_page(result_id: int, request: Request, actor: ActorDep) -> RedirectResponse:
    """A result is shown on its lot's page, beside the lot's other results: a task about one
    (evaluate it, assess its trend) links here and lands on its row."""
    actor.require("records.read", "read QC")
    with transaction(request) as session:
        result = results.get_result(session, result_id)
        target = f"/production/qc/lots/{result.lot_id}#result-{result.id}"
    return RedirectResponse(target, status_code=303)


@router.get("/production/qc/specifications/{spec_id}", response_class=HTMLResponse)
def specification_page(spec_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read QC specifications")
    with transaction(request) as session:
        spec = specifications.get_specification(session, spec_id)
        family = specifications.list_specifications(session, item_code=spec.item_code)
        return render(
            request,
            "production/qc_specification.html",
            {
                "spec": spec,
                "revisions": [s for s in family if s.family == spec.family],
                **_record_context(session, spec, SPECIFICATION_WORKFLOW, actor),
            },
        )


@router.get("/production/qc/investigations/{investigation_id}", response_class=HTMLResponse)
def investigation_page(investigation_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read OOS investigations")
    with transaction(request) as session:
        inv = investigations.get_investigation(session, investigation_id)
        return render(
            request,
            "production/qc_investigation.html",
            {
                "inv": inv,
                "lot": results.get_lot(session, inv.lot_id),
                "original": results.get_result(session, inv.result_id),
                "retests": investigations.retests_of(session, inv),
                "checks": investigations.phase1_checks(session, inv),
                "answers": investigations.CHECK_ANSWERS,
                "can_investigate": actor.can("qc.investigate"),
                **_record_context(session, inv, OOS_WORKFLOW, actor),
            },
        )


@router.post("/production/qc/investigations/{investigation_id}/phase-1")
async def record_phase1(
    investigation_id: int, request: Request, actor: ActorDep
) -> RedirectResponse:
    form = await request.form()
    # The checks of the checklist in force: the service refuses a key it does not know.
    checklist = {
        key.removeprefix("check_"): str(value)
        for key, value in form.items()
        if key.startswith("check_") and value
    }
    assignable = str(form.get("assignable_cause", ""))
    if assignable not in ("yes", "no"):
        raise InvalidInput(
            "say whether there is an assignable laboratory error", field="assignable_cause"
        )
    with transaction(request, write=True) as session:
        investigations.record_phase1(
            session,
            actor=actor,
            investigation_id=investigation_id,
            findings=str(form.get("findings", ""))[:20_000],
            checklist=checklist,
            assignable_cause=assignable == "yes",
            lab_error_evidence=str(form.get("lab_error_evidence", ""))[:20_000],
            expected_version=int(str(form.get("expected_version", "0")) or 0) or None,
        )
    return redirect(f"/production/qc/investigations/{investigation_id}", "Phase I recorded.")


@router.post("/production/qc/investigations/{investigation_id}/phase-2")
def record_phase2(
    investigation_id: int,
    request: Request,
    actor: ActorDep,
    manufacturing_review: Annotated[str, Form(max_length=20_000)] = "",
    retest_protocol: Annotated[str, Form(max_length=20_000)] = "",
    root_cause: Annotated[str, Form(max_length=20_000)] = "",
    conclusion: Annotated[str, Form(max_length=20)] = "",
    conclusion_rationale: Annotated[str, Form(max_length=20_000)] = "",
    impact_on_other_lots: Annotated[str, Form(max_length=20_000)] = "",
    lab_error_evidence: Annotated[str, Form(max_length=20_000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        investigations.record_phase2(
            session,
            actor=actor,
            investigation_id=investigation_id,
            expected_version=expected_version,
            manufacturing_review=manufacturing_review,
            retest_protocol=retest_protocol,
            root_cause=root_cause,
            conclusion=conclusion or None,
            conclusion_rationale=conclusion_rationale,
            impact_on_other_lots=impact_on_other_lots,
            lab_error_evidence=lab_error_evidence,
        )
    return redirect(f"/production/qc/investigations/{investigation_id}", "Phase II recorded.")


@router.post("/production/qc/investigations/{investigation_id}/retests")
def record_retest(
    investigation_id: int,
    request: Request,
    actor: ActorDep,
    tested_at: Annotated[str, Form(max_length=40)],
    value: Annotated[str, Form(max_length=40)] = "",
    text_value: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        recorded = investigations.record_retest(
            session,
            actor=actor,
            investigation_id=investigation_id,
            tested_at=_utc(tested_at, "tested_at"),
            value=_number(value, "value"),
            text_value=text_value or None,
            unit=unit,
        )
        message = f"Retest {recorded.result.shown_value} recorded: {recorded.result.outcome}."
        if recorded.investigation is not None:
            message += f" Out of specification again: {recorded.investigation.number} opened."
    return redirect(f"/production/qc/investigations/{investigation_id}", message)
