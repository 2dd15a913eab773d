"""The page of an imported MES batch record's review: what was imported, the exceptions with
their assessments, the signature; and opening one from a batch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.production.batchrecords import external_service as service
from pharmaqms.lifecycle.production.batchrecords.external_workflow import EXTERNAL_REVIEW_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)


def _page(review_id: int) -> str:
    return f"/production/external-reviews/{review_id}"


@router.get("/production/external-reviews/{review_id}", response_class=HTMLResponse)
def review_page(review_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        review = service.get_review(session, review_id)
        return render(
            request,
            "production/external_review.html",
            {
                "r": review,
                "workflow": EXTERNAL_REVIEW_WORKFLOW,
                "options": options(session, EXTERNAL_REVIEW_WORKFLOW, review, actor),
                "signatures": signatures_of(session, review),
                "can_review": actor.can("batchrecords.review_external"),
            },
        )


@router.post("/production/external-reviews")
def open_review(
    request: Request, actor: ActorDep, lot_id: Annotated[int, Form()]
) -> RedirectResponse:
    with transaction(request) as session:
        review = service.open_review(session, actor=actor, lot_id=lot_id)
        session.flush()
        target, number = _page(review.id), review.number
    return redirect(target, f"{number} opened: assess each exception, then sign.")


@router.post("/production/external-reviews/{review_id}/assessments")
def assess(
    review_id: int,
    request: Request,
    actor: ActorDep,
    key: Annotated[str, Form(max_length=80)],
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        service.assess_exception(
            session, actor=actor, review_id=review_id, key=key, comment=comment
        )
    return redirect(_page(review_id), "Exception assessed.")


@router.post("/production/external-reviews/{review_id}/refresh")
def refresh(review_id: int, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        service.refresh(session, actor=actor, review_id=review_id)
    return redirect(_page(review_id), "The imported record was read again.")
