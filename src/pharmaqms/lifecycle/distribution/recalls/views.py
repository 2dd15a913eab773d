"""Recall pages: the register (status and effectiveness of each recall, and the form that opens
one or a mock), and a recall with its scope, notification list, reconciliation and the forms of
each step. Thin: every change goes through the recall services."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.distribution.recalls import service
from pharmaqms.lifecycle.distribution.recalls.models import RecallClass, RecallDepth
from pharmaqms.lifecycle.distribution.recalls.workflow import RECALL_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/distribution/recalls"

add(NavItem("Distribution", "Recalls", BASE, "records.read", 30))


@router.get(BASE, response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read recalls")
    with transaction(request, write=False) as session:
        rows = [(r, service.effectiveness(session, r)) for r in service.recalls(session)]
        return render(
            request,
            "distribution/recalls.html",
            {
                "rows": rows,
                "classes": [c.value for c in RecallClass],
                "depths": [d.value for d in RecallDepth],
                "workflow": RECALL_WORKFLOW,
            },
        )


@router.post(BASE)
def open_recall(
    request: Request,
    actor: ActorDep,
    subjects: Annotated[str, Form(max_length=4000)],
    classification: Annotated[str, Form(max_length=3)],
    depth: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=4000)],
    target_pct: Annotated[float, Form(ge=0, le=100)] = 100.0,
    mock: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    with transaction(request) as session:
        recall = service.open_recall(
            session,
            actor=actor,
            subjects=subjects.splitlines(),
            classification=classification,
            depth=depth,
            reason=reason,
            target_pct=target_pct,
            mock=mock,
        )
        session.flush()
        recall_id, number, seconds = recall.id, recall.number, recall.scope_seconds
    response = RedirectResponse(f"{BASE}/{recall_id}", status_code=303)
    set_flash(response, "success", f"{number} opened; scope traced in {seconds:.3f} s.")
    return response


@router.get(f"{BASE}/{{recall_id}}", response_class=HTMLResponse)
def recall_page(recall_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read recalls")
    with transaction(request, write=False) as session:
        recall = service.get_recall(session, recall_id)
        return render(
            request,
            "distribution/recall.html",
            {
                "recall": recall,
                "subjects": json.loads(recall.subjects),
                "lots": json.loads(recall.lots),
                "rows": service.notifications(session, recall.id),
                "result": service.effectiveness(session, recall),
                "means": service.ACK_MEANS,
                "workflow": RECALL_WORKFLOW,
            },
        )


def _back(recall_id: int, message: str) -> RedirectResponse:
    response = RedirectResponse(f"{BASE}/{recall_id}", status_code=303)
    set_flash(response, "success", message)
    return response


@router.post(f"{BASE}/{{recall_id}}/approve")
def approve(
    recall_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        number = service.approve_recall(
            session, actor=actor, recall_id=recall_id, password=password
        ).number
    return _back(recall_id, f"{number} approved and signed.")


@router.post(f"{BASE}/{{recall_id}}/notify")
def notify(recall_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        number = service.notify_customers(session, actor=actor, recall_id=recall_id).number
    return _back(recall_id, f"{number}: notices sent; the recall is in progress.")


@router.post(f"{BASE}/{{recall_id}}/close")
def close(
    recall_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
    justification: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        number = service.close_recall(
            session,
            actor=actor,
            recall_id=recall_id,
            password=password,
            justification=justification or None,
        ).number
    return _back(recall_id, f"{number} closed and signed.")


@router.post(f"{BASE}/{{recall_id}}/cancel")
def cancel(
    recall_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        number = service.cancel_recall(
            session, actor=actor, recall_id=recall_id, reason=reason
        ).number
    return _back(recall_id, f"{number} cancelled.")


@router.post(f"{BASE}/{{recall_id}}/notifications/{{notification_id}}/acknowledge")
def acknowledge(
    recall_id: RecordId,
    notification_id: RecordId,
    request: Request,
    actor: ActorDep,
    acknowledged_by: Annotated[str, Form(max_length=200)] = "",
    how: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        row = service.acknowledge(
            session,
            actor=actor,
            notification_id=notification_id,
            recall_id=recall_id,
            acknowledged_by=acknowledged_by,
            how=how,
        )
        name = row.place_name
    return _back(recall_id, f"Acknowledgement of {name} recorded.")


@router.post(f"{BASE}/{{recall_id}}/notifications/{{notification_id}}/returns")
def record_return(
    recall_id: RecordId,
    notification_id: RecordId,
    request: Request,
    actor: ActorDep,
    quantity: Annotated[int, Form(ge=1, le=2_000_000_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        row = service.record_return(
            session,
            actor=actor,
            notification_id=notification_id,
            recall_id=recall_id,
            quantity=quantity,
        )
        name = row.place_name
    return _back(recall_id, f"{quantity} returned by {name} recorded.")
