"""Compliance: annual product quality reviews (figures frozen as JSON with their SHA-256,
conclusions, signatures) and their approved PDFs (append-only).

Revision ID: 0710_compliance_apqr
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0710_compliance_apqr"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("compliance_apqr",)
depends_on: str | Sequence[str] | None = ["0701_compliance"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "apqr_review_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apqr_review_files")),
    )
    with op.batch_alter_table("apqr_review_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apqr_review_files_sha256"), ["sha256"], unique=False)
    make_append_only(op, "apqr_review_files")
    op.create_table(
        "apqr_reviews",
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("figures", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.Column("conclusions", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("concluded_by_id", sa.Integer(), nullable=True),
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
            ["concluded_by_id"], ["users.id"], name=op.f("fk_apqr_reviews_concluded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pdf_file_id"],
            ["apqr_review_files.id"],
            name=op.f("fk_apqr_reviews_pdf_file_id_apqr_review_files"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_apqr_reviews_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_apqr_reviews_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apqr_reviews")),
        sa.UniqueConstraint("number", name=op.f("uq_apqr_reviews_number")),
        sa.UniqueConstraint(
            "product_code",
            "year",
            "edition",
            name=op.f("uq_apqr_reviews_product_code_year_edition"),
        ),
    )
    with op.batch_alter_table("apqr_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_apqr_reviews_product_year", ["product_code", "year"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable: signed reviews are not dropped")
