"""Annual product quality review pages: the register of reviews due (overdue flagged) with the
reviews made, generating a review, and one review with its frozen figures as tables and
charts, the conclusions QA writes, the signatures and the PDF. Thin: every change goes through
``compliance.apqr.service``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.figures import columns, section
from pharmaqms.compliance.apqr.workflow import REVIEW_WORKFLOW
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.quality.charts import stacked_bars

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/compliance/apqr"
READ = "read annual product quality reviews"

add(NavItem("Compliance", "Product quality reviews", BASE, "records.read", 30))
register_page("apqr_review", lambda review_id: f"{BASE}/reviews/{review_id}")

Text = Annotated[str, Form(min_length=1, max_length=20_000)]
Password = Annotated[str, Form(min_length=1, max_length=256)]
Version = Annotated[int, Form()]
Comment = Annotated[str, Form(max_length=4000)]


@router.get(BASE, response_class=HTMLResponse)
def register_page_view(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        return render(
            request,
            "compliance/apqr_register.html",
            {
                "rows": service.register(session),
                "reviews": service.reviews(session),
                "grace_days": get_settings().apqr_grace_days,
                "can_generate": actor.can(service.WRITE),
            },
        )


@router.post(f"{BASE}/reviews")
def generate(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Form(min_length=1, max_length=200)],
    year: Annotated[int, Form(ge=2000, le=9999)],
) -> RedirectResponse:
    with transaction(request) as session:
        review = service.generate_review(session, actor=actor, product=product, year=year)
        review_id, label = review.id, review.audit_label()
    return redirect(f"{BASE}/reviews/{review_id}", f"{label} generated: figures frozen.")


@router.get(f"{BASE}/reviews/{{review_id}}/batches.svg")
def batch_chart(review_id: RecordId, request: Request, actor: ActorDep) -> Response:
    """The review's batches per month as an SVG of its own (an image of the page: Matplotlib's
    SVG carries inline styles, which the page's Content Security Policy refuses)."""
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        months = section(service.get_review(session, review_id).figures, "batches")["months"]
    svg = stacked_bars(
        [m["month"] for m in months],
        {
            "released": [m["released"] for m in months],
            "rejected": [m["rejected"] for m in months],
            "other (quarantine, on hold)": [
                m["made"] - m["released"] - m["rejected"] for m in months
            ],
        },
        title="Batches by month of manufacture, by status today",
        colours={
            "released": "#2e9958",
            "rejected": "#c0392b",
            "other (quarantine, on hold)": "#9aa5b1",
        },
    )
    return Response(svg, media_type="image/svg+xml")


@router.get(f"{BASE}/reviews/{{review_id}}", response_class=HTMLResponse)
def review_page(review_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        review = service.get_review(session, review_id)
        allowed = {o.transition.name: o for o in options(session, REVIEW_WORKFLOW, review, actor)}
        return render(
            request,
            "compliance/apqr_review.html",
            {
                "review": review,
                "figures": review.figures,
                "signatures": signatures_of(session, review),
                "options": allowed,
                "can_write": actor.can(service.WRITE) and review.status == "draft",
                "columns": columns,
            },
        )


@router.post(f"{BASE}/reviews/{{review_id}}/conclusions")
def write_conclusions(
    review_id: RecordId,
    request: Request,
    actor: ActorDep,
    conclusions: Text,
    actions: Text,
    expected_version: Version,
) -> RedirectResponse:
    with transaction(request) as session:
        service.write_conclusions(
            session,
            actor=actor,
            review_id=review_id,
            conclusions=conclusions,
            actions=actions,
            expected_version=expected_version,
        )
    return redirect(f"{BASE}/reviews/{review_id}", "Conclusions saved.")


def _decide(verb: Any, review_id: int, request: Request, actor: Any, form: dict[str, Any]) -> str:
    with transaction(request) as session:
        return str(verb(session, actor=actor, review_id=review_id, **form).number)


@router.post(f"{BASE}/reviews/{{review_id}}/conclude")
def conclude(
    review_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Password,
    expected_version: Version,
    comment: Comment = "",
) -> RedirectResponse:
    form = {"password": password, "expected_version": expected_version, "comment": comment}
    _decide(service.conclude_review, review_id, request, actor, form)
    return redirect(f"{BASE}/reviews/{review_id}", "Conclusions signed as authored.")


@router.post(f"{BASE}/reviews/{{review_id}}/approve")
def approve(
    review_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Password,
    expected_version: Version,
    comment: Comment = "",
) -> RedirectResponse:
    form = {"password": password, "expected_version": expected_version, "comment": comment}
    number = _decide(service.approve_review, review_id, request, actor, form)
    return redirect(f"{BASE}/reviews/{review_id}", f"{number} approved: it is effective.")


@router.post(f"{BASE}/reviews/{{review_id}}/return")
def return_for_rework(
    review_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
    expected_version: Version,
) -> RedirectResponse:
    form = {"reason": reason, "expected_version": expected_version}
    _decide(service.return_review, review_id, request, actor, form)
    return redirect(f"{BASE}/reviews/{review_id}", "Returned to its author for rework.")


@router.get(f"{BASE}/reviews/{{review_id}}/pdf")
def review_pdf(review_id: RecordId, request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        review = service.get_review(session, review_id)
        content = service.current_pdf(session, review)
        name = f"{review.number}-edition-{review.edition}.pdf"
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
