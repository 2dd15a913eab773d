"""Serialised packs and GS1 scans are append-only like every other measured row (they are
sealed into the audit chain; kernel/sealing.py).

Revision ID: 0211_platform_sealed
Revises: 0210_gs1_scans
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pharmaqms.kernel.migrate import make_append_only

revision: str = "0211_platform_sealed"
down_revision: str | None = "0210_gs1_scans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("serialised_packs", "gs1_scans"):
        make_append_only(op, table)


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable")
