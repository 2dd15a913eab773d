"""API shapes of master data: what a new product, material, supplier, place, sensor or shipment
needs."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from pharmaqms.kernel.schemas import Strict


class ProductIn(Strict):
    gtin: str = Field(min_length=8, max_length=14, description="8, 12, 13 or 14 digits")
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(default="", max_length=60)
    strength: str = Field(default="", max_length=60)
    storage_min_c: float | None = Field(default=None, ge=-200, le=100)
    storage_max_c: float | None = Field(default=None, ge=-200, le=100)
    shelf_life_months: int = Field(default=36, ge=1, le=240)
    marketing_authorisation: str = Field(default="", max_length=60)


class MaterialIn(Strict):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=30)
    unit: str = Field(default="kg", min_length=1, max_length=20)


class SupplierIn(Strict):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$", description="ISO 3166 alpha-2")
    gln: str | None = Field(default=None, max_length=13)


class LocationIn(Strict):
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=20)
    gln: str | None = Field(default=None, max_length=13)
    epc_uri: str | None = Field(default=None, max_length=120)
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$", description="ISO 3166 alpha-2")
    is_customer: bool = False
    latitude: float | None = Field(default=None, description="WGS 84 degrees, −90..90")
    longitude: float | None = Field(default=None, description="WGS 84 degrees, −180..180")
    region: str | None = Field(
        default=None, max_length=40, description="region of the ambient temperature profile"
    )


class LocationPositionIn(Strict):
    """Where a location is (both coordinates or neither) and its ambient region."""

    latitude: float | None = Field(default=None, description="WGS 84 degrees, −90..90")
    longitude: float | None = Field(default=None, description="WGS 84 degrees, −180..180")
    region: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class SensorIn(Strict):
    code: str = Field(min_length=1, max_length=60)
    kind: str = Field(default="temperature", max_length=20)
    site: str = Field(default="", max_length=60)
    location_code: str | None = Field(default=None, max_length=60)
    shipment_code: str | None = Field(default=None, max_length=60)
    calibrated_on: date | None = None
    calibration_due_on: date | None = None
    certificate: str | None = Field(default=None, max_length=200)


class CalibrationIn(Strict):
    calibrated_on: date
    calibration_due_on: date
    certificate: str = Field(min_length=1, max_length=200)


class ShipmentIn(Strict):
    code: str = Field(min_length=1, max_length=60)
    origin_code: str = Field(min_length=1, max_length=60)
    destination_code: str = Field(min_length=1, max_length=60)
    carrier: str = Field(default="", max_length=200)
    sscc: str | None = Field(default=None, max_length=18)
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    status: str = Field(default="planned", max_length=20)
    required_min_c: float | None = Field(default=None, ge=-200, le=100)
    required_max_c: float | None = Field(default=None, ge=-200, le=100)
