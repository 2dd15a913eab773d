"""Quality loops closed: named reviewers and source-file attachments of document versions; when
a trainee opened the document they sign as read and understood.

Revision ID: 0140_quality_loops
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0140_quality_loops"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("quality_loops",)
depends_on: str | Sequence[str] | None = ["0102_periodic_reviews", "0110_training", "0122_changes"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reviewer_ids",
                pharmaqms.kernel.db.JSONText(),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reviewers_in_sequence", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("review_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("attachments_digest", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("training_requirements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", _WHEN, nullable=True))
    op.create_table(
        "document_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("attached_by_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_attachments_version_id_document_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["attached_by_id"],
            ["users.id"],
            name=op.f("fk_document_attachments_attached_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_attachments")),
    )
    with op.batch_alter_table("document_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_attachments_version_id"), ["version_id"], unique=False
        )
    make_append_only(op, "document_attachments")
    op.create_table(
        "document_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("in_sequence", sa.Boolean(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("reviewed_content_hash", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_reviews_version_id_document_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_document_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_reviews")),
        sa.UniqueConstraint(
            "version_id",
            "round",
            "reviewer_id",
            name=op.f("uq_document_reviews_version_id_round_reviewer_id"),
        ),
    )
    with op.batch_alter_table("document_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_reviews_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("document_reviews")
    op.drop_table("document_attachments")
    with op.batch_alter_table("training_requirements", schema=None) as batch_op:
        batch_op.drop_column("opened_at")
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_column("attachments_digest")
        batch_op.drop_column("review_round")
        batch_op.drop_column("reviewers_in_sequence")
        batch_op.drop_column("reviewer_ids")
