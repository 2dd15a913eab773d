"""API shapes of periodic safety summaries and risk-factor analyses."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.lifecycle.use.psur.models import PeriodicSafetyReport
from pharmaqms.quality.schemas import signatures_out


class SummaryOut(BaseModel):
    figures: dict[str, Any] = Field(
        description="totals, terms, sources, report_types, regions, countries, cases; "
        "boundaries states what interval and cumulative count"
    )
    figures_sha256: str


class SignReportIn(Strict):
    product: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date
    password: str = Field(min_length=1, max_length=256)
    comment: str = Field(default="", max_length=4000)


class ReportOut(BaseModel):
    id: int
    number: str
    status: str
    product: str
    period_start: date
    period_end: date
    figures_sha256: str
    pdf_sha256: str
    pdf_url: str
    figures: dict[str, Any]
    signatures: list[SignatureOut]


class ReportRowOut(BaseModel):
    id: int
    number: str
    product: str
    period_start: date
    period_end: date
    pdf_sha256: str


def report_out(session: Session, report: PeriodicSafetyReport) -> ReportOut:
    return ReportOut(
        id=report.id,
        number=report.number,
        status=report.status,
        product=report.product,
        period_start=report.period_start,
        period_end=report.period_end,
        figures_sha256=report.figures_sha256,
        pdf_sha256=report.pdf_sha256,
        pdf_url=f"/api/v1/pv/psur/reports/{report.id}/pdf",
        figures=report.figures,
        signatures=signatures_out(session, report),
    )
