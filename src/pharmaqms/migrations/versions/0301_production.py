"""production quality: materials and suppliers, QC testing and OOS, nonconforming product

Revision ID: 0301_production
Revises:
Create Date: 2026-11-26 04:37:12.504353
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0301_production"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("production",)
depends_on: str | Sequence[str] | None = ["0001_kernel", "0201_platform"]


def upgrade() -> None:
    op.create_table(
        "supplier_certificate_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_certificate_files")),
    )
    with op.batch_alter_table("supplier_certificate_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_certificate_files_sha256"), ["sha256"], unique=False
        )

    op.create_table(
        "qc_specifications",
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("market", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=False),
        sa.Column("approved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_qc_specifications_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_qc_specifications_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_qc_specifications_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_qc_specifications_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_specifications")),
        sa.UniqueConstraint(
            "family", "revision", name=op.f("uq_qc_specifications_family_revision")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_qc_specifications_number")),
    )
    with op.batch_alter_table("qc_specifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qc_specifications_family"), ["family"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_qc_specifications_item_code"), ["item_code"], unique=False
        )

    op.create_table(
        "supplier_approvals",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_site", sa.String(length=200), nullable=False),
        sa.Column("last_audit_on", sa.Date(), nullable=True),
        sa.Column("audit_outcome", sa.Text(), nullable=False),
        sa.Column("next_audit_due_on", sa.Date(), nullable=True),
        sa.Column("qualified_until", sa.Date(), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_supplier_approvals_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_supplier_approvals_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_approvals_supplier_id_suppliers"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_supplier_approvals_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_approvals")),
        sa.UniqueConstraint(
            "material_id", "supplier_id", name=op.f("uq_supplier_approvals_material_id_supplier_id")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_supplier_approvals_number")),
    )
    op.create_table(
        "certificates_of_analysis",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("specification_id", sa.Integer(), nullable=False),
        sa.Column("result_ids", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reported", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("approved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_certificates_of_analysis_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_certificates_of_analysis_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["specification_id"],
            ["qc_specifications.id"],
            name=op.f("fk_certificates_of_analysis_specification_id_qc_specifications"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_certificates_of_analysis_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_of_analysis")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_of_analysis_number")),
    )
    with op.batch_alter_table("certificates_of_analysis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_of_analysis_lot_id"), ["lot_id"], unique=False
        )

    op.create_table(
        "material_use_overrides",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("reason_codes", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reasons", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("batch_reference", sa.String(length=60), nullable=False),
        sa.Column("valid_until", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_material_use_overrides_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_material_use_overrides_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_material_use_overrides_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_use_overrides")),
        sa.UniqueConstraint("number", name=op.f("uq_material_use_overrides_number")),
    )
    with op.batch_alter_table("material_use_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_material_use_overrides_lot_status", ["lot_id", "status"], unique=False
        )

    op.create_table(
        "nonconforming_products",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lot_status_before_hold", sa.String(length=20), nullable=False),
        sa.Column("disposition", sa.String(length=30), nullable=True),
        sa.Column("disposition_rationale", sa.Text(), nullable=False),
        sa.Column("concession_terms", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("execution_record", sa.Text(), nullable=False),
        sa.Column("closed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_nonconforming_products_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_nonconforming_products_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_nonconforming_products_proposed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_nonconforming_products_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nonconforming_products")),
        sa.UniqueConstraint("number", name=op.f("uq_nonconforming_products_number")),
    )
    with op.batch_alter_table("nonconforming_products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nonconforming_products_lot_status", ["lot_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_nonconforming_products_source", ["source_type", "source_id"], unique=False
        )

    op.create_table(
        "qc_specification_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("specification_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=60), nullable=False),
        sa.Column("test_name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("lower_limit", sa.Float(), nullable=True),
        sa.Column("upper_limit", sa.Float(), nullable=True),
        sa.Column("decimals", sa.Integer(), nullable=True),
        sa.Column("allowed_values", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("trend_rule", sa.String(length=20), nullable=False),
        sa.Column("trend_window", sa.Integer(), nullable=False),
        sa.Column("trend_k", sa.Float(), nullable=False),
        sa.Column("trend_run_length", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specification_id"],
            ["qc_specifications.id"],
            name=op.f("fk_qc_specification_tests_specification_id_qc_specifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_specification_tests")),
        sa.UniqueConstraint(
            "specification_id",
            "test_code",
            name=op.f("uq_qc_specification_tests_specification_id_test_code"),
        ),
    )
    op.create_table(
        "supplier_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("certificate_number", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("values", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["supplier_certificate_files.id"],
            name=op.f("fk_supplier_certificates_file_id_supplier_certificate_files"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_supplier_certificates_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"],
            ["users.id"],
            name=op.f("fk_supplier_certificates_received_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_certificates_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_certificates")),
    )
    with op.batch_alter_table("supplier_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_certificates_lot_id"), ["lot_id"], unique=False
        )

    op.create_table(
        "qc_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("sample_id", sa.String(length=60), nullable=False),
        sa.Column("test_code", sa.String(length=60), nullable=False),
        sa.Column("test_name", sa.String(length=200), nullable=False),
        sa.Column("replicate", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text_value", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("tested_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("analyst", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("test_result_id", sa.Integer(), nullable=True),
        sa.Column("retest_of_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("evaluations", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("evaluation_note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("invalidated_reason", sa.Text(), nullable=False),
        sa.Column("invalidated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trend_status", sa.String(length=20), nullable=False),
        sa.Column("trend_findings", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("trend_assessment", sa.Text(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_qc_results_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_qc_results_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["retest_of_id"], ["qc_results.id"], name=op.f("fk_qc_results_retest_of_id_qc_results")
        ),
        sa.ForeignKeyConstraint(
            ["test_result_id"],
            ["test_results.id"],
            name=op.f("fk_qc_results_test_result_id_test_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_results")),
        sa.UniqueConstraint("test_result_id", name=op.f("uq_qc_results_test_result_id")),
    )
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.create_index("ix_qc_results_lot_test", ["lot_id", "test_code"], unique=False)

    op.create_table(
        "oos_investigations",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lot_status_before_hold", sa.String(length=20), nullable=False),
        sa.Column("phase1_findings", sa.Text(), nullable=False),
        sa.Column("phase1_checklist", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("assignable_cause", sa.Boolean(), nullable=True),
        sa.Column("lab_error_evidence", sa.Text(), nullable=False),
        sa.Column("phase2_manufacturing_review", sa.Text(), nullable=False),
        sa.Column("retest_protocol", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.String(length=20), nullable=True),
        sa.Column("conclusion_rationale", sa.Text(), nullable=False),
        sa.Column("concluded_by_id", sa.Integer(), nullable=True),
        sa.Column("impact_on_other_lots", sa.Text(), nullable=False),
        sa.Column("closed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nonconformance_id", sa.Integer(), nullable=True),
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
            ["concluded_by_id"],
            ["users.id"],
            name=op.f("fk_oos_investigations_concluded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_oos_investigations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_oos_investigations_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["nonconformance_id"],
            ["nonconforming_products.id"],
            name=op.f("fk_oos_investigations_nonconformance_id_nonconforming_products"),
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["qc_results.id"],
            name=op.f("fk_oos_investigations_result_id_qc_results"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_oos_investigations_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oos_investigations")),
        sa.UniqueConstraint("number", name=op.f("uq_oos_investigations_number")),
    )
    with op.batch_alter_table("oos_investigations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oos_investigations_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oos_investigations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oos_investigations_lot_id"))

    op.drop_table("oos_investigations")
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.drop_index("ix_qc_results_lot_test")

    op.drop_table("qc_results")
    with op.batch_alter_table("supplier_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_certificates_lot_id"))

    op.drop_table("supplier_certificates")
    op.drop_table("qc_specification_tests")
    with op.batch_alter_table("nonconforming_products", schema=None) as batch_op:
        batch_op.drop_index("ix_nonconforming_products_source")
        batch_op.drop_index("ix_nonconforming_products_lot_status")

    op.drop_table("nonconforming_products")
    with op.batch_alter_table("material_use_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_material_use_overrides_lot_status")

    op.drop_table("material_use_overrides")
    with op.batch_alter_table("certificates_of_analysis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_of_analysis_lot_id"))

    op.drop_table("certificates_of_analysis")
    op.drop_table("supplier_approvals")
    with op.batch_alter_table("qc_specifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qc_specifications_item_code"))
        batch_op.drop_index(batch_op.f("ix_qc_specifications_family"))

    op.drop_table("qc_specifications")
    with op.batch_alter_table("supplier_certificate_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_certificate_files_sha256"))

    op.drop_table("supplier_certificate_files")
