"""Certificates of analysis: prepared from a lot's valid results against one approved
specification (one market), reviewed by QC and approved by QA with their signatures. Approving
the certificate of a material lot releases the lot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.qc import material_release
from pharmaqms.lifecycle.production.qc.evaluation import judge
from pharmaqms.lifecycle.production.qc.models import (
    CertificateOfAnalysis,
    CertificateStatus,
    QcResult,
    ResultOutcome,
    ResultStatus,
    SpecificationStatus,
)
from pharmaqms.lifecycle.production.qc.results import get_lot
from pharmaqms.lifecycle.production.qc.specifications import get_specification
from pharmaqms.lifecycle.production.qc.status import qc_status_of_lot
from pharmaqms.lifecycle.production.qc.workflow import criterion_of
from pharmaqms.platform.masterdata.models import LotKind, LotStatus


def get_certificate(session: Session, certificate_id: int) -> CertificateOfAnalysis:
    coa = session.get(CertificateOfAnalysis, certificate_id)
    if coa is None:
        raise NotFound(f"no certificate of analysis with id {certificate_id}")
    return coa


def _line(test: Any, results: list[QcResult]) -> dict[str, Any]:
    """What the certificate says for one test: every valid result, judged against this
    specification's criterion (the one printed beside it)."""
    criterion = criterion_of(test)
    outcomes = []
    for r in results:
        verdict = judge(criterion, value=r.value, text_value=r.text_value, unit=r.unit)
        outcomes.append(verdict.outcome)
    if not results:
        outcome = "missing"
    elif ResultOutcome.FAIL in outcomes:
        outcome = ResultOutcome.FAIL.value
    elif ResultOutcome.NOT_EVALUATED in outcomes:
        outcome = ResultOutcome.NOT_EVALUATED.value
    else:
        outcome = ResultOutcome.PASS.value
    return {
        "test_code": test.test_code,
        "test_name": test.test_name,
        "method": test.method,
        "criterion": test.criterion_text,
        "results": [r.shown_value for r in results],
        "result_ids": [r.id for r in results],
        "result_id": results[0].id if results else None,
        "tested_at": [f"{r.tested_at:%Y-%m-%d %H:%M} UTC" for r in results],
        "outcome": outcome,
    }


def prepare_certificate(
    session: Session, *, actor: Actor, lot_id: int, specification_id: int
) -> CertificateOfAnalysis:
    """Draft the certificate of a lot against an approved specification. Refused while an OOS
    investigation of the lot is open, or when a draft for the same lot and specification is
    already in preparation."""
    actor.require("qc.certificates", "prepare certificates of analysis")
    lot = get_lot(session, lot_id)
    spec = get_specification(session, specification_id)
    if spec.status != SpecificationStatus.APPROVED:
        raise Conflict(f"{spec.number} is {spec.status.replace('_', ' ')}, not approved")
    if spec.item_code != lot.item_code:
        raise InvalidInput(
            f"{spec.number} is for {spec.item_code}; {lot.audit_label()} is {lot.item_code}",
            field="specification_id",
        )
    status = qc_status_of_lot(session, lot.id)
    if status.open_investigations:
        raise Conflict(
            f"{lot.audit_label()} has open OOS investigations "
            f"({', '.join(status.open_investigations)}): no certificate before they close"
        )
    pending = session.scalars(
        select(CertificateOfAnalysis.number).where(
            CertificateOfAnalysis.lot_id == lot.id,
            CertificateOfAnalysis.specification_id == spec.id,
            CertificateOfAnalysis.status.in_(
                [CertificateStatus.DRAFT.value, CertificateStatus.REVIEWED.value]
            ),
        )
    ).first()
    if pending is not None:
        raise Conflict(f"{pending} for this lot and specification is already in preparation")
    valid = list(
        session.scalars(
            select(QcResult)
            .where(QcResult.lot_id == lot.id, QcResult.status == ResultStatus.VALID)
            .order_by(QcResult.tested_at, QcResult.id)
        )
    )
    lines = [_line(t, [r for r in valid if r.test_code == t.test_code]) for t in spec.tests]
    coa = CertificateOfAnalysis(
        status=CertificateStatus.DRAFT.value,
        lot_id=lot.id,
        specification_id=spec.id,
        result_ids=sorted(i for line in lines for i in line["result_ids"]),
        reported=lines,
    )
    with audit.changes(session, actor=actor, reason=f"certificate of {lot.audit_label()}"):
        session.add(coa)
    return coa


def on_approved(session: Session, coa: CertificateOfAnalysis, *, actor: Actor) -> None:
    """QA approved. The lot's QC standing is checked once more (fail closed: the verdict must
    be "passed" — no open investigation, no out-of-trend result left unassessed, every test
    conforming — and no nonconforming product record open), and a material lot in quarantine
    is released."""
    lot = get_lot(session, coa.lot_id)
    status = qc_status_of_lot(session, lot.id)
    open_items = [] if status.passed else list(status.reasons)
    open_items.extend(
        f"nonconforming product record {n} is open" for n in status.open_nonconformances
    )
    if open_items:
        raise Conflict(
            f"{coa.number} is not approved: {lot.audit_label()}: " + "; ".join(open_items),
            reasons=open_items,
        )
    with audit.changes(session, actor=actor, reason=f"{coa.number} approved"):
        coa.approved_at = clock.now()
    if lot.kind != LotKind.MATERIAL or lot.status == LotStatus.RELEASED:
        return
    if lot.status != LotStatus.QUARANTINE:
        raise Conflict(f"{lot.audit_label()} is {lot.status}: only a lot in quarantine is released")
    material_release.release_material_lot(
        session, lot, f"released by QC: {coa.number} approved", actor=actor
    )


def certificates_of_lot(session: Session, lot_id: int) -> list[CertificateOfAnalysis]:
    return list(
        session.scalars(
            select(CertificateOfAnalysis)
            .where(CertificateOfAnalysis.lot_id == lot_id)
            .order_by(CertificateOfAnalysis.id)
        )
    )
