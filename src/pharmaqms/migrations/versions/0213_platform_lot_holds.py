"""platform: lot holds as a table (who holds a lot, why, the status before, when lifted)

Revision ID: 0213_platform_lot_holds
Revises: 0212_platform_harden
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0213_platform_lot_holds"  # at most 32 characters (alembic_version)
down_revision: str | None = "0212_platform_harden"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lot_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.Column("placed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("lifted_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["users.id"], name=op.f("fk_lot_holds_lifted_by_id_users")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_holds_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["placed_by_id"], ["users.id"], name=op.f("fk_lot_holds_placed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_holds")),
    )
    with op.batch_alter_table("lot_holds", schema=None) as batch_op:
        batch_op.create_index("ix_lot_holds_lot_open", ["lot_id", "lifted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lot_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_holds_lot_open")

    op.drop_table("lot_holds")
