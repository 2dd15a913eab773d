"""Release pages: the batches awaiting release with their checklist verdict, and one batch's
checklist — every rule green or red with what it found and the evidence it looked at — with
the QP's release and reject dialogs (e-signature) and the certificate. Thin: the decision goes
through ``service.release_batch`` / ``reject_batch``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Register,
    distinct_options,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import gate_refusals
from pharmaqms.lifecycle.production.release import service
from pharmaqms.lifecycle.production.release.models import BatchRelease, ReleaseStatus
from pharmaqms.lifecycle.production.release.workflow import BATCH_RELEASE_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Production", "Batch release", "/production/release", "records.read", 60))


DECISION_REGISTER = Register(
    name="release-decisions",
    title="Release decisions",
    query=lambda _session, _actor: (
        select(BatchRelease, Lot)
        .join(Lot, Lot.id == BatchRelease.lot_id)
        .where(BatchRelease.status != ReleaseStatus.PENDING)
    ),
    columns=(
        Column("number", "Decision", lambda r: r[0].number, BatchRelease.number),
        Column("batch", "Batch", lambda r: r[1].lot_number, Lot.lot_number, filter="text"),
        Column(
            "product",
            "Product",
            lambda r: r[1].item_code,
            Lot.item_code,
            filter="choice",
            options=distinct_options(Lot.item_code),
        ),
        Column("decided", "Decided", lambda r: r[0].decided_at, BatchRelease.decided_at),
        Column(
            "cycle_time",
            "Cycle time (h)",
            lambda r: r[0].cycle_time_hours,
            BatchRelease.cycle_time_hours,
        ),
        Column(
            "status",
            "Status",
            lambda r: r[0].status,
            BatchRelease.status,
            filter="choice",
            options=fixed_options([ReleaseStatus.RELEASED.value, ReleaseStatus.REJECTED.value]),
        ),
    ),
    default_sort="-decided",
    tiebreak=BatchRelease.id,
)


@router.get("/production/release", response_class=HTMLResponse)
def queue_page(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read the release queue")
    return register_response(
        request,
        actor,
        DECISION_REGISTER,
        "release/queue.html",
        lambda session: {"waiting": service.awaiting_release(session)},
    )


@router.get("/production/release/{lot_id}", response_class=HTMLResponse)
def checklist_page(lot_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read release checklists")
    with transaction(request) as session:
        evaluation = service.evaluate_release(session, lot_id)
        decided = service.decision_of(session, lot_id)
        # What the gates the quality layer registered (qualification of the QP, training)
        # would refuse, asked of a decision not yet made, so the QP reads it before signing.
        refusals = []
        if decided is None and actor.can("release.decide"):
            refusals = gate_refusals(
                session,
                actor,
                BatchRelease(status=ReleaseStatus.PENDING.value, lot_id=lot_id),
                BATCH_RELEASE_WORKFLOW.transition("release"),
            )
        return render(
            request,
            "release/checklist.html",
            {
                "evaluation": evaluation,
                "decided": decided,
                "signatures": signatures_of(session, decided) if decided else [],
                "workflow": BATCH_RELEASE_WORKFLOW,
                "can_decide": actor.can("release.decide"),
                "signer_refusals": refusals,
                "config_uses": (
                    config_store.uses_of(session, decided.__audit_type__, decided.id)
                    if decided
                    else []
                ),
            },
        )


@router.post("/production/release/{lot_id}/release")
def release_page(
    lot_id: int,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)],
    evaluation_hash: Annotated[str, Form(max_length=64)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        release = service.release_batch(
            session,
            actor=actor,
            lot_id=lot_id,
            password=password,
            comment=comment or None,
            expected_evaluation=evaluation_hash,
        )
        number = release.number
    return redirect(
        f"/production/release/{lot_id}", f"{number}: batch released, signed “Released”."
    )


@router.post("/production/release/{lot_id}/reject")
def reject_page(
    lot_id: int,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)],
    reason: Annotated[str, Form(max_length=2000)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        release = service.reject_batch(
            session,
            actor=actor,
            lot_id=lot_id,
            password=password,
            reason=reason,
            comment=comment or None,
        )
        number = release.number
    return redirect(
        f"/production/release/{lot_id}", f"{number}: batch rejected, signed “Rejected”."
    )
