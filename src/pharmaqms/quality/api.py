"""Quality links over HTTP: what a record was raised from and what it led to, and linking an
existing quality record to a source (a recurrence to the CAPA already open)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.quality import events
from pharmaqms.quality.schemas import LinkCreate, LinkOut, LinksOut

router = APIRouter(prefix="/api/v1", tags=["quality links"])


@router.get("/quality-links", response_model=LinksOut)
def record_links(
    actor: ActorDep,
    request: Request,
    record_id: RecordId,
    record_type: str = Query(min_length=2, max_length=60),
) -> LinksOut:
    actor.require("records.read", "read quality links")
    with transaction(request) as session:
        found = events.links_of(session, record_type, record_id)
        return LinksOut(
            raised_from=[LinkOut.model_validate(link.as_dict()) for link in found.raised_from],
            led_to=[LinkOut.model_validate(link.as_dict()) for link in found.led_to],
        )


@router.post("/quality-links", response_model=LinksOut, status_code=201)
def link(body: LinkCreate, actor: ActorDep, request: Request) -> LinksOut:
    with transaction(request) as session:
        events.link_records(
            session,
            actor=actor,
            source_type=body.source_type,
            source_id=body.source_id,
            source_label=body.source_label,
            target_type=body.target_type,
            target_id=body.target_id,
            reason=body.reason,
        )
        session.flush()
        found = events.links_of(session, body.target_type, body.target_id)
        return LinksOut(
            raised_from=[LinkOut.model_validate(link.as_dict()) for link in found.raised_from],
            led_to=[LinkOut.model_validate(link.as_dict()) for link in found.led_to],
        )
