"""platform: sensors' reading numbers (sensor_readings.seq), where each sensor's numbering
stands (sensor_sequences) and the gaps found in it (sensor_sequence_gaps)

Revision ID: 0212_platform_harden
Revises: 0211_platform_sealed
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0212_platform_harden"  # at most 32 characters (alembic_version)
down_revision: str | None = "0211_platform_sealed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable and added at the end: the append-only triggers stay as they are.
    op.add_column("sensor_readings", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.create_table(
        "sensor_sequences",
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "last_measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("out_of_order", sa.Integer(), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_sensor_sequences_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("sensor_id", name=op.f("pk_sensor_sequences")),
    )
    op.create_table(
        "sensor_sequence_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("first_missing", sa.BigInteger(), nullable=False),
        sa.Column("last_missing", sa.BigInteger(), nullable=False),
        sa.Column(
            "after_measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "before_measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("detected_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reported_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finding", sa.String(length=60), nullable=True),
        sa.Column("late_arrivals", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_sensor_sequence_gaps_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_sensor_sequence_gaps_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_sequence_gaps")),
    )
    op.create_index(
        "ix_sensor_sequence_gaps_sensor_status",
        "sensor_sequence_gaps",
        ["sensor_id", "status"],
        unique=False,
    )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
