"""data platform

Revision ID: 0201_platform
Revises:
Create Date: 2026-11-26 04:19:42.860756
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0201_platform"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("platform",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "data_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mapping", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_sources")),
        sa.UniqueConstraint("code", name=op.f("uq_data_sources_code")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("epc_uri", sa.String(length=120), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_locations_code")),
        sa.UniqueConstraint("epc_uri", name=op.f("uq_locations_epc_uri")),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("code", name=op.f("uq_materials_code")),
        sa.UniqueConstraint("gtin", name=op.f("uq_materials_gtin")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dosage_form", sa.String(length=60), nullable=False),
        sa.Column("strength", sa.String(length=60), nullable=False),
        sa.Column("storage_min_c", sa.Float(), nullable=True),
        sa.Column("storage_max_c", sa.Float(), nullable=True),
        sa.Column("shelf_life_months", sa.Integer(), nullable=False),
        sa.Column("marketing_authorisation", sa.String(length=60), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
        sa.UniqueConstraint("gtin", name=op.f("uq_products_gtin")),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "import_runs",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_corrected", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("refused_reason", sa.Text(), nullable=True),
        sa.Column("fields_expected", sa.Integer(), nullable=False),
        sa.Column("fields_present", sa.Integer(), nullable=False),
        sa.Column("delay_p50_seconds", sa.Double(), nullable=True),
        sa.Column("max_delay_seconds", sa.Double(), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_import_runs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["data_sources.id"], name=op.f("fk_import_runs_source_id_data_sources")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_import_runs_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
        sa.UniqueConstraint("number", name=op.f("uq_import_runs_number")),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("supplier_lot", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("manufactured_on", sa.Date(), nullable=True),
        sa.Column(
            "manufacturing_ended_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_lots_material_id_materials")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_lots_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["locations.id"], name=op.f("fk_lots_site_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_lots_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint(
            "kind", "item_code", "lot_number", name=op.f("uq_lots_kind_item_code_lot_number")
        ),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index("ix_lots_lot_number", ["lot_number"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=True),
        sa.Column("origin_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=False),
        sa.Column("shipped_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("required_min_c", sa.Float(), nullable=True),
        sa.Column("required_max_c", sa.Float(), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["locations.id"], name=op.f("fk_shipments_destination_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["origin_id"], ["locations.id"], name=op.f("fk_shipments_origin_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("code", name=op.f("uq_shipments_code")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_sscc"), ["sscc"], unique=False)

    op.create_table(
        "adverse_event_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("safety_report_id", sa.String(length=60), nullable=False),
        sa.Column("report_version", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("seriousness", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("reactions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("drugs", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("document", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_adverse_event_reports_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["data_sources.id"],
            name=op.f("fk_adverse_event_reports_source_id_data_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event_reports")),
        sa.UniqueConstraint(
            "source_id",
            "safety_report_id",
            "report_version",
            name=op.f("uq_adverse_event_reports_source_id_safety_report_id_report_version"),
        ),
    )
    op.create_table(
        "data_lineage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        sa.Column("corrected", sa.Text(), nullable=True),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_data_lineage_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_lineage")),
    )
    with op.batch_alter_table("data_lineage", schema=None) as batch_op:
        batch_op.create_index("ix_data_lineage_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_lineage_run_id"), ["run_id"], unique=False)

    op.create_table(
        "epcis_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("event_time", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("time_zone_offset", sa.String(length=6), nullable=False),
        sa.Column("record_time", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("biz_step", sa.String(length=60), nullable=True),
        sa.Column("disposition", sa.String(length=60), nullable=True),
        sa.Column("read_point", sa.String(length=200), nullable=True),
        sa.Column("biz_location", sa.String(length=200), nullable=True),
        sa.Column("parent_id", sa.String(length=200), nullable=True),
        sa.Column("transformation_id", sa.String(length=200), nullable=True),
        sa.Column("lot_number", sa.String(length=40), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("error_declared", sa.Boolean(), nullable=False),
        sa.Column("document", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_epcis_events_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_epcis_events_event_id")),
    )
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_events_biz_location"), ["biz_location"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_epcis_events_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_epcis_events_time", ["event_time"], unique=False)

    op.create_table(
        "inventory_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=True),
        sa.Column("to_location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("moved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["locations.id"],
            name=op.f("fk_inventory_movements_from_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_inventory_movements_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_inventory_movements_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_inventory_movements_shipment_id_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["locations.id"],
            name=op.f("fk_inventory_movements_to_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movements")),
        sa.UniqueConstraint(
            "reference", "lot_id", name=op.f("uq_inventory_movements_reference_lot_id")
        ),
    )
    with op.batch_alter_table("inventory_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inventory_movements_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "material_consumptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("material_lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=120), nullable=False),
        sa.Column("consumed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["lots.id"], name=op.f("fk_material_consumptions_batch_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["material_lot_id"],
            ["lots.id"],
            name=op.f("fk_material_consumptions_material_lot_id_lots"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_material_consumptions_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_material_consumptions_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_consumptions")),
    )
    with op.batch_alter_table("material_consumptions", schema=None) as batch_op:
        batch_op.create_index("ix_material_consumptions_batch", ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_material_consumptions_material_lot", ["material_lot_id"], unique=False
        )

    op.create_table(
        "process_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("unit_procedure", sa.String(length=80), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("phase", sa.String(length=80), nullable=False),
        sa.Column("equipment", sa.String(length=80), nullable=False),
        sa.Column("parameter", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("original_offset", sa.String(length=6), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["lots.id"], name=op.f("fk_process_readings_batch_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_process_readings_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_readings")),
        sa.UniqueConstraint(
            "batch_id",
            "parameter",
            "unit_procedure",
            "operation",
            "phase",
            "measured_at",
            name=op.f(
                "uq_process_readings_batch_id_parameter_unit_procedure_operation_phase_measured_at"
            ),
        ),
    )
    with op.batch_alter_table("process_readings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_readings_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            "ix_process_readings_parameter_time", ["parameter", "measured_at"], unique=False
        )

    op.create_table(
        "quarantined_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=False),
        sa.Column("raw", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reasons", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("corrected", pharmaqms.kernel.db.JSONText(), nullable=True),
        sa.Column("resolved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("replay_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["replay_run_id"],
            ["import_runs.id"],
            name=op.f("fk_quarantined_rows_replay_run_id_import_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_quarantined_rows_resolved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_quarantined_rows_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["data_sources.id"],
            name=op.f("fk_quarantined_rows_source_id_data_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_rows")),
    )
    with op.batch_alter_table("quarantined_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantined_rows_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            "ix_quarantined_rows_source_status", ["source_id", "status"], unique=False
        )

    op.create_table(
        "sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("site", sa.String(length=60), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("calibrated_on", sa.Date(), nullable=True),
        sa.Column("calibration_due_on", sa.Date(), nullable=True),
        sa.Column("certificate", sa.String(length=120), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_sensors_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_sensors_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors")),
        sa.UniqueConstraint("code", name=op.f("uq_sensors_code")),
    )
    op.create_table(
        "test_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.String(length=60), nullable=False),
        sa.Column("test_code", sa.String(length=60), nullable=False),
        sa.Column("test_name", sa.String(length=200), nullable=False),
        sa.Column("replicate", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text_value", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("spec_min", sa.Float(), nullable=True),
        sa.Column("spec_max", sa.Float(), nullable=True),
        sa.Column("spec_text", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("analyst", sa.String(length=100), nullable=False),
        sa.Column("tested_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("original_offset", sa.String(length=6), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_test_results_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_test_results_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["data_sources.id"], name=op.f("fk_test_results_source_id_data_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_results")),
        sa.UniqueConstraint(
            "source_id",
            "sample_id",
            "test_code",
            "replicate",
            name=op.f("uq_test_results_source_id_sample_id_test_code_replicate"),
        ),
    )
    with op.batch_alter_table("test_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_test_results_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "adverse_event_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("medicinal_product", sa.String(length=200), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_adverse_event_lots_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["adverse_event_reports.id"],
            name=op.f("fk_adverse_event_lots_report_id_adverse_event_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event_lots")),
        sa.UniqueConstraint(
            "report_id",
            "lot_number",
            "medicinal_product",
            name=op.f("uq_adverse_event_lots_report_id_lot_number_medicinal_product"),
        ),
    )
    with op.batch_alter_table("adverse_event_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adverse_event_lots_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_adverse_event_lots_lot_number"), ["lot_number"], unique=False
        )

    op.create_table(
        "epcis_event_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("epc", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["epcis_events.id"],
            name=op.f("fk_epcis_event_objects_event_id_epcis_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_event_objects")),
    )
    with op.batch_alter_table("epcis_event_objects", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_objects_epc", ["epc", "event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_epcis_event_objects_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "sensor_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("original_offset", sa.String(length=6), nullable=True),
        sa.Column("received_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("humidity_pct", sa.Float(), nullable=True),
        sa.Column("calibration_valid", sa.Boolean(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_sensor_readings_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_sensor_readings_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensors.id"], name=op.f("fk_sensor_readings_sensor_id_sensors")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_sensor_readings_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_readings")),
        sa.UniqueConstraint(
            "sensor_id", "measured_at", name=op.f("uq_sensor_readings_sensor_id_measured_at")
        ),
    )
    op.create_table(
        "serialised_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epc", sa.String(length=120), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("lot_number", sa.String(length=40), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column(
            "commissioned_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["epcis_events.id"],
            name=op.f("fk_serialised_packs_event_id_epcis_events"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_serialised_packs_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serialised_packs")),
        sa.UniqueConstraint("epc", name=op.f("uq_serialised_packs_epc")),
        sa.UniqueConstraint("gtin", "serial", name=op.f("uq_serialised_packs_gtin_serial")),
    )
    with op.batch_alter_table("serialised_packs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_serialised_packs_lot_id"), ["lot_id"], unique=False)

    # Measured data is never edited in place: corrections live in the lineage.
    for table in (
        "process_readings",
        "test_results",
        "sensor_readings",
        "epcis_events",
        "epcis_event_objects",
        "data_lineage",
        "material_consumptions",
        "inventory_movements",
        "adverse_event_reports",
    ):
        make_append_only(op, table)


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
