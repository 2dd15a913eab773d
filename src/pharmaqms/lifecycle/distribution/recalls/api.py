"""Recall API: open (or mock), the register, one recall with its notification list and
reconciliation, and the verbs (approve and close are signed). Thin: parse, call a service,
shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.distribution.http import PREFIX
from pharmaqms.lifecycle.distribution.recalls import service
from pharmaqms.lifecycle.distribution.recalls.models import Recall
from pharmaqms.lifecycle.distribution.recalls.schemas import (
    AcknowledgementIn,
    CloseIn,
    NotificationOut,
    ReasonIn,
    RecallIn,
    RecallOut,
    ReturnIn,
    SignIn,
)

router = APIRouter(prefix=PREFIX, tags=["distribution: recalls"])


def recall_out(session: Session, recall: Recall, *, detail: bool = True) -> RecallOut:
    session.flush()
    out = RecallOut.of(recall, service.effectiveness(session, recall).as_dict())
    if detail:
        out.notifications = []
        for row in service.notifications(session, recall.id):
            item = NotificationOut.model_validate(row)
            item.outstanding = row.quantity_shipped - row.quantity_returned
            out.notifications.append(item)
    return out


@router.post("/recalls", response_model=RecallOut, status_code=201)
def open_recall(body: RecallIn, actor: ActorDep, request: Request) -> RecallOut:
    """Open a recall (``mock``: an exercise that changes no lot): the scope is traced now."""
    with transaction(request) as session:
        recall = service.open_recall(session, actor=actor, **body.model_dump())
        return recall_out(session, recall)


@router.get("/recalls", response_model=list[RecallOut])
def list_recalls(actor: ActorDep, request: Request) -> list[RecallOut]:
    """The recall register: status and effectiveness of every recall, newest first."""
    actor.require("records.read", "read recalls")
    with transaction(request, write=False) as session:
        return [recall_out(session, r, detail=False) for r in service.recalls(session)]


@router.get("/recalls/{recall_id}", response_model=RecallOut)
def get_recall(recall_id: RecordId, actor: ActorDep, request: Request) -> RecallOut:
    actor.require("records.read", "read recalls")
    with transaction(request, write=False) as session:
        return recall_out(session, service.get_recall(session, recall_id))


@router.post("/recalls/{recall_id}/approve", response_model=RecallOut)
def approve(recall_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> RecallOut:
    with transaction(request) as session:
        recall = service.approve_recall(
            session, actor=actor, recall_id=recall_id, password=body.password
        )
        return recall_out(session, recall)


@router.post("/recalls/{recall_id}/notify", response_model=RecallOut)
def notify(recall_id: RecordId, actor: ActorDep, request: Request) -> RecallOut:
    with transaction(request) as session:
        recall = service.notify_customers(session, actor=actor, recall_id=recall_id)
        return recall_out(session, recall)


@router.post("/recalls/{recall_id}/close", response_model=RecallOut)
def close(recall_id: RecordId, body: CloseIn, actor: ActorDep, request: Request) -> RecallOut:
    with transaction(request) as session:
        recall = service.close_recall(
            session,
            actor=actor,
            recall_id=recall_id,
            password=body.password,
            justification=body.justification,
        )
        return recall_out(session, recall)


@router.post("/recalls/{recall_id}/cancel", response_model=RecallOut)
def cancel(recall_id: RecordId, body: ReasonIn, actor: ActorDep, request: Request) -> RecallOut:
    with transaction(request) as session:
        recall = service.cancel_recall(
            session, actor=actor, recall_id=recall_id, reason=body.reason
        )
        return recall_out(session, recall)


@router.post(
    "/recalls/{recall_id}/notifications/{notification_id}/acknowledge",
    response_model=NotificationOut,
)
def acknowledge(
    recall_id: RecordId,
    notification_id: RecordId,
    body: AcknowledgementIn,
    actor: ActorDep,
    request: Request,
) -> NotificationOut:
    with transaction(request) as session:
        row = service.acknowledge(
            session,
            actor=actor,
            notification_id=notification_id,
            recall_id=recall_id,
            acknowledged_by=body.acknowledged_by,
            how=body.how,
            acknowledged_at=body.acknowledged_at,
        )
        session.flush()
        out = NotificationOut.model_validate(row)
        out.outstanding = row.quantity_shipped - row.quantity_returned
        return out


@router.post(
    "/recalls/{recall_id}/notifications/{notification_id}/returns",
    response_model=NotificationOut,
)
def record_return(
    recall_id: RecordId,
    notification_id: RecordId,
    body: ReturnIn,
    actor: ActorDep,
    request: Request,
) -> NotificationOut:
    with transaction(request) as session:
        row = service.record_return(
            session,
            actor=actor,
            notification_id=notification_id,
            recall_id=recall_id,
            quantity=body.quantity,
        )
        session.flush()
        out = NotificationOut.model_validate(row)
        out.outstanding = row.quantity_shipped - row.quantity_returned
        return out
