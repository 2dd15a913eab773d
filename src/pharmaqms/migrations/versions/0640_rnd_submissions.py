"""R&D: submission documents (CTD Module 3 sections generated from the data, content frozen
with its SHA-256, reviewed and approved by signature) and their PDFs (append-only).

Revision ID: 0640_rnd_submissions
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0640_rnd_submissions"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rnd_submissions",)
depends_on: str | Sequence[str] | None = ["0630_rnd_transfer"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)
TABLE = "rnd_submission_documents"


def upgrade() -> None:
    op.create_table(
        "rnd_submission_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_submission_files")),
    )
    with op.batch_alter_table("rnd_submission_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rnd_submission_files_sha256"), ["sha256"], unique=False
        )
    make_append_only(op, "rnd_submission_files")
    op.create_table(
        TABLE,
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("authority", sa.String(length=10), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("content", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("draft_file_id", sa.Integer(), nullable=False),
        sa.Column("draft_pdf_sha256", sa.String(length=64), nullable=False),
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
            ["draft_file_id"],
            ["rnd_submission_files.id"],
            name=op.f(f"fk_{TABLE}_draft_file_id_rnd_submission_files"),
        ),
        sa.ForeignKeyConstraint(
            ["pdf_file_id"],
            ["rnd_submission_files.id"],
            name=op.f(f"fk_{TABLE}_pdf_file_id_rnd_submission_files"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f(f"fk_{TABLE}_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f(f"fk_{TABLE}_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("number", name=op.f(f"uq_{TABLE}_number")),
        sa.UniqueConstraint(
            "kind",
            "product_code",
            "authority",
            "edition",
            name=op.f(f"uq_{TABLE}_kind_product_code_authority_edition"),
        ),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_rnd_submission_documents_product", ["product_code", "kind"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable: signed documents are not dropped")
