"""EPCIS repository: the CBV 2.0 event hash of each captured event, duplicate findings (the
same event under two eventIDs; append-only) and named queries (audited).

Revision ID: 0214_platform_epcis
Revises: 0212_platform_harden
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0214_platform_epcis"
down_revision: str | None = "0213_platform_lot_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: rows sealed before it keep their seal (empty columns are not hashed).
    op.add_column("epcis_events", sa.Column("event_hash", sa.String(length=120), nullable=True))
    op.create_index(op.f("ix_epcis_events_event_hash"), "epcis_events", ["event_hash"])
    op.create_table(
        "epcis_duplicates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_hash", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("original_event_id", sa.Integer(), nullable=False),
        sa.Column("found_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["epcis_events.id"],
            name=op.f("fk_epcis_duplicates_event_id_epcis_events"),
        ),
        sa.ForeignKeyConstraint(
            ["original_event_id"],
            ["epcis_events.id"],
            name=op.f("fk_epcis_duplicates_original_event_id_epcis_events"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_epcis_duplicates_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_duplicates")),
    )
    op.create_index(op.f("ix_epcis_duplicates_event_hash"), "epcis_duplicates", ["event_hash"])
    make_append_only(op, "epcis_duplicates")
    op.create_table(
        "epcis_named_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parameters", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_epcis_named_queries_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_named_queries")),
        sa.UniqueConstraint("name", name=op.f("uq_epcis_named_queries_name")),
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
