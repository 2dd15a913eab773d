"""Use (pharmacovigilance): signal management — the signal record, the cases that are its
evidence, and the actions taken on it.

Revision ID: 0510_use_signals
Revises: 0501_use (on the use branch)
Create Date: 2026-12-06 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0510_use_signals"
down_revision: str | None = "0501_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pv_signals",
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("event_key", sa.String(length=500), nullable=False),
        sa.Column("event_term", sa.String(length=500), nullable=False),
        sa.Column("meddra_code", sa.String(length=8), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("lot_number", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("detected_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detection_basis", sa.Text(), nullable=False),
        sa.Column("table_a", sa.Integer(), nullable=True),
        sa.Column("table_b", sa.Integer(), nullable=True),
        sa.Column("table_c", sa.Integer(), nullable=True),
        sa.Column("table_d", sa.Integer(), nullable=True),
        sa.Column("figures", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("latest_figures", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("refreshed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("validation_due", sa.Date(), nullable=False),
        sa.Column("refutation_reason", sa.Text(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.String(length=20), nullable=True),
        sa.Column("risk", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_pv_signals_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pv_signals_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_pv_signals_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_signals")),
        sa.UniqueConstraint("number", name=op.f("uq_pv_signals_number")),
    )
    with op.batch_alter_table("pv_signals", schema=None) as batch_op:
        batch_op.create_index("ix_pv_signals_pair", ["product", "event_key"], unique=False)
        batch_op.create_index("ix_pv_signals_status", ["status"], unique=False)

    op.create_table(
        "pv_signal_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("added_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["pv_signals.id"], name=op.f("fk_pv_signal_cases_signal_id_pv_signals")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pv_cases.id"], name=op.f("fk_pv_signal_cases_case_id_pv_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_signal_cases")),
        sa.UniqueConstraint(
            "signal_id", "case_id", name=op.f("uq_pv_signal_cases_signal_id_case_id")
        ),
    )
    with op.batch_alter_table("pv_signal_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pv_signal_cases_signal_id"), ["signal_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pv_signal_cases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "pv_signal_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("record_number", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["pv_signals.id"],
            name=op.f("fk_pv_signal_actions_signal_id_pv_signals"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_pv_signal_actions_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_signal_actions")),
    )
    with op.batch_alter_table("pv_signal_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pv_signal_actions_signal_id"), ["signal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pv_signal_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pv_signal_actions_signal_id"))
    op.drop_table("pv_signal_actions")
    with op.batch_alter_table("pv_signal_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pv_signal_cases_case_id"))
        batch_op.drop_index(batch_op.f("ix_pv_signal_cases_signal_id"))
    op.drop_table("pv_signal_cases")
    with op.batch_alter_table("pv_signals", schema=None) as batch_op:
        batch_op.drop_index("ix_pv_signals_status")
        batch_op.drop_index("ix_pv_signals_pair")
    op.drop_table("pv_signals")
