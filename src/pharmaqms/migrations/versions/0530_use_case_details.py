"""Use: what a case says about the dose, the route and the patient's weight; the MedDRA
releases the organisation loads (its licensed files, never shipped) and the coding of events.

Its own branch label on the use branch's first revision, beside the signals (0510) and the
periodic reports (0520).

Revision ID: 0530_use_case_details
Revises: 0501_use
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0530_use_case_details"
down_revision: str | None = "0501_use"
branch_labels: str | Sequence[str] | None = ("use_case_details",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("patient_weight_kg", sa.Numeric(precision=6, scale=2), nullable=True)
        )
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dose_value", sa.Numeric(precision=18, scale=6), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dose_unit", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("route", sa.String(length=3), nullable=False, server_default="")
        )

    with op.batch_alter_table("pv_case_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("meddra_pt_code", sa.String(length=8), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("meddra_version", sa.String(length=10), nullable=False, server_default="")
        )
    op.create_table(
        "pv_meddra_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("files", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("llt_count", sa.Integer(), nullable=False),
        sa.Column("pt_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loaded_by_id"], ["users.id"], name=op.f("fk_pv_meddra_releases_loaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_meddra_releases")),
        sa.UniqueConstraint("version", name=op.f("uq_pv_meddra_releases_version")),
    )
    op.create_table(
        "pv_meddra_llts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("llt_code", sa.String(length=8), nullable=False),
        sa.Column("llt_name", sa.String(length=200), nullable=False),
        sa.Column("pt_code", sa.String(length=8), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["pv_meddra_releases.id"],
            name=op.f("fk_pv_meddra_llts_release_id_pv_meddra_releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_meddra_llts")),
        sa.UniqueConstraint(
            "release_id", "llt_code", name=op.f("uq_pv_meddra_llts_release_id_llt_code")
        ),
    )
    make_append_only(op, "pv_meddra_llts")
    op.create_table(
        "pv_meddra_pts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("pt_code", sa.String(length=8), nullable=False),
        sa.Column("pt_name", sa.String(length=200), nullable=False),
        sa.Column("soc_code", sa.String(length=8), nullable=False),
        sa.Column("soc_name", sa.String(length=200), nullable=False),
        sa.Column("soc_abbrev", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["pv_meddra_releases.id"],
            name=op.f("fk_pv_meddra_pts_release_id_pv_meddra_releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_meddra_pts")),
        sa.UniqueConstraint(
            "release_id", "pt_code", name=op.f("uq_pv_meddra_pts_release_id_pt_code")
        ),
    )
    make_append_only(op, "pv_meddra_pts")


def downgrade() -> None:
    op.drop_table("pv_meddra_pts")
    op.drop_table("pv_meddra_llts")
    op.drop_table("pv_meddra_releases")
    with op.batch_alter_table("pv_case_events", schema=None) as batch_op:
        batch_op.drop_column("meddra_version")
        batch_op.drop_column("meddra_pt_code")
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.drop_column("route")
        batch_op.drop_column("dose_unit")
        batch_op.drop_column("dose_value")
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.drop_column("patient_weight_kg")
