"""Distribution: serial ranges commissioned per GTIN and lot (audited) and pack verifications
(append-only, sealed).

Revision ID: 0410_distribution_serials
Revises: (a branch of its own, after the kernel and the platform)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0410_distribution_serials"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("distribution_serials",)
depends_on: str | Sequence[str] | None = ["0001_kernel", "0201_platform"]


def upgrade() -> None:
    op.create_table(
        "serial_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot_number", sa.String(length=20), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_serial_ranges_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_ranges")),
    )
    op.create_index("ix_serial_ranges_gtin_prefix", "serial_ranges", ["gtin", "prefix"])
    op.create_table(
        "serial_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot_number", sa.String(length=20), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("expiry_given", sa.Date(), nullable=True),
        sa.Column("answer", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("verified_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["users.id"],
            name=op.f("fk_serial_verifications_verified_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_verifications")),
    )
    op.create_index("ix_serial_verifications_pack", "serial_verifications", ["gtin", "serial"])
    make_append_only(op, "serial_verifications")


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
