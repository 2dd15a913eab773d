"""Document control: periodic reviews of documents in force.

Revision ID: 0102_periodic_reviews
Revises: 0101_documents
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0102_periodic_reviews"
down_revision: str | None = "0101_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_periodic_reviews",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_content_hash", sa.String(length=64), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "overdue_flagged_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("concluded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revision_version_id", sa.Integer(), nullable=True),
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
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_document_periodic_reviews_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_periodic_reviews_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_version_id"],
            ["document_versions.id"],
            name="fk_document_periodic_reviews_revision_version",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_document_periodic_reviews_updated_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_periodic_reviews_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_periodic_reviews")),
        sa.UniqueConstraint("number", name=op.f("uq_document_periodic_reviews_number")),
    )
    with op.batch_alter_table("document_periodic_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_periodic_reviews_document_id"), ["document_id"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
