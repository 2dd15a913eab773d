"""Periodic safety summaries: the draft (figures computed now, a PDF marked draft, nothing
stored) and the one verb that writes, ``sign_report``: the QPPV signs the figures as they stand,
the PDF is rendered from the frozen figures with the signature manifestation, and its bytes go
to an append-only table with their SHA-256. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports.signed import checked_pdf, pdf_sha256, store_pdf
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.use.psur import figures as psur_figures
from pharmaqms.lifecycle.use.psur.models import (
    PeriodicReportFile,
    PeriodicSafetyReport,
    ReportStatus,
)
from pharmaqms.lifecycle.use.psur.pdf import Signed, render_summary
from pharmaqms.lifecycle.use.psur.selection import cases_for, resolve_product
from pharmaqms.lifecycle.use.psur.workflow import PSUR_WORKFLOW

MAX_PERIOD_DAYS = 366 * 10


@dataclass(frozen=True)
class Summary:
    figures: dict[str, Any]
    figures_sha256: str


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("the period ends before it starts", field="to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("a period is at most ten years", field="to")
    if end > clock.now().date():
        raise InvalidInput(
            "the period ends in the future: its data lock point has not been reached", field="to"
        )


def summary(session: Session, product: str, start: date, end: date) -> Summary:
    """The figures of the product's cases for [start, end], as the case base stands now."""
    check_period(start, end)
    scope = resolve_product(session, product)
    found = psur_figures.summarise(scope, start, end, cases_for(session, scope, up_to=end))
    return Summary(found, content_hash(found))


def draft_pdf(session: Session, product: str, start: date, end: date) -> bytes:
    """The unsigned draft, watermarked; not stored, not a record."""
    return render_summary(
        summary(session, product, start, end).figures, site=get_settings().site_name, signed=None
    )


def get_report(session: Session, report_id: int) -> PeriodicSafetyReport:
    report = session.get(PeriodicSafetyReport, report_id)
    if report is None:
        raise NotFound(f"no periodic safety report with id {report_id}")
    return report


def reports(session: Session, *, limit: int = 200, offset: int = 0) -> list[PeriodicSafetyReport]:
    return list(
        session.scalars(
            select(PeriodicSafetyReport)
            .order_by(PeriodicSafetyReport.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def signature_block(session: Session, report: PeriodicSafetyReport) -> Signed:
    from pharmaqms.kernel.signatures import signatures_of

    found = [s for s in signatures_of(session, report) if s.meaning == "Approved"]
    if not found:
        raise NotFound(f"{report.number} carries no QPPV signature")
    first = found[0]
    return Signed(report.number, first.manifestation, first.content_hash)


def render_signed(session: Session, report: PeriodicSafetyReport) -> bytes:
    """The signed report rendered again from what it froze (byte-identical to the stored
    file while the renderer is unchanged: ``stored_pdf`` checks the stored one instead)."""
    return render_summary(
        report.figures, site=get_settings().site_name, signed=signature_block(session, report)
    )


def stored_pdf(session: Session, report: PeriodicSafetyReport) -> bytes:
    """The PDF as signed; refused when the stored bytes no longer match their hash."""
    if report.pdf_file_id is None:
        raise NotFound(f"{report.number} has no stored PDF")
    refusal = f"the stored PDF of {report.number} does not match the SHA-256 recorded at signing"
    return checked_pdf(
        session, PeriodicReportFile, report.pdf_file_id, report.pdf_sha256, refusal=refusal
    )


def sign_report(
    session: Session,
    *,
    actor: Actor,
    product: str,
    start: date,
    end: date,
    password: str,
    comment: str = "",
) -> PeriodicSafetyReport:
    """The QPPV signs the summary of [start, end] as the case base stands: the report is
    created, signed ("Approved", password re-entered), its PDF rendered with the signature and
    stored append-only. A refusal (role, password, period) leaves nothing behind: the caller's
    transaction rolls back."""
    actor.require("pv.psur", "sign periodic safety reports")
    made = summary(session, product, start, end)
    report = PeriodicSafetyReport(
        status=ReportStatus.DRAFT.value,
        product=made.figures["product"],
        period_start=start,
        period_end=end,
        figures=made.figures,
        figures_sha256=made.figures_sha256,
        pdf_sha256="",
    )
    with audit.changes(session, actor=actor, reason="periodic safety summary prepared"):
        session.add(report)
        session.flush()
    perform(session, PSUR_WORKFLOW, report, "sign", actor=actor, password=password, comment=comment)
    content = render_signed(session, report)
    digest = pdf_sha256(content)
    with audit.changes(session, actor=actor, reason=f"signed PDF stored (SHA-256 {digest})"):
        stored = store_pdf(session, PeriodicReportFile, content)
        report.pdf_file_id = stored.id
        report.pdf_sha256 = digest
    return report
