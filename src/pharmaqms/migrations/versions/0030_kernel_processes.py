"""Kernel: what several server processes share — the rate limits of the public pages — and
the record of ``audit verify`` runs that the metrics report.

Two new tables, no change to an existing one (the audit chain is untouched: the request id
was already part of every entry's hashed content).

Revision ID: 0030_kernel_processes
Revises:
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0030_kernel_processes"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("kernel_processes",)
depends_on: str | Sequence[str] | None = "0004_kernel_notifications"

UTC = pharmaqms.kernel.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hits", sa.Text(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index("ix_rate_limit_windows_last_at", "rate_limit_windows", ["last_at"])
    op.create_table(
        "audit_verify_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC(timezone=True), nullable=False),
        sa.Column("intact", sa.Boolean(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verify_runs")),
    )
    op.create_index(op.f("ix_audit_verify_runs_finished_at"), "audit_verify_runs", ["finished_at"])


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded")
