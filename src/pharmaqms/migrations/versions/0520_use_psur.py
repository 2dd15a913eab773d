"""Use: signed periodic safety reports (PSUR/PBRER-style) and their PDFs (append-only).

Its own branch label, on the use branch's first revision: the signal records (0510) grow from
the same parent, and ``upgrade heads`` takes both.

Revision ID: 0520_use_psur
Revises: 0501_use
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0520_use_psur"
down_revision: str | None = "0501_use"
branch_labels: str | Sequence[str] | None = ("use_psur",)
depends_on: str | Sequence[str] | None = None

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pv_periodic_report_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_periodic_report_files")),
    )
    with op.batch_alter_table("pv_periodic_report_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pv_periodic_report_files_sha256"), ["sha256"], unique=False
        )
    make_append_only(op, "pv_periodic_report_files")
    op.create_table(
        "pv_periodic_reports",
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("figures", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_file_id", sa.Integer(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pdf_file_id"],
            ["pv_periodic_report_files.id"],
            name=op.f("fk_pv_periodic_reports_pdf_file_id_pv_periodic_report_files"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pv_periodic_reports_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_pv_periodic_reports_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_periodic_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_pv_periodic_reports_number")),
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable: signed reports are not dropped")
