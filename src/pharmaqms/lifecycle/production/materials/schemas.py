"""API shapes of materials and suppliers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class SupplierApprovalCreate(Strict):
    material_code: str = Field(min_length=1, max_length=40)
    supplier_code: str = Field(min_length=1, max_length=40)
    manufacturer_site: str = Field(default="", max_length=200)


class SupplierAuditRecord(Strict):
    audited_on: date
    outcome: str = Field(min_length=1, max_length=4000)
    qualified_until: date
    next_audit_due_on: date | None = None
    conditions: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=2000)


class SupplierApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    version: int
    material_code: str = ""
    supplier_code: str = ""
    manufacturer_site: str
    last_audit_on: date | None
    audit_outcome: str
    next_audit_due_on: date | None
    qualified_until: date | None
    conditions: str
    approved_today: bool = False
    signatures: list[SignatureOut] = []


class MaterialLotReceive(Strict):
    material_code: str = Field(min_length=1, max_length=40)
    supplier_code: str = Field(min_length=1, max_length=40)
    lot_number: str = Field(min_length=1, max_length=20)
    expires_on: date
    supplier_lot: str | None = Field(default=None, max_length=60)
    quantity: float | None = None
    unit: str | None = Field(default=None, max_length=20)
    manufactured_on: date | None = None


class LotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    item_code: str
    lot_number: str
    supplier_lot: str | None
    status: str
    quantity: float | None
    unit: str | None
    manufactured_on: date | None
    expires_on: date | None


class CertificateValue(Strict):
    test: str = Field(min_length=1, max_length=200)
    result: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="", max_length=200)
    limits: str = Field(default="", max_length=200)


class SupplierCertificateCreate(Strict):
    certificate_number: str = Field(min_length=1, max_length=100)
    issued_on: date | None = None
    values: list[CertificateValue] = Field(min_length=1, max_length=200)


class SupplierCertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    lot_id: int
    certificate_number: str
    issued_on: date | None
    values: list[dict[str, Any]]
    file_name: str | None
    file_sha256: str | None
    file_size: int | None
    content_type: str | None
    received_at: datetime


class UseBlockOut(BaseModel):
    code: str
    message: str


class UseCheckOut(BaseModel):
    lot_id: int
    lot_number: str
    at: datetime
    usable: bool
    reasons: list[UseBlockOut]
    override: str | None


class OverrideCreate(Strict):
    justification: str = Field(min_length=1, max_length=4000)
    password: str = Field(min_length=1, max_length=256)
    batch_reference: str = Field(default="", max_length=60)
    valid_until: datetime | None = None


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    lot_id: int
    reason_codes: list[str]
    reasons: list[str]
    justification: str
    batch_reference: str
    valid_until: datetime | None
    signatures: list[SignatureOut] = []


class MaterialGtin(Strict):
    gtin: str = Field(min_length=8, max_length=14)
    reason: str = Field(min_length=1, max_length=2000)


class ScanRequest(Strict):
    code: str = Field(min_length=1, max_length=512)
    expected_material: str | None = Field(default=None, max_length=40)


class ScanOut(BaseModel):
    scanned: str
    verdict: str
    tone: str
    headline: str
    reasons: list[str]
    reason_codes: list[str]
    gs1: dict[str, Any] | None
    item_kind: str | None
    item_code: str | None
    item_name: str | None
    lot_id: int | None
    lot_number: str | None
    lot_status: str | None
    effective_status: str | None
    expires_on: date | None
    label_expiry: date | None
    supplier_lot: str | None
    supplier_code: str | None
    supplier_name: str | None
    supplier_approved: bool | None
    supplier_status: str | None
    supplier_qualified_until: date | None
    supplier_conditions: str
    supplier_approval_number: str | None
    certificate: dict[str, Any] | None
    qc_verdict: str | None
    qc_reasons: list[str]
    qc_open_investigations: list[str]
    override: str | None
    notes: list[str]
