"""Distribution: recalls (signed quality records) and their notification lists (audited).

Revision ID: 0420_distribution_recalls
Revises: 0401_distribution
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0420_distribution_recalls"
down_revision: str | None = "0401_distribution"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ["0001_kernel", "0201_platform"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recalls",
        sa.Column("mock", sa.Boolean(), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("lots", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=3), nullable=False),
        sa.Column("depth", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("scope_started_at", _WHEN, nullable=False),
        sa.Column("scope_completed_at", _WHEN, nullable=False),
        sa.Column("scope_seconds", sa.Float(), nullable=False),
        sa.Column("scope_events", sa.Integer(), nullable=False),
        sa.Column("closure_justification", sa.Text(), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_recalls_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_recalls_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recalls")),
        sa.UniqueConstraint("number", name=op.f("uq_recalls_number")),
    )
    op.create_table(
        "recall_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("place_code", sa.String(length=60), nullable=True),
        sa.Column("place_name", sa.String(length=200), nullable=False),
        sa.Column("place_kind", sa.String(length=40), nullable=False),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("quantity_shipped", sa.Integer(), nullable=False),
        sa.Column("first_shipped_at", _WHEN, nullable=True),
        sa.Column("notified_at", _WHEN, nullable=True),
        sa.Column("acknowledged_at", _WHEN, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_how", sa.String(length=20), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("quantity_returned", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.id"], name=op.f("fk_recall_notifications_recall_id_recalls")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_recall_notifications_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_notifications")),
        sa.UniqueConstraint(
            "recall_id", "place", name=op.f("uq_recall_notifications_recall_id_place")
        ),
    )
    op.create_index(
        op.f("ix_recall_notifications_recall_id"), "recall_notifications", ["recall_id"]
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
