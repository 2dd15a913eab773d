"""Document control pages: the register of controlled documents, a new document, and a
document's page with its versions, content, signatures, workflow buttons, draft editing and
revisions. Thin: every change goes through ``quality.documents.service``; transitions post to
the generic record route, whose workflow buttons and signature dialog this page reuses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    any_contains,
    distinct_options,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import from_form
from pharmaqms.kernel.workflow import options
from pharmaqms.quality.documents import attachments, reviews, service
from pharmaqms.quality.documents.markdown import render_markdown
from pharmaqms.quality.documents.models import (
    TYPE_LABEL,
    ControlledDocument,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
)
from pharmaqms.quality.documents.training_port import training
from pharmaqms.quality.documents.workflow import DOCUMENT_VERSION_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Documents", "/documents", "records.read", 10))

DOCUMENT_STATUS_LABEL = {
    DocumentStatus.IN_DEVELOPMENT: "in development",
    DocumentStatus.CURRENT: "current",
    DocumentStatus.OBSOLETE: "obsolete",
}
AUDIT_ON_PAGE = 100


def _version_url(version: DocumentVersion) -> str:
    return f"/documents/{version.document_id}?version={version.id}"


def _utc_from_form(value: str, field: str) -> datetime | None:
    """A datetime-local field, read in the reader's time zone and stored UTC."""
    return from_form(value, field)


def _in_force(document: ControlledDocument) -> str | None:
    current = service.document_row(document).current
    return current.label if current is not None else None


REGISTER = Register(
    name="documents",
    title="Controlled documents",
    query=lambda _session, _actor: select(ControlledDocument),
    columns=(
        Column("number", "Number", lambda d: d.number, ControlledDocument.number),
        Column("title", "Title", lambda d: d.title, ControlledDocument.title),
        Column(
            "doc_type",
            "Type",
            lambda d: TYPE_LABEL.get(d.doc_type, d.doc_type),
            ControlledDocument.doc_type,
            filter="choice",
            options=fixed_options(
                [t.value for t in TYPE_LABEL], lambda v: TYPE_LABEL[DocumentType(v)]
            ),
        ),
        Column(
            "area",
            "Area",
            lambda d: d.area,
            ControlledDocument.area,
            filter="choice",
            options=distinct_options(ControlledDocument.area),
        ),
        Column("in_force", "Version in force", _in_force),
        Column(
            "status",
            "Status",
            lambda d: DOCUMENT_STATUS_LABEL.get(d.status, d.status),
            ControlledDocument.status,
            filter="choice",
            options=fixed_options(
                [s.value for s in DOCUMENT_STATUS_LABEL],
                lambda v: DOCUMENT_STATUS_LABEL[DocumentStatus(v)],
            ),
        ),
    ),
    default_sort="number",
    tiebreak=ControlledDocument.id,
    extra_filters=(
        Filter(
            "q",
            "Search (number or title)",
            "text",
            any_contains(ControlledDocument.number, ControlledDocument.title),
        ),
    ),
)


@router.get("/documents", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read documents")
    return register_response(
        request,
        actor,
        REGISTER,
        "documents/register.html",
        lambda _session: {
            "types": TYPE_LABEL,
            "statuses": DOCUMENT_STATUS_LABEL,
            "row_of": service.document_row,
            "can_author": actor.can("documents.author"),
        },
    )


@router.get("/documents/new", response_class=HTMLResponse)
def new_document_form(request: Request, actor: ActorDep, doc_type: str = "sop") -> HTMLResponse:
    actor.require("documents.author", "author documents")
    return render(request, "documents/new.html", {"types": TYPE_LABEL, "doc_type": doc_type})


@router.post("/documents")
def create_document(
    request: Request,
    actor: ActorDep,
    doc_type: Annotated[str, Form(max_length=40)],
    title: Annotated[str, Form(max_length=300)],
    body: Annotated[str, Form(max_length=500_000)] = "",
    area: Annotated[str, Form(max_length=100)] = "",
    review_period_months: Annotated[int, Form(ge=1, le=60)] = 24,
) -> RedirectResponse:
    with transaction(request) as session:
        version = service.create_document(
            session,
            actor=actor,
            doc_type=doc_type,
            title=title,
            body=body,
            area=area,
            review_period_months=review_period_months,
        )
        session.flush()
        target, number = _version_url(version), version.number
    return redirect(target, f"{number} created as a draft.")


def page_context(
    session: Session, actor: Actor, document: ControlledDocument, selected: DocumentVersion
) -> dict[str, Any]:
    """What the document page shows of ``selected``: shared by the page and the preview."""
    versions = document.versions
    trail = AuditFilter(record_type="document_version", record_id=selected.id)
    in_flight = [v for v in versions if v.status in service.OPEN_STATES]
    round_reviews = reviews.current_reviews(session, selected)
    named = set(selected.reviewer_ids) | {r.reviewer_id for r in round_reviews}
    people = {
        u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(sorted(named))))
    }
    in_force = next((v for v in versions if v.id == document.current_version_id), None)
    return {
        # Training builds on document control, so its panel comes through ``training_port``.
        "training": training().of_version(session, document.id, selected.id),
        "document": document,
        "versions": sorted(versions, key=lambda v: (v.major, v.minor), reverse=True),
        "selected": selected,
        "rendered_body": render_markdown(selected.body),
        "attachments": attachments.attachments_of(session, selected.id),
        "round_reviews": round_reviews,
        "people": people,
        "my_review": next(
            (r for r in round_reviews if r.reviewer_id == actor.user_id and r.outcome == "pending"),
            None,
        ),
        "reviewer_choices": session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.full_name)
        ).all(),
        "compare_with": in_force if in_force is not None and in_force.id != selected.id else None,
        "type_label": TYPE_LABEL.get(DocumentType(document.doc_type), document.doc_type),
        "document_status_label": DOCUMENT_STATUS_LABEL.get(
            DocumentStatus(document.status), document.status
        ),
        "workflow": DOCUMENT_VERSION_WORKFLOW,
        "signatures": signatures_of(session, selected),
        "options": options(session, DOCUMENT_VERSION_WORKFLOW, selected, actor),
        "can_author": actor.can("documents.author"),
        "can_revise": actor.can("documents.author")
        and not in_flight
        and document.status != DocumentStatus.OBSOLETE,
        "audit_entries": find_entries(session, trail, limit=AUDIT_ON_PAGE),
        "audit_total": count_entries(session, trail),
        "audit_url": "/audit?"
        + urlencode({"record_type": "document_version", "record_id": selected.id}),
        "csv_url": f"/api/v1/records/document_version/{selected.id}/audit?format=csv",
    }


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    document_id: int, request: Request, actor: ActorDep, version: int | None = None
) -> HTMLResponse:
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        document = service.get_document(session, document_id)
        versions = document.versions
        selected = next((v for v in versions if v.id == version), None)
        if selected is None:
            # Without a choice: the latest version, which is the one being worked on.
            selected = max(versions, key=lambda v: (v.major, v.minor))
        return render(
            request, "documents/document.html", page_context(session, actor, document, selected)
        )


@router.post("/documents/versions/{version_id}/edit")
def edit_draft(
    version_id: int,
    request: Request,
    actor: ActorDep,
    expected_version: Annotated[int, Form(ge=1)],
    title: Annotated[str, Form(max_length=300)],
    body: Annotated[str, Form(max_length=500_000)] = "",
    change_summary: Annotated[str, Form(max_length=4000)] = "",
    effective_from: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    scheduled = _utc_from_form(effective_from, "effective_from")
    with transaction(request) as session:
        version = service.edit_draft(
            session,
            actor=actor,
            version_id=version_id,
            expected_version=expected_version,
            title=title,
            body=body,
            change_summary=change_summary,
            effective_from=scheduled,
            reason=reason or None,
        )
        target, number = _version_url(version), version.number
    return redirect(target, f"{number} saved.")


@router.post("/documents/{document_id}/revisions")
def start_revision(
    document_id: int,
    request: Request,
    actor: ActorDep,
    change_summary: Annotated[str, Form(max_length=4000)],
    kind: Annotated[str, Form(pattern="^(minor|major)$")] = "minor",
) -> RedirectResponse:
    with transaction(request) as session:
        version = service.revise(
            session,
            actor=actor,
            document_id=document_id,
            major=kind == "major",
            change_summary=change_summary,
        )
        session.flush()
        target, number = _version_url(version), version.number
    return redirect(target, f"Revision {number} started as a draft.")
