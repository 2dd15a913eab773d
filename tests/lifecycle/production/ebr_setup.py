"""What the batch record and release tests share: an effective SOP the people are trained on,
qualified and calibrated equipment, released material lots, an effective master batch record
of three steps, and a batch made from it — each written through the services of their modules
(document control, training, materials, QC), as the plant would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.lifecycle.production.setup import (
    APPEARANCE,
    ASSAY,
    MATERIAL,
    OTHER_MATERIAL,
    PRODUCT,
    SUPPLIER,
    approved_specification,
    certify,
    qualify_supplier,
    receive_lot,
    record_result,
    release_material_lot,
    seed_master_data,
)
from tests.support import PASSWORD, app_for, name_job_role_in

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import entries, equipment, masters, service
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.training import service as training
from pharmaqms.quality.training.models import TrainingRequirement

BALANCE = "BAL-01"
GRANULATOR = "GRN-01"
PRESS = "TP-01"
QUARANTINED_LOT = "API-0002"


def effective_sop(db: Database, people: Any, title: str) -> tuple[int, str]:
    """An SOP in force: written by the supervisor, approved and made effective by QA."""
    supervisor, qa = people.supervisor, people.qa
    with unit_of_work(db) as s:
        version = documents.create_document(
            s,
            actor=supervisor,
            doc_type="sop",
            title=title,
            body=f"1. Purpose\n\n{title}: how it is done on the shop floor, step by step.",
            area="Production",
        )
        s.flush()
        documents.transition(s, actor=supervisor, version_id=version.id, name="submit")
        documents.transition(s, actor=qa, version_id=version.id, name="approve", password=PASSWORD)
        name_job_role_in(s, qa, version.document_id)
        documents.transition(s, actor=qa, version_id=version.id, name="make_effective")
        s.flush()
        number = version.number.split(" ")[0]
        return version.document_id, number


def train(db: Database, people: Any, document_id: int, *usernames: str) -> None:
    """QA assigns the SOP; each person signs read and understood."""
    for username in usernames:
        person: Actor = people.actor(username)
        with unit_of_work(db) as s:
            requirement = training.assign_training(
                s,
                actor=people.qa,
                user_id=person.user_id,
                document_id=document_id,
                reason="works under this SOP",
            )
            s.flush()
            requirement_id = requirement.id
        with unit_of_work(db) as s:
            training.open_for_reading(s, actor=person, requirement_id=requirement_id)
            training.complete_training(
                s, actor=person, requirement_id=requirement_id, password=PASSWORD
            )


def training_of(db: Database, username_id: int, document_id: int) -> TrainingRequirement | None:
    with unit_of_work(db, write=False) as s:
        return (
            s.query(TrainingRequirement)
            .filter_by(user_id=username_id, document_id=document_id)
            .first()
        )


def qualified_equipment(
    db: Database, people: Any, code: str, kind: str, *, calibrated: bool = True
) -> int:
    supervisor = people.supervisor
    now = clock.now()
    with unit_of_work(db) as s:
        item = equipment.register_equipment(
            s,
            actor=supervisor,
            code=code,
            name=f"{kind} {code}",
            equipment_type=kind,
            location="Suite 2",
            calibration_required=calibrated,
        )
        s.flush()
        equipment.record_qualification(
            s,
            actor=supervisor,
            equipment_id=item.id,
            stage="PQ",
            qualified_at=now - timedelta(days=200),
            valid_until=(now + timedelta(days=500)).date(),
            passed=True,
            report=f"PQ-{code}",
        )
        if calibrated:
            equipment.record_calibration(
                s,
                actor=supervisor,
                equipment_id=item.id,
                calibrated_at=now - timedelta(days=30),
                due_on=(now + timedelta(days=60)).date(),
                as_found_in_tolerance=True,
                as_left_in_tolerance=True,
                certificate=f"CAL-{code}-1",
            )
        return item.id


def steps(sop: str) -> list[dict[str, Any]]:
    """Three steps: dispensing (second-person verified), granulation, compression."""
    return [
        {
            "unit_procedure": "Dispensing",
            "operation": "Weigh",
            "phase": "Weigh API",
            "title": "Weigh the paracetamol",
            "instructions": "Weigh the API on the calibrated balance into a clean container.",
            "sop_numbers": [sop],
            "materials": [
                {"material_code": MATERIAL, "quantity": 50.0, "unit": "kg", "tolerance_percent": 1}
            ],
            "equipment": ["balance"],
            "verification_required": True,
            "target_minutes": 30,
        },
        {
            "unit_procedure": "Granulation",
            "operation": "Wet massing",
            "phase": "Mix",
            "title": "Granulate",
            "instructions": "Mix with the binder at the set speed until the end point.",
            "sop_numbers": [sop],
            "parameters": [
                {"name": "impeller_speed", "unit": "rpm", "low": 100, "high": 150},
                {"name": "granulation_time", "unit": "min", "low": 8, "high": 12},
            ],
            "equipment": ["granulator"],
            "target_minutes": 60,
        },
        {
            "unit_procedure": "Compression",
            "operation": "Press",
            "phase": "",
            "title": "Compress the tablets",
            "instructions": "Compress to the target weight; check hardness every 30 minutes.",
            "sop_numbers": [sop],
            "parameters": [
                {"name": "compression_force", "unit": "kN", "low": 10, "high": 14},
            ],
            "in_process_controls": [
                {"name": "tablet_hardness", "unit": "N", "low": 80, "high": 120},
            ],
            "equipment": ["tablet press"],
            "target_minutes": 240,
        },
    ]


def effective_master(
    db: Database, people: Any, raw_steps: list[dict[str, Any]], *, product: str = PRODUCT
) -> int:
    """A master batch record defined by the supervisor, approved and made effective by QA."""
    supervisor, qa = people.supervisor, people.qa
    with unit_of_work(db) as s:
        master = masters.define_master_batch_record(
            s,
            actor=supervisor,
            product_code=product,
            title="Paracetamol 500 mg tablets, 100,000 tablets",
            batch_size=100000,
            batch_unit="tablets",
            steps=raw_steps,
        )
        s.flush()
        version_id = master.document_version_id
        master_id = master.id
        documents.transition(s, actor=supervisor, version_id=version_id, name="submit")
        documents.transition(s, actor=qa, version_id=version_id, name="approve", password=PASSWORD)
        documents.transition(s, actor=qa, version_id=version_id, name="make_effective")
    return master_id


@dataclass
class Plant:
    """Everything a batch needs, ready."""

    db: Database
    people: Any
    qc: Any
    qa: Any
    supervisor: Any
    sop_id: int
    sop: str
    master_id: int
    material_lot: str  # released lot of MATERIAL
    product_spec: dict[str, Any]
    material_spec: dict[str, Any]

    def rebind(self, db: Database, people: Any, api: Any) -> Plant:
        """The same plant in a copy of its database (another test's)."""
        return Plant(
            db,
            people,
            api("qc"),
            api("qa"),
            api("supervisor"),
            self.sop_id,
            self.sop,
            self.master_id,
            self.material_lot,
            self.product_spec,
            self.material_spec,
        )


def plant(db: Database, people: Any, api: Any, *, raw_steps: Any = None) -> Plant:
    seed_master_data(db, people)
    qc, qa, supervisor = api("qc"), api("qa"), api("supervisor")
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31))
    qualify_supplier(
        qa, OTHER_MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31)
    )
    material_spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", market="ALL", tests=[ASSAY]
    )
    received = receive_lot(supervisor, "API-0001")
    assert received.status_code == 201, received.text
    release_material_lot(qc, qa, received.json()["id"], material_spec["id"])
    # A second lot stays in quarantine: QC has not tested it.
    assert receive_lot(supervisor, QUARANTINED_LOT).status_code == 201
    product_spec = approved_specification(qc, qa, item_code=PRODUCT)
    sop_id, sop = effective_sop(db, people, "Tablet manufacturing")
    train(db, people, sop_id, "operator", "supervisor")
    qualified_equipment(db, people, BALANCE, "balance")
    qualified_equipment(db, people, GRANULATOR, "granulator", calibrated=False)
    qualified_equipment(db, people, PRESS, "tablet press")
    master_id = effective_master(db, people, raw_steps or steps(sop))
    return Plant(
        db,
        people,
        qc,
        qa,
        supervisor,
        sop_id,
        sop,
        master_id,
        "API-0001",
        product_spec,
        material_spec,
    )


# --- a plant built once per test module, copied for each test ---------------------------------
# A test module declares (pytest fixtures can't be shared across modules without a conftest,
# and a conftest here would change ``db`` for every production test):
#
#     @pytest.fixture(scope="module")
#     def built(sqlite_template, tmp_path_factory): yield from build_plant(...)
#     @pytest.fixture
#     def db(built, tmp_path): yield from plant_database(built, tmp_path)

BUILT_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def build_plant(template: Path, directory: Path) -> Iterator[tuple[Path, Plant]]:
    from tests.conftest import Api, People

    path = directory / "plant.db"
    shutil.copyfile(template, path)
    database = Database(f"sqlite:///{path}")
    set_database(database)
    try:
        app = app_for(database)
        with clock.frozen_at(BUILT_AT):
            ready = plant(database, People(database), lambda username=None: Api(app, username))
        with database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        set_database(None)
        database.dispose()
    yield path, ready


def plant_database(built: tuple[Path, Plant], directory: Path) -> Iterator[Database]:
    """This test's database: a copy of the built plant (instead of the empty template)."""
    path = directory / "pharmaqms.db"
    shutil.copyfile(built[0], path)
    database = Database(f"sqlite:///{path}")
    set_database(database)
    yield database
    set_database(None)
    database.dispose()


def open_batch(p: Plant, lot_number: str) -> tuple[int, int, list[int]]:
    """(batch record id, lot id, step ids)."""
    with unit_of_work(p.db) as s:
        record = service.open_batch_record(
            s, actor=p.people.supervisor, master_id=p.master_id, lot_number=lot_number
        )
        s.flush()
        return record.id, record.lot_id, [st.id for st in service.steps_of(s, record.id)]


def make_batch(
    p: Plant, lot_number: str, *, verify: bool = True, impeller_speed: float = 120
) -> tuple[int, int, list[int]]:
    """A batch made by the operator, step 1 verified by the supervisor, every value in its
    limits (unless told otherwise), the record completed by the supervisor.
    (record id, lot id, step ids)"""
    record_id, lot_id, step_ids = open_batch(p, lot_number)
    operator, supervisor = p.people.operator, p.people.supervisor
    with unit_of_work(p.db) as s:
        entries.dispense_material(
            s,
            actor=operator,
            step_id=step_ids[0],
            material_code=MATERIAL,
            lot_number=p.material_lot,
            quantity=50.2,
            unit="kg",
        )
        entries.use_equipment(s, actor=operator, step_id=step_ids[0], equipment_code=BALANCE)
        service.perform_step(s, actor=operator, step_id=step_ids[0], password=PASSWORD)
    if verify:
        with unit_of_work(p.db) as s:
            service.verify_step(s, actor=supervisor, step_id=step_ids[0], password=PASSWORD)
    with unit_of_work(p.db) as s:
        entries.record_value(
            s,
            actor=operator,
            step_id=step_ids[1],
            name="impeller_speed",
            value=impeller_speed,
            unit="rpm",
        )
        entries.record_value(
            s, actor=operator, step_id=step_ids[1], name="granulation_time", value="10", unit="min"
        )
        entries.use_equipment(s, actor=operator, step_id=step_ids[1], equipment_code=GRANULATOR)
        service.perform_step(s, actor=operator, step_id=step_ids[1], password=PASSWORD)
    with unit_of_work(p.db) as s:
        entries.record_value(
            s, actor=operator, step_id=step_ids[2], name="compression_force", value=12, unit="kN"
        )
        entries.record_value(
            s,
            actor=operator,
            step_id=step_ids[2],
            name="tablet_hardness",
            value=95,
            unit="N",
            kind="in_process_control",
        )
        entries.use_equipment(s, actor=operator, step_id=step_ids[2], equipment_code=PRESS)
        service.perform_step(s, actor=operator, step_id=step_ids[2], password=PASSWORD)
    with unit_of_work(p.db) as s:
        service.complete_batch_record(s, actor=supervisor, record_id=record_id, password=PASSWORD)
    return record_id, lot_id, step_ids


def pass_qc(p: Plant, lot_id: int) -> None:
    """QC tests the batch (conforming) and QA approves its certificate of analysis."""
    for test in (ASSAY, APPEARANCE):
        recorded = record_result(p.qc, lot_id, test, sample=f"B-{lot_id}")
        assert recorded.status_code == 201, recorded.text
    certify(p.qc, p.qa, lot_id, p.product_spec["id"])


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)
