"""platform: scanned GS1 barcodes (gs1_scans); import_runs.entity widened to 120

Revision ID: 0210_gs1_scans
Revises: 0203_sensors
Create Date: 2026-11-26 04:31:45.507921
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0210_gs1_scans"
down_revision: str | None = "0203_sensors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gs1_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("hri", sa.String(length=600), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("symbology", sa.String(length=3), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot_number", sa.String(length=20), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("serial", sa.String(length=20), nullable=True),
        sa.Column("sscc", sa.String(length=18), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("pack_id", sa.Integer(), nullable=True),
        sa.Column("scanned_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_gs1_scans_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["serialised_packs.id"], name=op.f("fk_gs1_scans_pack_id_serialised_packs")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_gs1_scans_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_gs1_scans_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["data_sources.id"], name=op.f("fk_gs1_scans_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gs1_scans")),
        sa.UniqueConstraint("source_id", "hri", name=op.f("uq_gs1_scans_source_id_hri")),
    )
    with op.batch_alter_table("gs1_scans", schema=None) as batch_op:
        batch_op.create_index("ix_gs1_scans_gtin_lot", ["gtin", "lot_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_gs1_scans_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gs1_scans_sscc"), ["sscc"], unique=False)
    _widen_run_entity(120)


def _widen_run_entity(length: int) -> None:
    # A connector with several entities names them all ("batch,material_consumption,
    # process_reading"). Only PostgreSQL enforces a VARCHAR length; on SQLite the change would
    # mean rebuilding a table other tables refer to, for a declaration SQLite ignores.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "import_runs", "entity", type_=sa.String(length=length), existing_nullable=False
        )


def downgrade() -> None:
    _widen_run_entity(40)
    with op.batch_alter_table("gs1_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gs1_scans_sscc"))
        batch_op.drop_index(batch_op.f("ix_gs1_scans_lot_id"))
        batch_op.drop_index("ix_gs1_scans_gtin_lot")

    op.drop_table("gs1_scans")
