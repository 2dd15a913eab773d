"""Kernel: each person's time zone (times are shown and typed in it; stored times stay UTC).

One new table and no change to an existing one: a new column of the audited users table would
change the state hash of every existing account.

Revision ID: 0005_kernel_time_zones
Revises: 0004_kernel_notifications
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0005_kernel_time_zones"
down_revision: str | None = "0004_kernel_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = pharmaqms.kernel.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "user_time_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_time_zones_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_time_zones")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_time_zones_user_id")),
    )


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded: GxP data is never dropped")
