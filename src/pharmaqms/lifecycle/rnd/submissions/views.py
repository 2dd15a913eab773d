"""Submission document pages: the register of documents (filtered by kind, authority, status;
exported like every register) with the form that generates one, and a document's page with its
frozen content as tables, its signatures, the review and approval forms and the PDF. Thin: every
change goes through ``submissions.service``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    any_contains,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.rnd.submissions import service
from pharmaqms.lifecycle.rnd.submissions.common import AUTHORITY_NAME, CTD_SECTION, TITLE
from pharmaqms.lifecycle.rnd.submissions.models import (
    Authority,
    DocumentKind,
    SubmissionDocument,
    SubmissionStatus,
)
from pharmaqms.lifecycle.rnd.submissions.workflow import SUBMISSION_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/rnd/submissions"
READ = "read submission documents"

add(NavItem("R&D", "Submission documents", BASE, service.READ, 40))
register_page("rnd_submission", lambda document_id: f"{BASE}/{document_id}")

KINDS = [(k.value, f"{CTD_SECTION[k]} {TITLE[k]}") for k in DocumentKind]
Password = Annotated[str, Form(min_length=1, max_length=256)]
Version = Annotated[int, Form()]
Comment = Annotated[str, Form(max_length=4000)]


def kind_label(kind: str) -> str:
    return dict(KINDS).get(kind, kind)


REGISTER = Register(
    name="submission-documents",
    title="Submission documents",
    query=lambda _session, _actor: select(SubmissionDocument),
    columns=(
        Column("number", "Number", lambda d: d.number, SubmissionDocument.number),
        Column(
            "kind",
            "CTD section",
            lambda d: kind_label(d.kind),
            SubmissionDocument.kind,
            filter="choice",
            options=lambda _session: KINDS,
        ),
        Column("product", "Product", lambda d: d.product_code, SubmissionDocument.product_code),
        Column(
            "authority",
            "Authority",
            lambda d: d.authority,
            SubmissionDocument.authority,
            filter="choice",
            options=fixed_options([a.value for a in Authority], lambda v: v),
        ),
        Column("edition", "Edition", lambda d: d.edition, SubmissionDocument.edition),
        Column("generated", "Generated", lambda d: d.created_at, SubmissionDocument.created_at),
        Column(
            "status",
            "Status",
            lambda d: d.status,
            SubmissionDocument.status,
            filter="choice",
            options=fixed_options([s.value for s in SubmissionStatus]),
        ),
    ),
    default_sort="-generated",
    tiebreak=SubmissionDocument.id,
    extra_filters=(
        Filter(
            "q",
            "Search",
            "text",
            any_contains(SubmissionDocument.number, SubmissionDocument.product_code),
        ),
    ),
)


@router.get(BASE, response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require(service.READ, READ)

    def context(_session: Session) -> dict[str, Any]:
        return {
            "kinds": KINDS,
            "kind_label": kind_label,
            "authorities": [(a.value, AUTHORITY_NAME[a]) for a in Authority],
            "can_generate": actor.can(service.WRITE),
        }

    return register_response(request, actor, REGISTER, "rnd/submissions/register.html", context)


@router.post(BASE)
def generate(
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(min_length=1, max_length=40)],
    product: Annotated[str, Form(min_length=1, max_length=40)],
    authority: Annotated[str, Form(min_length=1, max_length=10)],
) -> RedirectResponse:
    with transaction(request) as session:
        document = service.generate_document(
            session, actor=actor, kind=kind, product=product, authority=authority
        )
        document_id, label = document.id, document.audit_label()
    return redirect(f"{BASE}/{document_id}", f"{label} generated: content and PDF frozen.")


@router.get(f"{BASE}/{{document_id}}", response_class=HTMLResponse)
def document_page(document_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require(service.READ, READ)
    with transaction(request, write=False) as session:
        document = service.get_document(session, document_id)
        allowed = {
            o.transition.name: o for o in options(session, SUBMISSION_WORKFLOW, document, actor)
        }
        return render(
            request,
            "rnd/submissions/document.html",
            {
                "document": document,
                "content": document.content,
                "kind_label": kind_label(document.kind),
                "signatures": signatures_of(session, document),
                "options": allowed,
                "workflow": SUBMISSION_WORKFLOW,
            },
        )


def _decide(verb: Any, document_id: int, request: Request, actor: Any, form: dict[str, Any]) -> str:
    with transaction(request) as session:
        return str(verb(session, actor=actor, document_id=document_id, **form).number)


@router.post(f"{BASE}/{{document_id}}/review")
def review(
    document_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Password,
    expected_version: Version,
    comment: Comment = "",
) -> RedirectResponse:
    form = {"password": password, "expected_version": expected_version, "comment": comment}
    number = _decide(service.review_document, document_id, request, actor, form)
    return redirect(f"{BASE}/{document_id}", f"{number} reviewed.")


@router.post(f"{BASE}/{{document_id}}/approve")
def approve(
    document_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Password,
    expected_version: Version,
    comment: Comment = "",
) -> RedirectResponse:
    form = {"password": password, "expected_version": expected_version, "comment": comment}
    number = _decide(service.approve_document, document_id, request, actor, form)
    return redirect(f"{BASE}/{document_id}", f"{number} approved: its signed PDF is stored.")


@router.post(f"{BASE}/{{document_id}}/return")
def return_for_rework(
    document_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
    expected_version: Version,
) -> RedirectResponse:
    form = {"reason": reason, "expected_version": expected_version}
    _decide(service.return_document, document_id, request, actor, form)
    return redirect(f"{BASE}/{document_id}", "Returned to draft.")


@router.get(f"{BASE}/{{document_id}}/pdf")
def document_pdf(document_id: RecordId, request: Request, actor: ActorDep) -> Response:
    with transaction(request, write=True) as session:  # the hand-out is audited
        content, name = service.hand_out_pdf(session, actor=actor, document_id=document_id)
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
