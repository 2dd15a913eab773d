"""Materials and supplier services: the approved supplier list, receipt of material lots into
quarantine, the supplier's certificates of analysis, and the one check every use of a material
lot goes through (``check_material_for_use``), with QA's signed override."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.materials.models import (
    APPROVED_STATUSES,
    MaterialUseOverride,
    OverrideStatus,
    QualificationStatus,
    SupplierApproval,
    SupplierCertificate,
    SupplierCertificateFile,
)
from pharmaqms.lifecycle.production.materials.workflow import MATERIAL_USE_OVERRIDE_WORKFLOW
from pharmaqms.lifecycle.production.qc import material_release
from pharmaqms.platform.masterdata.models import (
    Lot,
    LotKind,
    LotStatus,
    Material,
    MaterialConsumption,
    Product,
    Supplier,
)
from pharmaqms.platform.masterdata.service import add_lot, normalise_gtin, set_lot_status

MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024
# What an attached certificate may be, recognised by its first bytes, not by its name.
CERTIFICATE_TYPES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
MAX_CERTIFICATE_VALUES = 200


class SupplierNotApproved(Conflict):
    code = "supplier_not_approved"
    title = "Supplier not approved for this material"


class MaterialNotUsable(Conflict):
    code = "material_not_usable"
    title = "Material lot may not be used"


# --- lookups --------------------------------------------------------------------------------


def material_by_code(session: Session, code: str) -> Material:
    material = session.scalars(select(Material).where(Material.code == code.strip())).first()
    if material is None:
        raise InvalidInput(f"no material {code!r}", field="material_code")
    return material


def supplier_by_code(session: Session, code: str) -> Supplier:
    supplier = session.scalars(select(Supplier).where(Supplier.code == code.strip())).first()
    if supplier is None:
        raise InvalidInput(f"no supplier {code!r}", field="supplier_code")
    return supplier


def get_approval(session: Session, approval_id: int) -> SupplierApproval:
    approval = session.get(SupplierApproval, approval_id)
    if approval is None:
        raise NotFound(f"no supplier approval with id {approval_id}")
    return approval


def approval_for(session: Session, material_id: int, supplier_id: int) -> SupplierApproval | None:
    return session.scalars(
        select(SupplierApproval).where(
            SupplierApproval.material_id == material_id,
            SupplierApproval.supplier_id == supplier_id,
        )
    ).first()


def get_material_lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot with id {lot_id}")
    return lot


# --- approved supplier list -----------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Whether a supplier is approved for a material on a given day, and why not."""

    approved: bool
    status: str  # qualification status, or "not_listed"
    reasons: tuple[str, ...]
    conditions: str = ""
    qualified_until: date | None = None


def standing(approval: SupplierApproval | None, on: date, names: tuple[str, str]) -> Standing:
    supplier, material = names
    if approval is None:
        return Standing(
            False,
            "not_listed",
            (f"{supplier} is not on the approved supplier list for {material}",),
        )
    if approval.status not in APPROVED_STATUSES:
        return Standing(
            False,
            approval.status,
            (f"{supplier} is {approval.status} for {material} ({approval.number})",),
            qualified_until=approval.qualified_until,
        )
    if approval.qualified_until is None or approval.qualified_until < on:
        until = approval.qualified_until.isoformat() if approval.qualified_until else "never set"
        return Standing(
            False,
            approval.status,
            (
                f"the qualification of {supplier} for {material} expired "
                f"({until}; {approval.number})",
            ),
            approval.conditions,
            approval.qualified_until,
        )
    return Standing(True, approval.status, (), approval.conditions, approval.qualified_until)


def propose_supplier(
    session: Session,
    *,
    actor: Actor,
    material_code: str,
    supplier_code: str,
    manufacturer_site: str = "",
) -> SupplierApproval:
    """Put a supplier on the list as a candidate for a material (not approved yet)."""
    actor.require("materials.manage", "maintain the approved supplier list")
    material = material_by_code(session, material_code)
    supplier = supplier_by_code(session, supplier_code)
    existing = approval_for(session, material.id, supplier.id)
    if existing is not None:
        raise Conflict(
            f"{supplier.code} is already on the list for {material.code} ({existing.number}, "
            f"{existing.status})"
        )
    approval = SupplierApproval(
        status=QualificationStatus.PROPOSED.value,
        material_id=material.id,
        supplier_id=supplier.id,
        manufacturer_site=manufacturer_site.strip()[:200],
        audit_outcome="",
        conditions="",
    )
    with audit.changes(session, actor=actor, reason="supplier proposed for the material"):
        session.add(approval)
    return approval


def record_supplier_audit(
    session: Session,
    *,
    actor: Actor,
    approval_id: int,
    audited_on: date,
    outcome: str,
    qualified_until: date,
    next_audit_due_on: date | None = None,
    conditions: str | None = None,
    reason: str | None = None,
) -> SupplierApproval:
    """Record a supplier audit (or questionnaire) and the qualification period it supports.
    The status itself changes only by QA's signed decision (qualify, requalify, …)."""
    actor.require("materials.manage", "maintain the approved supplier list")
    approval = get_approval(session, approval_id)
    today = clock.now().date()
    if audited_on > today:
        raise InvalidInput("the audit date lies in the future", field="audited_on")
    if qualified_until <= audited_on:
        raise InvalidInput(
            "the qualification must run past the audit date", field="qualified_until"
        )
    if next_audit_due_on is not None and next_audit_due_on <= audited_on:
        raise InvalidInput("the next audit is due after this one", field="next_audit_due_on")
    text = (outcome or "").strip()
    if not text:
        raise InvalidInput("record the outcome of the audit", field="outcome")
    why = (reason or "").strip() or f"supplier audit of {audited_on.isoformat()} recorded"
    with audit.changes(session, actor=actor, reason=why):
        approval.last_audit_on = audited_on
        approval.audit_outcome = text
        approval.qualified_until = qualified_until
        approval.next_audit_due_on = next_audit_due_on
        if conditions is not None:
            approval.conditions = conditions.strip()
    return approval


def approved_supplier_list(session: Session) -> list[tuple[SupplierApproval, Material, Supplier]]:
    rows = session.execute(
        select(SupplierApproval, Material, Supplier)
        .join(Material, Material.id == SupplierApproval.material_id)
        .join(Supplier, Supplier.id == SupplierApproval.supplier_id)
        .order_by(Material.code, Supplier.code)
    ).all()
    return [(a, m, s) for a, m, s in rows]


# --- receipt and certificates ---------------------------------------------------------------


def receive_material_lot(
    session: Session,
    *,
    actor: Actor,
    material_code: str,
    supplier_code: str,
    lot_number: str,
    expires_on: date,
    supplier_lot: str | None = None,
    quantity: float | None = None,
    unit: str | None = None,
    manufactured_on: date | None = None,
) -> Lot:
    """An incoming material lot, taken into quarantine. Refused from a supplier that is not
    approved for the material today, and when it arrives already expired."""
    actor.require("materials.receive", "receive material lots")
    material = material_by_code(session, material_code)
    supplier = supplier_by_code(session, supplier_code)
    today = clock.now().date()
    found = standing(
        approval_for(session, material.id, supplier.id), today, (supplier.code, material.code)
    )
    if not found.approved:
        raise SupplierNotApproved(
            "; ".join(found.reasons) + ": the lot is not received",
            field="supplier_code",
            reasons=list(found.reasons),
        )
    if expires_on < today:
        raise InvalidInput(
            f"the lot expired on {expires_on.isoformat()}: it is not received",
            field="expires_on",
        )
    if quantity is not None and quantity <= 0:
        raise InvalidInput("the quantity received must be positive", field="quantity")
    return add_lot(
        session,
        actor=actor,
        kind=LotKind.MATERIAL.value,
        item_code=material.code,
        lot_number=lot_number,
        quantity=quantity,
        unit=unit or material.unit,
        supplier_code=supplier.code,
        supplier_lot=supplier_lot,
        manufactured_on=manufactured_on,
        expires_on=expires_on,
        status=LotStatus.QUARANTINE.value,
    )


def _certificate_values(values: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    if len(values) > MAX_CERTIFICATE_VALUES:
        raise InvalidInput(
            f"at most {MAX_CERTIFICATE_VALUES} values on one certificate", field="values"
        )
    cleaned = []
    for index, entry in enumerate(values, 1):
        unknown = set(entry) - {"test", "result", "unit", "limits"}
        if unknown:
            raise InvalidInput(
                f"value {index}: unknown keys {', '.join(sorted(unknown))}", field="values"
            )
        row = {k: str(entry.get(k) or "").strip() for k in ("test", "result", "unit", "limits")}
        if not row["test"] or not row["result"]:
            raise InvalidInput(f"value {index} needs a test and a result", field="values")
        if any(len(v) > 200 for v in row.values()):
            raise InvalidInput(f"value {index} has a field over 200 characters", field="values")
        cleaned.append(row)
    return cleaned


def attach_certificate(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    certificate_number: str,
    issued_on: date | None = None,
    values: Sequence[dict[str, Any]] = (),
    file_name: str | None = None,
    content: bytes | None = None,
    content_type: str | None = None,
) -> SupplierCertificate:
    """File the supplier's certificate of analysis of a material lot: its values, its file,
    or both. The file is checked by its first bytes (PDF, PNG or JPEG) and size."""
    actor.require("materials.certificates", "file supplier certificates")
    lot = get_material_lot(session, lot_id)
    if lot.kind != LotKind.MATERIAL or lot.supplier_id is None:
        raise InvalidInput(
            f"{lot.audit_label()} is not a material lot from a supplier", field="lot_id"
        )
    number = (certificate_number or "").strip()
    if not number or len(number) > 100:
        raise InvalidInput("the certificate number (1–100 characters)", field="certificate_number")
    if issued_on is not None and issued_on > clock.now().date():
        raise InvalidInput("the certificate's issue date lies in the future", field="issued_on")
    rows = _certificate_values(values)
    if not rows and content is None:
        raise InvalidInput("attach the certificate file or enter its values", field="values")
    now = clock.now()
    stored: SupplierCertificateFile | None = None
    if content is not None:
        if len(content) > MAX_CERTIFICATE_BYTES:
            raise InvalidInput(
                f"the file is {len(content):,} bytes; at most {MAX_CERTIFICATE_BYTES:,}",
                field="file",
            )
        kind = next(
            (t for t, magic in CERTIFICATE_TYPES.items() if content.startswith(magic)), None
        )
        if kind is None:
            raise InvalidInput("the file is not a PDF, PNG or JPEG document", field="file")
        if content_type and content_type.split(";")[0].strip() not in (
            kind,
            "application/octet-stream",
        ):
            raise InvalidInput(f"the file is a {kind} but was sent as {content_type}", field="file")
        content_type = kind
        stored = SupplierCertificateFile(
            sha256=hashlib.sha256(content).hexdigest(), content=content, stored_at=now
        )
        with audit.changes(session, actor=actor):  # the file is sealed as theirs
            session.add(stored)
    certificate = SupplierCertificate(
        lot_id=lot.id,
        supplier_id=lot.supplier_id,
        certificate_number=number,
        issued_on=issued_on,
        values=rows,
        file_id=stored.id if stored else None,
        file_name=(file_name or "certificate").strip()[:255] if stored else None,
        file_sha256=stored.sha256 if stored else None,
        file_size=len(content) if content is not None else None,
        content_type=content_type if stored else None,
        received_at=now,
        received_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"supplier certificate {number} filed"):
        session.add(certificate)
    return certificate


def certificates_of(session: Session, lot_id: int) -> list[SupplierCertificate]:
    return list(
        session.scalars(
            select(SupplierCertificate)
            .where(SupplierCertificate.lot_id == lot_id)
            .order_by(SupplierCertificate.received_at.desc(), SupplierCertificate.id.desc())
        )
    )


def certificate_file(session: Session, certificate_id: int) -> tuple[SupplierCertificate, bytes]:
    certificate = session.get(SupplierCertificate, certificate_id)
    if certificate is None or certificate.file_id is None:
        raise NotFound(f"no certificate file for certificate {certificate_id}")
    stored = session.get(SupplierCertificateFile, certificate.file_id)
    if stored is None or hashlib.sha256(stored.content).hexdigest() != certificate.file_sha256:
        raise Conflict("the stored certificate file does not match its recorded SHA-256")
    return certificate, stored.content


# --- may this lot be used? ------------------------------------------------------------------


@dataclass(frozen=True)
class UseBlock:
    """One reason a lot may not be used. ``code`` is stable (for overrides and machines)."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


# Identity errors and final decisions are never overridden: the wrong material is the wrong
# material, and a rejected or recalled lot has been judged already.
NOT_OVERRIDABLE = frozenset({"wrong_item", "rejected", "recalled"})

_STATUS_BLOCKS = {
    LotStatus.QUARANTINE: ("quarantine", "in quarantine: not released by quality control"),
    LotStatus.ON_HOLD: ("on_hold", "on hold"),
    LotStatus.REJECTED: ("rejected", "rejected"),
    LotStatus.RECALLED: ("recalled", "recalled"),
    LotStatus.EXPIRED: ("expired_status", "marked expired"),
}


def effective_status(lot: Lot, on: date) -> str:
    """The lot's status as of ``on``: a lot past its expiry date is expired whatever its
    recorded status says (the platform status catches up only when someone changes it)."""
    if (
        lot.expires_on is not None
        and lot.expires_on < on
        and lot.status not in (LotStatus.REJECTED, LotStatus.RECALLED)
    ):
        return LotStatus.EXPIRED.value
    return lot.status


def _day(at: datetime) -> date:
    """The calendar day (UTC) of a moment: expiry dates are days, kept in UTC like all times."""
    if at.tzinfo is None:
        raise InvalidInput("the time of use needs a time zone", field="at")
    return at.astimezone(UTC).date()


def check_material_for_use(
    session: Session, lot: Lot, *, at: datetime, expected_material: str | None = None
) -> list[UseBlock]:
    """Every reason ``lot`` may not be used at ``at``; empty when it may. With
    ``expected_material`` (the material code the recipe calls for), another material is refused
    too. Fails closed: a missing expiry date or supplier is itself a reason."""
    on = _day(at)
    blocks: list[UseBlock] = []
    label = f"lot {lot.lot_number}"
    if lot.kind != LotKind.MATERIAL:
        blocks.append(
            UseBlock("wrong_item", f"{label} is a batch of {lot.item_code}, not a material lot")
        )
        return blocks
    if expected_material is not None and lot.item_code != expected_material.strip():
        blocks.append(
            UseBlock(
                "wrong_item",
                f"wrong material: {label} is {lot.item_code}, the step needs {expected_material}",
            )
        )
    if lot.status != LotStatus.RELEASED:
        code, text = _STATUS_BLOCKS.get(
            LotStatus(lot.status), ("not_released", f"not released ({lot.status})")
        )
        blocks.append(UseBlock(code, f"{label} is {text}"))
    if lot.expires_on is None:
        blocks.append(UseBlock("no_expiry", f"{label} has no expiry or retest date recorded"))
    elif lot.expires_on < on:
        blocks.append(UseBlock("expired", f"{label} expired on {lot.expires_on.isoformat()}"))
    if lot.supplier_id is None:
        blocks.append(UseBlock("no_supplier", f"{label} has no supplier recorded"))
        return blocks
    supplier = session.get(Supplier, lot.supplier_id)
    approval = approval_for(session, lot.material_id or 0, lot.supplier_id)
    found = standing(approval, on, (supplier.code if supplier else "?", lot.item_code))
    if not found.approved:
        code = (
            "qualification_expired"
            if approval is not None and approval.status in APPROVED_STATUSES
            else "supplier_not_approved"
        )
        blocks.extend(UseBlock(code, reason) for reason in found.reasons)
    return blocks


def covering_override(
    session: Session,
    lot: Lot,
    blocks: Sequence[UseBlock],
    *,
    at: datetime,
    batch_reference: str = "",
) -> MaterialUseOverride | None:
    """An approved override of QA that covers every one of these reasons for this use."""
    codes = {b.code for b in blocks}
    if not codes or codes & NOT_OVERRIDABLE:
        return None
    candidates = session.scalars(
        select(MaterialUseOverride)
        .where(
            MaterialUseOverride.lot_id == lot.id,
            MaterialUseOverride.status == OverrideStatus.APPROVED,
        )
        .order_by(MaterialUseOverride.id.desc())
    )
    for override in candidates:
        if override.valid_until is not None and override.valid_until < at:
            continue
        if override.batch_reference and override.batch_reference != batch_reference.strip():
            continue
        if codes <= set(override.reason_codes):
            return override
    return None


def require_material_usable(
    session: Session,
    lot: Lot,
    *,
    at: datetime,
    expected_material: str | None = None,
    batch_reference: str = "",
) -> MaterialUseOverride | None:
    """For the batch record at dispensing: returns None when the lot may be used, the override
    when QA has signed one covering every reason, and refuses (``MaterialNotUsable``, 409, the
    reasons listed) otherwise."""
    blocks = check_material_for_use(session, lot, at=at, expected_material=expected_material)
    if not blocks:
        return None
    override = covering_override(session, lot, blocks, at=at, batch_reference=batch_reference)
    if override is not None:
        return override
    raise MaterialNotUsable(
        f"{lot.audit_label()} may not be used: " + "; ".join(b.message for b in blocks),
        reasons=[b.message for b in blocks],
        extra={"codes": [b.code for b in blocks]},
    )


def override_material_use(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    justification: str,
    password: str,
    batch_reference: str = "",
    valid_until: datetime | None = None,
) -> MaterialUseOverride:
    """QA allows the use of a lot the checks refuse, for the reasons found now, with a reason
    and an e-signature ("Approved")."""
    actor.require("materials.override", "override the material checks")
    lot = get_material_lot(session, lot_id)
    now = clock.now()
    blocks = check_material_for_use(session, lot, at=now)
    if not blocks:
        raise Conflict(f"{lot.audit_label()} may be used: there is nothing to override")
    final = [b.message for b in blocks if b.code in NOT_OVERRIDABLE]
    if final:
        raise Conflict("these reasons can't be overridden: " + "; ".join(final), reasons=final)
    why = (justification or "").strip()
    if not why:
        raise InvalidInput("say why the lot may be used nonetheless", field="justification")
    if valid_until is not None:
        if valid_until.tzinfo is None:
            raise InvalidInput("valid_until needs a time zone", field="valid_until")
        if valid_until <= now:
            raise InvalidInput("valid_until must lie in the future", field="valid_until")
    reference = batch_reference.strip()
    if len(reference) > 60:
        raise InvalidInput("the batch reference is at most 60 characters", field="batch_reference")
    override = MaterialUseOverride(
        status=OverrideStatus.REQUESTED.value,
        lot_id=lot.id,
        reason_codes=sorted({b.code for b in blocks}),
        reasons=[b.message for b in blocks],
        justification=why[:4000],
        batch_reference=reference,
        valid_until=valid_until,
    )
    with audit.changes(session, actor=actor, reason=why[:2000]):
        session.add(override)
    perform(
        session,
        MATERIAL_USE_OVERRIDE_WORKFLOW,
        override,
        "approve",
        actor=actor,
        password=password,
        reason=why[:2000],
    )
    return override


def material_lots(session: Session, *, status: str | None = None) -> list[Lot]:
    query = select(Lot).where(Lot.kind == LotKind.MATERIAL).order_by(Lot.id.desc())
    if status:
        query = query.where(Lot.status == status)
    return list(session.scalars(query))


def set_material_gtin(
    session: Session, *, actor: Actor, material_code: str, gtin: str, reason: str
) -> Material:
    """Record the GTIN printed on a material's containers, so a scan finds the material.

    The platform's master-data services have no verb for this yet; this is the thin adapter
    (same permission, same audit with a reason) until they do."""
    actor.require("data.manage", "maintain master data")
    material = material_by_code(session, material_code)
    value = normalise_gtin(gtin)
    clash = session.scalars(select(Material.code).where(Material.gtin == value)).first()
    clash = clash or session.scalars(select(Product.code).where(Product.gtin == value)).first()
    if clash is not None and clash != material.code:
        raise Conflict(f"GTIN {value} already identifies {clash}", field="gtin")
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("say why the GTIN is set", field="reason")
    with audit.changes(session, actor=actor, reason=why):
        material.gtin = value
    return material


@dataclass(frozen=True)
class SupplierInUse:
    """A supplier of a material that went into a set of batches, and its standing on a day."""

    material_code: str
    supplier_code: str
    supplier_name: str
    material_lots: int
    approval_number: str | None
    standing: Standing


def suppliers_of_batches(session: Session, batch_ids: list[int], on: date) -> list[SupplierInUse]:
    """Who supplied the material lots these batches consumed, and whether each supplier stands
    approved for that material on ``on`` (the approved supplier list as it is now)."""
    if not batch_ids:
        return []
    used: dict[tuple[int, int], set[int]] = {}
    for material_id, supplier_id, lot_id in session.execute(
        select(Lot.material_id, Lot.supplier_id, Lot.id)
        .join(MaterialConsumption, MaterialConsumption.material_lot_id == Lot.id)
        .where(MaterialConsumption.batch_id.in_(batch_ids))
    ):
        if material_id is not None and supplier_id is not None:
            used.setdefault((material_id, supplier_id), set()).add(lot_id)
    found = []
    for (material_id, supplier_id), lots in used.items():
        material = session.get(Material, material_id)
        supplier = session.get(Supplier, supplier_id)
        if material is None or supplier is None:
            continue
        approval = approval_for(session, material_id, supplier_id)
        found.append(
            SupplierInUse(
                material.code,
                supplier.code,
                supplier.name,
                len(lots),
                approval.number if approval else None,
                standing(approval, on, (supplier.name, material.code)),
            )
        )
    return sorted(found, key=lambda s: (s.material_code, s.supplier_code))


# --- release of a material lot once QC's certificate is approved ----------------------------


def release_after_certificate(session: Session, lot: Lot, reason: str, actor: Actor) -> None:
    """Release a material lot in quarantine whose certificate QA approved — only while its
    supplier is approved for the material on the approved supplier list; refused otherwise,
    with the reasons (the certificate's approval is refused with it: nothing changes)."""
    supplier = session.get(Supplier, lot.supplier_id) if lot.supplier_id else None
    found = standing(
        approval_for(session, lot.material_id or 0, lot.supplier_id or 0),
        clock.now().date(),
        (supplier.code if supplier else "no supplier", lot.item_code),
    )
    if not found.approved:
        raise Conflict(
            f"{lot.audit_label()} is not released: " + "; ".join(found.reasons),
            reasons=list(found.reasons),
        )
    set_lot_status(session, lot, LotStatus.RELEASED, actor=actor, reason=reason)


material_release.register(release_after_certificate)
