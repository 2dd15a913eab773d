"""Kernel: the job runner — procrastinate's queue (PostgreSQL only), the errors of failed
job attempts, and the claim a delivery job puts on an outbox row before it sends.

procrastinate's schema is the one of the pinned version (``procrastinate>=3.10,<3.11``),
applied as it ships; a later minor of the library comes with migrations of its own, to be
added here as a new revision. On SQLite the jobs run in process and need no table of the
library's.

Revision ID: 0020_kernel_jobs
Revises: -
Depends on: 0004_kernel_notifications
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0020_kernel_jobs"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("kernel_jobs",)
depends_on: str | Sequence[str] | None = "0004_kernel_notifications"

_TIME = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("task_name", sa.String(length=120), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("failed_at", _TIME, nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
    )
    op.create_index("ix_job_failures_job_id", "job_failures", ["job_id", "attempt"])
    # Which job holds a notice it is sending: the same job run again after its worker died
    # takes the claim back; any other sender leaves the notice alone.
    op.add_column("notifications", sa.Column("claimed_by", sa.String(length=60), nullable=True))

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # In a schema of its own, beside ``public``: the library's tables, types, functions and
        # triggers are not the application's (the models, grants and backups of ``public`` do
        # not see them); its connections find them by their search_path (kernel/jobs).
        previous = bind.exec_driver_sql("SHOW search_path").scalar_one()
        bind.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS procrastinate")
        bind.exec_driver_sql("SET search_path TO procrastinate")
        # Several statements with dollar-quoted bodies: through the driver, without parameters.
        driver = bind.connection.driver_connection
        assert driver is not None
        driver.execute(SchemaManager.get_schema())
        bind.exec_driver_sql(f"SET search_path TO {previous}")


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded: GxP data is never dropped")
