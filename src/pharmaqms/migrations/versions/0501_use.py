"""Use (pharmacovigilance): ICSR cases, their products, events and versions, and the reference
safety information per product.

Revision ID: 0501_use
Revises:
Create Date: 2026-12-06 10:07:32.389861
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0501_use"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("use",)
depends_on: str | Sequence[str] | None = ["0001_kernel", "0201_platform", "0123_complaints"]


def upgrade() -> None:
    op.create_table(
        "pv_cases",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_reference", sa.String(length=100), nullable=False),
        sa.Column("report_type", sa.String(length=20), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column(
            "first_received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "latest_received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("day_zero", sa.Date(), nullable=True),
        sa.Column("patient_initials", sa.String(length=20), nullable=False),
        sa.Column("patient_age_years", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("patient_sex", sa.String(length=10), nullable=True),
        sa.Column("reporter_type", sa.String(length=20), nullable=True),
        sa.Column("reporter_country", sa.String(length=2), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=False),
        sa.Column("reporter_contact", sa.Text(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("findings", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("expectedness", sa.String(length=20), nullable=True),
        sa.Column("expectedness_basis", sa.Text(), nullable=False),
        sa.Column("causality", sa.String(length=20), nullable=True),
        sa.Column("causality_reasoning", sa.Text(), nullable=False),
        sa.Column("invalid_reason", sa.Text(), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
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
            ["duplicate_of_id"], ["pv_cases.id"], name=op.f("fk_pv_cases_duplicate_of_id_pv_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pv_cases_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_pv_cases_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_pv_cases_number")),
    )
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pv_cases_source_ref", ["source", "source_reference"], unique=False
        )
        batch_op.create_index("ix_pv_cases_status", ["status"], unique=False)

    op.create_table(
        "pv_reference_safety_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("document_reference", sa.String(length=100), nullable=False),
        sa.Column("expected_terms", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_pv_reference_safety_info_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_reference_safety_info")),
        sa.UniqueConstraint("product", name=op.f("uq_pv_reference_safety_info_product")),
    )
    op.create_table(
        "pv_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("verbatim", sa.String(length=500), nullable=False),
        sa.Column("meddra_code", sa.String(length=8), nullable=False),
        sa.Column("onset", sa.Date(), nullable=True),
        sa.Column("seriousness", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pv_cases.id"], name=op.f("fk_pv_case_events_case_id_pv_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_case_events")),
    )
    with op.batch_alter_table("pv_case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pv_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "pv_case_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("lot_number", sa.String(length=60), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("authorisation_number", sa.String(length=100), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pv_cases.id"], name=op.f("fk_pv_case_products_case_id_pv_cases")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_pv_case_products_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_case_products")),
    )
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pv_case_products_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pv_case_products_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "pv_case_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_reference", sa.String(length=100), nullable=False),
        sa.Column("received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changes", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("snapshot", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("recorded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pv_cases.id"], name=op.f("fk_pv_case_versions_case_id_pv_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_pv_case_versions_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_case_versions")),
        sa.UniqueConstraint(
            "case_id", "case_version", name=op.f("uq_pv_case_versions_case_id_case_version")
        ),
    )
    with op.batch_alter_table("pv_case_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pv_case_versions_case_id"), ["case_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("pv_case_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pv_case_versions_case_id"))

    op.drop_table("pv_case_versions")
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pv_case_products_lot_id"))
        batch_op.drop_index(batch_op.f("ix_pv_case_products_case_id"))

    op.drop_table("pv_case_products")
    with op.batch_alter_table("pv_case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pv_case_events_case_id"))

    op.drop_table("pv_case_events")
    op.drop_table("pv_reference_safety_info")
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_pv_cases_status")
        batch_op.drop_index("ix_pv_cases_source_ref")

    op.drop_table("pv_cases")
