"""A supplier certificate's file is never changed: append-only, sealed into the audit chain.

Revision ID: 0321_production_sealed
Revises: 0320_batch_records_release
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pharmaqms.kernel.migrate import make_append_only

revision: str = "0321_production_sealed"
down_revision: str | None = "0320_batch_records_release"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    make_append_only(op, "supplier_certificate_files")


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable")
