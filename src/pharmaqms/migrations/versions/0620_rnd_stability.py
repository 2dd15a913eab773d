"""R&D: stability studies (ICH Q1A(R2)/Q1E). Studies with their protocol, scheduled pulls, and
the append-only results and quarantine of results that don't fit the protocol.

Revision ID: 0620_rnd_stability
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0620_rnd_stability"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rnd_stability",)
depends_on: str | Sequence[str] | None = ["0601_rnd", "0001_kernel", "0201_platform"]


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stability_studies",
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("conditions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("attributes", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("batches", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("retired_at", nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_stability_studies_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_stability_studies_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stability_studies")),
        sa.UniqueConstraint("number", name=op.f("uq_stability_studies_number")),
    )
    op.create_index(
        op.f("ix_stability_studies_product_code"),
        "stability_studies",
        ["product_code"],
        unique=False,
    )
    op.create_table(
        "stability_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("months", sa.Float(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _utc("pulled_at", nullable=True),
        sa.Column("pulled_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pulled_by_id"], ["users.id"], name=op.f("fk_stability_pulls_pulled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["stability_studies.id"],
            name=op.f("fk_stability_pulls_study_id_stability_studies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stability_pulls")),
        sa.UniqueConstraint(
            "study_id",
            "condition",
            "months",
            name=op.f("uq_stability_pulls_study_id_condition_months"),
        ),
    )
    op.create_index(
        op.f("ix_stability_pulls_study_id"), "stability_pulls", ["study_id"], unique=False
    )
    op.create_table(
        "stability_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=40), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("oos", sa.Boolean(), nullable=False),
        sa.Column("oot_reason", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("test_result_id", sa.Integer(), nullable=True),
        _utc("recorded_at"),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pull_id"],
            ["stability_pulls.id"],
            name=op.f("fk_stability_results_pull_id_stability_pulls"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_stability_results_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["stability_studies.id"],
            name=op.f("fk_stability_results_study_id_stability_studies"),
        ),
        sa.ForeignKeyConstraint(
            ["test_result_id"],
            ["test_results.id"],
            name=op.f("fk_stability_results_test_result_id_test_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stability_results")),
        sa.UniqueConstraint("test_result_id", name=op.f("uq_stability_results_test_result_id")),
    )
    op.create_index(
        op.f("ix_stability_results_study_id"), "stability_results", ["study_id"], unique=False
    )
    op.create_table(
        "stability_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("received", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("test_result_id", sa.Integer(), nullable=True),
        _utc("received_at"),
        sa.Column("received_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["received_by_id"],
            ["users.id"],
            name=op.f("fk_stability_quarantine_received_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["stability_studies.id"],
            name=op.f("fk_stability_quarantine_study_id_stability_studies"),
        ),
        sa.ForeignKeyConstraint(
            ["test_result_id"],
            ["test_results.id"],
            name=op.f("fk_stability_quarantine_test_result_id_test_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stability_quarantine")),
        sa.UniqueConstraint("test_result_id", name=op.f("uq_stability_quarantine_test_result_id")),
    )
    op.create_index(
        op.f("ix_stability_quarantine_study_id"),
        "stability_quarantine",
        ["study_id"],
        unique=False,
    )
    make_append_only(op, "stability_results")
    make_append_only(op, "stability_quarantine")


def downgrade() -> None:
    raise RuntimeError("GxP records are never dropped")
