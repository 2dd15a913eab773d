"""Inventory movements from the WMS/TMS connector and from EPCIS receiving/shipping events: the
type of each movement, the order it belongs to, the source that sent it and the EPCIS event it
came from. Nullable columns, so that the rows sealed before keep their seal (empty columns are
not hashed); the table stays append-only (its triggers are kept: no table rebuild on SQLite).

Revision ID: 0215_platform_inventory
Revises: 0214_platform_epcis
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0215_platform_inventory"
down_revision: str | None = "0214_platform_epcis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "inventory_movements"
# column → the table its foreign key points at
_KEYS = {"source_id": "data_sources", "epcis_event_id": "epcis_events"}


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("movement_type", sa.String(length=20), nullable=True))
    op.add_column(TABLE, sa.Column("order_reference", sa.String(length=80), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, target in _KEYS.items():
        name = f"fk_{TABLE}_{column}_{target}"
        if sqlite:
            # SQLite adds a column with its reference in one statement; a batch rebuild of the
            # table would drop its append-only triggers.
            op.execute(
                f"ALTER TABLE {TABLE} ADD COLUMN {column} INTEGER "
                f"CONSTRAINT {name} REFERENCES {target} (id)"
            )
        else:
            op.add_column(TABLE, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, TABLE, target, [column], ["id"])
    op.create_index(op.f(f"ix_{TABLE}_order_reference"), TABLE, ["order_reference"])
    op.create_index("ix_inventory_movements_to_lot", TABLE, ["to_location_id", "lot_id"])
    op.create_index("ix_inventory_movements_from_lot", TABLE, ["from_location_id", "lot_id"])


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
