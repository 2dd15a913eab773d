"""EPCIS subscriptions: subscribers to named queries (audited), the log of every delivery
attempt (append-only), and an index finding a capture's events for them.

(The id is short: alembic_version holds 32 characters.)

Revision ID: 0216_platform_epcis_subs
Revises: 0215_platform_inventory
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0216_platform_epcis_subs"
down_revision: str | None = "0215_platform_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_epcis_events_run_id", "epcis_events", ["run_id"])
    op.create_table(
        "epcis_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("dest", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("deactivated_at", _TIME, nullable=True),
        sa.Column("deactivated_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["epcis_named_queries.id"],
            name=op.f("fk_epcis_subscriptions_query_id_epcis_named_queries"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_epcis_subscriptions_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_subscriptions")),
    )
    op.create_table(
        "epcis_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("event_ids", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", _TIME, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("retry_at", _TIME, nullable=True),
        sa.Column("given_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["epcis_subscriptions.id"],
            name=op.f("fk_epcis_delivery_attempts_subscription_id_epcis_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_epcis_delivery_attempts_run_id_import_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_epcis_delivery_attempts_delivery_key"),
        "epcis_delivery_attempts",
        ["delivery_key"],
    )
    op.create_index(
        op.f("ix_epcis_delivery_attempts_subscription_id"),
        "epcis_delivery_attempts",
        ["subscription_id"],
    )
    op.create_index(
        op.f("ix_epcis_delivery_attempts_retry_at"), "epcis_delivery_attempts", ["retry_at"]
    )
    make_append_only(op, "epcis_delivery_attempts")


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
