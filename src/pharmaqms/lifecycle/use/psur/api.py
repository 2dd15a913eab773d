"""Periodic safety summary API (``/api/v1/pv/psur…``): thin. Reading the figures or a draft
PDF is reading cases; signing a report is the QPPV's e-signature (password re-entered)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.lifecycle.use.psur import service
from pharmaqms.lifecycle.use.psur.schemas import (
    ReportOut,
    ReportRowOut,
    SignReportIn,
    SummaryOut,
    report_out,
)

router = APIRouter(prefix="/api/v1/pv", tags=["pharmacovigilance"])

Product = Annotated[str, Query(min_length=1, max_length=200, description="name or product code")]
Start = Annotated[date, Query(description="first day of the interval (included)")]
End = Annotated[date, Query(description="last day of the interval (included): data lock point")]


@router.get("/psur", response_model=SummaryOut)
def psur_figures(
    actor: ActorDep, request: Request, product: Product, start: Start, end: End
) -> SummaryOut:
    actor.require("records.read", "read periodic safety summaries")
    with transaction(request) as session:
        made = service.summary(session, product, start, end)
        return SummaryOut(figures=made.figures, figures_sha256=made.figures_sha256)


@router.get("/psur/draft.pdf", response_class=Response, responses=file_responses("application/pdf"))
def psur_draft(
    actor: ActorDep, request: Request, product: Product, start: Start, end: End
) -> Response:
    actor.require("records.read", "read periodic safety summaries")
    with transaction(request) as session:
        content = service.draft_pdf(session, product, start, end)
    return download(
        content,
        filename=f"psur-draft-{product}-{start.isoformat()}-{end.isoformat()}.pdf",
        media_type="application/pdf",
        disposition="inline",
    )


@router.post("/psur/reports", response_model=ReportOut, status_code=201)
def sign_report(body: SignReportIn, actor: ActorDep, request: Request) -> ReportOut:
    with transaction(request) as session:
        report = service.sign_report(
            session,
            actor=actor,
            product=body.product,
            start=body.period_start,
            end=body.period_end,
            password=body.password,
            comment=body.comment,
        )
        return report_out(session, report)


@router.get("/psur/reports", response_model=list[ReportRowOut])
def list_reports(
    actor: ActorDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[ReportRowOut]:
    actor.require("records.read", "read periodic safety reports")
    with transaction(request) as session:
        return [
            ReportRowOut(
                id=r.id,
                number=r.number,
                product=r.product,
                period_start=r.period_start,
                period_end=r.period_end,
                pdf_sha256=r.pdf_sha256,
            )
            for r in service.reports(session, limit=limit, offset=offset)
        ]


@router.get("/psur/reports/{report_id}", response_model=ReportOut)
def get_report(report_id: RecordId, actor: ActorDep, request: Request) -> ReportOut:
    actor.require("records.read", "read periodic safety reports")
    with transaction(request) as session:
        return report_out(session, service.get_report(session, report_id))


@router.get(
    "/psur/reports/{report_id}/pdf",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def report_pdf(report_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The PDF as signed (checked against the SHA-256 recorded at signing)."""
    actor.require("records.read", "read periodic safety reports")
    with transaction(request) as session:
        report = service.get_report(session, report_id)
        content = service.stored_pdf(session, report)
        name = f"{report.number}.pdf"
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
