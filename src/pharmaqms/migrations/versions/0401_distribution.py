"""distribution: cold-chain alarm profiles, alarms, excursions, stability budgets, assessments

Revision ID: 0401_distribution
Revises:
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0401_distribution"  # at most 32 characters (alembic_version)
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("distribution",)
depends_on: str | Sequence[str] | None = ["0001_kernel", "0203_sensors", "0120_deviations"]


def upgrade() -> None:
    op.create_table(
        "coldchain_stability_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("low_c", sa.Float(), nullable=True),
        sa.Column("high_c", sa.Float(), nullable=True),
        sa.Column("allowed_h", sa.Float(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("entered_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_stability_bands_entered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_coldchain_stability_bands_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_stability_bands")),
    )
    with op.batch_alter_table("coldchain_stability_bands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coldchain_stability_bands_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "coldchain_alarm_profiles",
        sa.Column("place_key", sa.String(length=40), nullable=False),
        sa.Column("place_code", sa.String(length=60), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=40), nullable=False),
        sa.Column("low_c", sa.Float(), nullable=True),
        sa.Column("high_c", sa.Float(), nullable=True),
        sa.Column("pre_low_c", sa.Float(), nullable=True),
        sa.Column("pre_high_c", sa.Float(), nullable=True),
        sa.Column("pre_delay_min", sa.Float(), nullable=False),
        sa.Column("alarm_low_c", sa.Float(), nullable=True),
        sa.Column("alarm_high_c", sa.Float(), nullable=True),
        sa.Column("alarm_delay_min", sa.Float(), nullable=False),
        sa.Column("interval_min", sa.Float(), nullable=False),
        sa.Column("silent_intervals", sa.Integer(), nullable=False),
        sa.Column("acknowledge_within_min", sa.Float(), nullable=False),
        sa.Column("responder_role", sa.String(length=60), nullable=False),
        sa.Column("escalation_role", sa.String(length=60), nullable=False),
        sa.Column("effective_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_alarm_profiles_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_coldchain_alarm_profiles_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_coldchain_alarm_profiles_shipment_id_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_alarm_profiles_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_alarm_profiles")),
        sa.UniqueConstraint("number", name=op.f("uq_coldchain_alarm_profiles_number")),
        sa.UniqueConstraint(
            "place_key", "revision", name=op.f("uq_coldchain_alarm_profiles_place_key_revision")
        ),
    )
    with op.batch_alter_table("coldchain_alarm_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coldchain_alarm_profiles_place_key"), ["place_key"], unique=False
        )

    op.create_table(
        "coldchain_excursions",
        sa.Column("place_key", sa.String(length=40), nullable=False),
        sa.Column("place_code", sa.String(length=60), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("profile_revision", sa.Integer(), nullable=False),
        sa.Column("low_c", sa.Float(), nullable=True),
        sa.Column("high_c", sa.Float(), nullable=True),
        sa.Column("started_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_min", sa.Float(), nullable=False),
        sa.Column("min_c", sa.Float(), nullable=False),
        sa.Column("max_c", sa.Float(), nullable=False),
        sa.Column("degree_minutes", sa.Float(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("gap_before", sa.Boolean(), nullable=False),
        sa.Column("gap_after", sa.Boolean(), nullable=False),
        sa.Column("mkt_c", sa.Float(), nullable=True),
        sa.Column("mkt_hours", sa.Float(), nullable=True),
        sa.Column("unknown_minutes", sa.Float(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_excursions_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_coldchain_excursions_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["coldchain_alarm_profiles.id"],
            name=op.f("fk_coldchain_excursions_profile_id_coldchain_alarm_profiles"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_coldchain_excursions_sensor_id_sensors")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_coldchain_excursions_shipment_id_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_excursions_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_excursions")),
        sa.UniqueConstraint("number", name=op.f("uq_coldchain_excursions_number")),
    )
    with op.batch_alter_table("coldchain_excursions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coldchain_excursions_place", ["place_key", "started_at"], unique=False
        )

    op.create_table(
        "coldchain_sensor_watch",
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column(
            "last_measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_reading_id", sa.Integer(), nullable=False),
        sa.Column("pre_since", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pre_since_reading_id", sa.Integer(), nullable=True),
        sa.Column("alarm_since", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alarm_since_reading_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_coldchain_sensor_watch_sensor_id_sensors")
        ),
        sa.PrimaryKeyConstraint("sensor_id", name=op.f("pk_coldchain_sensor_watch")),
    )
    op.create_table(
        "coldchain_alarms",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("place_key", sa.String(length=40), nullable=False),
        sa.Column("place_code", sa.String(length=60), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("profile_revision", sa.Integer(), nullable=True),
        sa.Column("limit_low_c", sa.Float(), nullable=True),
        sa.Column("limit_high_c", sa.Float(), nullable=True),
        sa.Column("delay_min", sa.Float(), nullable=True),
        sa.Column("breach", sa.String(length=10), nullable=True),
        sa.Column("started_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("triggered_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reading_id", sa.Integer(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "acknowledge_due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("acknowledgement", sa.Text(), nullable=False),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("assessed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closure", sa.Text(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_to", sa.String(length=60), nullable=True),
        sa.Column("excursion_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_alarms_acknowledged_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_coldchain_alarms_assessed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_coldchain_alarms_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_coldchain_alarms_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["coldchain_excursions.id"],
            name=op.f("fk_coldchain_alarms_excursion_id_coldchain_excursions"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_coldchain_alarms_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["coldchain_alarm_profiles.id"],
            name=op.f("fk_coldchain_alarms_profile_id_coldchain_alarm_profiles"),
        ),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["sensor_readings.id"],
            name=op.f("fk_coldchain_alarms_reading_id_sensor_readings"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_coldchain_alarms_sensor_id_sensors")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_coldchain_alarms_shipment_id_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_coldchain_alarms_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_alarms")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_coldchain_alarms_dedupe_key")),
        sa.UniqueConstraint("number", name=op.f("uq_coldchain_alarms_number")),
    )
    with op.batch_alter_table("coldchain_alarms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coldchain_alarms_place", ["place_key", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_coldchain_alarms_sensor_kind", ["sensor_id", "kind", "ended_at"], unique=False
        )
        batch_op.create_index("ix_coldchain_alarms_status", ["status"], unique=False)

    op.create_table(
        "coldchain_excursion_assessments",
        sa.Column("excursion_id", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("budget", sa.Text(), nullable=False),
        sa.Column("budget_exceeded", sa.Boolean(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_excursion_assessments_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviations.id"],
            name=op.f("fk_coldchain_excursion_assessments_deviation_id_deviations"),
        ),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["coldchain_excursions.id"],
            name=op.f("fk_coldchain_excursion_assessments_excursion_id_coldchain_excursions"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_coldchain_excursion_assessments_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_excursion_assessments")),
        sa.UniqueConstraint(
            "excursion_id", name=op.f("uq_coldchain_excursion_assessments_excursion_id")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_coldchain_excursion_assessments_number")),
    )
    op.create_table(
        "coldchain_excursion_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("excursion_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("added_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["excursion_id"],
            ["coldchain_excursions.id"],
            name=op.f("fk_coldchain_excursion_lots_excursion_id_coldchain_excursions"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_coldchain_excursion_lots_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coldchain_excursion_lots")),
        sa.UniqueConstraint(
            "excursion_id", "lot_id", name=op.f("uq_coldchain_excursion_lots_excursion_id_lot_id")
        ),
    )
    with op.batch_alter_table("coldchain_excursion_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coldchain_excursion_lots_lot_id"), ["lot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("coldchain_excursion_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coldchain_excursion_lots_lot_id"))

    op.drop_table("coldchain_excursion_lots")
    op.drop_table("coldchain_excursion_assessments")
    with op.batch_alter_table("coldchain_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_coldchain_alarms_status")
        batch_op.drop_index("ix_coldchain_alarms_sensor_kind")
        batch_op.drop_index("ix_coldchain_alarms_place")

    op.drop_table("coldchain_alarms")
    op.drop_table("coldchain_sensor_watch")
    with op.batch_alter_table("coldchain_excursions", schema=None) as batch_op:
        batch_op.drop_index("ix_coldchain_excursions_place")

    op.drop_table("coldchain_excursions")
    with op.batch_alter_table("coldchain_alarm_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coldchain_alarm_profiles_place_key"))

    op.drop_table("coldchain_alarm_profiles")
    with op.batch_alter_table("coldchain_stability_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coldchain_stability_bands_product_id"))

    op.drop_table("coldchain_stability_bands")
