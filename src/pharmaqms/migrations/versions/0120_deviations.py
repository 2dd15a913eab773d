"""Deviations: reports, classification, investigation, affected batches, extensions.

Revision ID: 0120_deviations
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0120_deviations"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("deviations",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "deviations",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("discovered_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("immediate_actions", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=True),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("detectability", sa.Integer(), nullable=True),
        sa.Column("severity_basis", sa.Text(), nullable=False),
        sa.Column("probability_basis", sa.Text(), nullable=False),
        sa.Column("detectability_basis", sa.Text(), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("root_cause_category", sa.String(length=20), nullable=True),
        sa.Column("why_chain", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("fishbone", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("capa_decision", sa.String(length=20), nullable=True),
        sa.Column("no_capa_rationale", sa.Text(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_deviations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["investigator_id"], ["users.id"], name=op.f("fk_deviations_investigator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_deviations_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviations")),
        sa.UniqueConstraint("number", name=op.f("uq_deviations_number")),
    )
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.create_index("ix_deviations_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "deviation_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=60), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("hold_status", sa.String(length=20), nullable=False),
        sa.Column("impact_assessment", sa.Text(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("disposition_note", sa.Text(), nullable=False),
        sa.Column("disposition_by_id", sa.Integer(), nullable=True),
        sa.Column("disposition_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_deviation_batches_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviations.id"],
            name=op.f("fk_deviation_batches_deviation_id_deviations"),
        ),
        sa.ForeignKeyConstraint(
            ["disposition_by_id"],
            ["users.id"],
            name=op.f("fk_deviation_batches_disposition_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_batches")),
        sa.UniqueConstraint(
            "deviation_id", "batch_id", name=op.f("uq_deviation_batches_deviation_id_batch_id")
        ),
    )
    with op.batch_alter_table("deviation_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deviation_batches_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "deviation_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "previous_due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "requested_due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_deviation_extensions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviations.id"],
            name=op.f("fk_deviation_extensions_deviation_id_deviations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_deviation_extensions_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_extensions")),
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
