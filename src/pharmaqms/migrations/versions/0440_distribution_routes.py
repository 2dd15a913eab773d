"""Distribution: stored route plans (signed quality records).

On a branch of its own (``distribution_routes``) that depends on 0420, so that it and another
migration after 0420 do not make two heads of the distribution branch.

Revision ID: 0440_distribution_routes
Revises: —
Depends on: 0420_distribution_recalls
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0440_distribution_routes"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("distribution_routes",)
depends_on: str | Sequence[str] | None = ["0001_kernel", "0420_distribution_recalls"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "route_plans",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("season", sa.String(length=10), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("stops_served", sa.Integer(), nullable=False),
        sa.Column("stops_dropped", sa.Integer(), nullable=False),
        sa.Column("exposure_min", sa.Float(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_route_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_route_plans_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_plans")),
        sa.UniqueConstraint("number", name=op.f("uq_route_plans_number")),
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
