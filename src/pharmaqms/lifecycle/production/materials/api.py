"""Materials and suppliers API: thin — parse, call the service, shape the answer. Status changes
of supplier approvals and overrides go through the generic record transitions
(``/api/v1/records/supplier_approval/{id}/transitions/qualify``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.settings import get_settings
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.lifecycle.production.materials import scan as scanning
from pharmaqms.lifecycle.production.materials import service
from pharmaqms.lifecycle.production.materials.models import MaterialUseOverride, SupplierApproval
from pharmaqms.lifecycle.production.materials.schemas import (
    LotOut,
    MaterialGtin,
    MaterialLotReceive,
    OverrideCreate,
    OverrideOut,
    ScanOut,
    ScanRequest,
    SupplierApprovalCreate,
    SupplierApprovalOut,
    SupplierAuditRecord,
    SupplierCertificateCreate,
    SupplierCertificateOut,
    UseBlockOut,
    UseCheckOut,
)
from pharmaqms.platform.masterdata.models import Material, Supplier

router = APIRouter(prefix=PREFIX, tags=["production: materials"])


def approval_out(session: Session, approval: SupplierApproval) -> SupplierApprovalOut:
    out = SupplierApprovalOut.model_validate(approval)
    material = session.get(Material, approval.material_id)
    supplier = session.get(Supplier, approval.supplier_id)
    out.material_code = material.code if material else ""
    out.supplier_code = supplier.code if supplier else ""
    out.approved_today = service.standing(
        approval, clock.now().date(), (out.supplier_code, out.material_code)
    ).approved
    out.signatures = signatures_out(session, approval)
    return out


def override_out(session: Session, override: MaterialUseOverride) -> OverrideOut:
    out = OverrideOut.model_validate(override)
    out.signatures = signatures_out(session, override)
    return out


@router.get("/supplier-approvals", response_model=list[SupplierApprovalOut])
def list_approvals(actor: ActorDep, request: Request) -> list[SupplierApprovalOut]:
    actor.require("records.read", "read the approved supplier list")
    with transaction(request) as session:
        return [approval_out(session, a) for a, _m, _s in service.approved_supplier_list(session)]


@router.post("/supplier-approvals", response_model=SupplierApprovalOut, status_code=201)
def propose_supplier(
    body: SupplierApprovalCreate, actor: ActorDep, request: Request
) -> SupplierApprovalOut:
    with transaction(request) as session:
        approval = service.propose_supplier(
            session,
            actor=actor,
            material_code=body.material_code,
            supplier_code=body.supplier_code,
            manufacturer_site=body.manufacturer_site,
        )
        session.flush()
        return approval_out(session, approval)


@router.get("/supplier-approvals/{approval_id}", response_model=SupplierApprovalOut)
def get_approval(approval_id: RecordId, actor: ActorDep, request: Request) -> SupplierApprovalOut:
    actor.require("records.read", "read the approved supplier list")
    with transaction(request) as session:
        return approval_out(session, service.get_approval(session, approval_id))


@router.post("/supplier-approvals/{approval_id}/audits", response_model=SupplierApprovalOut)
def record_audit(
    approval_id: RecordId, body: SupplierAuditRecord, actor: ActorDep, request: Request
) -> SupplierApprovalOut:
    with transaction(request) as session:
        approval = service.record_supplier_audit(
            session,
            actor=actor,
            approval_id=approval_id,
            audited_on=body.audited_on,
            outcome=body.outcome,
            qualified_until=body.qualified_until,
            next_audit_due_on=body.next_audit_due_on,
            conditions=body.conditions,
            reason=body.reason,
        )
        session.flush()
        return approval_out(session, approval)


@router.post("/materials/{material_code}/gtin", response_model=dict[str, str])
def set_gtin(
    material_code: str, body: MaterialGtin, actor: ActorDep, request: Request
) -> dict[str, str]:
    with transaction(request) as session:
        material = service.set_material_gtin(
            session, actor=actor, material_code=material_code, gtin=body.gtin, reason=body.reason
        )
        return {"material_code": material.code, "gtin": material.gtin or ""}


@router.get("/material-lots", response_model=list[LotOut])
def list_material_lots(
    actor: ActorDep, request: Request, status: str | None = Query(default=None, max_length=20)
) -> list[LotOut]:
    actor.require("records.read", "read material lots")
    with transaction(request) as session:
        return [LotOut.model_validate(lot) for lot in service.material_lots(session, status=status)]


@router.post("/material-lots", response_model=LotOut, status_code=201)
def receive_lot(body: MaterialLotReceive, actor: ActorDep, request: Request) -> LotOut:
    with transaction(request) as session:
        lot = service.receive_material_lot(
            session,
            actor=actor,
            material_code=body.material_code,
            supplier_code=body.supplier_code,
            lot_number=body.lot_number,
            expires_on=body.expires_on,
            supplier_lot=body.supplier_lot,
            quantity=body.quantity,
            unit=body.unit,
            manufactured_on=body.manufactured_on,
        )
        session.flush()
        return LotOut.model_validate(lot)


@router.get("/material-lots/{lot_id}/use-check", response_model=UseCheckOut)
def use_check(
    lot_id: RecordId,
    actor: ActorDep,
    request: Request,
    at: datetime | None = None,
    expected_material: str | None = Query(default=None, max_length=40),
    batch_reference: str = Query(default="", max_length=60),
) -> UseCheckOut:
    """May this lot be used now (or at ``at``)? The reasons if not, and the QA override that
    covers them if there is one."""
    actor.require("records.read", "check material lots")
    when = at or clock.now()
    if when.tzinfo is None:
        raise InvalidInput("at needs a time zone (e.g. 2026-03-02T08:30:00Z)", field="at")
    with transaction(request) as session:
        lot = service.get_material_lot(session, lot_id)
        blocks = service.check_material_for_use(
            session, lot, at=when, expected_material=expected_material
        )
        override = service.covering_override(
            session, lot, blocks, at=when, batch_reference=batch_reference
        )
        return UseCheckOut(
            lot_id=lot.id,
            lot_number=lot.lot_number,
            at=when,
            usable=not blocks or override is not None,
            reasons=[UseBlockOut(code=b.code, message=b.message) for b in blocks],
            override=override.number if override else None,
        )


@router.post(
    "/material-lots/{lot_id}/certificates",
    response_model=SupplierCertificateOut,
    status_code=201,
)
def file_certificate(
    lot_id: RecordId, body: SupplierCertificateCreate, actor: ActorDep, request: Request
) -> SupplierCertificateOut:
    with transaction(request) as session:
        certificate = service.attach_certificate(
            session,
            actor=actor,
            lot_id=lot_id,
            certificate_number=body.certificate_number,
            issued_on=body.issued_on,
            values=[v.model_dump() for v in body.values],
        )
        session.flush()
        return SupplierCertificateOut.model_validate(certificate)


@router.post(
    "/material-lots/{lot_id}/certificates/file",
    response_model=SupplierCertificateOut,
    status_code=201,
)
async def upload_certificate(
    lot_id: RecordId,
    actor: ActorDep,
    request: Request,
    certificate_number: Annotated[str, Form(min_length=1, max_length=100)],
    file: Annotated[UploadFile, File()],
    issued_on: Annotated[date | None, Form()] = None,
) -> SupplierCertificateOut:
    limit = min(service.MAX_CERTIFICATE_BYTES, get_settings().max_upload_bytes)
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(f"the file is larger than {limit:,} bytes", field="file")
    with transaction(request, write=True) as session:
        certificate = service.attach_certificate(
            session,
            actor=actor,
            lot_id=lot_id,
            certificate_number=certificate_number,
            issued_on=issued_on,
            file_name=file.filename,
            content=content,
            content_type=file.content_type,
        )
        session.flush()
        return SupplierCertificateOut.model_validate(certificate)


@router.get("/material-lots/{lot_id}/certificates", response_model=list[SupplierCertificateOut])
def list_certificates(
    lot_id: RecordId, actor: ActorDep, request: Request
) -> list[SupplierCertificateOut]:
    actor.require("records.read", "read supplier certificates")
    with transaction(request) as session:
        return [
            SupplierCertificateOut.model_validate(c)
            for c in service.certificates_of(session, lot_id)
        ]


@router.get(
    "/supplier-certificates/{certificate_id}/file",
    response_class=Response,
    responses=file_responses("*/*"),
)
def certificate_file(certificate_id: RecordId, actor: ActorDep, request: Request) -> Response:
    actor.require("records.read", "read supplier certificates")
    with transaction(request) as session:
        certificate, content = service.certificate_file(session, certificate_id)
        name = certificate.file_name or "certificate"
        media = certificate.content_type or "application/octet-stream"
    # Shown in the browser only when it is a PDF; anything else a supplier sent is saved, never
    # rendered as a page of this site.
    inline = media == "application/pdf"
    return download(
        content, filename=name, media_type=media, disposition="inline" if inline else "attachment"
    )


@router.post("/material-lots/{lot_id}/overrides", response_model=OverrideOut, status_code=201)
def override(
    lot_id: RecordId, body: OverrideCreate, actor: ActorDep, request: Request
) -> OverrideOut:
    with transaction(request) as session:
        created = service.override_material_use(
            session,
            actor=actor,
            lot_id=lot_id,
            justification=body.justification,
            password=body.password,
            batch_reference=body.batch_reference,
            valid_until=body.valid_until,
        )
        session.flush()
        return override_out(session, created)


@router.post("/scan", response_model=ScanOut)
def scan(body: ScanRequest, actor: ActorDep, request: Request) -> ScanOut:
    """What a scanned container is and whether it may be used. An unreadable barcode is refused
    (422, the GS1 rule in ``code``); everything else is an answer."""
    actor.require("records.read", "scan containers")
    with transaction(request, write=False) as session:
        answer = scanning.scan(
            session, body.code, at=clock.now(), expected_material=body.expected_material
        )
        return ScanOut(tone=answer.tone, **asdict(answer))
