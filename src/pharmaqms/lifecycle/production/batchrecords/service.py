"""Executed batch records: opening one for a batch from an effective master, the order of the
steps, the operator's and the verifier's signatures, the production review that completes the
record (and ends manufacture), and a deviation raised from a step in one step.

Every step transition, from whichever door, passes ``batch_record_gate``: the steps in order
(Part 11 §11.10(f)), the entries the master asks for present, the person trained on the step's
SOPs. The entries themselves are made in ``entries.py``; exceptions in ``exceptions.py``.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash, sha256_hex
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, TransitionNotAllowed
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.workflow import Transition, TransitionResult, perform
from pharmaqms.lifecycle.production.batchrecords import masters
from pharmaqms.lifecycle.production.batchrecords.definition import StepDefinition
from pharmaqms.lifecycle.production.batchrecords.exceptions import (
    has_exception,
    record_exception,
)
from pharmaqms.lifecycle.production.batchrecords.models import (
    DONE_STEP_STATUSES,
    BatchRecord,
    BatchRecordStatus,
    BatchStep,
    EntryKind,
    ExceptionKind,
    MasterBatchRecord,
    StepEntry,
    StepStatus,
)
from pharmaqms.lifecycle.production.batchrecords.workflow import (
    BATCH_RECORD_WORKFLOW,
    BATCH_STEP_WORKFLOW,
)
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot, LotKind, LotStatus, Product
from pharmaqms.quality import events
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.training.gate import require_current_training

# Definitions by (master id, definition hash): a master that batches are made to no longer
# changes, and parsing thousands of steps for every entry would cost more than the entry.
_DEFINITIONS: dict[tuple[int, str], list[StepDefinition]] = {}
MAX_CACHED_DEFINITIONS = 32
GENESIS = "0" * 64


def step_definitions(master: MasterBatchRecord) -> list[StepDefinition]:
    key = (master.id, master.definition_hash)
    found = _DEFINITIONS.get(key)
    if found is None:
        if len(_DEFINITIONS) >= MAX_CACHED_DEFINITIONS:
            _DEFINITIONS.clear()
        found = _DEFINITIONS[key] = masters.steps(master)
    return found


def definitions_by_hash(
    session: Session, master_id: int, definition_hash: str
) -> list[StepDefinition]:
    """The steps of a master as hashed ``definition_hash``, without loading (and decoding) its
    stored steps when they are known already; refused when the master no longer hashes so."""
    found = _DEFINITIONS.get((master_id, definition_hash))
    if found is not None:
        stored = session.scalar(
            select(MasterBatchRecord.definition_hash).where(MasterBatchRecord.id == master_id)
        )
        if stored == definition_hash:
            return found
    master = masters.get_master(session, master_id)
    if master.definition_hash != definition_hash:
        raise Conflict(
            f"{master.number} no longer matches the definition {definition_hash[:12]}… the "
            "batch was made to"
        )
    return step_definitions(master)


def definitions_of(session: Session, record: BatchRecord) -> list[StepDefinition]:
    master = masters.get_master(session, record.master_id)
    if master.definition_hash != record.master_definition_hash:
        raise Conflict(
            f"{record.number} was opened from {master.number} as it was hashed "
            f"{record.master_definition_hash[:12]}…, which no longer matches the master"
        )
    return step_definitions(master)


def definition_of(session: Session, step: BatchStep) -> StepDefinition:
    record = get_batch_record(session, step.batch_record_id)
    return definitions_of(session, record)[step.position - 1]


# --- lookups --------------------------------------------------------------------------------


def get_batch_record(session: Session, record_id: int) -> BatchRecord:
    record = session.get(BatchRecord, record_id)
    if record is None:
        raise NotFound(f"no batch record with id {record_id}")
    return record


def record_of_lot(session: Session, lot_id: int) -> BatchRecord | None:
    return session.scalars(select(BatchRecord).where(BatchRecord.lot_id == lot_id)).first()


def get_step(session: Session, step_id: int) -> BatchStep:
    step = session.get(BatchStep, step_id)
    if step is None:
        raise NotFound(f"no batch record step with id {step_id}")
    return step


def steps_of(session: Session, record_id: int) -> list[BatchStep]:
    return list(
        session.scalars(
            select(BatchStep)
            .where(BatchStep.batch_record_id == record_id)
            .order_by(BatchStep.position)
        )
    )


def current_entries(session: Session, step_id: int) -> list[StepEntry]:
    """The entries of a step that stand (not replaced by a correction), in order."""
    return list(
        session.scalars(
            select(StepEntry)
            .where(StepEntry.step_id == step_id, StepEntry.replaced_by_id.is_(None))
            .order_by(StepEntry.id)
        )
    )


def all_entries(session: Session, step_id: int) -> list[StepEntry]:
    return list(
        session.scalars(
            select(StepEntry).where(StepEntry.step_id == step_id).order_by(StepEntry.id)
        )
    )


def list_batch_records(session: Session, *, status: str | None = None) -> list[BatchRecord]:
    query = select(BatchRecord).order_by(BatchRecord.id.desc())
    if status:
        query = query.where(BatchRecord.status == status)
    return list(session.scalars(query))


# --- opening a batch record -----------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _batch_lot(
    session: Session, *, actor: Actor, master: MasterBatchRecord, lot_number: str
) -> Lot:
    lot = session.scalars(
        select(Lot).where(
            Lot.kind == LotKind.FINISHED,
            Lot.item_code == master.product_code,
            Lot.lot_number == lot_number.strip(),
        )
    ).first()
    if lot is not None:
        if lot.status != LotStatus.QUARANTINE:
            raise Conflict(
                f"{lot.audit_label()} is {lot.status}: a batch record is opened for a batch "
                "in quarantine"
            )
        return lot
    product = session.get(Product, master.product_id)
    assert product is not None  # a foreign key
    today = clock.now().date()
    return masterdata.add_lot(
        session,
        actor=actor,
        kind=LotKind.FINISHED.value,
        item_code=master.product_code,
        lot_number=lot_number,
        quantity=master.batch_size,
        unit=master.batch_unit,
        manufactured_on=today,
        expires_on=_add_months(today, product.shelf_life_months),
        status=LotStatus.QUARANTINE.value,
    )


def open_batch_record(
    session: Session, *, actor: Actor, master_id: int, lot_number: str
) -> BatchRecord:
    """The executed batch record of a batch (the lot is registered in quarantine when it is not
    known yet), with one pending step per step of the effective master."""
    actor.require("batchrecords.open", "open batch records")
    master = masters.get_master(session, master_id)
    masters.require_effective(session, master)
    if not (lot_number or "").strip():
        raise InvalidInput("the batch (lot) number", field="lot_number")
    lot = _batch_lot(session, actor=actor, master=master, lot_number=lot_number)
    session.flush()
    existing = record_of_lot(session, lot.id)
    if existing is not None:
        raise Conflict(f"{lot.audit_label()} has its batch record already: {existing.number}")
    definitions = step_definitions(master)
    record = BatchRecord(
        status=BatchRecordStatus.IN_PROGRESS.value,
        lot_id=lot.id,
        master_id=master.id,
        master_number=master.number,
        master_definition_hash=master.definition_hash,
        product_code=master.product_code,
        step_count=len(definitions),
        steps_digest=GENESIS,
        started_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"batch record opened from {master.number}"):
        session.add(record)
    with audit.changes(session, actor=actor, reason=f"steps of {master.number}"):
        for step in definitions:
            session.add(
                BatchStep(
                    number=f"{record.number}-{step.position:04d}",
                    status=StepStatus.PENDING.value,
                    batch_record_id=record.id,
                    position=step.position,
                    path=step.path[:250],
                    title=step.title,
                    verification_required=step.verification_required,
                    target_minutes=step.target_minutes,
                    entries_digest=content_hash([]),
                )
            )
    return record


# --- the gate every step transition passes --------------------------------------------------


def _refuse(reasons: list[str]) -> None:
    if reasons:
        raise TransitionNotAllowed("; ".join(reasons), reasons=reasons)


def missing_entries(definition: StepDefinition, entries: list[StepEntry]) -> list[str]:
    """What the master asks of the step that is not recorded yet."""
    have = {(e.kind, e.name) for e in entries}
    missing = [
        f"dispense {m.material_code}"
        for m in definition.materials
        if (EntryKind.MATERIAL.value, m.material_code) not in have
    ]
    missing += [
        f"enter {p.name}"
        for p in definition.parameters
        if (EntryKind.PARAMETER.value, p.name) not in have
    ]
    missing += [
        f"enter the in-process control {c.name}"
        for c in definition.in_process_controls
        if (EntryKind.CONTROL.value, c.name) not in have
    ]
    missing += [
        f"record the {kind} used"
        for kind in definition.equipment
        if (EntryKind.EQUIPMENT.value, kind) not in have
    ]
    return missing


def _previous_open(session: Session, step: BatchStep) -> int | None:
    """The position of the first earlier step not performed yet, if any."""
    return session.scalar(
        select(func.min(BatchStep.position)).where(
            BatchStep.batch_record_id == step.batch_record_id,
            BatchStep.position < step.position,
            BatchStep.status.not_in(sorted(DONE_STEP_STATUSES)),
        )
    )


def batch_record_gate(
    session: Session, actor: Actor, record: GxPRecord, transition: Transition
) -> None:
    """Refuse a step or record transition the batch record does not allow now. Writes nothing:
    pages ask it which buttons to offer."""
    if isinstance(record, BatchRecord):
        if transition.name == "complete":
            open_steps = session.scalars(
                select(BatchStep.position)
                .where(
                    BatchStep.batch_record_id == record.id,
                    BatchStep.status.not_in(sorted(DONE_STEP_STATUSES)),
                )
                .order_by(BatchStep.position)
                .limit(5)
            ).all()
            if open_steps:
                shown = ", ".join(str(p) for p in open_steps)
                _refuse([f"steps not performed yet: {shown}{'…' if len(open_steps) == 5 else ''}"])
        return
    if not isinstance(record, BatchStep):
        return
    batch = get_batch_record(session, record.batch_record_id)
    definition = definitions_of(session, batch)[record.position - 1]
    reasons: list[str] = []
    if transition.name in ("start", "perform") and batch.status != BatchRecordStatus.IN_PROGRESS:
        reasons.append(f"{batch.number} is {batch.status.replace('_', ' ')}")
    if transition.name == "start":
        earlier = _previous_open(session, record)
        if earlier is not None:
            reasons.append(
                f"steps are performed in order: step {earlier} of {batch.number} is not "
                "performed yet"
            )
    if transition.name == "perform":
        reasons += [
            f"step {record.position}: {what}"
            for what in missing_entries(definition, current_entries(session, record.id))
        ]
    _refuse(reasons)
    require_current_training(session, actor, definition.sop_numbers)


# --- step transitions -----------------------------------------------------------------------


def start_step(session: Session, *, actor: Actor, step_id: int) -> TransitionResult:
    actor.require("batchrecords.execute", "execute batch record steps")
    return perform(session, BATCH_STEP_WORKFLOW, get_step(session, step_id), "start", actor=actor)


def on_step_started(session: Session, step: BatchStep, *, actor: Actor) -> None:
    """The clock of the step starts; a verification the batch went on without is recorded."""
    record = get_batch_record(session, step.batch_record_id)
    with audit.changes(session, actor=actor, reason=f"step {step.position} started"):
        step.started_at = clock.now()
    unverified = session.scalars(
        select(BatchStep)
        .where(
            BatchStep.batch_record_id == step.batch_record_id,
            BatchStep.position < step.position,
            BatchStep.verification_required.is_(True),
            BatchStep.status != StepStatus.VERIFIED,
        )
        .order_by(BatchStep.position)
    ).all()
    for earlier in unverified:
        _missing_verification(session, actor=actor, record=record, step=earlier, when="continued")


def _missing_verification(
    session: Session, *, actor: Actor, record: BatchRecord, step: BatchStep, when: str
) -> None:
    if has_exception(session, step.id, ExceptionKind.MISSING_VERIFICATION):
        return
    record_exception(
        session,
        actor=actor,
        record=record,
        step=step,
        kind=ExceptionKind.MISSING_VERIFICATION,
        description=(
            f"step {step.position} ({step.title}) needs a second-person verification; the batch "
            f"record {when} without it"
        ),
    )


def perform_step(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    password: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    actor.require("batchrecords.execute", "sign batch record steps")
    step = get_step(session, step_id)
    return perform(
        session,
        BATCH_STEP_WORKFLOW,
        step,
        "perform",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


def on_step_performed(session: Session, step: BatchStep, *, actor: Actor) -> None:
    """Record who performed the step and when, chain it into the record's digest (which the
    production review signs), and flag a step performed after its target duration."""
    record = get_batch_record(session, step.batch_record_id)
    now = clock.now()
    started = step.started_at or now
    with audit.changes(session, actor=actor, reason=f"step {step.position} performed"):
        step.started_at = started
        step.performed_at = now
        step.performed_by_id = actor.user_id
        record.steps_digest = chain_digest(record.steps_digest, step.number, step.entries_digest)
    took = now - started
    if took > timedelta(minutes=step.target_minutes):
        minutes = int(took.total_seconds() // 60)
        record_exception(
            session,
            actor=actor,
            record=record,
            step=step,
            kind=ExceptionKind.LATE_STEP,
            description=(
                f"step {step.position} ({step.title}) took {minutes} min; its target is "
                f"{step.target_minutes} min"
            ),
        )


@functools.lru_cache(maxsize=20_000)
def chain_digest(previous: str, step_number: str, entries_digest: str) -> str:
    """Steps are performed in order, so the record's digest chains each performed step onto
    the ones before: the production review's signature covers every entry of every step.
    (Pure, so remembered: the release recomputes the chain of thousands of steps each time.)"""
    return sha256_hex(f"{previous}|{step_number}|{entries_digest}")


def verify_step(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    password: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """The second person's signature. Whoever signed the step as performed is refused by the
    workflow (segregation of duties)."""
    actor.require("batchrecords.execute", "verify batch record steps")
    step = get_step(session, step_id)
    return perform(
        session,
        BATCH_STEP_WORKFLOW,
        step,
        "verify",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


def on_step_verified(session: Session, step: BatchStep, *, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason=f"step {step.position} verified"):
        step.verified_at = clock.now()
        step.verified_by_id = actor.user_id


def complete_batch_record(
    session: Session,
    *,
    actor: Actor,
    record_id: int,
    password: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """The production review: every step performed, signed "Reviewed"; manufacture ends."""
    actor.require("batchrecords.open", "complete batch records")
    record = get_batch_record(session, record_id)
    return perform(
        session,
        BATCH_RECORD_WORKFLOW,
        record,
        "complete",
        actor=actor,
        password=password,
        comment=comment,
        expected_version=expected_version,
    )


def on_record_completed(session: Session, record: BatchRecord, *, actor: Actor) -> None:
    """Manufacture ended when the last step was performed: recorded on the record and on the
    lot (the start of the release cycle time). Verifications still missing are exceptions."""
    ended = session.scalar(
        select(func.max(BatchStep.performed_at)).where(BatchStep.batch_record_id == record.id)
    )
    lot = session.get(Lot, record.lot_id)
    assert lot is not None  # a foreign key
    with audit.changes(session, actor=actor, reason="batch record completed"):
        record.completed_at = clock.now()
        record.manufacturing_ended_at = ended
    if lot.manufacturing_ended_at is None:
        with audit.changes(session, actor=actor, reason=f"end of manufacture from {record.number}"):
            lot.manufacturing_ended_at = ended
    unverified = session.scalars(
        select(BatchStep)
        .where(
            BatchStep.batch_record_id == record.id,
            BatchStep.verification_required.is_(True),
            BatchStep.status != StepStatus.VERIFIED,
        )
        .order_by(BatchStep.position)
    ).all()
    for step in unverified:
        _missing_verification(session, actor=actor, record=record, step=step, when="was completed")


# --- a deviation from a step ----------------------------------------------------------------


def raise_step_deviation(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    title: str,
    description: str,
    immediate_actions: str = "",
) -> Deviation:
    """A deviation raised from a step, naming the batch; recorded as an exception of the batch
    record as well (QA sees it in the review, the release sees the deviation)."""
    actor.require("batchrecords.execute", "raise deviations from batch record steps")
    step = get_step(session, step_id)
    record = get_batch_record(session, step.batch_record_id)
    lot = session.get(Lot, record.lot_id)
    assert lot is not None
    now = clock.now()
    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type="batch_step",
        source_id=step.id,
        source_label=step.number,
        title=title,
        description=description,
        area="Production",
        occurred_at=now,
        discovered_at=now,
        product=record.product_code,
        batch_ids=[lot.lot_number],
        immediate_actions=immediate_actions,
    )
    record_exception(
        session,
        actor=actor,
        record=record,
        step=step,
        kind=ExceptionKind.DEVIATION,
        description=f"{deviation.number} raised at step {step.position}: {deviation.title}",
        deviation=deviation,
    )
    return deviation
