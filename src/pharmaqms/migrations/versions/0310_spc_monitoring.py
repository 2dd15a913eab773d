"""real-time process monitoring (SPC): monitored parameters, control limits, T² groups and
their limits, process alerts

Revision ID: 0310_spc_monitoring
Revises: 0301_production
Create Date: 2026-11-26 05:38:34.006380
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0310_spc_monitoring"
down_revision: str | None = "0301_production"
branch_labels: str | Sequence[str] | None = None
# The alerts name the deviation they were escalated to.
depends_on: str | Sequence[str] | None = ["0120_deviations"]


def upgrade() -> None:
    op.create_table(
        "spc_multivariate_groups",
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("unit_procedure", sa.String(length=80), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("phase", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("parameter_ids", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("alert_roles", sa.String(length=200), nullable=False),
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
            name=op.f("fk_spc_multivariate_groups_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_spc_multivariate_groups_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spc_multivariate_groups")),
        sa.UniqueConstraint("number", name=op.f("uq_spc_multivariate_groups_number")),
    )
    op.create_table(
        "spc_parameters",
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("unit_procedure", sa.String(length=80), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("phase", sa.String(length=80), nullable=False),
        sa.Column("parameter", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=10), nullable=False),
        sa.Column("chart_kind", sa.String(length=10), nullable=False),
        sa.Column("subgroup_size", sa.Integer(), nullable=False),
        sa.Column("rule_set", sa.String(length=20), nullable=False),
        sa.Column("enabled_rules", sa.String(length=40), nullable=False),
        sa.Column("lsl", sa.Float(), nullable=True),
        sa.Column("usl", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("alert_roles", sa.String(length=200), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_spc_parameters_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_spc_parameters_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spc_parameters")),
        sa.UniqueConstraint("number", name=op.f("uq_spc_parameters_number")),
        sa.UniqueConstraint(
            "product_code",
            "unit_procedure",
            "operation",
            "phase",
            "parameter",
            name=op.f("uq_spc_parameters_product_code_unit_procedure_operation_phase_parameter"),
        ),
    )
    with op.batch_alter_table("spc_parameters", schema=None) as batch_op:
        batch_op.create_index("ix_spc_parameters_parameter", ["parameter"], unique=False)

    op.create_table(
        "spc_control_limits",
        sa.Column("parameter_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("chart_kind", sa.String(length=10), nullable=False),
        sa.Column("subgroup_size", sa.Integer(), nullable=False),
        sa.Column("center", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("location_sigma", sa.Float(), nullable=False),
        sa.Column("lcl", sa.Float(), nullable=False),
        sa.Column("ucl", sa.Float(), nullable=False),
        sa.Column("dispersion_center", sa.Float(), nullable=False),
        sa.Column("dispersion_lcl", sa.Float(), nullable=False),
        sa.Column("dispersion_ucl", sa.Float(), nullable=False),
        sa.Column("reference_kind", sa.String(length=10), nullable=False),
        sa.Column("reference_batches", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reference_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference_to", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference_points", sa.Integer(), nullable=False),
        sa.Column("reference_subgroups", sa.Integer(), nullable=False),
        sa.Column("effective_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_spc_control_limits_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parameter_id"],
            ["spc_parameters.id"],
            name=op.f("fk_spc_control_limits_parameter_id_spc_parameters"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_spc_control_limits_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spc_control_limits")),
        sa.UniqueConstraint("number", name=op.f("uq_spc_control_limits_number")),
        sa.UniqueConstraint(
            "parameter_id", "revision", name=op.f("uq_spc_control_limits_parameter_id_revision")
        ),
    )
    with op.batch_alter_table("spc_control_limits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spc_control_limits_parameter_status", ["parameter_id", "status"], unique=False
        )

    op.create_table(
        "spc_multivariate_limits",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("parameters", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("mean", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("covariance", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reference_size", sa.Integer(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("ucl", sa.Float(), nullable=False),
        sa.Column("reference_kind", sa.String(length=10), nullable=False),
        sa.Column("reference_batches", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reference_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference_to", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_from", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_spc_multivariate_limits_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["spc_multivariate_groups.id"],
            name=op.f("fk_spc_multivariate_limits_group_id_spc_multivariate_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_spc_multivariate_limits_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spc_multivariate_limits")),
        sa.UniqueConstraint(
            "group_id", "revision", name=op.f("uq_spc_multivariate_limits_group_id_revision")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_spc_multivariate_limits_number")),
    )
    with op.batch_alter_table("spc_multivariate_limits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spc_multivariate_limits_group_status", ["group_id", "status"], unique=False
        )

    op.create_table(
        "spc_alerts",
        sa.Column("parameter_id", sa.Integer(), nullable=True),
        sa.Column("limits_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("group_limits_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=True),
        sa.Column("measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("rule_set", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=120), nullable=False),
        sa.Column("point_index", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("center", sa.Float(), nullable=True),
        sa.Column("lcl", sa.Float(), nullable=True),
        sa.Column("ucl", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("acknowledgement", sa.Text(), nullable=False),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deviation_id", sa.Integer(), nullable=True),
        sa.Column("escalated_by_id", sa.Integer(), nullable=True),
        sa.Column("escalated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_spc_alerts_acknowledged_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["lots.id"], name=op.f("fk_spc_alerts_batch_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_spc_alerts_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deviation_id"], ["deviations.id"], name=op.f("fk_spc_alerts_deviation_id_deviations")
        ),
        sa.ForeignKeyConstraint(
            ["escalated_by_id"], ["users.id"], name=op.f("fk_spc_alerts_escalated_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["spc_multivariate_groups.id"],
            name=op.f("fk_spc_alerts_group_id_spc_multivariate_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["group_limits_id"],
            ["spc_multivariate_limits.id"],
            name=op.f("fk_spc_alerts_group_limits_id_spc_multivariate_limits"),
        ),
        sa.ForeignKeyConstraint(
            ["limits_id"],
            ["spc_control_limits.id"],
            name=op.f("fk_spc_alerts_limits_id_spc_control_limits"),
        ),
        sa.ForeignKeyConstraint(
            ["parameter_id"],
            ["spc_parameters.id"],
            name=op.f("fk_spc_alerts_parameter_id_spc_parameters"),
        ),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["process_readings.id"],
            name=op.f("fk_spc_alerts_reading_id_process_readings"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_spc_alerts_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spc_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_spc_alerts_dedupe_key")),
        sa.UniqueConstraint("number", name=op.f("uq_spc_alerts_number")),
    )
    with op.batch_alter_table("spc_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spc_alerts_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_spc_alerts_group", ["group_id", "id"], unique=False)
        batch_op.create_index("ix_spc_alerts_parameter", ["parameter_id", "id"], unique=False)
        batch_op.create_index("ix_spc_alerts_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spc_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_spc_alerts_status")
        batch_op.drop_index("ix_spc_alerts_parameter")
        batch_op.drop_index("ix_spc_alerts_group")
        batch_op.drop_index(batch_op.f("ix_spc_alerts_batch_id"))

    op.drop_table("spc_alerts")
    with op.batch_alter_table("spc_multivariate_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_spc_multivariate_limits_group_status")

    op.drop_table("spc_multivariate_limits")
    with op.batch_alter_table("spc_control_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_spc_control_limits_parameter_status")

    op.drop_table("spc_control_limits")
    with op.batch_alter_table("spc_parameters", schema=None) as batch_op:
        batch_op.drop_index("ix_spc_parameters_parameter")

    op.drop_table("spc_parameters")
    op.drop_table("spc_multivariate_groups")
