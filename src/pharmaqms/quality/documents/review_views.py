"""Periodic review pages: the register of documents in force with their next review (due and
overdue first), and a review's page where it is concluded "no change needed" (signed) or
turned into a revision. Thin: every change goes through ``periodic_review``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import User
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.quality.documents import periodic_review, service
from pharmaqms.quality.documents.periodic_review import ReviewState

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Periodic reviews", "/periodic-reviews", "records.read", 11))

STATE_ORDER = {ReviewState.OVERDUE: 0, ReviewState.DUE: 1, ReviewState.SCHEDULED: 2}


@router.get("/periodic-reviews", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep, state: str = "") -> HTMLResponse:
    actor.require("records.read", "read the periodic review register")
    chosen = [ReviewState(state)] if state in {s.value for s in ReviewState} else None
    with transaction(request) as session:
        rows = periodic_review.review_schedule(session, states=chosen)
        rows.sort(key=lambda r: (STATE_ORDER[r.state], r.due_at))
        owners = {r.document.owner_id for r in rows}
        names = {u.id: u.full_name for u in (session.get(User, i) for i in owners) if u}
        return render(
            request,
            "documents/periodic_reviews.html",
            {"rows": rows, "state": state, "states": list(ReviewState), "owners": names},
        )


@router.get("/periodic-reviews/{review_id}", response_class=HTMLResponse)
def review_page(review_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        review = periodic_review.get_review(session, review_id)
        return render(
            request,
            "documents/periodic_review.html",
            {
                "review": review,
                "document": service.get_document(session, review.document_id),
                "version": service.get_version(session, review.version_id),
                "revision": (
                    service.get_version(session, review.revision_version_id)
                    if review.revision_version_id
                    else None
                ),
                "signatures": signatures_of(session, review),
                "can_review": actor.can("documents.author") or actor.can("documents.approve"),
            },
        )


@router.post("/periodic-reviews/{review_id}/conclude")
def conclude(
    review_id: int,
    request: Request,
    actor: ActorDep,
    justification: Annotated[str, Form(max_length=4000)],
    password: Annotated[str, Form(max_length=256)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        periodic_review.conclude_no_change(
            session,
            actor=actor,
            review_id=review_id,
            password=password or None,
            justification=justification,
            expected_version=expected_version,
        )
        number = periodic_review.get_review(session, review_id).number
    return redirect(f"/periodic-reviews/{review_id}", f"{number}: no change needed, signed.")


@router.post("/periodic-reviews/{review_id}/start-revision")
def start_revision(
    review_id: int,
    request: Request,
    actor: ActorDep,
    change_summary: Annotated[str, Form(max_length=4000)],
    kind: Annotated[str, Form(pattern="^(minor|major)$")] = "minor",
) -> RedirectResponse:
    with transaction(request) as session:
        version = periodic_review.start_revision(
            session,
            actor=actor,
            review_id=review_id,
            major=kind == "major",
            change_summary=change_summary,
        )
        target = f"/documents/{version.document_id}?version={version.id}"
        number = version.number
    return redirect(target, f"Revision {number} started from the periodic review.")
