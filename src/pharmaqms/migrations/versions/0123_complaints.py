"""Complaints: intake, triage, pharmacovigilance handover, investigation, response.

Revision ID: 0123_complaints
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0123_complaints"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("complaints",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("lot", sa.String(length=60), nullable=False),
        sa.Column("complainant_name", sa.String(length=200), nullable=False),
        sa.Column("complainant_type", sa.String(length=30), nullable=False),
        sa.Column("complainant_contact", sa.Text(), nullable=False),
        sa.Column("received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("criticality", sa.String(length=20), nullable=True),
        sa.Column("triage_rationale", sa.Text(), nullable=False),
        sa.Column("pv_handover_status", sa.String(length=20), nullable=True),
        sa.Column("pv_handover_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pv_reference", sa.String(length=100), nullable=False),
        sa.Column("pv_acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "pv_acknowledged_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("investigator_id", sa.Integer(), nullable=True),
        sa.Column("investigation_summary", sa.Text(), nullable=False),
        sa.Column("complaint_confirmed", sa.Boolean(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("responded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_complaints_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["investigator_id"], ["users.id"], name=op.f("fk_complaints_investigator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pv_acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_complaints_pv_acknowledged_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_complaints_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("number", name=op.f("uq_complaints_number")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_product_lot", ["product", "lot"], unique=False)
        batch_op.create_index("ix_complaints_status", ["status"], unique=False)


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
