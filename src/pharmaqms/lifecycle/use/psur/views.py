"""Periodic safety summary pages: choose a product and a period, read the tables and the chart,
download the draft PDF; the QPPV signs it there (password re-entered), and the signed report
has its own page with the figures as frozen and the PDF as signed."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.use.psur import service
from pharmaqms.lifecycle.use.psur.chart import term_bars_svg

router = APIRouter(tags=["ui"], include_in_schema=False)

OptionalText = Annotated[str | None, Query(max_length=200)]
OptionalDate = Annotated[date | None, Query()]


@router.get("/pv/psur", response_class=HTMLResponse)
def psur_page(
    request: Request,
    actor: ActorDep,
    product: OptionalText = None,
    start: OptionalDate = None,
    end: OptionalDate = None,
) -> HTMLResponse:
    actor.require("records.read", "read periodic safety summaries")
    with transaction(request) as session:
        made, problem = None, None
        if product and start and end:
            try:
                made = service.summary(session, product, start, end)
            except InvalidInput as exc:
                problem = exc.detail
        return render(
            request,
            "pv/psur.html",
            {
                "product": product or "",
                "start": start,
                "end": end,
                "made": made,
                "problem": problem,
                "chart": Markup(term_bars_svg(made.figures)) if made else None,  # noqa: S704
                "can_sign": actor.can("pv.psur"),
                "reports": service.reports(session, limit=50),
            },
        )


@router.get("/pv/psur/draft.pdf")
def psur_draft(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Query(min_length=1, max_length=200)],
    start: date,
    end: date,
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


@router.post("/pv/psur/reports")
def sign_report(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Form(min_length=1, max_length=200)],
    start: Annotated[date, Form()],
    end: Annotated[date, Form()],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        report = service.sign_report(
            session,
            actor=actor,
            product=product,
            start=start,
            end=end,
            password=password,
            comment=comment,
        )
        report_id, number = report.id, report.number
    return redirect(f"/pv/psur/reports/{report_id}", f"{number} signed and stored.")


@router.get("/pv/psur/reports/{report_id}", response_class=HTMLResponse)
def report_page(report_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read periodic safety reports")
    with transaction(request) as session:
        report = service.get_report(session, report_id)
        return render(
            request,
            "pv/psur_report.html",
            {
                "report": report,
                "figures": report.figures,
                "chart": Markup(term_bars_svg(report.figures)),  # noqa: S704
                "signatures": signatures_of(session, report),
            },
        )


@router.get("/pv/psur/reports/{report_id}/pdf")
def report_pdf(report_id: RecordId, request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read periodic safety reports")
    with transaction(request) as session:
        report = service.get_report(session, report_id)
        content = service.stored_pdf(session, report)
        name = f"{report.number}.pdf"
    return download(content, filename=name, media_type="application/pdf", disposition="inline")
