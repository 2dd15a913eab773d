"""The two tables of the operations side: the attempts each address made at a limited public
page, and the runs of ``pharmaqms audit verify``. Neither is a GxP record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import not_gxp


class RateLimitWindow(Base):
    """One limiter's recent attempts from one address: the times (epoch seconds) of the
    attempts still inside the window, at most ``limit`` of them. One row per key, locked while
    it is read and rewritten, so every process serving the site counts the same attempts."""

    __tablename__ = "rate_limit_windows"
    __table_args__ = (Index("ix_rate_limit_windows_last_at", "last_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The newest attempt: rows whose newest attempt has left the window are deleted.
    last_at: Mapped[float] = mapped_column(Float, nullable=False)


class AuditVerifyRun(Base):
    """One run of ``pharmaqms audit verify`` and what it found, so that the metrics can say how
    long ago the trail was last found intact."""

    __tablename__ = "audit_verify_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    intact: Mapped[bool] = mapped_column(nullable=False)
    entries: Mapped[int] = mapped_column(Integer, nullable=False)
    head_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    findings: Mapped[int] = mapped_column(Integer, nullable=False)


not_gxp(
    "rate_limit_windows",
    "the times of recent requests per address to a rate-limited public page, forgotten after "
    "the window; what those requests did is recorded where they did it",
)
not_gxp(
    "audit_verify_runs",
    "when the audit trail was last verified and with what outcome, for monitoring; the "
    "verification recomputes everything from the trail itself and trusts nothing stored here",
)
