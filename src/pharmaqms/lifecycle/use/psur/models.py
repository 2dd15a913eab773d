"""The signed periodic safety report: the product, the period and the figures frozen as JSON
at signing (the case base moves on; the report does not), with the SHA-256 of the figures and
of the PDF the QPPV signed. The PDF's bytes are kept in an append-only sealed table."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord, SealedData


class ReportStatus(StrEnum):
    DRAFT = "draft"  # only for the instant between creation and the QPPV's signature
    SIGNED = "signed"


class PeriodicSafetyReport(GxPRecord, Base):
    __tablename__ = "pv_periodic_reports"
    __audit_type__ = "pv_periodic_report"
    __number_prefix__ = "PSUR"
    __draft_states__ = frozenset({ReportStatus.DRAFT.value})
    # The signature covers what the report says; the PDF file is attached after, in the same
    # transaction, with its hash, and is rendered from exactly these fields.
    __signed_fields__ = ("product", "period_start", "period_end", "figures", "figures_sha256")

    product: Mapped[str] = mapped_column(String(200), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    figures_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("pv_periodic_report_files.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def audit_label(self) -> str:
        return (
            f"{self.number} ({self.product}, {self.period_start.isoformat()} to "
            f"{self.period_end.isoformat()})"
        )


class PeriodicReportFile(SealedData, Base):
    """The bytes of a signed report's PDF. Never changed: a new report is a new row."""

    __tablename__ = "pv_periodic_report_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)
