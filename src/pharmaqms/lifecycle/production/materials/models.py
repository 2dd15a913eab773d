"""Materials and suppliers: the approved supplier list (one entry per material and supplier, with
its qualification), the supplier's certificates of analysis of incoming lots, and the signed
overrides that let QA allow the use of a lot the checks refuse.

Material lots themselves are platform lots (``platform.masterdata.models.Lot``, kind material):
this module adds the quality decisions around them, never a second copy of the lot.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, SealedData


class QualificationStatus(StrEnum):
    PROPOSED = "proposed"  # on the list as a candidate: not yet approved for anything
    QUALIFIED = "qualified"
    # Approved with conditions (e.g. full testing of every lot until the next audit).
    CONDITIONAL = "conditional"
    DISQUALIFIED = "disqualified"


APPROVED_STATUSES = frozenset({QualificationStatus.QUALIFIED, QualificationStatus.CONDITIONAL})


class SupplierApproval(GxPRecord, Base):
    """One line of the approved supplier list: this supplier (and its manufacturing site) for
    this material. The approval is valid up to ``qualified_until``; after that date the supplier
    is no longer approved for the material even though the status still reads qualified."""

    __tablename__ = "supplier_approvals"
    __audit_type__ = "supplier_approval"
    __number_prefix__ = "ASL"
    __draft_states__ = frozenset({QualificationStatus.PROPOSED.value})
    __table_args__ = (UniqueConstraint("material_id", "supplier_id"),)
    __signed_fields__ = (
        "material_id",
        "supplier_id",
        "manufacturer_site",
        "last_audit_on",
        "audit_outcome",
        "next_audit_due_on",
        "qualified_until",
        "conditions",
    )

    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), nullable=False)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), nullable=False)
    manufacturer_site: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    last_audit_on: Mapped[date | None] = mapped_column(Date)
    audit_outcome: Mapped[str] = mapped_column(Text, nullable=False, default="")
    next_audit_due_on: Mapped[date | None] = mapped_column(Date)
    qualified_until: Mapped[date | None] = mapped_column(Date)
    # What a conditional approval demands (full testing, extra sampling…).
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return self.number or f"supplier approval #{self.id}"


class SupplierCertificate(Audited, Base):
    """A supplier's certificate of analysis for one incoming lot: structured values, a file, or
    both. The file's bytes live in ``supplier_certificate_files``; this row carries its SHA-256,
    so the audit trail binds the exact file without copying megabytes into it."""

    __tablename__ = "supplier_certificates"
    __audit_type__ = "supplier_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), nullable=False)
    certificate_number: Mapped[str] = mapped_column(String(100), nullable=False)
    issued_on: Mapped[date | None] = mapped_column(Date)
    # [{"test": "Assay", "result": "99.6", "unit": "%", "limits": "98.0-102.0"}, ...]
    values: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_certificate_files.id"))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"supplier CoA {self.certificate_number}"


class SupplierCertificateFile(SealedData, Base):
    """The bytes of an attached certificate. Never changed: a new file is a new row."""

    __tablename__ = "supplier_certificate_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)


class OverrideStatus(StrEnum):
    REQUESTED = "requested"  # only for the instant between creation and QA's signature
    APPROVED = "approved"
    REVOKED = "revoked"


class MaterialUseOverride(GxPRecord, Base):
    """QA's signed permission to use a lot the checks refuse, for the reasons listed at the
    moment of signing and nothing else: a new reason (the lot expires meanwhile) is not
    covered and refuses the lot again."""

    __tablename__ = "material_use_overrides"
    __audit_type__ = "material_use_override"
    __number_prefix__ = "MUO"
    __draft_states__ = frozenset({OverrideStatus.REQUESTED.value})
    __table_args__ = (Index("ix_material_use_overrides_lot_status", "lot_id", "status"),)
    __signed_fields__ = ("lot_id", "reason_codes", "reasons", "justification", "batch_reference")

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False)
    reason_codes: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    justification: Mapped[str] = mapped_column(Text, nullable=False)
    # The batch (or other use) the override is for; empty means any use of the lot.
    batch_reference: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    valid_until: Mapped[datetime | None] = mapped_column()
