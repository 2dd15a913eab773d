"""Master data and lots: products (GTIN), materials, suppliers, locations, and the lots of both
(a batch is a finished-product lot). Audited: a lot's status decides what may be used, shipped
and released."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import AddedLater, Audited, SealedData, Versioned


class MasterData(Audited, Versioned):
    """Master data changes need a reason once created (who changed a storage condition, why)."""

    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return bool(changed)


class Product(MasterData, Base):
    __tablename__ = "products"
    __audit_type__ = "product"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0411_distribution_product_page",
            {"leaflet_document_number": None},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True, nullable=False)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    dosage_form: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    strength: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    # Labelled storage range in °C, e.g. 2–8 for a vaccine, 15–25 for tablets.
    storage_min_c: Mapped[float | None] = mapped_column(Float)
    storage_max_c: Mapped[float | None] = mapped_column(Float)
    shelf_life_months: Mapped[int] = mapped_column(Integer, nullable=False, default=36)
    marketing_authorisation: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    # The number of the controlled document (type patient leaflet) that is this product's
    # package leaflet: the public product page links its version in force. A number, not a
    # key, because documents live above the platform.
    leaflet_document_number: Mapped[str | None] = mapped_column(String(40))

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"


class Material(MasterData, Base):
    __tablename__ = "materials"
    __audit_type__ = "material"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)  # api, excipient, packaging
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="kg")
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"


class Supplier(MasterData, Base):
    __tablename__ = "suppliers"
    __audit_type__ = "supplier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    gln: Mapped[str | None] = mapped_column(String(13))

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"


class LocationKind(StrEnum):
    SITE = "site"
    WAREHOUSE = "warehouse"
    DISTRIBUTOR = "distributor"
    PHARMACY = "pharmacy"
    HOSPITAL = "hospital"
    VEHICLE = "vehicle"


class Location(MasterData, Base):
    """A place goods are made, stored or delivered to, identified by a GLN where it has one
    (EPCIS readPoint / bizLocation `urn:epc:id:sgln:…`)."""

    __tablename__ = "locations"
    __audit_type__ = "location"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0217_platform_location_geo",
            {"latitude": None, "longitude": None, "region": None},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    gln: Mapped[str | None] = mapped_column(String(13))
    epc_uri: Mapped[str | None] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    is_customer: Mapped[bool] = mapped_column(nullable=False, default=False)
    # Where it is (WGS 84 decimal degrees; both or neither) and the region of the ambient
    # temperature profile a route planner reads for it. Added by 0217 as nullable columns: the
    # locations recorded before keep their audited state (``__audit_added_later__``).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(40))

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"


class LotKind(StrEnum):
    FINISHED = "finished"  # a batch of finished product
    MATERIAL = "material"  # an incoming material lot


class LotStatus(StrEnum):
    QUARANTINE = "quarantine"
    RELEASED = "released"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    EXPIRED = "expired"
    RECALLED = "recalled"


class Lot(MasterData, Base):
    """A batch (finished) or a material lot. Its status is changed only by quality decisions
    (release, hold, rejection) through services, each audited with its reason."""

    __tablename__ = "lots"
    __audit_type__ = "lot"
    __table_args__ = (
        UniqueConstraint("kind", "item_code", "lot_number"),
        Index("ix_lots_lot_number", "lot_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The product code (finished) or material code (material): one natural key for both.
    item_code: Mapped[str] = mapped_column(String(40), nullable=False)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    lot_number: Mapped[str] = mapped_column(String(40), nullable=False)
    supplier_lot: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="quarantine")
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    manufactured_on: Mapped[date | None] = mapped_column(Date)
    manufacturing_ended_at: Mapped[datetime | None] = mapped_column()
    expires_on: Mapped[date | None] = mapped_column(Date)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)

    def audit_label(self) -> str:
        kind = "batch" if self.kind == LotKind.FINISHED else "lot"
        return f"{kind} {self.item_code}/{self.lot_number}"


class MaterialConsumption(SealedData, Base):
    """Material lot → batch: what went into a batch (genealogy, upward trace). Append-only:
    a correction is a new row with a negative quantity and a reference."""

    __tablename__ = "material_consumptions"
    __table_args__ = (
        Index("ix_material_consumptions_batch", "batch_id"),
        Index("ix_material_consumptions_material_lot", "material_lot_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    material_lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    step: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    consumed_at: Mapped[datetime] = mapped_column(nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
