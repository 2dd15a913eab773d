"""Document control: controlled documents and their versions.

Revision ID: 0101_documents
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0101_documents"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("documents",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("review_period_months", sa.Integer(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_documents_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_documents_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
    )
    op.create_table(
        "document_versions",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=False),
        sa.Column("effective_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("effective_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_document_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_document_versions_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint(
            "document_id",
            "major",
            "minor",
            name=op.f("uq_document_versions_document_id_major_minor"),
        ),
        sa.UniqueConstraint("number", name=op.f("uq_document_versions_number")),
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
