"""Risk assessments: FMEA tables attached to any record.

Revision ID: 0124_risk
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0124_risk"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("risk",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "risk_assessments",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_label", sa.String(length=200), nullable=False),
        sa.Column("matrix_name", sa.String(length=40), nullable=False),
        sa.Column("acceptance_rationale", sa.Text(), nullable=False),
        sa.Column("approved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_risk_assessments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_risk_assessments_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint("number", name=op.f("uq_risk_assessments_number")),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_assessments_subject", ["subject_type", "subject_id"], unique=False
        )

    op.create_table(
        "risk_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("failure_mode", sa.Text(), nullable=False),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("detectability", sa.Integer(), nullable=False),
        sa.Column("rpn", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.String(length=10), nullable=False),
        sa.Column("controls", sa.Text(), nullable=False),
        sa.Column("residual_severity", sa.Integer(), nullable=True),
        sa.Column("residual_occurrence", sa.Integer(), nullable=True),
        sa.Column("residual_detectability", sa.Integer(), nullable=True),
        sa.Column("residual_rpn", sa.Integer(), nullable=True),
        sa.Column("residual_level", sa.String(length=10), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_items_assessment_id_risk_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_risk_items_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_items")),
    )
    with op.batch_alter_table("risk_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_items_assessment_id"), ["assessment_id"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
