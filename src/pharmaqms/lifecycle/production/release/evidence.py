"""Everything linked to a batch that the release rules look at, loaded in a fixed number of
queries whatever the size of the batch record (no query per step): the lot, its batch record,
steps and signatures, exceptions, deviations, QC, consumed materials with their status history
and their supplier's standing on the approved supplier list over time, equipment with its
calibration and qualification history, the signers' training, change controls, SPC alerts and
nonconformances.

A part that can't be loaded is named in ``unavailable``; the rules that need it then fail
(fail closed) instead of passing on missing evidence.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound, QMSError
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.production.batchrecords.equipment import (
    Calibration,
    EquipmentStanding,
    Qualification,
    standing_at,
)
from pharmaqms.lifecycle.production.batchrecords.external_evidence import imported
from pharmaqms.lifecycle.production.batchrecords.external_service import review_of_lot
from pharmaqms.lifecycle.production.batchrecords.models import (
    BatchRecord,
    BatchRecordException,
    BatchStep,
    EntryKind,
    Equipment,
    EquipmentCalibration,
    EquipmentQualification,
    StepEntry,
)
from pharmaqms.lifecycle.production.batchrecords.service import definitions_by_hash
from pharmaqms.lifecycle.production.holds import placed_hold
from pharmaqms.lifecycle.production.materials.models import MaterialUseOverride, SupplierApproval
from pharmaqms.lifecycle.production.monitoring.models import AlertStatus, ProcessAlert
from pharmaqms.lifecycle.production.nonconforming.models import (
    OPEN_NONCONFORMANCE_STATUSES,
    NonconformingProduct,
)
from pharmaqms.lifecycle.production.qc.status import LotQcStatus, qc_status_of_lot
from pharmaqms.platform.masterdata.models import (
    Lot,
    LotKind,
    LotStatus,
    MaterialConsumption,
    Supplier,
)
from pharmaqms.quality.changes.models import OPEN_STATUSES as OPEN_CHANGE_STATUSES
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.deviations.models import Deviation, DeviationBatch
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.links import QualityLink
from pharmaqms.quality.training.gate import governing_documents
from pharmaqms.quality.training.models import RequirementStatus, TrainingRequirement

T = TypeVar("T")


# Steps and signatures come by the thousand: named tuples cost a fraction of a dataclass each.
class StepFacts(NamedTuple):
    id: int
    number: str
    position: int
    title: str
    status: str
    verification_required: bool
    entries_digest: str
    sop_numbers: tuple[str, ...]


class SignatureFacts(NamedTuple):
    record_type: str
    record_id: int
    signer_id: int
    signer_name: str
    signer_username: str
    meaning: str
    signed_at: datetime
    content_hash: str

    @property
    def signer(self) -> str:
        return f"{self.signer_name} ({self.signer_username})"


@dataclass(frozen=True)
class DeviationFacts:
    number: str
    title: str
    status: str
    classification: str | None
    # What the deviation decided for this batch, when it names it (None: not decided).
    disposition: str | None
    via: str  # how it is linked: "names the batch", "raised from EBR-…-0003", …


@dataclass(frozen=True)
class ConsumptionFacts:
    material_code: str
    lot_number: str
    quantity: float
    unit: str
    step: str
    consumed_at: datetime
    status_at_use: str | None  # None: no history to tell
    expires_on: date | None
    override: str | None  # the QA override it was used under
    override_codes: tuple[str, ...]
    # The lot's supplier on the approved supplier list for the material, as it stood at the
    # time of use (None: no supplier recorded on the lot).
    supplier: SupplierAtUse | None = None


@dataclass(frozen=True)
class SupplierAtUse:
    code: str
    approval: str | None  # the approved supplier list entry; None: the pair was never listed
    status: str | None  # its qualification status then; None: not on the list yet
    qualified_until: date | None  # the end of the qualification in force then


@dataclass(frozen=True)
class EquipmentUse:
    step_position: int
    code: str
    used_at: datetime
    standing: EquipmentStanding


@dataclass(frozen=True)
class TrainingCheck:
    signature: SignatureFacts
    document: str
    current: bool
    why: str  # the training that backs it, or what was wrong


@dataclass
class TrainingFacts:
    """Every signature checked against every document governing what it signed: the count,
    who and what, the trainings that backed them, and each check that failed."""

    checks: int = 0
    signers: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)
    backing: set[str] = field(default_factory=set)
    failures: list[TrainingCheck] = field(default_factory=list)


@dataclass(frozen=True)
class ExternalRecordFacts:
    """A batch executed in an external MES: its review by exception (None: not opened)."""

    executed_elsewhere: bool
    review_number: str | None = None
    review_status: str | None = None
    evidence_unchanged: bool = False
    reviewed_by: tuple[str, ...] = ()  # who signed "Reviewed" on the current content
    unassessed: tuple[str, ...] = ()
    assessed: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()


@dataclass
class Evidence:
    lot: Lot
    record: BatchRecord | None = None
    external: ExternalRecordFacts | None = None
    steps: list[StepFacts] = field(default_factory=list)
    step_signatures: list[SignatureFacts] = field(default_factory=list)
    record_signatures: list[SignatureFacts] = field(default_factory=list)
    exceptions: list[tuple[str, str, str, str]] = field(default_factory=list)
    deviations: list[DeviationFacts] = field(default_factory=list)
    qc: LotQcStatus | None = None
    consumptions: list[ConsumptionFacts] = field(default_factory=list)
    equipment_uses: list[EquipmentUse] = field(default_factory=list)
    training: TrainingFacts = field(default_factory=TrainingFacts)
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    spc_alerts: list[tuple[str, str]] = field(default_factory=list)
    nonconformances: list[tuple[str, str]] = field(default_factory=list)
    # Who placed the hold the lot is under, and the status before it: (record number, status).
    hold: tuple[str, str] | None = None
    # part → why it could not be loaded
    unavailable: dict[str, str] = field(default_factory=dict)


# The two reads that return a row per step or signature go straight to the DBAPI cursor with
# portable SQL: for thousands of rows, SQLAlchemy's statement compilation and per-value type
# processing cost several times the query itself. Values are converted here instead.
_STEPS_SQL = (
    "SELECT id, number, position, title, status, verification_required, entries_digest "
    "FROM batch_steps WHERE batch_record_id = {mark} ORDER BY position"
)
_SIGNATURE_SQL = (
    "SELECT s.record_type, s.record_id, s.signer_id, s.signer_name, s.signer_username, "
    "s.meaning, s.signed_at, s.content_hash FROM electronic_signatures s "
    "WHERE s.record_type = '{kind}' AND s.record_id {which} ORDER BY s.id"
)
# "IN (the record's steps)", not a join: the planner then looks the signatures up by their
# (record type, record id) index per step, instead of reading every step signature ever made.
_STEP_SIGNATURES_SQL = _SIGNATURE_SQL.format(
    kind="batch_step", which="IN (SELECT id FROM batch_steps WHERE batch_record_id = {mark})"
)
_RECORD_SIGNATURES_SQL = _SIGNATURE_SQL.format(kind="batch_record", which="= {mark}")


def _rows(session: Session, sql: str, *values: object) -> list[tuple[Any, ...]]:
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.format(mark=mark), values)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def utc(value: Any) -> datetime:
    """A timestamp as the driver returns it, as ``kernel.db.UTCDateTime`` would: SQLite keeps
    naive UTC text, PostgreSQL an aware value."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def _steps(session: Session, record: BatchRecord) -> list[StepFacts]:
    try:
        definitions = definitions_by_hash(session, record.master_id, record.master_definition_hash)
    except QMSError as refusal:
        raise QMSError(f"{record.number}: {refusal.detail}") from None
    sops = [d.sop_numbers for d in definitions]
    count = len(sops)
    return [
        StepFacts(
            step_id,
            number,
            position,
            title,
            status,
            bool(verification),
            digest,
            sops[position - 1] if 0 < position <= count else (),
        )
        for step_id, number, position, title, status, verification, digest in _rows(
            session, _STEPS_SQL, record.id
        )
    ]


def _signatures(session: Session, sql: str, record_id: int) -> list[SignatureFacts]:
    return [
        SignatureFacts(kind, rid, signer, name, username, meaning, utc(at), digest)
        for kind, rid, signer, name, username, meaning, at, digest in _rows(session, sql, record_id)
    ]


def _step_signatures(session: Session, record: BatchRecord) -> list[SignatureFacts]:
    return _signatures(session, _STEP_SIGNATURES_SQL, record.id)


def _record_signatures(session: Session, record: BatchRecord) -> list[SignatureFacts]:
    return _signatures(session, _RECORD_SIGNATURES_SQL, record.id)


def _exceptions(session: Session, record: BatchRecord) -> list[tuple[str, str, str, str]]:
    rows = session.execute(
        select(
            BatchRecordException.number,
            BatchRecordException.kind,
            BatchRecordException.status,
            BatchRecordException.description,
        )
        .where(BatchRecordException.batch_record_id == record.id)
        .order_by(BatchRecordException.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _deviations(session: Session, lot: Lot, record: BatchRecord | None) -> list[DeviationFacts]:
    found: dict[int, DeviationFacts] = {}
    named = session.execute(
        select(
            Deviation.id,
            Deviation.number,
            Deviation.title,
            Deviation.status,
            Deviation.classification,
            DeviationBatch.disposition,
        )
        .join(DeviationBatch, DeviationBatch.deviation_id == Deviation.id)
        .where(DeviationBatch.batch_id == lot.lot_number)
    )
    for row in named:
        found[row.id] = DeviationFacts(
            row.number,
            row.title,
            row.status,
            row.classification,
            row.disposition,
            "names the batch",
        )
    sources = [and_(QualityLink.source_type == "lot", QualityLink.source_id == lot.id)]
    if record is not None:
        steps = select(BatchStep.id).where(BatchStep.batch_record_id == record.id)
        exceptions = select(BatchRecordException.id).where(
            BatchRecordException.batch_record_id == record.id
        )
        sources += [
            and_(QualityLink.source_type == "batch_record", QualityLink.source_id == record.id),
            and_(QualityLink.source_type == "batch_step", QualityLink.source_id.in_(steps)),
            and_(
                QualityLink.source_type == "batch_record_exception",
                QualityLink.source_id.in_(exceptions),
            ),
        ]
    linked = session.execute(
        select(
            Deviation.id,
            Deviation.number,
            Deviation.title,
            Deviation.status,
            Deviation.classification,
            QualityLink.source_label,
        )
        .join(QualityLink, QualityLink.target_id == Deviation.id)
        .where(QualityLink.target_type == "deviation", or_(*sources))
    )
    for row in linked:
        if row.id not in found:
            found[row.id] = DeviationFacts(
                row.number,
                row.title,
                row.status,
                row.classification,
                None,
                f"raised from {row.source_label}",
            )
    escalated = session.execute(
        select(
            Deviation.id,
            Deviation.number,
            Deviation.title,
            Deviation.status,
            Deviation.classification,
            ProcessAlert.number.label("alert"),
        )
        .join(ProcessAlert, ProcessAlert.deviation_id == Deviation.id)
        .where(ProcessAlert.batch_id == lot.id)
    )
    for row in escalated:
        if row.id not in found:
            found[row.id] = DeviationFacts(
                row.number, row.title, row.status, row.classification, None, f"from {row.alert}"
            )
    return sorted(found.values(), key=lambda d: d.number)


def _status_history(session: Session, lot_ids: set[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Each lot's status over time, from its audit trail: (from when, status)."""
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    if not lot_ids:
        return history
    rows = session.execute(
        select(AuditEntry.record_id, AuditEntry.occurred_at, AuditEntry.changes)
        .where(
            AuditEntry.record_type == Lot.__audit_type__,
            AuditEntry.record_id.in_(sorted(lot_ids)),
            or_(AuditEntry.action == "create", AuditEntry.action.like("lot_%")),
        )
        .order_by(AuditEntry.seq)
    )
    for record_id, occurred_at, raw in rows:
        change = json.loads(raw).get("status")
        if (
            record_id is not None
            and isinstance(change, list)
            and len(change) == 2
            and isinstance(change[1], str)
        ):
            history[record_id].append((occurred_at, change[1]))
    return history


def status_at(history: list[tuple[datetime, str]], at: datetime) -> str | None:
    found = None
    for since, status in history:
        if since > at:
            break
        found = status
    return found


def _approval_history(
    session: Session, approval_ids: set[int]
) -> dict[int, list[tuple[datetime, str | None, date | None]]]:
    """Each approved supplier list entry over time, from its audit trail: (from when, status,
    qualified until) — so a use is judged by the approval in force then, not by today's."""
    history: dict[int, list[tuple[datetime, str | None, date | None]]] = defaultdict(list)
    if not approval_ids:
        return history
    rows = session.execute(
        select(AuditEntry.record_id, AuditEntry.occurred_at, AuditEntry.changes)
        .where(
            AuditEntry.record_type == SupplierApproval.__audit_type__,
            AuditEntry.record_id.in_(sorted(approval_ids)),
        )
        .order_by(AuditEntry.seq)
    )
    for record_id, occurred_at, raw in rows:
        if record_id is None:
            continue
        changes = json.loads(raw)
        before = history[record_id][-1] if history[record_id] else (occurred_at, None, None)
        status, until = before[1], before[2]
        if isinstance(changes.get("status"), list) and len(changes["status"]) == 2:
            status = changes["status"][1]
        if (
            isinstance(changes.get("qualified_until"), list)
            and len(changes["qualified_until"]) == 2
        ):
            new = changes["qualified_until"][1]
            until = date.fromisoformat(new[:10]) if isinstance(new, str) else None
        if (status, until) != before[1:]:
            history[record_id].append((occurred_at, status, until))
    return history


def approval_at(
    history: list[tuple[datetime, str | None, date | None]], at: datetime
) -> tuple[str | None, date | None]:
    found: tuple[str | None, date | None] = (None, None)
    for since, status, until in history:
        if since > at:
            break
        found = (status, until)
    return found


def _consumptions(session: Session, lot: Lot) -> list[ConsumptionFacts]:
    rows = session.execute(
        select(
            MaterialConsumption.id,
            MaterialConsumption.material_lot_id,
            MaterialConsumption.quantity,
            MaterialConsumption.unit,
            MaterialConsumption.step,
            MaterialConsumption.consumed_at,
            Lot.lot_number,
            Lot.item_code,
            Lot.expires_on,
            Supplier.code.label("supplier_code"),
            SupplierApproval.id.label("approval_id"),
            SupplierApproval.number.label("approval_number"),
        )
        .join(Lot, Lot.id == MaterialConsumption.material_lot_id)
        .outerjoin(Supplier, Supplier.id == Lot.supplier_id)
        .outerjoin(
            SupplierApproval,
            and_(
                SupplierApproval.material_id == Lot.material_id,
                SupplierApproval.supplier_id == Lot.supplier_id,
            ),
        )
        .where(MaterialConsumption.batch_id == lot.id)
        .order_by(MaterialConsumption.consumed_at, MaterialConsumption.id)
    ).all()
    # A correction reverses a consumption with a negative row: the pair cancels out.
    standing = [r for r in rows if r.quantity > 0]
    for reversal in (r for r in rows if r.quantity < 0):
        for index, row in enumerate(standing):
            if (
                row.material_lot_id == reversal.material_lot_id
                and row.quantity == -reversal.quantity
                and row.consumed_at <= reversal.consumed_at
            ):
                del standing[index]
                break
    overrides = {
        consumption_id: (number, tuple(codes))
        for consumption_id, number, codes in session.execute(
            select(
                StepEntry.consumption_id,
                MaterialUseOverride.number,
                MaterialUseOverride.reason_codes,
            )
            .join(MaterialUseOverride, MaterialUseOverride.id == StepEntry.override_id)
            .join(MaterialConsumption, MaterialConsumption.id == StepEntry.consumption_id)
            .where(MaterialConsumption.batch_id == lot.id)
        )
    }
    history = _status_history(session, {r.material_lot_id for r in standing})
    approvals = _approval_history(
        session, {r.approval_id for r in standing if r.approval_id is not None}
    )

    def supplier_at_use(r: Any) -> SupplierAtUse | None:
        if r.supplier_code is None:
            return None
        if r.approval_id is None:
            return SupplierAtUse(r.supplier_code, None, None, None)
        status, until = approval_at(approvals.get(r.approval_id, []), r.consumed_at)
        return SupplierAtUse(r.supplier_code, r.approval_number, status, until)

    return [
        ConsumptionFacts(
            material_code=r.item_code,
            lot_number=r.lot_number,
            quantity=r.quantity,
            unit=r.unit,
            step=r.step,
            consumed_at=r.consumed_at,
            status_at_use=status_at(history.get(r.material_lot_id, []), r.consumed_at),
            expires_on=r.expires_on,
            override=overrides.get(r.id, (None, ()))[0],
            override_codes=overrides.get(r.id, (None, ()))[1],
            supplier=supplier_at_use(r),
        )
        for r in standing
    ]


def _equipment_uses(session: Session, record: BatchRecord) -> list[EquipmentUse]:
    uses = session.execute(
        select(StepEntry.equipment_id, StepEntry.recorded_at, BatchStep.position)
        .join(BatchStep, BatchStep.id == StepEntry.step_id)
        .where(
            StepEntry.batch_record_id == record.id,
            StepEntry.kind == EntryKind.EQUIPMENT.value,
            StepEntry.replaced_by_id.is_(None),
        )
        .order_by(BatchStep.position, StepEntry.id)
    ).all()
    ids = sorted({u.equipment_id for u in uses if u.equipment_id is not None})
    if not ids:
        return []
    equipment = {
        e.id: e
        for e in session.execute(
            select(
                Equipment.id,
                Equipment.code,
                Equipment.calibration_required,
                Equipment.retired_at,
            ).where(Equipment.id.in_(ids))
        )
    }
    calibrations: dict[int, list[Calibration]] = defaultdict(list)
    for row in session.execute(
        select(
            EquipmentCalibration.equipment_id,
            EquipmentCalibration.id,
            EquipmentCalibration.calibrated_at,
            EquipmentCalibration.due_on,
            EquipmentCalibration.as_found_in_tolerance,
            EquipmentCalibration.as_left_in_tolerance,
            EquipmentCalibration.certificate,
        ).where(EquipmentCalibration.equipment_id.in_(ids))
    ):
        calibrations[row[0]].append(Calibration(*row[1:]))  # same order as the fields
    qualifications: dict[int, list[Qualification]] = defaultdict(list)
    for q in session.execute(
        select(
            EquipmentQualification.equipment_id,
            EquipmentQualification.id,
            EquipmentQualification.stage,
            EquipmentQualification.qualified_at,
            EquipmentQualification.valid_until,
            EquipmentQualification.passed,
            EquipmentQualification.report,
        ).where(EquipmentQualification.equipment_id.in_(ids))
    ):
        qualifications[q[0]].append(Qualification(*q[1:]))
    found = []
    for use in uses:
        item = equipment.get(use.equipment_id)
        if item is None:
            raise NotFound(f"equipment #{use.equipment_id} used at step {use.position} is unknown")
        found.append(
            EquipmentUse(
                use.position,
                item.code,
                use.recorded_at,
                standing_at(
                    item.code,
                    calibration_required=item.calibration_required,
                    retired_at=item.retired_at,
                    qualifications=qualifications[item.id],
                    calibrations=calibrations[item.id],
                    at=use.recorded_at,
                    hindsight=True,
                ),
            )
        )
    return found


def _trained_at(requirements: list[Any], at: datetime, document: str) -> tuple[bool, str]:
    """Was the person trained on the document at ``at``: a completed training valid then, and
    no training on it overdue then (the standing the training gate allows work under)."""
    overdue = [
        r
        for r in requirements
        if r.due_at < at
        and r.status != RequirementStatus.CANCELLED
        and (r.completed_at is None or r.completed_at > at)
    ]
    if overdue:
        first = min(overdue, key=lambda r: r.due_at)
        return (
            False,
            f"{document}: training {first.number} was overdue since {first.due_at:%Y-%m-%d}",
        )
    valid = [
        r
        for r in requirements
        if r.status == RequirementStatus.COMPLETED
        and r.completed_at is not None
        and r.completed_at <= at
        and (r.expires_at is None or r.expires_at > at)
    ]
    if not valid:
        return False, f"{document}: no completed training valid at {at:%Y-%m-%d %H:%M} UTC"
    latest = max(valid, key=lambda r: r.completed_at)
    return True, f"{document}: {latest.number} ({latest.version_number})"


def _intervals(moments: list[datetime], times: list[datetime]) -> Iterator[tuple[int, int]]:
    """Index ranges of ``times`` (sorted) falling before, on, between and after ``moments``
    (sorted): within one range, every comparison with a training's dates comes out the same."""
    low = 0
    for moment in moments:
        before = bisect_left(times, moment, low)
        if before > low:
            yield low, before
        on = bisect_right(times, moment, before)
        if on > before:
            yield before, on
        low = on
    if low < len(times):
        yield low, len(times)


_REQUIREMENTS = select(
    TrainingRequirement.user_id,
    TrainingRequirement.document_id,
    TrainingRequirement.number,
    TrainingRequirement.status,
    TrainingRequirement.version_number,
    TrainingRequirement.due_at,
    TrainingRequirement.completed_at,
    TrainingRequirement.expires_at,
).where(
    TrainingRequirement.user_id.in_(bindparam("users", expanding=True)),
    TrainingRequirement.document_id.in_(bindparam("documents", expanding=True)),
)


def _training(session: Session, evidence: Evidence) -> TrainingFacts:
    """Every signer of the batch record against the documents governing what they signed."""
    by_step = {s.id: s.sop_numbers for s in evidence.steps}
    step_rules = {
        t: tuple(d.number for d in governing_documents(session, BatchStep.__audit_type__, t))
        for t in ("perform", "verify")
    }
    record_rule = tuple(
        d.number for d in governing_documents(session, BatchRecord.__audit_type__, "complete")
    )
    # Signatures by signer and the documents governing what they signed, in the order signed:
    # a verdict per stretch of time between the signer's training dates, not per signature.
    groups: dict[tuple[int, tuple[str, ...]], list[SignatureFacts]] = defaultdict(list)
    for signature in evidence.step_signatures:
        docs = by_step.get(signature.record_id, ())
        extra = step_rules["verify" if signature.meaning == "Verified" else "perform"]
        groups[(signature.signer_id, (*docs, *extra) if extra else docs)].append(signature)
    for signature in evidence.record_signatures:
        groups[(signature.signer_id, record_rule)].append(signature)
    facts = TrainingFacts()
    numbers = sorted({n for _, docs in groups for n in docs})
    if not numbers:
        return facts
    documents = dict(
        session.execute(
            select(ControlledDocument.number, ControlledDocument.id).where(
                ControlledDocument.number.in_(numbers)
            )
        ).all()
    )
    requirements: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in session.connection().execute(
        _REQUIREMENTS,
        {"users": sorted({u for u, _ in groups}), "documents": sorted(documents.values())},
    ):
        requirements[(row.user_id, row.document_id)].append(row)
    backing: set[str] = set()
    for (signer_id, docs), signatures in groups.items():
        signatures.sort(key=lambda sig: sig.signed_at)
        times = [sig.signed_at for sig in signatures]
        signer = signatures[0].signer
        facts.signers.add(signer)
        facts.checks += len(signatures) * len(docs)
        for number in docs:
            document_id = documents.get(number)
            if document_id is None:
                facts.failures += [
                    TrainingCheck(sig, number, False, f"{number}: no such document")
                    for sig in signatures
                ]
                continue
            held = requirements[(signer_id, document_id)]
            moments = sorted(
                {m for r in held for m in (r.due_at, r.completed_at, r.expires_at) if m}
            )
            for low, high in _intervals(moments, times):
                current, why = _trained_at(held, times[low], number)
                if current:
                    backing.add(f"{signer}: {why}")
                else:
                    facts.failures += [
                        TrainingCheck(sig, number, False, why) for sig in signatures[low:high]
                    ]
    facts.documents = set(numbers)
    facts.backing = backing
    return facts


def _changes(session: Session, lot: Lot, record: BatchRecord | None) -> list[tuple[str, str, str]]:
    sources = [and_(QualityLink.source_type == "lot", QualityLink.source_id == lot.id)]
    if record is not None:
        steps = select(BatchStep.id).where(BatchStep.batch_record_id == record.id)
        sources += [
            and_(QualityLink.source_type == "batch_record", QualityLink.source_id == record.id),
            and_(QualityLink.source_type == "batch_step", QualityLink.source_id.in_(steps)),
        ]
    rows = session.execute(
        select(ChangeRequest.number, ChangeRequest.title, ChangeRequest.status)
        .join(QualityLink, QualityLink.target_id == ChangeRequest.id)
        .where(
            QualityLink.target_type == "change_request",
            or_(*sources),
            ChangeRequest.status.in_([s.value for s in OPEN_CHANGE_STATUSES]),
        )
        .distinct()
        .order_by(ChangeRequest.number)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _spc_alerts(session: Session, lot: Lot) -> list[tuple[str, str]]:
    rows = session.execute(
        select(ProcessAlert.number, ProcessAlert.subject)
        .where(ProcessAlert.batch_id == lot.id, ProcessAlert.status == AlertStatus.OPEN.value)
        .order_by(ProcessAlert.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _nonconformances(session: Session, lot: Lot) -> list[tuple[str, str]]:
    rows = session.execute(
        select(NonconformingProduct.number, NonconformingProduct.status)
        .where(
            NonconformingProduct.lot_id == lot.id,
            NonconformingProduct.status.in_([s.value for s in OPEN_NONCONFORMANCE_STATUSES]),
        )
        .order_by(NonconformingProduct.number)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _part(evidence: Evidence, name: str, load: Callable[[], T], default: T) -> T:
    """Load one part; a failure is recorded (the rules needing it fail) and the rest goes on."""
    try:
        return load()
    except Exception as failure:
        evidence.unavailable[name] = str(failure) or type(failure).__name__
        return default


def _external(session: Session, lot: Lot) -> ExternalRecordFacts:
    found = imported(session, lot)
    if not found.executed_elsewhere:
        return ExternalRecordFacts(executed_elsewhere=False)
    review = review_of_lot(session, lot.id)
    summary = (
        f"imported: {found.summary['readings']} process readings, "
        f"{len(found.summary['consumptions'])} material consumptions, "
        f"end of batch {found.summary['manufacturing_ended_at'] or 'not reported'}",
        found.summary["limits"],
    )
    if review is None:
        return ExternalRecordFacts(executed_elsewhere=True, summary=summary)
    current = review.content_hash()
    signers = tuple(
        f"{s.signer_name} on {s.signed_at:%Y-%m-%d %H:%M}"
        for s in signatures_of(session, review)
        if s.meaning == "Reviewed" and s.content_hash == current
    )
    comments = review.comments or {}
    return ExternalRecordFacts(
        executed_elsewhere=True,
        review_number=review.number,
        review_status=review.status,
        evidence_unchanged=found.digest == review.evidence_digest,
        reviewed_by=signers,
        unassessed=tuple(
            e["text"] for e in review.exceptions if not (comments.get(e["key"]) or "").strip()
        ),
        assessed=tuple(
            f"{e['text']} — {comments[e['key']]}"
            for e in review.exceptions
            if (comments.get(e["key"]) or "").strip()
        ),
        summary=summary,
    )


def gather(session: Session, lot_id: int) -> Evidence:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot with id {lot_id}")
    if lot.kind != LotKind.FINISHED:
        raise NotFound(f"{lot.audit_label()} is a material lot, not a batch to release")
    evidence = Evidence(lot=lot)
    record = session.scalars(select(BatchRecord).where(BatchRecord.lot_id == lot.id)).first()
    evidence.record = record
    if record is None:
        evidence.external = _part(evidence, "steps", lambda: _external(session, lot), None)
    if record is not None:
        evidence.steps = _part(evidence, "steps", lambda: _steps(session, record), [])
        evidence.step_signatures = _part(
            evidence, "signatures", lambda: _step_signatures(session, record), []
        )
        evidence.record_signatures = _part(
            evidence, "signatures", lambda: _record_signatures(session, record), []
        )
        evidence.exceptions = _part(
            evidence, "exceptions", lambda: _exceptions(session, record), []
        )
        evidence.equipment_uses = _part(
            evidence, "equipment", lambda: _equipment_uses(session, record), []
        )
    evidence.deviations = _part(
        evidence, "deviations", lambda: _deviations(session, lot, record), []
    )
    evidence.qc = _part(evidence, "qc", lambda: qc_status_of_lot(session, lot.id), None)
    evidence.consumptions = _part(evidence, "materials", lambda: _consumptions(session, lot), [])
    if "steps" not in evidence.unavailable and "signatures" not in evidence.unavailable:
        evidence.training = _part(
            evidence, "training", lambda: _training(session, evidence), TrainingFacts()
        )
    else:
        evidence.unavailable["training"] = "the signatures of the batch record could not be read"
    evidence.changes = _part(evidence, "changes", lambda: _changes(session, lot, record), [])
    evidence.spc_alerts = _part(evidence, "spc", lambda: _spc_alerts(session, lot), [])
    evidence.nonconformances = _part(
        evidence, "nonconformances", lambda: _nonconformances(session, lot), []
    )
    if lot.status == LotStatus.ON_HOLD:
        evidence.hold = _part(evidence, "hold", lambda: placed_hold(session, lot.id), None)
    return evidence
