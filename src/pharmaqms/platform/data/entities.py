"""What the data services serve: every canonical entity, declared once for the API, the CLI
export and the UI browse pages. Columns show what a person reads (a lot's number, a source's
code) rather than internal ids; the first column is always the row's id."""

from __future__ import annotations

from sqlalchemy.orm import aliased

from pharmaqms.platform.data.query import Column, Entity, between, declare, eq, search
from pharmaqms.platform.ingest.models import DataSource, ImportRun, Lineage, QuarantinedRow
from pharmaqms.platform.masterdata.models import (
    Location,
    Lot,
    Material,
    MaterialConsumption,
    Product,
    Supplier,
)
from pharmaqms.platform.timeseries.models import ProcessReading, Sensor, SensorReading, TestResult
from pharmaqms.platform.traceability.models import (
    AdverseEventLot,
    AdverseEventReport,
    EpcisEvent,
    InventoryMovement,
    SerialisedPack,
    Shipment,
)
from pharmaqms.platform.traceability.scans import Gs1Scan

C = Column


def _columns(model: type, *names: str) -> tuple[Column, ...]:
    return tuple(C(n, getattr(model, n)) for n in names)


PRODUCTS = declare(
    Entity(
        "products",
        "Products",
        Product,
        _columns(
            Product,
            "id",
            "code",
            "gtin",
            "name",
            "dosage_form",
            "strength",
            "storage_min_c",
            "storage_max_c",
            "shelf_life_months",
            "marketing_authorisation",
        ),
        (*eq("code", "gtin"), *search("code", "name")),
        ("code",),
        description="Finished products with their GTIN and labelled storage range (°C).",
    )
)

MATERIALS = declare(
    Entity(
        "materials",
        "Materials",
        Material,
        _columns(Material, "id", "code", "name", "kind", "unit", "gtin"),
        (*eq("code", "kind"), *search("code", "name")),
        ("code",),
        description="Starting and packaging materials.",
    )
)

SUPPLIERS = declare(
    Entity(
        "suppliers",
        "Suppliers",
        Supplier,
        _columns(Supplier, "id", "code", "name", "country", "gln"),
        (*eq("code", "country"), *search("code", "name")),
        ("code",),
    )
)

LOCATIONS = declare(
    Entity(
        "locations",
        "Locations",
        Location,
        _columns(
            Location,
            "id",
            "code",
            "name",
            "kind",
            "gln",
            "epc_uri",
            "country",
            "is_customer",
            "latitude",
            "longitude",
            "region",
        ),
        (*eq("code", "kind", "country", "gln", "is_customer", "region"), *search("code", "name")),
        ("code",),
        description="Sites, warehouses, distributors, pharmacies and hospitals.",
    )
)

_lot_supplier = aliased(Supplier)
LOTS = declare(
    Entity(
        "lots",
        "Lots and batches",
        Lot,
        (
            *_columns(Lot, "id", "kind", "item_code", "lot_number", "status", "quantity", "unit"),
            C("supplier", _lot_supplier.code),
            *_columns(
                Lot,
                "supplier_lot",
                "manufactured_on",
                "manufacturing_ended_at",
                "expires_on",
                "status_reason",
            ),
        ),
        (
            *eq("kind", "item_code", "lot_number", "status", "supplier"),
            *between("manufactured_on", "expires_on"),
            *search("lot_number", "item_code"),
        ),
        ("-manufactured_on", "item_code", "lot_number"),
        joins=((_lot_supplier, _lot_supplier.id == Lot.supplier_id),),
        description="Finished batches and received material lots, with their quality status.",
    )
)

_reading_lot = aliased(Lot)
_reading_run = aliased(ImportRun)
PROCESS_READINGS = declare(
    Entity(
        "process-readings",
        "Process readings",
        ProcessReading,
        (
            C("id", ProcessReading.id),
            C("item_code", _reading_lot.item_code),
            C("lot_number", _reading_lot.lot_number),
            *_columns(
                ProcessReading,
                "unit_procedure",
                "operation",
                "phase",
                "equipment",
                "parameter",
                "value",
                "unit",
                "measured_at",
                "original_offset",
            ),
            C("import_run", _reading_run.number),
        ),
        (
            *eq("item_code", "lot_number", "unit_procedure", "operation", "phase"),
            *eq("equipment", "parameter"),
            *between("measured_at"),
        ),
        ("lot_number", "measured_at", "parameter"),
        joins=(
            (_reading_lot, _reading_lot.id == ProcessReading.batch_id),
            (_reading_run, _reading_run.id == ProcessReading.run_id),
        ),
        description="Process parameters of each batch, in ISA-88 terms (MES).",
    )
)

_result_lot = aliased(Lot)
_result_source = aliased(DataSource)
TEST_RESULTS = declare(
    Entity(
        "test-results",
        "QC test results",
        TestResult,
        (
            C("id", TestResult.id),
            C("source", _result_source.code),
            C("item_code", _result_lot.item_code),
            C("lot_number", _result_lot.lot_number),
            *_columns(
                TestResult,
                "sample_id",
                "test_code",
                "test_name",
                "replicate",
                "value",
                "text_value",
                "unit",
                "spec_min",
                "spec_max",
                "spec_text",
                "outcome",
                "analyst",
                "tested_at",
                "original_offset",
            ),
        ),
        (
            *eq("source", "item_code", "lot_number", "sample_id", "test_code", "outcome"),
            *between("tested_at"),
        ),
        ("lot_number", "test_code", "replicate"),
        joins=(
            (_result_lot, _result_lot.id == TestResult.lot_id),
            (_result_source, _result_source.id == TestResult.source_id),
        ),
        description="QC results (LIMS) judged against the specification they came with.",
    )
)

_sensor_location = aliased(Location)
_sensor_shipment = aliased(Shipment)
SENSORS = declare(
    Entity(
        "sensors",
        "Sensors",
        Sensor,
        (
            *_columns(Sensor, "id", "code", "kind", "site"),
            C("location", _sensor_location.code),
            C("shipment", _sensor_shipment.code),
            *_columns(Sensor, "calibrated_on", "calibration_due_on", "certificate"),
        ),
        (*eq("code", "kind", "site", "location", "shipment"), *between("calibration_due_on")),
        ("code",),
        joins=(
            (_sensor_location, _sensor_location.id == Sensor.location_id),
            (_sensor_shipment, _sensor_shipment.id == Sensor.shipment_id),
        ),
        description="Temperature and humidity sensors and data loggers with their calibration.",
    )
)

_reading_sensor = aliased(Sensor)
_reading_location = aliased(Location)
_reading_shipment = aliased(Shipment)
SENSOR_READINGS = declare(
    Entity(
        "sensor-readings",
        "Sensor readings",
        SensorReading,
        (
            C("id", SensorReading.id),
            C("sensor", _reading_sensor.code),
            *_columns(
                SensorReading,
                "measured_at",
                "original_offset",
                "received_at",
                "temperature_c",
                "humidity_pct",
                "calibration_valid",
            ),
            C("location", _reading_location.code),
            C("shipment", _reading_shipment.code),
            C("note", SensorReading.note),
        ),
        (
            *eq("sensor", "location", "shipment", "calibration_valid"),
            *between("measured_at"),
        ),
        ("sensor", "measured_at"),
        joins=(
            (_reading_sensor, _reading_sensor.id == SensorReading.sensor_id),
            (_reading_location, _reading_location.id == SensorReading.location_id),
            (_reading_shipment, _reading_shipment.id == SensorReading.shipment_id),
        ),
        description="Temperature (°C) and humidity (%RH) with the device time and calibration.",
    )
)

_origin = aliased(Location)
_destination = aliased(Location)
SHIPMENTS = declare(
    Entity(
        "shipments",
        "Shipments",
        Shipment,
        (
            *_columns(Shipment, "id", "code", "sscc"),
            C("origin", _origin.code),
            C("destination", _destination.code),
            *_columns(
                Shipment,
                "carrier",
                "shipped_at",
                "delivered_at",
                "status",
                "required_min_c",
                "required_max_c",
            ),
        ),
        (
            *eq("code", "sscc", "origin", "destination", "carrier", "status"),
            *between("shipped_at"),
        ),
        ("-shipped_at", "code"),
        joins=(
            (_origin, _origin.id == Shipment.origin_id),
            (_destination, _destination.id == Shipment.destination_id),
        ),
    )
)

_moved_lot = aliased(Lot)
_moved_from = aliased(Location)
_moved_to = aliased(Location)
_moved_shipment = aliased(Shipment)
INVENTORY_MOVEMENTS = declare(
    Entity(
        "inventory-movements",
        "Inventory movements",
        InventoryMovement,
        (
            C("id", InventoryMovement.id),
            C("item_code", _moved_lot.item_code),
            C("lot_number", _moved_lot.lot_number),
            C("from_location", _moved_from.code),
            C("to_location", _moved_to.code),
            C("shipment", _moved_shipment.code),
            *_columns(
                InventoryMovement,
                "movement_type",
                "quantity",
                "unit",
                "moved_at",
                "reference",
                "order_reference",
            ),
        ),
        (
            *eq("item_code", "lot_number", "from_location", "to_location", "shipment"),
            *eq("reference", "movement_type", "order_reference"),
            *between("moved_at"),
        ),
        ("moved_at",),
        joins=(
            (_moved_lot, _moved_lot.id == InventoryMovement.lot_id),
            (_moved_from, _moved_from.id == InventoryMovement.from_location_id),
            (_moved_to, _moved_to.id == InventoryMovement.to_location_id),
            (_moved_shipment, _moved_shipment.id == InventoryMovement.shipment_id),
        ),
    )
)

EPCIS_EVENTS = declare(
    Entity(
        "epcis-events",
        "EPCIS events",
        EpcisEvent,
        _columns(
            EpcisEvent,
            "id",
            "event_id",
            "event_type",
            "action",
            "event_time",
            "time_zone_offset",
            "record_time",
            "biz_step",
            "disposition",
            "read_point",
            "biz_location",
            "parent_id",
            "transformation_id",
            "lot_number",
            "expires_on",
            "error_declared",
        ),
        (
            *eq("event_id", "event_type", "action", "biz_step", "disposition"),
            *eq("read_point", "biz_location", "parent_id", "lot_number", "error_declared"),
            *between("event_time"),
        ),
        ("event_time",),
        description="GS1 EPCIS 2.0 events as captured (the full event stays with the event).",
    )
)

SERIALISED_PACKS = declare(
    Entity(
        "serialised-packs",
        "Serialised packs",
        SerialisedPack,
        _columns(
            SerialisedPack,
            "id",
            "epc",
            "gtin",
            "serial",
            "lot_number",
            "expires_on",
            "commissioned_at",
        ),
        (*eq("epc", "gtin", "serial", "lot_number"), *between("commissioned_at")),
        ("gtin", "serial"),
    )
)

_report_source = aliased(DataSource)
ADVERSE_EVENT_REPORTS = declare(
    Entity(
        "adverse-event-reports",
        "Adverse-event reports",
        AdverseEventReport,
        (
            C("id", AdverseEventReport.id),
            C("source", _report_source.code),
            *_columns(
                AdverseEventReport,
                "safety_report_id",
                "report_version",
                "received_on",
                "serious",
                "seriousness",
                "country",
                "reactions",
                "drugs",
            ),
        ),
        (
            *eq("source", "safety_report_id", "serious", "country"),
            *between("received_on"),
            *search("reactions", "drugs"),
        ),
        ("-received_on", "safety_report_id"),
        joins=((_report_source, _report_source.id == AdverseEventReport.source_id),),
        description="Reports from adverse-event feeds (openFDA/FAERS) as received.",
    )
)

_linked_report = aliased(AdverseEventReport)
_linked_lot = aliased(Lot)
ADVERSE_EVENT_LOTS = declare(
    Entity(
        "adverse-event-lots",
        "Adverse events by lot",
        AdverseEventLot,
        (
            C("id", AdverseEventLot.id),
            C("safety_report_id", _linked_report.safety_report_id),
            C("received_on", _linked_report.received_on),
            C("serious", _linked_report.serious),
            C("reported_batch", AdverseEventLot.lot_number),
            C("medicinal_product", AdverseEventLot.medicinal_product),
            C("item_code", _linked_lot.item_code),
            C("lot_number", _linked_lot.lot_number),
        ),
        (
            *eq("safety_report_id", "serious", "reported_batch", "item_code", "lot_number"),
            *between("received_on"),
        ),
        ("-received_on", "safety_report_id"),
        joins=(
            (_linked_report, _linked_report.id == AdverseEventLot.report_id),
            (_linked_lot, _linked_lot.id == AdverseEventLot.lot_id),
        ),
        description="The batch each report cites, and our lot where one matches (else empty).",
    )
)

_consumed_batch = aliased(Lot)
_consumed_lot = aliased(Lot)
MATERIAL_CONSUMPTIONS = declare(
    Entity(
        "material-consumptions",
        "Material consumption",
        MaterialConsumption,
        (
            C("id", MaterialConsumption.id),
            C("item_code", _consumed_batch.item_code),
            C("lot_number", _consumed_batch.lot_number),
            C("material_code", _consumed_lot.item_code),
            C("material_lot", _consumed_lot.lot_number),
            *_columns(MaterialConsumption, "quantity", "unit", "step", "consumed_at"),
        ),
        (
            *eq("item_code", "lot_number", "material_code", "material_lot", "step"),
            *between("consumed_at"),
        ),
        ("lot_number", "consumed_at"),
        joins=(
            (_consumed_batch, _consumed_batch.id == MaterialConsumption.batch_id),
            (_consumed_lot, _consumed_lot.id == MaterialConsumption.material_lot_id),
        ),
        description="Which material lots went into which batch (upward genealogy).",
    )
)

_scan_source = aliased(DataSource)
GS1_SCANS = declare(
    Entity(
        "gs1-scans",
        "Scanned barcodes",
        Gs1Scan,
        (
            C("id", Gs1Scan.id),
            C("source", _scan_source.code),
            *_columns(
                Gs1Scan,
                "hri",
                "form",
                "symbology",
                "gtin",
                "lot_number",
                "expires_on",
                "serial",
                "sscc",
                "scanned_at",
            ),
            C("linked_to_lot", Gs1Scan.lot_id.is_not(None)),
        ),
        (*eq("source", "gtin", "lot_number", "serial", "sscc"), *between("scanned_at")),
        ("-scanned_at", "hri"),
        joins=((_scan_source, _scan_source.id == Gs1Scan.source_id),),
    )
)

_run_source = aliased(DataSource)
IMPORT_RUNS = declare(
    Entity(
        "import-runs",
        "Import runs",
        ImportRun,
        (
            C("id", ImportRun.id),
            C("number", ImportRun.number),
            C("source", _run_source.code),
            *_columns(
                ImportRun,
                "kind",
                "status",
                "filename",
                "channel",
                "received_at",
                "finished_at",
                "rows_total",
                "rows_accepted",
                "rows_corrected",
                "rows_duplicate",
                "rows_quarantined",
                "refused_reason",
                "size_bytes",
                "content_sha256",
            ),
        ),
        (*eq("number", "source", "kind", "status", "channel"), *between("received_at")),
        ("-received_at",),
        joins=((_run_source, _run_source.id == ImportRun.source_id),),
        description="Every delivery of data, with what happened to its rows.",
    )
)

_held_source = aliased(DataSource)
_held_run = aliased(ImportRun)
QUARANTINE = declare(
    Entity(
        "quarantine",
        "Quarantined rows",
        QuarantinedRow,
        (
            C("id", QuarantinedRow.id),
            C("source", _held_source.code),
            C("import_run", _held_run.number),
            *_columns(
                QuarantinedRow,
                "entity",
                "position",
                "status",
                "reasons",
                "raw",
                "created_at",
                "resolved_at",
            ),
        ),
        (
            *eq("source", "import_run", "entity", "status"),
            *between("created_at"),
            *search("reasons"),
        ),
        ("-created_at", "position"),
        joins=(
            (_held_source, _held_source.id == QuarantinedRow.source_id),
            (_held_run, _held_run.id == QuarantinedRow.run_id),
        ),
        description="Rejected rows, kept with their reasons until corrected or discarded.",
    )
)

_lineage_run = aliased(ImportRun)
LINEAGE = declare(
    Entity(
        "lineage",
        "Corrections (lineage)",
        Lineage,
        (
            C("id", Lineage.id),
            C("import_run", _lineage_run.number),
            *_columns(Lineage, "entity", "entity_id", "field", "original", "corrected", "rule"),
        ),
        (*eq("import_run", "entity", "entity_id", "field", "rule"),),
        ("id",),
        joins=((_lineage_run, _lineage_run.id == Lineage.run_id),),
        description="Every value governance changed: the original, the new value and the rule.",
    )
)

SOURCES = declare(
    Entity(
        "sources",
        "Data sources",
        DataSource,
        _columns(DataSource, "id", "code", "name", "kind", "active", "created_at"),
        (*eq("code", "kind", "active"), *search("code", "name")),
        ("code",),
        description="The systems data comes from, each with its mapping.",
    )
)
