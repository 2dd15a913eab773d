"""CAPA: corrective and preventive actions and effectiveness checks.

Revision ID: 0121_capa
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0121_capa"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("capa",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "capas",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("problem_statement", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effectiveness_required", sa.Boolean(), nullable=True),
        sa.Column("effectiveness_justification", sa.Text(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_capas_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_capas_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_capas_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capas")),
        sa.UniqueConstraint("number", name=op.f("uq_capas_number")),
    )
    with op.batch_alter_table("capas", schema=None) as batch_op:
        batch_op.create_index("ix_capas_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "capa_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capa_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("completion_evidence", sa.Text(), nullable=False),
        sa.Column("times_reopened", sa.Integer(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capa_id"], ["capas.id"], name=op.f("fk_capa_actions_capa_id_capas")
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"], ["users.id"], name=op.f("fk_capa_actions_completed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_capa_actions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_capa_actions_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capa_actions")),
    )
    with op.batch_alter_table("capa_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capa_actions_capa_id"), ["capa_id"], unique=False)
        batch_op.create_index("ix_capa_actions_owner_status", ["owner_id", "status"], unique=False)

    op.create_table(
        "capa_effectiveness_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capa_id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capa_id"], ["capas.id"], name=op.f("fk_capa_effectiveness_checks_capa_id_capas")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_capa_effectiveness_checks_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signatures.id"],
            name=op.f("fk_capa_effectiveness_checks_signature_id_electronic_signatures"),
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["users.id"],
            name=op.f("fk_capa_effectiveness_checks_verified_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capa_effectiveness_checks")),
    )
    with op.batch_alter_table("capa_effectiveness_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_capa_effectiveness_checks_capa_id"), ["capa_id"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
