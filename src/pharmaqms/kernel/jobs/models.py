"""What the job library does not keep: the error of each failed attempt of a job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import not_gxp


class JobFailure(Base):
    """One failed attempt of a queued job: procrastinate keeps the job's status and attempts,
    not the exception, which a person looking at a failed job needs first."""

    __tablename__ = "job_failures"
    __table_args__ = (Index("ix_job_failures_job_id", "job_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    task_name: Mapped[str] = mapped_column(String(120), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    failed_at: Mapped[datetime] = mapped_column(nullable=False)
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str] = mapped_column(Text, nullable=False)


not_gxp(
    "job_failures",
    "the error text of failed attempts of background jobs (e-mail and webhook delivery, "
    "sweeps); the records those jobs change are audited by their own services",
)
# procrastinate's own tables (PostgreSQL only, made by migration 0020_kernel_jobs).
for _table in (
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_workers",
    "procrastinate_periodic_defers",
):
    not_gxp(
        _table,
        "the job library's queue (jobs, their events, workers' heartbeats, periodic "
        "schedule); the work they do is recorded and audited in the application's own tables",
    )
