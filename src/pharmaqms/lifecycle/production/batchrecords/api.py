"""Batch records API: thin — parse, call the service, shape the answer. The master batch record's
approval goes through document control (``/api/v1/records/document_version/{id}/transitions/…``);
exceptions can also be reviewed through the generic record transitions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.batchrecords import (
    entries,
    equipment,
    exceptions,
    masters,
    service,
)
from pharmaqms.lifecycle.production.batchrecords.models import (
    DONE_STEP_STATUSES,
    BatchRecord,
    BatchRecordException,
    BatchStep,
    Equipment,
    ExceptionStatus,
    MasterBatchRecord,
)
from pharmaqms.lifecycle.production.batchrecords.schemas import (
    BatchRecordCreate,
    BatchRecordOut,
    CalibrationCreate,
    Correction,
    DeviationRef,
    EntryOut,
    EquipmentCreate,
    EquipmentOut,
    EquipmentUsed,
    ExceptionDeviation,
    ExceptionOut,
    ExceptionReview,
    MasterCreate,
    MasterEdit,
    MasterOut,
    MasterRevision,
    MaterialDispensed,
    QualificationCreate,
    ReadingTaken,
    Signing,
    StepDeviation,
    StepOut,
    ValueEntered,
)
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(prefix=PREFIX, tags=["production: batch records"])


# --- shaping answers ------------------------------------------------------------------------


def equipment_out(session: Session, item: Equipment) -> EquipmentOut:
    out = EquipmentOut.model_validate(item)
    found = equipment.standing(session, item, at=clock.now())
    out.usable_now = found.usable
    out.reasons = list(found.reasons)
    out.qualified_until = found.qualification.valid_until if found.qualification else None
    out.calibration_due_on = found.calibration.due_on if found.calibration else None
    return out


def master_out(session: Session, master: MasterBatchRecord) -> MasterOut:
    version = masters.version_of(session, master)
    problems = masters.effectiveness_problems(session, master)
    return MasterOut(
        id=master.id,
        number=master.number,
        document_id=master.document_id,
        document_version_id=master.document_version_id,
        document_status=version.status,
        product_code=master.product_code,
        title=master.title,
        batch_size=master.batch_size,
        batch_unit=master.batch_unit,
        definition_hash=master.definition_hash,
        steps=master.steps,
        effective=not problems,
        problems=problems,
    )


def step_out(session: Session, step: BatchStep, *, detail: bool = True) -> StepOut:
    out = StepOut(
        id=step.id,
        number=step.number,
        position=step.position,
        path=step.path,
        title=step.title,
        status=step.status,
        version=step.version,
        verification_required=step.verification_required,
        target_minutes=step.target_minutes,
        started_at=step.started_at,
        performed_at=step.performed_at,
        verified_at=step.verified_at,
    )
    if detail:
        definition = service.definition_of(session, step)
        out.instructions = definition.instructions
        out.sop_numbers = list(definition.sop_numbers)
        out.definition = definition.as_dict()
        out.entries = [EntryOut.model_validate(e) for e in service.all_entries(session, step.id)]
        out.signatures = signatures_out(session, step)
    return out


def record_out(
    session: Session, record: BatchRecord, *, with_steps: bool = False
) -> BatchRecordOut:
    lot = session.get(Lot, record.lot_id)
    steps = service.steps_of(session, record.id)
    done = [s for s in steps if s.status in DONE_STEP_STATUSES]
    current = next((s.position for s in steps if s.status not in DONE_STEP_STATUSES), None)
    open_exceptions = session.scalar(
        select(func.count()).where(
            BatchRecordException.batch_record_id == record.id,
            BatchRecordException.status == ExceptionStatus.OPEN,
        )
    )
    return BatchRecordOut(
        id=record.id,
        number=record.number,
        status=record.status,
        version=record.version,
        lot_id=record.lot_id,
        lot_number=lot.lot_number if lot else "",
        product_code=record.product_code,
        master_id=record.master_id,
        master_number=record.master_number,
        step_count=record.step_count,
        steps_performed=len(done),
        current_step=current,
        started_at=record.started_at,
        manufacturing_ended_at=record.manufacturing_ended_at,
        open_exceptions=int(open_exceptions or 0),
        steps=[step_out(session, s, detail=False) for s in steps] if with_steps else [],
        signatures=signatures_out(session, record),
    )


def exception_out(session: Session, exception: BatchRecordException) -> ExceptionOut:
    out = ExceptionOut.model_validate(exception)
    out.signatures = signatures_out(session, exception)
    return out


# --- the equipment register -----------------------------------------------------------------


@router.get("/equipment", response_model=list[EquipmentOut])
def list_equipment(actor: ActorDep, request: Request) -> list[EquipmentOut]:
    actor.require("records.read", "read the equipment register")
    with transaction(request) as session:
        return [equipment_out(session, e) for e, _ in equipment.register(session)]


@router.post("/equipment", response_model=EquipmentOut, status_code=201)
def register_equipment(body: EquipmentCreate, actor: ActorDep, request: Request) -> EquipmentOut:
    with transaction(request) as session:
        item = equipment.register_equipment(session, actor=actor, **body.model_dump())
        session.flush()
        return equipment_out(session, item)


@router.post("/equipment/{equipment_id}/calibrations", response_model=EquipmentOut)
def record_calibration(
    equipment_id: RecordId, body: CalibrationCreate, actor: ActorDep, request: Request
) -> EquipmentOut:
    with transaction(request) as session:
        equipment.record_calibration(
            session, actor=actor, equipment_id=equipment_id, **body.model_dump()
        )
        session.flush()
        return equipment_out(session, equipment.get_equipment(session, equipment_id))


@router.post("/equipment/{equipment_id}/qualifications", response_model=EquipmentOut)
def record_qualification(
    equipment_id: RecordId, body: QualificationCreate, actor: ActorDep, request: Request
) -> EquipmentOut:
    with transaction(request) as session:
        equipment.record_qualification(
            session, actor=actor, equipment_id=equipment_id, **body.model_dump()
        )
        session.flush()
        return equipment_out(session, equipment.get_equipment(session, equipment_id))


# --- master batch records -------------------------------------------------------------------


@router.get("/masters", response_model=list[MasterOut])
def list_masters(
    actor: ActorDep, request: Request, product_code: str | None = Query(None, max_length=40)
) -> list[MasterOut]:
    actor.require("records.read", "read master batch records")
    with transaction(request) as session:
        return [
            master_out(session, m)
            for m, _ in masters.list_masters(session, product_code=product_code)
        ]


@router.post("/masters", response_model=MasterOut, status_code=201)
def define_master(body: MasterCreate, actor: ActorDep, request: Request) -> MasterOut:
    with transaction(request) as session:
        master = masters.define_master_batch_record(
            session,
            actor=actor,
            product_code=body.product_code,
            title=body.title,
            batch_size=body.batch_size,
            batch_unit=body.batch_unit,
            steps=body.steps,
        )
        session.flush()
        return master_out(session, master)


@router.get("/masters/{master_id}", response_model=MasterOut)
def get_master(master_id: RecordId, actor: ActorDep, request: Request) -> MasterOut:
    actor.require("records.read", "read master batch records")
    with transaction(request) as session:
        return master_out(session, masters.get_master(session, master_id))


@router.patch("/masters/{master_id}", response_model=MasterOut)
def edit_master(
    master_id: RecordId, body: MasterEdit, actor: ActorDep, request: Request
) -> MasterOut:
    with transaction(request) as session:
        master = masters.edit_master_batch_record(
            session, actor=actor, master_id=master_id, **body.model_dump()
        )
        session.flush()
        return master_out(session, master)


@router.post("/masters/{master_id}/revisions", response_model=MasterOut, status_code=201)
def revise_master(
    master_id: RecordId, body: MasterRevision, actor: ActorDep, request: Request
) -> MasterOut:
    with transaction(request) as session:
        master = masters.revise_master_batch_record(
            session,
            actor=actor,
            master_id=master_id,
            change_summary=body.change_summary,
            major=body.major,
        )
        session.flush()
        return master_out(session, master)


# --- executed batch records -----------------------------------------------------------------


@router.get("/batch-records", response_model=list[BatchRecordOut])
def list_batch_records(
    actor: ActorDep, request: Request, status: str | None = Query(None, max_length=20)
) -> list[BatchRecordOut]:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        return [record_out(session, r) for r in service.list_batch_records(session, status=status)]


@router.post("/batch-records", response_model=BatchRecordOut, status_code=201)
def open_batch_record(body: BatchRecordCreate, actor: ActorDep, request: Request) -> BatchRecordOut:
    with transaction(request) as session:
        record = service.open_batch_record(
            session, actor=actor, master_id=body.master_id, lot_number=body.lot_number
        )
        session.flush()
        return record_out(session, record, with_steps=True)


@router.get("/batch-records/{record_id}", response_model=BatchRecordOut)
def get_batch_record(record_id: RecordId, actor: ActorDep, request: Request) -> BatchRecordOut:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        return record_out(session, service.get_batch_record(session, record_id), with_steps=True)


@router.post("/batch-records/{record_id}/complete", response_model=BatchRecordOut)
def complete_batch_record(
    record_id: RecordId, body: Signing, actor: ActorDep, request: Request
) -> BatchRecordOut:
    with transaction(request) as session:
        service.complete_batch_record(
            session,
            actor=actor,
            record_id=record_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return record_out(session, service.get_batch_record(session, record_id))


@router.get("/batch-steps/{step_id}", response_model=StepOut)
def get_step(step_id: RecordId, actor: ActorDep, request: Request) -> StepOut:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        return step_out(session, service.get_step(session, step_id))


@router.post("/batch-steps/{step_id}/start", response_model=StepOut)
def start_step(step_id: RecordId, actor: ActorDep, request: Request) -> StepOut:
    with transaction(request) as session:
        service.start_step(session, actor=actor, step_id=step_id)
        return step_out(session, service.get_step(session, step_id))


@router.post("/batch-steps/{step_id}/materials", response_model=EntryOut, status_code=201)
def dispense(
    step_id: RecordId, body: MaterialDispensed, actor: ActorDep, request: Request
) -> EntryOut:
    with transaction(request) as session:
        entry = entries.dispense_material(
            session,
            actor=actor,
            step_id=step_id,
            material_code=body.material_code,
            lot_number=body.lot_number,
            quantity=body.quantity,
            unit=body.unit,
        )
        return EntryOut.model_validate(entry)


@router.post("/batch-steps/{step_id}/values", response_model=EntryOut, status_code=201)
def enter_value(
    step_id: RecordId, body: ValueEntered, actor: ActorDep, request: Request
) -> EntryOut:
    with transaction(request) as session:
        entry = entries.record_value(
            session,
            actor=actor,
            step_id=step_id,
            name=body.name,
            value=body.value,
            unit=body.unit,
            kind=body.kind,
        )
        return EntryOut.model_validate(entry)


@router.post("/batch-steps/{step_id}/readings", response_model=EntryOut, status_code=201)
def take_reading(
    step_id: RecordId, body: ReadingTaken, actor: ActorDep, request: Request
) -> EntryOut:
    with transaction(request) as session:
        entry = entries.take_reading(
            session, actor=actor, step_id=step_id, name=body.name, kind=body.kind
        )
        return EntryOut.model_validate(entry)


@router.post("/batch-steps/{step_id}/equipment", response_model=EntryOut, status_code=201)
def use_equipment(
    step_id: RecordId, body: EquipmentUsed, actor: ActorDep, request: Request
) -> EntryOut:
    with transaction(request) as session:
        entry = entries.use_equipment(
            session, actor=actor, step_id=step_id, equipment_code=body.equipment_code
        )
        return EntryOut.model_validate(entry)


@router.post("/batch-step-entries/{entry_id}/corrections", response_model=EntryOut, status_code=201)
def correct(entry_id: RecordId, body: Correction, actor: ActorDep, request: Request) -> EntryOut:
    with transaction(request) as session:
        entry = entries.correct_entry(session, actor=actor, entry_id=entry_id, **body.model_dump())
        return EntryOut.model_validate(entry)


@router.post("/batch-steps/{step_id}/perform", response_model=StepOut)
def perform_step(step_id: RecordId, body: Signing, actor: ActorDep, request: Request) -> StepOut:
    with transaction(request) as session:
        service.perform_step(
            session,
            actor=actor,
            step_id=step_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return step_out(session, service.get_step(session, step_id))


@router.post("/batch-steps/{step_id}/verify", response_model=StepOut)
def verify_step(step_id: RecordId, body: Signing, actor: ActorDep, request: Request) -> StepOut:
    with transaction(request) as session:
        service.verify_step(
            session,
            actor=actor,
            step_id=step_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return step_out(session, service.get_step(session, step_id))


@router.post("/batch-steps/{step_id}/deviations", response_model=DeviationRef, status_code=201)
def raise_deviation(
    step_id: RecordId, body: StepDeviation, actor: ActorDep, request: Request
) -> DeviationRef:
    with transaction(request) as session:
        deviation = service.raise_step_deviation(
            session,
            actor=actor,
            step_id=step_id,
            title=body.title,
            description=body.description,
            immediate_actions=body.immediate_actions,
        )
        return DeviationRef(id=deviation.id, number=deviation.number, status=deviation.status)


# --- exceptions -----------------------------------------------------------------------------


@router.get("/batch-records/{record_id}/exceptions", response_model=list[ExceptionOut])
def list_exceptions(
    record_id: RecordId,
    actor: ActorDep,
    request: Request,
    status: str | None = Query(None, max_length=20),
) -> list[ExceptionOut]:
    actor.require("records.read", "read batch record exceptions")
    with transaction(request) as session:
        service.get_batch_record(session, record_id)
        return [
            exception_out(session, e)
            for e in exceptions.exceptions_of(session, record_id, status=status)
        ]


@router.post("/batch-record-exceptions/{exception_id}/review", response_model=ExceptionOut)
def review_exception(
    exception_id: RecordId, body: ExceptionReview, actor: ActorDep, request: Request
) -> ExceptionOut:
    with transaction(request) as session:
        exceptions.review_exception(
            session,
            actor=actor,
            exception_id=exception_id,
            decision=body.decision,
            reason=body.reason,
            password=body.password,
            expected_version=body.expected_version,
        )
        return exception_out(session, exceptions.get_exception(session, exception_id))


@router.post(
    "/batch-record-exceptions/{exception_id}/deviation",
    response_model=DeviationRef,
    status_code=201,
)
def exception_deviation(
    exception_id: RecordId, body: ExceptionDeviation, actor: ActorDep, request: Request
) -> DeviationRef:
    with transaction(request) as session:
        deviation = exceptions.raise_deviation_for_exception(
            session,
            actor=actor,
            exception_id=exception_id,
            title=body.title,
            description=body.description,
        )
        return DeviationRef(id=deviation.id, number=deviation.number, status=deviation.status)
