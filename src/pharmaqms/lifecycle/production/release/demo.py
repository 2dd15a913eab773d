"""Demo electronic batch records for the demo tablet (PARA500), written through the services with
the clock set back to when each thing happened: five SOPs in force that the operator and the
supervisor are trained on, the equipment register (qualified, calibrated), a master batch record
of five steps — dispensing, granulation, compression, coating, packaging — approved and made
effective in document control, and three recent batches:

- the first made without a hitch, tested, and released by the QP;
- the second with a compression force above its limit, an exception QA reviewed: every rule
  passes, it waits for the QP;
- the third with a deviation raised from the coating step, still open: its release is blocked.

So the release page shows both green and red."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords import (
    entries,
    equipment,
    exceptions,
    masters,
    service,
)
from pharmaqms.lifecycle.production.batchrecords.models import MasterBatchRecord
from pharmaqms.lifecycle.production.qc import certificates, results
from pharmaqms.lifecycle.production.qc.specifications import approved_specifications
from pharmaqms.lifecycle.production.qc.workflow import CERTIFICATE_WORKFLOW
from pharmaqms.lifecycle.production.release import service as release
from pharmaqms.platform.masterdata.models import Lot, LotKind, Product
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.training.demo_steps import name_for_training, read_and_sign

PRODUCT = "PARA500"
SOPS = (
    ("dispensing", "Dispensing of raw materials"),
    ("granulation", "Wet granulation in the high-shear granulator"),
    ("compression", "Tablet compression and in-process controls"),
    ("coating", "Film coating"),
    ("packaging", "Primary packaging on the blister line"),
)
EQUIPMENT = (
    ("BAL-01", "Floor balance 150 kg", "balance", True),
    ("GRN-01", "High-shear granulator 300 L", "granulator", False),
    ("TP-01", "Rotary tablet press, 36 stations", "tablet press", True),
    ("CT-01", "Perforated pan coater", "coater", True),
    ("BL-01", "Blister line", "blister line", True),
)
# The release tests of the EU specification, conforming, close to the recent batches.
CONFORMING = (("ASSAY", 100.8, "%"), ("DISS", 89.0, "%"))
APPEARANCE = "white, round, biconvex tablet"


def steps(sop: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "unit_procedure": "Dispensing",
            "operation": "Weigh",
            "phase": "Weigh API and filler",
            "title": "Weigh the paracetamol and the cellulose",
            "instructions": "Scan each container, weigh into clean, labelled bins on the floor "
            "balance; a second person checks every weighing.",
            "sop_numbers": [sop["dispensing"]],
            "materials": [
                {
                    "material_code": "API-PARA",
                    "quantity": 50,
                    "unit": "kg",
                    "tolerance_percent": 0.5,
                },
                {"material_code": "EXC-MCC", "quantity": 20, "unit": "kg", "tolerance_percent": 1},
            ],
            "equipment": ["balance"],
            "verification_required": True,
            "target_minutes": 45,
        },
        {
            "unit_procedure": "Granulation",
            "operation": "Wet massing",
            "phase": "Mix",
            "title": "Granulate",
            "instructions": "Dry mix 3 min, add the binder over 4 min, mass to the end point.",
            "sop_numbers": [sop["granulation"]],
            "parameters": [
                {"name": "impeller_speed", "unit": "rpm", "low": 100, "high": 150},
                {"name": "granulation_time", "unit": "min", "low": 8, "high": 12},
            ],
            "equipment": ["granulator"],
            "target_minutes": 60,
        },
        {
            "unit_procedure": "Compression",
            "operation": "Main compression",
            "phase": "",
            "title": "Compress the tablets",
            "instructions": "Set the press to the validated force; check weight and hardness "
            "every 30 minutes.",
            "sop_numbers": [sop["compression"]],
            "parameters": [{"name": "compression_force", "unit": "kN", "low": 10, "high": 14}],
            "in_process_controls": [
                {"name": "tablet_hardness", "unit": "N", "low": 80, "high": 120},
                {"name": "tablet_weight", "unit": "mg", "low": 540, "high": 560},
            ],
            "equipment": ["tablet press"],
            "target_minutes": 240,
        },
        {
            "unit_procedure": "Coating",
            "operation": "Film coat",
            "phase": "Spray",
            "title": "Film-coat the tablet cores",
            "instructions": "Pre-warm the bed, spray the suspension at the set rate, dry 10 min.",
            "sop_numbers": [sop["coating"]],
            "parameters": [
                {"name": "inlet_air_temperature", "unit": "°C", "low": 55, "high": 65},
                {"name": "spray_rate", "unit": "g/min", "low": 80, "high": 120},
            ],
            "equipment": ["coater"],
            "target_minutes": 180,
        },
        {
            "unit_procedure": "Packaging",
            "operation": "Blister",
            "phase": "",
            "title": "Blister and carton",
            "instructions": "Seal at the set temperature; leak-test 10 blisters every hour.",
            "sop_numbers": [sop["packaging"]],
            "parameters": [{"name": "sealing_temperature", "unit": "°C", "low": 150, "high": 170}],
            "in_process_controls": [
                {"name": "leak_test_failures", "unit": "", "low": None, "high": 0}
            ],
            "equipment": ["blister line"],
            "verification_required": True,
            "target_minutes": 240,
        },
    ]


def _sops(session: Session, ctx: DemoContext) -> dict[str, str]:
    supervisor, qa = ctx.people["sofia.supervisor"], ctx.people["quinn.qa"]
    numbers: dict[str, str] = {}
    for key, title in SOPS:
        version = documents.create_document(
            session,
            actor=supervisor,
            doc_type="sop",
            title=title,
            body=f"1. Purpose\n\n{title} for the tablet line.\n\n2. Responsibilities\n\n"
            "Operators execute, a second person verifies where the batch record says so.",
            area="Production",
        )
        session.flush()
        documents.transition(session, actor=supervisor, version_id=version.id, name="submit")
        documents.transition(
            session, actor=qa, version_id=version.id, name="approve", password=ctx.password
        )
        name_for_training(session, ctx, version.document_id, "Production")
        documents.transition(session, actor=qa, version_id=version.id, name="make_effective")
        # The tablet press operators' curriculum assigned it to the job role's holders (the
        # operator and the supervisor once the training demo ran); both read it.
        read_and_sign(
            session,
            ctx,
            version.id,
            also=("oscar.operator", "sofia.supervisor"),
            reason="works on the tablet line",
        )
        numbers[key] = version.number.split(" ")[0]
    return numbers


def _equipment(session: Session, ctx: DemoContext, now: datetime) -> None:
    supervisor = ctx.people["sofia.supervisor"]
    for code, name, kind, calibrated in EQUIPMENT:
        item = equipment.register_equipment(
            session,
            actor=supervisor,
            code=code,
            name=name,
            equipment_type=kind,
            location="Tablet suite 2",
            calibration_required=calibrated,
        )
        session.flush()
        equipment.record_qualification(
            session,
            actor=supervisor,
            equipment_id=item.id,
            stage="PQ",
            qualified_at=now - timedelta(days=300),
            valid_until=(now + timedelta(days=430)).date(),
            passed=True,
            report=f"PQ-{code}-2025",
        )
        if calibrated:
            equipment.record_calibration(
                session,
                actor=supervisor,
                equipment_id=item.id,
                calibrated_at=now - timedelta(days=20),
                due_on=(now + timedelta(days=160)).date(),
                as_found_in_tolerance=True,
                as_left_in_tolerance=True,
                certificate=f"CAL-{code}-{now:%y}",
            )


def _master(session: Session, ctx: DemoContext, sops: dict[str, str]) -> int:
    supervisor, qa = ctx.people["sofia.supervisor"], ctx.people["quinn.qa"]
    master = masters.define_master_batch_record(
        session,
        actor=supervisor,
        product_code=PRODUCT,
        title="Paracetamol 500 mg film-coated tablets, 250,000 tablets",
        batch_size=250000,
        batch_unit="tablets",
        steps=steps(sops),
    )
    session.flush()
    version_id = master.document_version_id
    documents.transition(session, actor=supervisor, version_id=version_id, name="submit")
    documents.transition(
        session, actor=qa, version_id=version_id, name="approve", password=ctx.password
    )
    documents.transition(session, actor=qa, version_id=version_id, name="make_effective")
    return master.id


def _lot_of(session: Session, material: str) -> str:
    """A released lot of the material the checks accept today (the materials demo has some)."""
    from pharmaqms.lifecycle.production.materials.service import check_material_for_use

    now = clock.now()
    for lot in session.scalars(
        select(Lot)
        .where(Lot.kind == LotKind.MATERIAL, Lot.item_code == material, Lot.status == "released")
        .order_by(Lot.id.desc())
    ):
        if not check_material_for_use(session, lot, at=now, expected_material=material):
            return lot.lot_number
    raise RuntimeError(f"the materials demo has no usable lot of {material}")


def _make(
    session: Session,
    ctx: DemoContext,
    *,
    master_id: int,
    lot_number: str,
    started: datetime,
    values: dict[str, float],
    deviation_at_coating: bool = False,
) -> tuple[int, int]:
    operator, supervisor = ctx.people["oscar.operator"], ctx.people["sofia.supervisor"]
    with clock.frozen_at(started) as moment:
        record = service.open_batch_record(
            session, actor=supervisor, master_id=master_id, lot_number=lot_number
        )
        session.flush()
        record_id, lot_id = record.id, record.lot_id
        step_ids = [s.id for s in service.steps_of(session, record_id)]
        moment.advance(minutes=10)
        for material, quantity in (("API-PARA", 50.1), ("EXC-MCC", 19.9)):
            entries.dispense_material(
                session,
                actor=operator,
                step_id=step_ids[0],
                material_code=material,
                lot_number=_lot_of(session, material),
                quantity=quantity,
                unit="kg",
            )
            moment.advance(minutes=8)
        entries.use_equipment(session, actor=operator, step_id=step_ids[0], equipment_code="BAL-01")
        service.perform_step(session, actor=operator, step_id=step_ids[0], password=ctx.password)
        moment.advance(minutes=5)
        service.verify_step(session, actor=supervisor, step_id=step_ids[0], password=ctx.password)
        plan = (
            (1, "GRN-01", 50, ("impeller_speed", "granulation_time"), ()),
            (2, "TP-01", 200, ("compression_force",), ("tablet_hardness", "tablet_weight")),
            (3, "CT-01", 150, ("inlet_air_temperature", "spray_rate"), ()),
            (4, "BL-01", 200, ("sealing_temperature",), ("leak_test_failures",)),
        )
        units = {
            "impeller_speed": "rpm",
            "granulation_time": "min",
            "compression_force": "kN",
            "tablet_hardness": "N",
            "tablet_weight": "mg",
            "inlet_air_temperature": "°C",
            "spray_rate": "g/min",
            "sealing_temperature": "°C",
            "leak_test_failures": "",
        }
        for index, code, minutes, parameters, controls in plan:
            moment.advance(minutes=15)
            for name in parameters:
                entries.record_value(
                    session,
                    actor=operator,
                    step_id=step_ids[index],
                    name=name,
                    value=values[name],
                    unit=units[name],
                )
            for name in controls:
                entries.record_value(
                    session,
                    actor=operator,
                    step_id=step_ids[index],
                    name=name,
                    value=values[name],
                    unit=units[name],
                    kind="in_process_control",
                )
            entries.use_equipment(
                session, actor=operator, step_id=step_ids[index], equipment_code=code
            )
            if index == 3 and deviation_at_coating:
                service.raise_step_deviation(
                    session,
                    actor=operator,
                    step_id=step_ids[index],
                    title="Spray gun 2 partly blocked during coating",
                    description="The spray rate of gun 2 fell to about 70 g/min for 12 minutes "
                    "before it was cleared; the bed was kept moving and the total rate was "
                    "restored by raising gun 1.",
                    immediate_actions="Gun 2 cleared and flushed; coating weight gain checked.",
                )
            moment.advance(minutes=minutes)
            service.perform_step(
                session, actor=operator, step_id=step_ids[index], password=ctx.password
            )
        moment.advance(minutes=10)
        service.verify_step(session, actor=supervisor, step_id=step_ids[4], password=ctx.password)
        moment.advance(minutes=40)
        service.complete_batch_record(
            session, actor=supervisor, record_id=record_id, password=ctx.password
        )
    return record_id, lot_id


def _qc(session: Session, ctx: DemoContext, lot_id: int, at: datetime) -> None:
    analyst, approver = ctx.people["chen.qc"], ctx.people["quinn.qa"]
    eu = next(s for s in approved_specifications(session, PRODUCT) if s.market == "EU")
    with clock.frozen_at(at):
        for code, value, unit in CONFORMING:
            results.record_result(
                session,
                actor=analyst,
                lot_id=lot_id,
                sample_id=f"R-{lot_id}",
                test_code=code,
                tested_at=at - timedelta(hours=3),
                value=value,
                unit=unit,
            )
        results.record_result(
            session,
            actor=analyst,
            lot_id=lot_id,
            sample_id=f"R-{lot_id}",
            test_code="APPEAR",
            tested_at=at - timedelta(hours=3),
            text_value=APPEARANCE,
        )
        coa = certificates.prepare_certificate(
            session, actor=analyst, lot_id=lot_id, specification_id=eu.id
        )
        perform(session, CERTIFICATE_WORKFLOW, coa, "review", actor=analyst, password=ctx.password)
        perform(
            session, CERTIFICATE_WORKFLOW, coa, "approve", actor=approver, password=ctx.password
        )


def _accept_exceptions(
    session: Session, ctx: DemoContext, record_id: int, at: datetime, reason: str
) -> None:
    reviewer: Actor = ctx.people["rosa.qa"]
    with clock.frozen_at(at):
        for found in exceptions.exceptions_of(session, record_id, status="open"):
            exceptions.review_exception(
                session,
                actor=reviewer,
                exception_id=found.id,
                decision="accept",
                reason=reason,
                password=ctx.password,
            )


IN_LIMITS = {
    "impeller_speed": 125,
    "granulation_time": 10,
    "compression_force": 12.1,
    "tablet_hardness": 96,
    "tablet_weight": 551,
    "inlet_air_temperature": 60,
    "spray_rate": 101,
    "sealing_temperature": 161,
    "leak_test_failures": 0,
}


def load(session: Session, ctx: DemoContext) -> None:
    if session.scalars(select(MasterBatchRecord.id)).first() is not None:
        return  # batch records exist: not a fresh database
    if session.scalars(select(Product.id).where(Product.code == PRODUCT)).first() is None:
        return  # the QC demo makes the product; without it there is nothing to make
    now = clock.now()
    with clock.frozen_at(now - timedelta(days=60)):
        sops = _sops(session, ctx)
        _equipment(session, ctx, clock.now())
    with clock.frozen_at(now - timedelta(days=30)):
        master_id = _master(session, ctx, sops)
    day = now.replace(hour=6, minute=0, second=0, microsecond=0)

    # 1. Made without a hitch, tested and released.
    _, first = _make(
        session,
        ctx,
        master_id=master_id,
        lot_number=f"PB{now:%y}-101",
        started=day - timedelta(days=6),
        values=IN_LIMITS,
    )
    _qc(session, ctx, first, day - timedelta(days=5) + timedelta(hours=4))
    with clock.frozen_at(day - timedelta(days=5) + timedelta(hours=8)):
        release.release_batch(
            session,
            actor=ctx.people["peter.qp"],
            lot_id=first,
            password=ctx.password,
            comment="Certified for the EU market",
        )

    # 2. Compression force above its limit for a while: an exception, reviewed by QA.
    record, second = _make(
        session,
        ctx,
        master_id=master_id,
        lot_number=f"PB{now:%y}-102",
        started=day - timedelta(days=4),
        values=IN_LIMITS | {"compression_force": 14.4},
    )
    _accept_exceptions(
        session,
        ctx,
        record,
        day - timedelta(days=3) + timedelta(hours=2),
        "14.4 kN for one 30-minute check after a punch change; hardness and weight in limits "
        "throughout: no impact on the tablets",
    )
    _qc(session, ctx, second, day - timedelta(days=3) + timedelta(hours=4))

    # 3. A deviation raised from the coating step, not investigated yet: release blocked.
    record, third = _make(
        session,
        ctx,
        master_id=master_id,
        lot_number=f"PB{now:%y}-103",
        started=day - timedelta(days=2),
        values=IN_LIMITS,
        deviation_at_coating=True,
    )
    _accept_exceptions(
        session,
        ctx,
        record,
        day - timedelta(days=1),
        "the deviation carries the investigation of the coating step",
    )
    _qc(session, ctx, third, day - timedelta(days=1) + timedelta(hours=4))


register("production: batch records and release", load)
