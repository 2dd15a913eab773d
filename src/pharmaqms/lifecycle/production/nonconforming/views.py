"""Nonconforming product pages: the register and one record with its disposition form, the
record of execution, the workflow buttons with the signature dialog, and the audit trail.
Thin: every change goes through ``nonconforming.service``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.production.nonconforming import service
from pharmaqms.lifecycle.production.nonconforming.models import Disposition
from pharmaqms.lifecycle.production.nonconforming.workflow import NONCONFORMANCE_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(tags=["ui"], include_in_schema=False)

add(
    NavItem(
        "Production", "Nonconforming product", "/production/nonconformances", "records.read", 40
    )
)

AUDIT_ON_PAGE = 100


@router.get("/production/nonconformances", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep, status: str = "") -> HTMLResponse:
    actor.require("records.read", "read nonconforming product records")
    with transaction(request) as session:
        rows = service.list_nonconformances(session, status=status[:20] or None)
        lots = {
            lot.id: lot for lot in session.query(Lot).filter(Lot.id.in_([r.lot_id for r in rows]))
        }
        return render(
            request,
            "production/nc_register.html",
            {"rows": rows, "lots": lots, "status": status, "workflow": NONCONFORMANCE_WORKFLOW},
        )


@router.get("/production/nonconformances/{nc_id}", response_class=HTMLResponse)
def detail(nc_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read nonconforming product records")
    with transaction(request) as session:
        nc = service.get_nonconformance(session, nc_id)
        trail = AuditFilter(record_type=nc.__audit_type__, record_id=nc.id)
        return render(
            request,
            "production/nc_detail.html",
            {
                "nc": nc,
                "lot": session.get(Lot, nc.lot_id),
                "dispositions": [d.value for d in Disposition],
                "workflow": NONCONFORMANCE_WORKFLOW,
                "signatures": signatures_of(session, nc),
                "options": options(session, NONCONFORMANCE_WORKFLOW, nc, actor),
                "can_dispose": actor.can("nonconformance.disposition"),
                "audit_entries": find_entries(session, trail, limit=AUDIT_ON_PAGE),
                "audit_total": count_entries(session, trail),
                "audit_url": "/audit?"
                + urlencode({"record_type": nc.__audit_type__, "record_id": nc.id}),
                "csv_url": f"/api/v1/records/{nc.__audit_type__}/{nc.id}/audit?format=csv",
            },
        )


@router.post("/production/nonconformances/{nc_id}/disposition")
def draft_disposition(
    nc_id: int,
    request: Request,
    actor: ActorDep,
    disposition: Annotated[str, Form(max_length=30)],
    rationale: Annotated[str, Form(max_length=20_000)] = "",
    concession_terms: Annotated[str, Form(max_length=20_000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        nc = service.draft_disposition(
            session,
            actor=actor,
            nc_id=nc_id,
            disposition=disposition,
            rationale=rationale,
            concession_terms=concession_terms,
            expected_version=expected_version,
        )
        number = nc.number
    return redirect(f"/production/nonconformances/{nc_id}", f"{number}: disposition saved.")


@router.post("/production/nonconformances/{nc_id}/execution")
def record_execution(
    nc_id: int,
    request: Request,
    actor: ActorDep,
    execution_record: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        nc = service.record_execution(
            session, actor=actor, nc_id=nc_id, execution_record=execution_record
        )
        number = nc.number
    return redirect(f"/production/nonconformances/{nc_id}", f"{number}: execution recorded.")
