"""Batch record pages: the register with the opening of a batch record, the shop-floor execution
page (one big card for the current step: instructions, entry fields with their limits, the
signature button; completed steps folded with their signatures; exceptions in red), the QA
review of a record's exceptions, the equipment register and the master batch records.

Thin: every change goes through ``service``, ``entries`` and ``exceptions``; signatures go
through the generic record transitions with the shared signature dialog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Register,
    distinct_options,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
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
    Equipment,
    ExceptionStatus,
    StepEntry,
)
from pharmaqms.lifecycle.production.batchrecords.release_trace import release_trace
from pharmaqms.lifecycle.production.batchrecords.workflow import (
    BATCH_RECORD_EXCEPTION_WORKFLOW,
    BATCH_RECORD_WORKFLOW,
    BATCH_STEP_WORKFLOW,
)
from pharmaqms.platform.masterdata.models import Lot

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Production", "Batch records", "/production/batch-records", "records.read", 50))
add(NavItem("Production", "Master batch records", "/production/masters", "records.read", 55))
add(NavItem("Production", "Equipment register", "/production/equipment", "records.read", 57))


def _record_url(session: Session, step_id: int) -> str:
    step = service.get_step(session, step_id)
    return f"/production/batch-records/{step.batch_record_id}#step-{step.position}"


LOT_NUMBER = (
    select(Lot.lot_number).where(Lot.id == BatchRecord.lot_id).correlate_except(Lot)
).scalar_subquery()
OPEN_EXCEPTIONS = (
    select(func.count(BatchRecordException.id))
    .where(
        BatchRecordException.batch_record_id == BatchRecord.id,
        BatchRecordException.status == ExceptionStatus.OPEN,
    )
    .correlate_except(BatchRecordException)
).scalar_subquery()

BATCH_RECORD_REGISTER = Register(
    name="batch-records",
    title="Batch records",
    query=lambda _session, _actor: select(
        BatchRecord, LOT_NUMBER.label("lot_number"), OPEN_EXCEPTIONS.label("open_exceptions")
    ),
    columns=(
        Column("number", "Record", lambda r: r[0].number, BatchRecord.number),
        Column("batch", "Batch", lambda r: r.lot_number, LOT_NUMBER, filter="text"),
        Column(
            "product",
            "Product",
            lambda r: r[0].product_code,
            BatchRecord.product_code,
            filter="choice",
            options=distinct_options(BatchRecord.product_code),
        ),
        Column("master", "Master", lambda r: r[0].master_number, BatchRecord.master_number),
        Column("started", "Started", lambda r: r[0].started_at, BatchRecord.started_at),
        Column(
            "ended",
            "End of manufacture",
            lambda r: r[0].manufacturing_ended_at,
            BatchRecord.manufacturing_ended_at,
        ),
        Column("exceptions", "Open exceptions", lambda r: r.open_exceptions, OPEN_EXCEPTIONS),
        Column(
            "status",
            "Status",
            lambda r: r[0].status,
            BatchRecord.status,
            filter="choice",
            options=fixed_options(
                list(BATCH_RECORD_WORKFLOW.states), BATCH_RECORD_WORKFLOW.state_label
            ),
        ),
    ),
    default_sort="-started",
    tiebreak=BatchRecord.id,
)


@router.get("/production/batch-records", response_class=HTMLResponse)
def register_page(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read batch records")

    def context(session: Session) -> dict[str, Any]:
        effective = [(m, v) for m, v in masters.list_masters(session) if v.status == "effective"]
        return {
            "masters": effective,
            "workflow": BATCH_RECORD_WORKFLOW,
            "can_open": actor.can("batchrecords.open"),
        }

    return register_response(
        request, actor, BATCH_RECORD_REGISTER, "batchrecords/register.html", context
    )


@router.post("/production/batch-records")
def open_record(
    request: Request,
    actor: ActorDep,
    master_id: Annotated[int, Form()],
    lot_number: Annotated[str, Form(max_length=20)],
) -> RedirectResponse:
    with transaction(request) as session:
        record = service.open_batch_record(
            session, actor=actor, master_id=master_id, lot_number=lot_number
        )
        session.flush()
        url, number = f"/production/batch-records/{record.id}", record.number
    return redirect(url, f"{number} opened for batch {lot_number}.")


def _step_view(session: Session, record: BatchRecord, step: Any, actor: Actor) -> dict[str, Any]:
    definition = service.definitions_of(session, record)[step.position - 1]
    made = service.all_entries(session, step.id)
    standing = [e for e in made if e.replaced_by_id is None]
    have = {(e.kind, e.name) for e in standing}
    return {
        "step": step,
        "definition": definition,
        "entries": made,
        "have": have,
        "missing": service.missing_entries(definition, standing),
        "signatures": signatures_of(session, step),
        "options": options(session, BATCH_STEP_WORKFLOW, step, actor),
    }


@router.get("/production/batch-records/{record_id}", response_class=HTMLResponse)
def execution_page(record_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read batch records")
    with transaction(request) as session:
        record = service.get_batch_record(session, record_id)
        lot = session.get(Lot, record.lot_id)
        steps = service.steps_of(session, record.id)
        current = next((s for s in steps if s.status not in DONE_STEP_STATUSES), None)
        # Steps still waiting for their second person, whatever step the batch is at now.
        to_verify = [
            s
            for s in steps
            if s.verification_required and s.status == "performed" and s is not current
        ]
        found = exceptions.exceptions_of(session, record.id)
        by_step: dict[int | None, list[BatchRecordException]] = {}
        for exception in found:
            by_step.setdefault(exception.step_id, []).append(exception)
        current_view = _step_view(session, record, current, actor) if current else None
        kinds = current_view["definition"].equipment if current_view else ()
        return render(
            request,
            "batchrecords/execution.html",
            {
                "record": record,
                "lot": lot,
                "steps": steps,
                "current": current_view,
                "to_verify": [_step_view(session, record, s, actor) for s in to_verify],
                "done": {
                    s.id: signatures_of(session, s)
                    for s in steps
                    if s.status in DONE_STEP_STATUSES and len(steps) <= 200
                },
                "exceptions_by_step": by_step,
                "open_exceptions": sum(1 for e in found if e.status == ExceptionStatus.OPEN),
                "equipment": {
                    kind: list(
                        session.scalars(
                            select(Equipment)
                            .where(Equipment.equipment_type == kind, Equipment.retired_at.is_(None))
                            .order_by(Equipment.code)
                        )
                    )
                    for kind in kinds
                },
                "record_options": options(session, BATCH_RECORD_WORKFLOW, record, actor),
                "record_signatures": signatures_of(session, record),
                "step_workflow": BATCH_STEP_WORKFLOW,
                "workflow": BATCH_RECORD_WORKFLOW,
                "can_execute": actor.can("batchrecords.execute"),
            },
        )


@router.post("/production/batch-steps/{step_id}/materials")
def dispense_page(
    step_id: int,
    request: Request,
    actor: ActorDep,
    material_code: Annotated[str, Form(max_length=40)],
    lot_number: Annotated[str, Form(max_length=40)],
    quantity: Annotated[str, Form(max_length=40)],
    unit: Annotated[str, Form(max_length=20)],
) -> RedirectResponse:
    with transaction(request) as session:
        entry = entries.dispense_material(
            session,
            actor=actor,
            step_id=step_id,
            material_code=material_code,
            lot_number=lot_number,
            quantity=quantity,
            unit=unit,
        )
        message = _entry_message(entry)
        url = _record_url(session, step_id)
    return redirect(url, message)


@router.post("/production/batch-steps/{step_id}/values")
def value_page(
    step_id: int,
    request: Request,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=80)],
    value: Annotated[str, Form(max_length=40)],
    unit: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=30)] = "parameter",
) -> RedirectResponse:
    with transaction(request) as session:
        entry = entries.record_value(
            session, actor=actor, step_id=step_id, name=name, value=value, unit=unit, kind=kind
        )
        message = _entry_message(entry)
        url = _record_url(session, step_id)
    return redirect(url, message)


@router.post("/production/batch-steps/{step_id}/readings")
def reading_page(
    step_id: int,
    request: Request,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=80)],
    kind: Annotated[str, Form(max_length=30)] = "parameter",
) -> RedirectResponse:
    with transaction(request) as session:
        entry = entries.take_reading(session, actor=actor, step_id=step_id, name=name, kind=kind)
        message = _entry_message(entry)
        url = _record_url(session, step_id)
    return redirect(url, message)


@router.post("/production/batch-steps/{step_id}/equipment")
def equipment_page(
    step_id: int,
    request: Request,
    actor: ActorDep,
    equipment_code: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    with transaction(request) as session:
        entry = entries.use_equipment(
            session, actor=actor, step_id=step_id, equipment_code=equipment_code
        )
        message = f"{entry.text} recorded."
        url = _record_url(session, step_id)
    return redirect(url, message)


@router.post("/production/batch-step-entries/{entry_id}/correction")
def correction_page(
    entry_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
    value: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        old = entries.get_entry(session, entry_id)
        is_material = old.kind == "material"
        entry = entries.correct_entry(
            session,
            actor=actor,
            entry_id=entry_id,
            reason=reason,
            value=None if is_material else value,
            quantity=value if is_material else None,
        )
        message = f"Corrected: {_entry_message(entry)} The correction is an exception for QA."
        url = _record_url(session, entry.step_id)
    return redirect(url, message)


@router.post("/production/batch-steps/{step_id}/deviation")
def deviation_page(
    step_id: int,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        deviation = service.raise_step_deviation(
            session, actor=actor, step_id=step_id, title=title, description=description
        )
        number = deviation.number
        url = _record_url(session, step_id)
    return redirect(url, f"{number} raised; QA is asked to classify it.")


def _entry_message(entry: StepEntry) -> str:
    shown = f"{entry.name} = {entry.value:g} {entry.unit}".strip()
    if entry.within_limits is False:
        return f"{shown} recorded — OUTSIDE its limits: recorded as an exception for QA."
    return f"{shown} recorded."


# --- QA's review of the exceptions ----------------------------------------------------------


@router.get("/production/batch-records/{record_id}/exceptions", response_class=HTMLResponse)
def exceptions_page(record_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read batch record exceptions")
    with transaction(request) as session:
        record = service.get_batch_record(session, record_id)
        found = exceptions.exceptions_of(session, record.id)
        steps = {s.id: s for s in service.steps_of(session, record.id)}
        return render(
            request,
            "batchrecords/exceptions.html",
            {
                "record": record,
                "lot": session.get(Lot, record.lot_id),
                "items": [
                    {
                        "exception": e,
                        "step": steps.get(e.step_id or 0),
                        "options": options(session, BATCH_RECORD_EXCEPTION_WORKFLOW, e, actor),
                        "signatures": signatures_of(session, e),
                    }
                    for e in found
                ],
                "open_count": sum(1 for e in found if e.status == ExceptionStatus.OPEN),
                "evaluation": release_trace(session, record.lot_id),
                "workflow": BATCH_RECORD_EXCEPTION_WORKFLOW,
                "can_review": actor.can("batchrecords.review"),
            },
        )


@router.post("/production/batch-record-exceptions/{exception_id}/deviation")
def exception_deviation_page(
    exception_id: int,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        deviation = exceptions.raise_deviation_for_exception(
            session, actor=actor, exception_id=exception_id, title=title, description=description
        )
        record_id = exceptions.get_exception(session, exception_id).batch_record_id
        number = deviation.number
    return redirect(
        f"/production/batch-records/{record_id}/exceptions",
        f"{number} raised and linked: refer the exception to it.",
    )


# --- equipment and masters ------------------------------------------------------------------


def _with_standing(session: Session, rows: list[Any]) -> list[Any]:
    now = clock.now()
    return [(e, equipment.standing(session, e, at=now)) for e in rows]


def _calibration_due(row: Any) -> object:
    item, standing = row
    if not item.calibration_required:
        return "not required"
    return standing.calibration.due_on if standing.calibration else None


EQUIPMENT_REGISTER = Register(
    name="equipment",
    title="Equipment register",
    query=lambda _session, _actor: select(Equipment),
    columns=(
        Column("code", "Code", lambda r: r[0].code, Equipment.code),
        Column("name", "Name", lambda r: r[0].name, Equipment.name, filter="text"),
        Column(
            "type",
            "Type",
            lambda r: r[0].equipment_type,
            Equipment.equipment_type,
            filter="choice",
            options=distinct_options(Equipment.equipment_type),
        ),
        Column(
            "location",
            "Location",
            lambda r: r[0].location,
            Equipment.location,
            filter="choice",
            options=distinct_options(Equipment.location),
        ),
        Column(
            "qualified_until",
            "Qualified until",
            lambda r: r[1].qualification.valid_until if r[1].qualification else None,
        ),
        Column("calibration_due", "Calibration due", _calibration_due),
        Column(
            "usable",
            "Now",
            lambda r: "usable" if r[1].usable else "not usable: " + "; ".join(r[1].reasons),
        ),
    ),
    default_sort="code",
    tiebreak=Equipment.id,
    enrich=_with_standing,
)


@router.get("/production/equipment", response_class=HTMLResponse)
def equipment_register_page(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read the equipment register")
    return register_response(request, actor, EQUIPMENT_REGISTER, "batchrecords/equipment.html")


@router.get("/production/masters", response_class=HTMLResponse)
def masters_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read master batch records")
    with transaction(request) as session:
        rows = [
            (m, v, masters.steps(m), masters.effectiveness_problems(session, m))
            for m, v in masters.list_masters(session)
        ]
        return render(request, "batchrecords/masters.html", {"rows": rows})
