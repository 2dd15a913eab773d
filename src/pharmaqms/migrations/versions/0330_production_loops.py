"""Production loops closed: the review by exception of a batch executed in an external MES.

Revision ID: 0330_production_loops
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0330_production_loops"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("production_loops",)
depends_on: str | Sequence[str] | None = ["0320_batch_records_release"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "external_batch_reviews",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("lot_label", sa.String(length=120), nullable=False),
        sa.Column("summary", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("evidence_digest", sa.String(length=64), nullable=False),
        sa.Column("exceptions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("comments", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reviewed_at", _WHEN, nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_external_batch_reviews_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_external_batch_reviews_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_external_batch_reviews_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_batch_reviews")),
        sa.UniqueConstraint("number", name=op.f("uq_external_batch_reviews_number")),
    )
    with op.batch_alter_table("external_batch_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_batch_reviews_lot_id"), ["lot_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("external_batch_reviews")
