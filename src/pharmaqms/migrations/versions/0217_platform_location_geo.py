"""Locations get coordinates (latitude, longitude: WGS 84 decimal degrees) and the region of
their ambient temperature profile, for route planning from master data; and inventory
movements reported by both the WMS/TMS connector and EPCIS get the link that makes them count
once (append-only).

Nullable columns on ``locations``: the rows audited before were hashed without them, and
``audit verify`` accepts that earlier form while they are empty
(``Location.__audit_added_later__``).

Revision ID: 0217_platform_location_geo
Revises: 0216_platform_epcis_subs
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0217_platform_location_geo"
down_revision: str | None = "0216_platform_epcis_subs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = pharmaqms.kernel.db.UTCDateTime(timezone=True)
MATCHES = "inventory_movement_matches"


def upgrade() -> None:
    op.add_column("locations", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("locations", sa.Column("longitude", sa.Float(), nullable=True))
    op.add_column("locations", sa.Column("region", sa.String(length=40), nullable=True))
    op.create_table(
        MATCHES,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=False),
        sa.Column("counted_movement_id", sa.Integer(), nullable=False),
        sa.Column("from_side", sa.Boolean(), nullable=False),
        sa.Column("to_side", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("difference", sa.Float(), nullable=False),
        sa.Column("window_min", sa.Integer(), nullable=False),
        sa.Column("matched_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["inventory_movements.id"],
            name=op.f(f"fk_{MATCHES}_movement_id_inventory_movements"),
        ),
        sa.ForeignKeyConstraint(
            ["counted_movement_id"],
            ["inventory_movements.id"],
            name=op.f(f"fk_{MATCHES}_counted_movement_id_inventory_movements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{MATCHES}")),
        sa.UniqueConstraint("movement_id", name=op.f(f"uq_{MATCHES}_movement_id")),
    )
    op.create_index("ix_inventory_movement_matches_counted", MATCHES, ["counted_movement_id"])
    make_append_only(op, MATCHES)


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
