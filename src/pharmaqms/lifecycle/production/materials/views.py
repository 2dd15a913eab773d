"""Materials pages: the scan page (a barcode scanner types into one big field; the answer comes
in large, coloured words), and the approved supplier list with the material lots. Thin: every
answer comes from ``materials.scan`` and ``materials.service``; workflow steps post to the
generic record routes."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.production.materials import scan as scanning
from pharmaqms.lifecycle.production.materials import service
from pharmaqms.lifecycle.production.materials.workflow import SUPPLIER_APPROVAL_WORKFLOW
from pharmaqms.platform.gs1 import GS1Error
from pharmaqms.platform.masterdata.models import Material, Supplier

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Production", "Scan a container", "/production/scan", "records.read", 10))
add(NavItem("Production", "Materials and suppliers", "/production/materials", "records.read", 20))


@router.get("/production/scan", response_class=HTMLResponse)
def scan_page(
    request: Request,
    actor: ActorDep,
    code: str = Query(default="", max_length=512),
    expected: str = Query(default="", max_length=40),
) -> HTMLResponse:
    actor.require("records.read", "scan containers")
    answer = None
    unreadable = None
    if code.strip():
        with transaction(request, write=False) as session:
            try:
                answer = scanning.scan(
                    session, code, at=clock.now(), expected_material=expected.strip() or None
                )
            except GS1Error as refusal:
                # Not an error page: the person at the container needs the answer in place.
                unreadable = {"code": str(refusal.code), "detail": refusal.detail}
    return render(
        request,
        "production/scan.html",
        {"code": code, "expected": expected, "answer": answer, "unreadable": unreadable},
    )


@router.get("/production/materials", response_class=HTMLResponse)
def materials_page(request: Request, actor: ActorDep, status: str = "") -> HTMLResponse:
    actor.require("records.read", "read the approved supplier list")
    today = clock.now().date()
    with transaction(request) as session:
        entries = [
            (a, m, s, service.standing(a, today, (s.code, m.code)))
            for a, m, s in service.approved_supplier_list(session)
        ]
        lots = service.material_lots(session, status=status[:20] or None)
        materials = {m.id: m for m in session.query(Material)}
        suppliers = {s.id: s for s in session.query(Supplier)}
        return render(
            request,
            "production/materials.html",
            {
                "entries": entries,
                "lots": [
                    (
                        lot,
                        materials.get(lot.material_id or 0),
                        suppliers.get(lot.supplier_id or 0),
                        service.effective_status(lot, today),
                    )
                    for lot in lots
                ],
                "status": status,
                "workflow": SUPPLIER_APPROVAL_WORKFLOW,
            },
        )
