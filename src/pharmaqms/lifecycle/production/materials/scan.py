"""What a scanned container is, and whether it may be used: the answer behind the scan page.

A GS1 barcode (raw element string from a DataMatrix or GS1-128, the human-readable ``(01)…(10)…``
line, or a Digital Link URI) names a GTIN and a lot. The GTIN finds the material (or product),
the lot number finds the lot of that item, and the answer gathers what the person at the
container needs at once: the material and lot, the supplier and whether it is approved for this
material today, the supplier's certificate, the QC standing, the lot's status with expiry
computed from the date — and one verdict in words that can't be misread.

A barcode that can't be read is refused with the GS1 rule it breaks (``GS1Error``). Everything
else is an answer, never an exception: an unknown lot or a wrong material is exactly what the
person needs to be told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.materials.service import (
    approval_for,
    certificates_of,
    check_material_for_use,
    covering_override,
    effective_status,
    standing,
)
from pharmaqms.lifecycle.production.qc.status import qc_status_of_lot
from pharmaqms.platform.gs1 import GS1Data, parse_gs1
from pharmaqms.platform.masterdata.models import (
    Lot,
    LotKind,
    LotStatus,
    Material,
    Product,
    Supplier,
)


class ScanVerdict(StrEnum):
    USABLE = "usable"
    USABLE_UNDER_OVERRIDE = "usable_under_override"
    NOT_USABLE = "not_usable"
    UNKNOWN = "unknown"


TONE = {
    ScanVerdict.USABLE: "positive",
    ScanVerdict.USABLE_UNDER_OVERRIDE: "warning",
    ScanVerdict.NOT_USABLE: "negative",
    ScanVerdict.UNKNOWN: "negative",
}

# Which reason names the container in the headline, most serious first.
HEADLINE_ORDER = (
    ("wrong_item", "WRONG MATERIAL"),
    ("label_mismatch", "LABEL DOES NOT MATCH RECORDS"),
    ("rejected", "REJECTED"),
    ("recalled", "RECALLED"),
    ("expired", "EXPIRED"),
    ("expired_status", "EXPIRED"),
    ("on_hold", "ON HOLD"),
    ("quarantine", "QUARANTINE"),
    ("not_released", "NOT RELEASED"),
    ("no_expiry", "NO EXPIRY DATE"),
    ("no_supplier", "NO SUPPLIER"),
    ("supplier_not_approved", "SUPPLIER NOT APPROVED"),
    ("qualification_expired", "SUPPLIER QUALIFICATION EXPIRED"),
)


@dataclass(frozen=True)
class ScanAnswer:
    scanned: str
    verdict: ScanVerdict
    headline: str
    reasons: tuple[str, ...]
    reason_codes: tuple[str, ...] = ()
    gs1: dict[str, Any] | None = None
    item_kind: str | None = None  # material or product
    item_code: str | None = None
    item_name: str | None = None
    lot_id: int | None = None
    lot_number: str | None = None
    lot_status: str | None = None  # as recorded
    effective_status: str | None = None  # with expiry computed from the date
    expires_on: date | None = None
    label_expiry: date | None = None
    supplier_lot: str | None = None
    supplier_code: str | None = None
    supplier_name: str | None = None
    supplier_approved: bool | None = None
    supplier_status: str | None = None
    supplier_qualified_until: date | None = None
    supplier_conditions: str = ""
    supplier_approval_number: str | None = None
    certificate: dict[str, Any] | None = None
    qc_verdict: str | None = None
    qc_reasons: tuple[str, ...] = ()
    qc_open_investigations: tuple[str, ...] = ()
    override: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def tone(self) -> str:
        return TONE[self.verdict]


def _unknown(scanned: str, data: GS1Data, headline: str, reason: str) -> ScanAnswer:
    return ScanAnswer(
        scanned=scanned,
        verdict=ScanVerdict.UNKNOWN,
        headline=f"{headline} — DO NOT USE",
        reasons=(reason,),
        reason_codes=("unknown",),
        gs1=data.as_dict(),
        lot_number=data.lot,
        label_expiry=data.expiry,
    )


def _headline(codes: list[str]) -> str:
    for code, words in HEADLINE_ORDER:
        if code in codes:
            return words
    return "DO NOT USE"


def scan(
    session: Session, text: str, *, at: datetime, expected_material: str | None = None
) -> ScanAnswer:
    """Read a barcode and answer. ``expected_material`` (the material code a dispensing step
    calls for) makes any other material a "WRONG MATERIAL" answer."""
    data = parse_gs1(text)
    scanned = data.as_hri()
    if not data.gtin:
        return _unknown(scanned, data, "NO GTIN", "the barcode carries no GTIN (AI 01)")
    gtin = data.gtin.zfill(14)
    material = session.scalars(select(Material).where(Material.gtin == gtin)).first()
    product = None
    if material is None:
        product = session.scalars(select(Product).where(Product.gtin == gtin)).first()
    if material is None and product is None:
        return _unknown(
            scanned, data, "UNKNOWN ITEM", f"GTIN {gtin} is not the GTIN of any material or product"
        )
    item_code = material.code if material else product.code  # type: ignore[union-attr]
    item_name = material.name if material else product.name  # type: ignore[union-attr]
    kind = LotKind.MATERIAL if material else LotKind.FINISHED
    if not data.lot:
        return _unknown(scanned, data, "NO LOT", "the barcode carries no lot number (AI 10)")
    lot = session.scalars(
        select(Lot).where(Lot.kind == kind, Lot.item_code == item_code, Lot.lot_number == data.lot)
    ).first()
    if lot is None:
        elsewhere = session.scalars(select(Lot).where(Lot.lot_number == data.lot)).all()
        if elsewhere:
            owners = ", ".join(sorted({o.item_code for o in elsewhere}))
            answer = _unknown(
                scanned,
                data,
                "WRONG MATERIAL",
                f"lot {data.lot} is a lot of {owners}, but the label names {item_code} "
                f"({item_name}): label and records disagree",
            )
        else:
            answer = _unknown(
                scanned, data, "UNKNOWN LOT", f"no lot {data.lot} of {item_code} is recorded"
            )
        return _with_item(answer, kind, item_code, item_name)
    return _answer(session, scanned, data, lot, kind, item_name, at, expected_material)


def _with_item(answer: ScanAnswer, kind: LotKind, code: str, name: str) -> ScanAnswer:
    from dataclasses import replace

    return replace(
        answer,
        item_kind="material" if kind == LotKind.MATERIAL else "product",
        item_code=code,
        item_name=name,
    )


def _answer(
    session: Session,
    scanned: str,
    data: GS1Data,
    lot: Lot,
    kind: LotKind,
    item_name: str,
    at: datetime,
    expected_material: str | None,
) -> ScanAnswer:
    on = at.astimezone(UTC).date()
    notes: list[str] = []
    codes: list[str] = []
    reasons: list[str] = []
    if data.expiry is not None and lot.expires_on is not None and data.expiry != lot.expires_on:
        codes.append("label_mismatch")
        reasons.append(
            f"the label's expiry {data.expiry.isoformat()} differs from the recorded expiry "
            f"{lot.expires_on.isoformat()}"
        )
    supplier = session.get(Supplier, lot.supplier_id) if lot.supplier_id else None
    found = None
    approval = None
    if kind == LotKind.MATERIAL:
        blocks = check_material_for_use(session, lot, at=at, expected_material=expected_material)
        codes.extend(b.code for b in blocks)
        reasons.extend(b.message for b in blocks)
        if lot.supplier_id is not None:
            approval = approval_for(session, lot.material_id or 0, lot.supplier_id)
            found = standing(approval, on, (supplier.code if supplier else "?", lot.item_code))
    else:
        if expected_material is not None:
            codes.append("wrong_item")
            reasons.append(
                f"this is a batch of the product {lot.item_code}, the step needs the material "
                f"{expected_material}"
            )
        if lot.status != LotStatus.RELEASED:
            codes.append(lot.status if lot.status != LotStatus.EXPIRED else "expired_status")
            reasons.append(f"batch {lot.lot_number} is {lot.status.replace('_', ' ')}")
        if lot.expires_on is not None and lot.expires_on < on:
            codes.append("expired")
            reasons.append(f"batch {lot.lot_number} expired on {lot.expires_on.isoformat()}")
    override = None
    if codes and "label_mismatch" not in codes:
        from pharmaqms.lifecycle.production.materials.service import UseBlock

        override = covering_override(session, lot, [UseBlock(c, "") for c in codes], at=at)
    if not codes:
        verdict, headline = ScanVerdict.USABLE, "RELEASED — OK TO USE"
    elif override is not None:
        verdict = ScanVerdict.USABLE_UNDER_OVERRIDE
        headline = f"{_headline(codes)} — USE ONLY UNDER OVERRIDE {override.number}"
        notes.append(f"QA override {override.number}: {override.justification}")
    else:
        verdict, headline = ScanVerdict.NOT_USABLE, f"{_headline(codes)} — DO NOT USE"
    if found is not None and found.conditions:
        notes.append(f"conditional approval: {found.conditions}")
    certificates = certificates_of(session, lot.id)
    certificate = None
    if certificates:
        latest = certificates[0]
        certificate = {
            "id": latest.id,
            "certificate_number": latest.certificate_number,
            "issued_on": latest.issued_on,
            "values": list(latest.values),
            "has_file": latest.file_id is not None,
            "file_name": latest.file_name,
        }
    elif kind == LotKind.MATERIAL:
        notes.append("no certificate of analysis of the supplier is filed for this lot")
    qc = qc_status_of_lot(session, lot.id)
    return ScanAnswer(
        scanned=scanned,
        verdict=verdict,
        headline=headline,
        reasons=tuple(reasons),
        reason_codes=tuple(codes),
        gs1=data.as_dict(),
        item_kind="material" if kind == LotKind.MATERIAL else "product",
        item_code=lot.item_code,
        item_name=item_name,
        lot_id=lot.id,
        lot_number=lot.lot_number,
        lot_status=lot.status,
        effective_status=effective_status(lot, on),
        expires_on=lot.expires_on,
        label_expiry=data.expiry,
        supplier_lot=lot.supplier_lot,
        supplier_code=supplier.code if supplier else None,
        supplier_name=supplier.name if supplier else None,
        supplier_approved=found.approved if found else None,
        supplier_status=found.status if found else None,
        supplier_qualified_until=found.qualified_until if found else None,
        supplier_conditions=found.conditions if found else "",
        supplier_approval_number=approval.number if approval else None,
        certificate=certificate,
        qc_verdict=qc.verdict.value,
        qc_reasons=qc.reasons,
        qc_open_investigations=qc.open_investigations,
        override=override.number if override else None,
        notes=tuple(notes),
    )
