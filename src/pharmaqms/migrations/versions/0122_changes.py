"""Change control: requests, impact assessment, function approvals, implementation tasks.

Revision ID: 0122_changes
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0122_changes"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("changes",)
depends_on: str | Sequence[str] | None = ("0001_kernel", "0101_documents")


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("change_type", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("regulatory_category", sa.String(length=30), nullable=True),
        sa.Column("regulatory_rationale", sa.Text(), nullable=False),
        sa.Column("functions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("approval_round", sa.Integer(), nullable=False),
        sa.Column("approved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("effectiveness_confirmed", sa.Boolean(), nullable=True),
        sa.Column("effectiveness_summary", sa.Text(), nullable=False),
        sa.Column("closed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_change_requests_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_change_requests_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_change_requests_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_change_requests_number")),
    )
    op.create_table(
        "change_impacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=30), nullable=False),
        sa.Column("impacted", sa.Boolean(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=False),
        sa.Column("assessed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_change_impacts_assessed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_change_impacts_change_id_change_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_impacts")),
        sa.UniqueConstraint("change_id", "area", name=op.f("uq_change_impacts_change_id_area")),
    )
    op.create_table(
        "change_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(length=30), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("decided_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_change_approvals_approver_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_change_approvals_change_id_change_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signatures.id"],
            name=op.f("fk_change_approvals_signature_id_electronic_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_approvals")),
        sa.UniqueConstraint(
            "change_id",
            "round",
            "function",
            name=op.f("uq_change_approvals_change_id_round_function"),
        ),
    )
    op.create_table(
        "change_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("completion_evidence", sa.Text(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_change_actions_change_id_change_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"], ["users.id"], name=op.f("fk_change_actions_completed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_change_actions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_change_actions_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_change_actions_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_actions")),
    )
    with op.batch_alter_table("change_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_actions_change_id"), ["change_id"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
