"""sensors: storage assignments of locations and excursion candidates

Revision ID: 0203_sensors
Revises: 0202_genealogy
Create Date: 2026-11-26 04:28:17.187334
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0203_sensors"
down_revision: str | None = "0202_genealogy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_storage_assignments_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_storage_assignments_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_assignments")),
        sa.UniqueConstraint(
            "location_id", "product_id", name=op.f("uq_storage_assignments_location_id_product_id")
        ),
    )
    op.create_table(
        "excursion_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=False),
        sa.Column("breach", sa.String(length=10), nullable=False),
        sa.Column("limit_min_c", sa.Float(), nullable=True),
        sa.Column("limit_max_c", sa.Float(), nullable=True),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_excursion_candidates_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["sensor_readings.id"],
            name=op.f("fk_excursion_candidates_reading_id_sensor_readings"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_excursion_candidates_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_excursion_candidates_sensor_id_sensors")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_excursion_candidates_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursion_candidates")),
        sa.UniqueConstraint("reading_id", name=op.f("uq_excursion_candidates_reading_id")),
    )
    with op.batch_alter_table("excursion_candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_excursion_candidates_location_time", ["location_id", "measured_at"], unique=False
        )
        batch_op.create_index(
            "ix_excursion_candidates_shipment_time", ["shipment_id", "measured_at"], unique=False
        )
    # A finding about a reading is never edited: the cold-chain module adds its own records.
    make_append_only(op, "excursion_candidates")


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
