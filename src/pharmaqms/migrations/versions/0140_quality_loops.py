"""Quality loops closed: named reviewers and source-file attachments of document versions; when
a trainee opened the document they sign as read and understood; what fulfils a CAPA action;
what a change affects and the authority's approval of a prior-approval change.

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
depends_on: str | Sequence[str] | None = [
    "0102_periodic_reviews",
    "0110_training",
    "0121_capa",
    "0122_changes",
]

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
    with op.batch_alter_table("capa_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("job_role_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_capa_actions_document_id_documents"),
            "documents",
            ["document_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_capa_actions_job_role_id_training_job_roles"),
            "training_job_roles",
            ["job_role_id"],
            ["id"],
        )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "authority_reference", sa.String(length=100), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("authority_approved_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "submission_reference", sa.String(length=100), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("submission_sha256", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "authority_letter_sha256", sa.String(length=64), nullable=False, server_default=""
            )
        )
    op.create_table(
        "change_affected_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("named_by_id", sa.Integer(), nullable=False),
        sa.Column("named_at", _WHEN, nullable=False),
        sa.Column("removed_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_change_affected_items_change_id_change_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["named_by_id"], ["users.id"], name=op.f("fk_change_affected_items_named_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_affected_items")),
    )
    with op.batch_alter_table("change_affected_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_affected_items_change_id"), ["change_id"], unique=False
        )
    op.create_table(
        "change_regulatory_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_by_id", sa.Integer(), nullable=False),
        sa.Column("stored_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_change_regulatory_files_change_id_change_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["stored_by_id"],
            ["users.id"],
            name=op.f("fk_change_regulatory_files_stored_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_regulatory_files")),
    )
    make_append_only(op, "change_regulatory_files")
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
    op.drop_table("change_regulatory_files")
    op.drop_table("change_affected_items")
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_column("submission_sha256")
        batch_op.drop_column("submitted_on")
        batch_op.drop_column("submission_reference")
        batch_op.drop_column("authority_letter_sha256")
        batch_op.drop_column("authority_approved_on")
        batch_op.drop_column("authority_reference")
    op.drop_table("document_reviews")
    op.drop_table("document_attachments")
    with op.batch_alter_table("capa_actions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_capa_actions_job_role_id_training_job_roles"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_capa_actions_document_id_documents"), type_="foreignkey"
        )
        batch_op.drop_column("job_role_id")
        batch_op.drop_column("document_id")
    with op.batch_alter_table("training_requirements", schema=None) as batch_op:
        batch_op.drop_column("opened_at")
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_column("attachments_digest")
        batch_op.drop_column("review_round")
        batch_op.drop_column("reviewers_in_sequence")
        batch_op.drop_column("reviewer_ids")
