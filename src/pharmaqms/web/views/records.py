"""The generic record pages every registered record type gets for free: a list with status
filter, search and paging; a detail page with fields, signatures, workflow buttons and the
record's audit trail; and the UI route that takes a workflow transition."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries
from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import PAGE_SIZE, ActorDep, page_offset, record_url, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES, RecordType, readable_record_type, record_type
from pharmaqms.kernel.reports.record import export_record_report, report_filename
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options, perform, require_reviewed_version

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "All records", "/records", "records.read", 90))

# The record page shows the latest entries; the viewer has the rest.
AUDIT_ON_RECORD_PAGE = 100


def _filtered(rt: RecordType, status: str, q: str) -> Select[Any]:
    query = select(rt.model)
    if status:
        query = query.where(rt.model.status == status)
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(*(getattr(rt.model, name).ilike(like) for name in rt.searchable)))
    return query


def load_record(session: Session, rt: RecordType, record_id: int) -> GxPRecord:
    record = session.get(rt.model, record_id)
    if record is None:
        raise NotFound(f"no {rt.label.lower()} with id {record_id}")
    return record


@router.get("/records", response_class=HTMLResponse)
def record_types(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read records")
    types = sorted(RECORD_TYPES.values(), key=lambda rt: (rt.module, rt.plural))
    return render(request, "kernel/record_types.html", {"types": types})


@router.get("/records/{type_name}", response_class=HTMLResponse)
def record_list(
    type_name: str,
    request: Request,
    actor: ActorDep,
    status: str = "",
    q: str = "",
    offset: str = "",
) -> HTMLResponse:
    actor.require("records.read", "read records")
    rt = readable_record_type(type_name, actor)
    start = page_offset(offset)
    query = _filtered(rt, status, q[:200])
    with transaction(request) as session:
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = list(
            session.scalars(query.order_by(rt.model.id.desc()).limit(PAGE_SIZE).offset(start))
        )
        return render(
            request,
            "kernel/record_list.html",
            {
                "rt": rt,
                "rows": [(row, record_url(rt.name, row)) for row in rows],
                "status": status,
                "q": q,
                "total": total,
                "limit": PAGE_SIZE,
                "offset": start,
            },
        )


@router.get("/records/{type_name}/{record_id}", response_class=HTMLResponse)
def record_detail(
    type_name: str, record_id: int, request: Request, actor: ActorDep
) -> HTMLResponse:
    actor.require("records.read", "read records")
    rt = readable_record_type(type_name, actor)
    with transaction(request) as session:
        record = load_record(session, rt, record_id)
        trail = AuditFilter(record_type=rt.name, record_id=record.id)
        return render(
            request,
            "kernel/record_detail.html",
            {
                "rt": rt,
                "record": record,
                "fields": [
                    (name, heading, getattr(record, name)) for name, heading in rt.detail_fields
                ],
                "signatures": signatures_of(session, record),
                "options": options(session, rt.workflow, record, actor),
                "audit_entries": find_entries(session, trail, limit=AUDIT_ON_RECORD_PAGE),
                "audit_total": count_entries(session, trail),
                "audit_url": "/audit?"
                + urlencode({"record_type": rt.name, "record_id": record.id}),
                "csv_url": f"/api/v1/records/{rt.name}/{record.id}/audit?format=csv",
                "richer_url": rt.detail_url(record) if rt.detail_url else None,
                "report_url": f"/records/{rt.name}/{record.id}/report.pdf",
            },
        )


@router.get("/records/{type_name}/{record_id}/report.pdf")
def record_report(type_name: str, record_id: int, request: Request, actor: ActorDep) -> Response:
    """The record as a PDF for an inspector's file (the browser shows it; print from there)."""
    actor.require("records.read", "read records")
    rt = readable_record_type(type_name, actor)
    with transaction(request, write=True) as session:
        record = load_record(session, rt, record_id)
        content = export_record_report(session, rt, record, actor=actor)
        filename = report_filename(record)
    return download(content, filename=filename, media_type="application/pdf", disposition="inline")


@router.post("/records/{type_name}/{record_id}/transitions/{name}")
def take_transition(
    type_name: str,
    record_id: int,
    name: str,
    request: Request,
    actor: ActorDep,
    expected_version: Annotated[int | None, Form()] = None,
    password: Annotated[str, Form(max_length=256)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    rt = record_type(type_name)
    with transaction(request) as session:
        record = load_record(session, rt, record_id)
        require_reviewed_version(rt.workflow, name, expected_version, session)
        result = perform(
            session,
            rt.workflow,
            record,
            name,
            actor=actor,
            password=password or None,
            reason=reason or None,
            comment=comment or None,
            expected_version=expected_version,
        )
        signed = f", signed “{result.signature.meaning}”" if result.signature else ""
        message = (
            f"{record.audit_label()}: {result.transition.label} done{signed}; "
            f"status now {rt.workflow.state_label(record.status)}."
            + (f" {result.outcome}" if result.outcome else "")
        )
        target = record_url(rt.name, record)
    return redirect(target, message)
