"""Where goods went: shipments, inventory movements, GS1 EPCIS 2.0 events (object,
aggregation, transformation, transaction, association) with an index of every identifier an
event names, serialised packs, and adverse-event reports that cite lots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, SealedData
from pharmaqms.platform.masterdata.models import MasterData


class Shipment(MasterData, Base):
    __tablename__ = "shipments"
    __audit_type__ = "shipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    sscc: Mapped[str | None] = mapped_column(String(18), index=True)
    origin_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), nullable=False)
    destination_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), nullable=False)
    carrier: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    shipped_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    # The storage condition the shipment must keep (from the products it carries).
    required_min_c: Mapped[float | None] = mapped_column(Float)
    required_max_c: Mapped[float | None] = mapped_column(Float)

    def audit_label(self) -> str:
        return f"shipment {self.code}"


class InventoryMovement(SealedData, Base):
    """Stock of a lot moved from one location to another (or received/issued). Append-only: a
    correction is a new movement (an adjustment), never an edit. A side without a location is
    the world outside our stock (a supplier, the road, a customer we don't know)."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        UniqueConstraint("reference", "lot_id"),
        Index("ix_inventory_movements_to_lot", "to_location_id", "lot_id"),
        Index("ix_inventory_movements_from_lot", "from_location_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    moved_at: Mapped[datetime] = mapped_column(nullable=False)
    reference: Mapped[str] = mapped_column(String(80), nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    # Added by 0215 as nullable columns, so the rows sealed before keep their seal (empty
    # columns are not hashed). receipt | move | pick | shipment | return | adjustment
    # (platform/inventory/movements.py); empty on movements recorded before 0215, which were
    # all shipments (``load_lot``).
    movement_type: Mapped[str | None] = mapped_column(String(20))
    # The order or delivery the movement belongs to (the WMS's order, the EPCIS bizTransaction).
    order_reference: Mapped[str | None] = mapped_column(String(80), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("data_sources.id"))
    epcis_event_id: Mapped[int | None] = mapped_column(ForeignKey("epcis_events.id"))


class EpcisEvent(SealedData, Base):
    """One captured EPCIS event, as received (``document`` keeps the event's JSON) and with the
    fields traceability queries need as columns. Append-only; an error declaration is a new
    event that points at the one it corrects."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        Index("ix_epcis_events_time", "event_time"),
        # A capture's events, found for the subscribers once it commits (0216).
        Index("ix_epcis_events_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(30), nullable=False)
    action: Mapped[str | None] = mapped_column(String(10))
    event_time: Mapped[datetime] = mapped_column(nullable=False)
    time_zone_offset: Mapped[str] = mapped_column(String(6), nullable=False)
    record_time: Mapped[datetime | None] = mapped_column()
    biz_step: Mapped[str | None] = mapped_column(String(60))
    disposition: Mapped[str | None] = mapped_column(String(60))
    read_point: Mapped[str | None] = mapped_column(String(200))
    biz_location: Mapped[str | None] = mapped_column(String(200), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    transformation_id: Mapped[str | None] = mapped_column(String(200))
    lot_number: Mapped[str | None] = mapped_column(String(40))
    expires_on: Mapped[date | None] = mapped_column(Date)
    error_declared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    # CBV 2.0 §8.9 event hash ID (platform/epcis/event_hash.py); empty on events captured
    # before it was computed, and on error declarations.
    event_hash: Mapped[str | None] = mapped_column(String(120), index=True)


class EpcisEventObject(SealedData, Base):
    """Every identifier an event names, with its role, so "which events touched X" is one
    indexed lookup (the traceability queries start here)."""

    __tablename__ = "epcis_event_objects"
    __table_args__ = (Index("ix_epcis_event_objects_epc", "epc", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), nullable=False, index=True)
    # epc | child | parent | input | output | quantity | input_quantity | output_quantity
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    epc: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(10))


class SerialisedPack(SealedData, Base):
    """A commissioned saleable pack (SGTIN) and the batch it belongs to (EU FMD / DSCSA)."""

    __tablename__ = "serialised_packs"
    __table_args__ = (UniqueConstraint("gtin", "serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epc: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    gtin: Mapped[str] = mapped_column(String(14), nullable=False)
    serial: Mapped[str] = mapped_column(String(20), nullable=False)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    lot_number: Mapped[str | None] = mapped_column(String(40))
    expires_on: Mapped[date | None] = mapped_column(Date)
    commissioned_at: Mapped[datetime] = mapped_column(nullable=False)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("epcis_events.id"))


class AdverseEventReport(SealedData, Base):
    """An adverse-event report from a feed (openFDA/FAERS drug-event), as received, with the
    fields the platform links on. The pharmacovigilance module owns case processing."""

    __tablename__ = "adverse_event_reports"
    __table_args__ = (UniqueConstraint("source_id", "safety_report_id", "report_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), nullable=False)
    safety_report_id: Mapped[str] = mapped_column(String(60), nullable=False)
    report_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    received_on: Mapped[date | None] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    seriousness: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    reactions: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    drugs: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    narrative: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class AdverseEventLot(Audited, Base):
    """An adverse-event report → the lot it cites (matched by lot number and product). Audited
    rather than sealed: the link to our lot is made later, once the lot is known."""

    __tablename__ = "adverse_event_lots"
    __audit_type__ = "adverse_event_lot"
    __table_args__ = (UniqueConstraint("report_id", "lot_number", "medicinal_product"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("adverse_event_reports.id"), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    medicinal_product: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)

    def audit_label(self) -> str:
        return f"batch {self.lot_number} cited by adverse-event report {self.report_id}"
