"""What the operator records on a step: material dispensed (the lot checked at that moment),
process parameters and in-process controls (judged against the master's limits at entry), the
equipment used (its qualification and calibration checked), and corrections of any of them.

Refused, with the reason and nothing written: a value that is not a number, a wrong unit, the
wrong material, a lot that may not be used (unless QA signed an override), equipment of the
wrong kind or not qualified or calibrated, a step out of order or already signed. Accepted but
recorded as an exception for QA: a value outside its limits, a quantity outside its tolerance,
a lot used under override, a value typed where the instrument should measure, a correction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords import definition as recipe
from pharmaqms.lifecycle.production.batchrecords.definition import Limit, StepDefinition
from pharmaqms.lifecycle.production.batchrecords.equipment import (
    EquipmentNotUsable,
    equipment_by_code,
    require_equipment_usable,
)
from pharmaqms.lifecycle.production.batchrecords.exceptions import record_exception
from pharmaqms.lifecycle.production.batchrecords.models import (
    DONE_STEP_STATUSES,
    BatchRecord,
    BatchRecordStatus,
    BatchStep,
    EntryKind,
    EntrySource,
    ExceptionKind,
    StepEntry,
    StepStatus,
)
from pharmaqms.lifecycle.production.batchrecords.service import (
    all_entries,
    current_entries,
    definitions_of,
    get_batch_record,
    get_step,
)
from pharmaqms.lifecycle.production.batchrecords.workflow import BATCH_STEP_WORKFLOW
from pharmaqms.lifecycle.production.materials.service import require_material_usable
from pharmaqms.platform.governance.units import canonical_unit
from pharmaqms.platform.masterdata.models import Lot, LotKind, MaterialConsumption
from pharmaqms.platform.timeseries.models import ProcessReading
from pharmaqms.quality.training.gate import require_current_training

VALUE_KINDS = (EntryKind.PARAMETER.value, EntryKind.CONTROL.value)


def _open_step(
    session: Session, actor: Actor, step_id: int
) -> tuple[BatchRecord, BatchStep, StepDefinition]:
    """The step an entry goes to: the current one (a pending step next in order is started),
    never a step already signed. The person must be trained on the step's SOPs."""
    actor.require("batchrecords.execute", "record batch record entries")
    step = get_step(session, step_id)
    record = get_batch_record(session, step.batch_record_id)
    if record.status != BatchRecordStatus.IN_PROGRESS:
        raise Conflict(f"{record.number} is {record.status.replace('_', ' ')}: nothing is entered")
    if step.status in DONE_STEP_STATUSES:
        raise Conflict(
            f"step {step.position} is signed as performed: its entries are closed (raise a "
            "deviation to record what happened)"
        )
    definition = definitions_of(session, record)[step.position - 1]
    if step.status == StepStatus.PENDING:
        perform(session, BATCH_STEP_WORKFLOW, step, "start", actor=actor)
    else:
        require_current_training(session, actor, definition.sop_numbers)
    return record, step, definition


def _refresh_digest(session: Session, actor: Actor, step: BatchStep, reason: str) -> None:
    session.flush()
    digest = content_hash([e.digest_content() for e in all_entries(session, step.id)])
    with audit.changes(session, actor=actor, reason=reason):
        step.entries_digest = digest


def _same_unit(given: str, expected: str, field: str) -> str:
    if canonical_unit(given or "") != canonical_unit(expected or ""):
        shown = f"{given!r}" if given else "no unit"
        raise InvalidInput(
            f"wrong unit: {shown} given, the step records {expected or 'no unit'}", field=field
        )
    return expected


def _standing_entry(
    session: Session, step: BatchStep, kind: str, name: str, corrects: StepEntry | None
) -> None:
    if corrects is not None:
        return
    if any(e.kind == kind and e.name == name for e in current_entries(session, step.id)):
        raise Conflict(
            f"step {step.position} has {name} recorded already: correct that entry (with a "
            "reason) instead"
        )


def _limit(definition: StepDefinition, kind: str, name: str) -> Limit:
    found = definition.parameter(name) if kind == EntryKind.PARAMETER else definition.control(name)
    if found is None:
        known = [p.name for p in definition.parameters] + [
            c.name for c in definition.in_process_controls
        ]
        raise InvalidInput(
            f"step {definition.position} records no {kind.replace('_', ' ')} {name!r}; it "
            f"records: {', '.join(known) or 'none'}",
            field="name",
        )
    return found


def _value_entry(
    session: Session,
    *,
    actor: Actor,
    record: BatchRecord,
    step: BatchStep,
    limit: Limit,
    kind: str,
    value: float,
    unit: str,
    source: EntrySource,
    reading_id: int | None = None,
    corrects: StepEntry | None = None,
    reason: str = "",
) -> StepEntry:
    within = limit.within(value)
    entry = StepEntry(
        batch_record_id=record.id,
        step_id=step.id,
        kind=kind,
        name=limit.name,
        value=value,
        unit=unit,
        low=limit.low,
        high=limit.high,
        within_limits=within,
        source=source.value,
        reading_id=reading_id,
        corrects_id=corrects.id if corrects is not None else None,
        reason=reason,
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=reason or f"{limit.name} entered"):
        session.add(entry)
    if source == EntrySource.MANUAL and limit.capture == "instrument":
        record_exception(
            session,
            actor=actor,
            record=record,
            step=step,
            entry=entry,
            kind=ExceptionKind.MANUAL_ENTRY,
            description=(
                f"{limit.name} = {value:g} {unit} typed by hand at step {step.position}; the "
                "master expects the instrument's value"
            ),
        )
    if not within:
        record_exception(
            session,
            actor=actor,
            record=record,
            step=step,
            entry=entry,
            kind=ExceptionKind.OUT_OF_LIMIT,
            description=(
                f"{limit.name} = {value:g} {unit} at step {step.position} is outside its limits "
                f"{limit.shown}"
            ),
        )
    return entry


def record_value(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    name: str,
    value: object,
    unit: str,
    kind: str = EntryKind.PARAMETER.value,
    corrects: StepEntry | None = None,
    reason: str = "",
) -> StepEntry:
    """A process parameter or in-process control typed by the operator, judged at entry."""
    if kind not in VALUE_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(VALUE_KINDS)}", field="kind")
    record, step, definition = _open_step(session, actor, step_id)
    limit = _limit(definition, kind, name)
    _standing_entry(session, step, kind, limit.name, corrects)
    number = recipe.number(value, "value")
    stored_unit = _same_unit(unit, limit.unit, "unit")
    entry = _value_entry(
        session,
        actor=actor,
        record=record,
        step=step,
        limit=limit,
        kind=kind,
        value=number,
        unit=stored_unit,
        source=EntrySource.MANUAL,
        corrects=corrects,
        reason=reason,
    )
    _refresh_digest(session, actor, step, f"{limit.name} entered at step {step.position}")
    return entry


def take_reading(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    name: str,
    kind: str = EntryKind.PARAMETER.value,
) -> StepEntry:
    """The latest process reading the platform received for this batch, parameter and step,
    taken into the record as the instrument measured it."""
    if kind not in VALUE_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(VALUE_KINDS)}", field="kind")
    record, step, definition = _open_step(session, actor, step_id)
    limit = _limit(definition, kind, name)
    _standing_entry(session, step, kind, limit.name, None)
    query = select(ProcessReading).where(
        ProcessReading.batch_id == record.lot_id,
        ProcessReading.parameter == limit.name,
        ProcessReading.unit_procedure == definition.unit_procedure,
        ProcessReading.operation == definition.operation,
    )
    if definition.phase:
        query = query.where(ProcessReading.phase == definition.phase)
    reading = session.scalars(
        query.order_by(ProcessReading.measured_at.desc(), ProcessReading.id.desc()).limit(1)
    ).first()
    if reading is None:
        raise NotFound(
            f"no reading of {limit.name} at {definition.path} has arrived for this batch: enter "
            "it by hand (recorded as a manual entry) or wait for the instrument"
        )
    stored_unit = _same_unit(reading.unit, limit.unit, "unit")
    entry = _value_entry(
        session,
        actor=actor,
        record=record,
        step=step,
        limit=limit,
        kind=kind,
        value=reading.value,
        unit=stored_unit,
        source=EntrySource.INSTRUMENT,
        reading_id=reading.id,
    )
    _refresh_digest(session, actor, step, f"{limit.name} taken from the instrument")
    return entry


def _material_lot(session: Session, material_code: str, lot_number: str) -> Lot:
    number = (lot_number or "").strip()
    if not number:
        raise InvalidInput("the lot number of the material dispensed", field="lot_number")
    lots = list(
        session.scalars(select(Lot).where(Lot.kind == LotKind.MATERIAL, Lot.lot_number == number))
    )
    if not lots:
        raise InvalidInput(f"no material lot {number} has been received", field="lot_number")
    # The lot of the material asked for when the number exists for several materials; any
    # other is the wrong material, which the use check refuses with that reason.
    return next((lot for lot in lots if lot.item_code == material_code), lots[0])


def dispense_material(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    material_code: str,
    lot_number: str,
    quantity: object,
    unit: str,
    corrects: StepEntry | None = None,
    reason: str = "",
) -> StepEntry:
    """A material lot dispensed into the step: the lot is checked now (right material,
    released, within expiry, supplier approved) and refused with the reasons unless QA signed an
    override; the consumption is recorded in the batch genealogy."""
    record, step, definition = _open_step(session, actor, step_id)
    line = definition.material(material_code.strip())
    if line is None:
        raise InvalidInput(
            f"step {step.position} dispenses "
            f"{', '.join(m.material_code for m in definition.materials) or 'no material'}, "
            f"not {material_code}",
            field="material_code",
        )
    _standing_entry(session, step, EntryKind.MATERIAL.value, line.material_code, corrects)
    amount = recipe.number(quantity, "quantity")
    if amount <= 0:
        raise InvalidInput("the quantity dispensed must be positive", field="quantity")
    stored_unit = _same_unit(unit, line.unit, "unit")
    lot = _material_lot(session, line.material_code, lot_number)
    batch = session.get(Lot, record.lot_id)
    assert batch is not None  # a foreign key
    now = clock.now()
    override = require_material_usable(
        session,
        lot,
        at=now,
        expected_material=line.material_code,
        batch_reference=batch.lot_number,
    )
    consumption = MaterialConsumption(
        batch_id=record.lot_id,
        material_lot_id=lot.id,
        quantity=amount,
        unit=stored_unit,
        step=step.number,
        consumed_at=now,
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor):  # the consumption is sealed as theirs
        session.add(consumption)
    within = line.low <= amount <= line.high
    entry = StepEntry(
        batch_record_id=record.id,
        step_id=step.id,
        kind=EntryKind.MATERIAL.value,
        name=line.material_code,
        value=amount,
        unit=stored_unit,
        low=line.low,
        high=line.high,
        within_limits=within,
        text=lot.lot_number,
        source=EntrySource.MANUAL.value,
        material_lot_id=lot.id,
        consumption_id=consumption.id,
        override_id=override.id if override is not None else None,
        corrects_id=corrects.id if corrects is not None else None,
        reason=reason,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    with audit.changes(
        session,
        actor=actor,
        reason=reason or f"{line.material_code} lot {lot.lot_number} dispensed",
    ):
        session.add(entry)
    if override is not None:
        record_exception(
            session,
            actor=actor,
            record=record,
            step=step,
            entry=entry,
            kind=ExceptionKind.OVERRIDE,
            description=(
                f"lot {lot.lot_number} of {line.material_code} used at step {step.position} "
                f"under QA override {override.number}: " + "; ".join(override.reasons)
            ),
        )
    if not within:
        record_exception(
            session,
            actor=actor,
            record=record,
            step=step,
            entry=entry,
            kind=ExceptionKind.OUT_OF_TOLERANCE,
            description=(
                f"{amount:g} {stored_unit} of {line.material_code} dispensed at step "
                f"{step.position}; the master asks {line.quantity:g} {line.unit} "
                f"± {line.tolerance_percent:g} %"
            ),
        )
    _refresh_digest(session, actor, step, f"{line.material_code} dispensed")
    return entry


def use_equipment(
    session: Session,
    *,
    actor: Actor,
    step_id: int,
    equipment_code: str,
    corrects: StepEntry | None = None,
    reason: str = "",
) -> StepEntry:
    """The piece of equipment used for the step: of a kind the step asks for, qualified and
    calibrated now; what the register said is kept with the entry."""
    record, step, definition = _open_step(session, actor, step_id)
    equipment = equipment_by_code(session, equipment_code)
    if equipment.equipment_type not in definition.equipment:
        wanted = ", ".join(definition.equipment) or "no equipment"
        raise EquipmentNotUsable(
            f"wrong equipment: {equipment.code} is a {equipment.equipment_type}; step "
            f"{step.position} uses {wanted}",
            reasons=[f"{equipment.code} is a {equipment.equipment_type}, not one of: {wanted}"],
        )
    _standing_entry(session, step, EntryKind.EQUIPMENT.value, equipment.equipment_type, corrects)
    now = clock.now()
    found = require_equipment_usable(
        session, equipment, at=now, equipment_type=equipment.equipment_type
    )
    entry = StepEntry(
        batch_record_id=record.id,
        step_id=step.id,
        kind=EntryKind.EQUIPMENT.value,
        name=equipment.equipment_type,
        unit="",
        text=equipment.code,
        source=EntrySource.MANUAL.value,
        equipment_id=equipment.id,
        equipment_status=found.snapshot(),
        corrects_id=corrects.id if corrects is not None else None,
        reason=reason,
        recorded_at=now,
        recorded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=reason or f"{equipment.code} used"):
        session.add(entry)
    _refresh_digest(session, actor, step, f"{equipment.code} recorded at step {step.position}")
    return entry


def get_entry(session: Session, entry_id: int) -> StepEntry:
    entry = session.get(StepEntry, entry_id)
    if entry is None:
        raise NotFound(f"no batch record entry with id {entry_id}")
    return entry


def correct_entry(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    reason: str,
    value: object = None,
    unit: str | None = None,
    lot_number: str | None = None,
    quantity: object = None,
    equipment_code: str | None = None,
) -> StepEntry:
    """A corrected entry: the new value goes through every check of a first entry, the old one
    stays (marked replaced), and the correction is an exception for QA to review."""
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("a correction needs its reason", field="reason")
    entry = get_entry(session, entry_id)
    if entry.replaced_by_id is not None:
        raise Conflict(f"entry #{entry.id} was corrected already: correct the newer entry")
    if entry.source == EntrySource.INSTRUMENT:
        raise Conflict("an instrument's value is not corrected: enter the value by hand instead")
    if entry.kind in VALUE_KINDS:
        new = record_value(
            session,
            actor=actor,
            step_id=entry.step_id,
            name=entry.name,
            value=value,
            unit=unit if unit is not None else entry.unit,
            kind=entry.kind,
            corrects=entry,
            reason=why,
        )
        shown = f"{entry.value:g} {entry.unit} → {new.value:g} {new.unit}"
    elif entry.kind == EntryKind.MATERIAL:
        new = dispense_material(
            session,
            actor=actor,
            step_id=entry.step_id,
            material_code=entry.name,
            lot_number=lot_number if lot_number is not None else entry.text,
            quantity=quantity if quantity is not None else entry.value,
            unit=unit if unit is not None else entry.unit,
            corrects=entry,
            reason=why,
        )
        old = (
            session.get(MaterialConsumption, entry.consumption_id) if entry.consumption_id else None
        )
        if old is not None:
            # The genealogy is append-only: the first consumption is reversed by a row of its own.
            with audit.changes(session, actor=actor, reason=why):
                session.add(
                    MaterialConsumption(
                        batch_id=old.batch_id,
                        material_lot_id=old.material_lot_id,
                        quantity=-old.quantity,
                        unit=old.unit,
                        step=f"{old.step} (reversed: entry #{entry.id} corrected)"[:120],
                        consumed_at=clock.now(),
                        recorded_by_id=actor.user_id,
                    )
                )
        shown = (
            f"lot {entry.text} {entry.value:g} {entry.unit} → "
            f"lot {new.text} {new.value:g} {new.unit}"
        )
    elif entry.kind == EntryKind.EQUIPMENT:
        if not equipment_code:
            raise InvalidInput("the equipment actually used", field="equipment_code")
        new = use_equipment(
            session,
            actor=actor,
            step_id=entry.step_id,
            equipment_code=equipment_code,
            corrects=entry,
            reason=why,
        )
        shown = f"{entry.text} → {new.text}"
    else:  # pragma: no cover - every kind recorded is handled above
        raise InvalidInput(f"entries of kind {entry.kind} are not corrected", field="entry_id")
    with audit.changes(session, actor=actor, reason=why):
        entry.replaced_by_id = new.id
    step = get_step(session, entry.step_id)
    record = get_batch_record(session, step.batch_record_id)
    record_exception(
        session,
        actor=actor,
        record=record,
        step=step,
        entry=new,
        kind=ExceptionKind.CORRECTION,
        description=f"{entry.name} corrected at step {step.position}: {shown} ({why})",
    )
    _refresh_digest(session, actor, step, f"entry #{entry.id} corrected")
    return new
