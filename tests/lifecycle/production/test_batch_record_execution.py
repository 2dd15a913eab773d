"""Executing a batch record through the API: what is refused (with the reason, changing
nothing) and what is accepted but recorded as an exception for QA.

Refused: steps out of order, a value that is not a number or whose comma could be a thousands
separator ("1,500"), a wrong unit, the wrong material, an expired lot, a lot from a supplier no
longer approved, equipment of the wrong kind or out of calibration, a step signed before its
entries are complete, a verification by the performer, a person not trained on the step's SOP.
Recorded as exceptions: an out-of-limit value, a quantity outside its tolerance, a lot used under
QA's override, a late step, a batch continued without its verification, a correction, a
deviation raised from a step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import (
    BALANCE,
    GRANULATOR,
    PRESS,
    QUARANTINED_LOT,
    Plant,
    build_plant,
    open_batch,
    plant_database,
)
from tests.lifecycle.production.setup import (
    MATERIAL,
    OTHER_MATERIAL,
    SUPPLIER,
    lot_status,
    receive_lot,
    release_material_lot,
    trail_counts,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import equipment
from pharmaqms.lifecycle.production.batchrecords.models import (
    BatchRecordException,
    BatchStep,
    StepEntry,
)
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.links import QualityLink

LOT = "B4001"


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Any]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Any], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def batch(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Any:
    p = built[1].rebind(db, people, api)
    record_id, lot_id, steps = open_batch(p, LOT)

    class Batch:
        plant = p
        record = record_id
        lot = lot_id
        step = steps
        operator = api("operator")
        supervisor = api("supervisor")
        qa = api("qa")
        clock = frozen_clock

    return Batch


def state(db: Database) -> tuple[Any, ...]:
    """What a refusal must leave as it was: the trail, entries, consumptions, exceptions, and
    every step's status and version."""
    with unit_of_work(db, write=False) as s:
        return (
            trail_counts(db),
            s.scalar(select(func.count()).select_from(StepEntry)),
            s.scalar(select(func.count()).select_from(MaterialConsumption)),
            s.scalar(select(func.count()).select_from(BatchRecordException)),
            tuple(s.execute(select(BatchStep.status, BatchStep.version).order_by(BatchStep.id))),
        )


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return dict(body)


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/production{url}", json=body)


def dispense(
    b: Any, lot: str, quantity: Any = 50.0, unit: str = "kg", material: str = MATERIAL
) -> Any:
    return post(
        b.operator,
        f"/batch-steps/{b.step[0]}/materials",
        {"material_code": material, "lot_number": lot, "quantity": quantity, "unit": unit},
    )


def finish_step_one(b: Any) -> None:
    assert dispense(b, b.plant.material_lot).status_code == 201
    assert (
        post(
            b.operator, f"/batch-steps/{b.step[0]}/equipment", {"equipment_code": BALANCE}
        ).status_code
        == 201
    )
    assert (
        post(b.operator, f"/batch-steps/{b.step[0]}/perform", {"password": PASSWORD}).status_code
        == 200
    )


def exceptions_of(b: Any) -> list[tuple[str, str]]:
    found = b.qa.get(f"/api/v1/production/batch-records/{b.record}/exceptions").json()
    return [(e["kind"], e["description"]) for e in found]


# --- refused: order, numbers and units ------------------------------------------------------


@pytest.mark.clause("part11:11.10(f)")
def test_a_step_out_of_order_is_refused_and_nothing_changes(batch: Any) -> None:
    before = state(batch.plant.db)
    entry = post(
        batch.operator,
        f"/batch-steps/{batch.step[2]}/values",
        {"name": "compression_force", "value": 12, "unit": "kN"},
    )
    problem = refused(entry, 409, "transition_not_allowed")
    assert problem["detail"] == (
        "steps are performed in order: step 1 of EBR-2026-0001 is not performed yet"
    )
    started = post(batch.operator, f"/batch-steps/{batch.step[1]}/start", {})
    refused(started, 409, "transition_not_allowed")
    assert state(batch.plant.db) == before


@pytest.mark.parametrize(
    ("value", "unit", "detail"),
    [
        ("fast", "rpm", "value: 'fast' is not a number"),
        ("", "rpm", "value must be a number"),
        ("1e999", "rpm", "value must be a finite number"),
        # A comma before exactly three digits reads as a thousands separator or a decimal mark.
        ("1,500", "rpm", "value: write 1500 or 1.5: '1,500' is ambiguous"),
        ("2,000", "rpm", "value: write 2000 or 2.0: '2,000' is ambiguous"),
        ("-1,250", "rpm", "value: write -1250 or -1.25: '-1,250' is ambiguous"),
        (
            "1,234.5",
            "rpm",
            "value: '1,234.5' has both ',' and '.': write one decimal mark and no thousands "
            "separator",
        ),
        (
            "1.234,5",
            "rpm",
            "value: '1.234,5' has both ',' and '.': write one decimal mark and no thousands "
            "separator",
        ),
        ("1,2,5", "rpm", "value: '1,2,5' is not a number"),
        (120, "bar", "wrong unit: 'bar' given, the step records rpm"),
        (120, "", "wrong unit: no unit given, the step records rpm"),
    ],
)
@pytest.mark.clause("annex11:6", "alcoa:accurate")
def test_a_value_that_is_not_a_number_or_in_the_wrong_unit_is_refused(
    batch: Any, value: Any, unit: str, detail: str
) -> None:
    finish_step_one(batch)
    before = state(batch.plant.db)
    response = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/values",
        {"name": "impeller_speed", "value": value, "unit": unit},
    )
    assert refused(response, 422, "invalid_input")["detail"] == detail
    assert state(batch.plant.db) == before


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [("9.5", 9.5), ("9,5", 9.5), ("10,25", 10.25), ("0,500", 0.5), ("11,7500", 11.75)],
)
def test_a_decimal_comma_is_read_as_a_decimal_mark(batch: Any, typed: str, recorded: float) -> None:
    finish_step_one(batch)
    entry = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/values",
        {"name": "granulation_time", "value": typed, "unit": "min"},
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["value"] == recorded


def test_an_ambiguous_quantity_is_not_dispensed(batch: Any) -> None:
    before = state(batch.plant.db)
    response = dispense(batch, batch.plant.material_lot, quantity="1,500")
    assert refused(response, 422, "invalid_input")["detail"] == (
        "quantity: write 1500 or 1.5: '1,500' is ambiguous"
    )
    assert state(batch.plant.db) == before


def test_a_boolean_is_not_a_value(batch: Any) -> None:
    finish_step_one(batch)
    before = state(batch.plant.db)
    response = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/values",
        {"name": "impeller_speed", "value": True, "unit": "rpm"},
    )
    assert refused(response, 422, "invalid_input")["field"] == "value.float"
    assert state(batch.plant.db) == before


@pytest.mark.clause("annex11:6")
def test_a_parameter_the_step_does_not_record_is_refused(batch: Any) -> None:
    finish_step_one(batch)
    before = state(batch.plant.db)
    response = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/values",
        {"name": "inlet_temperature", "value": 40, "unit": "°C"},
    )
    assert refused(response, 422, "invalid_input")["detail"] == (
        "step 2 records no parameter 'inlet_temperature'; it records: impeller_speed, "
        "granulation_time"
    )
    assert state(batch.plant.db) == before


# --- refused: materials ---------------------------------------------------------------------


def test_the_wrong_material_is_refused_with_the_reasons(batch: Any) -> None:
    received = receive_lot(batch.supervisor, "MCC-0001", material=OTHER_MATERIAL)
    assert received.status_code == 201, received.text
    before = state(batch.plant.db)
    problem = refused(dispense(batch, "MCC-0001"), 409, "material_not_usable")
    assert problem["codes"] == ["wrong_item", "quarantine"]
    assert problem["reasons"] == [
        "wrong material: lot MCC-0001 is M-MCC, the step needs M-PARA-API",
        "lot MCC-0001 is in quarantine: not released by quality control",
    ]
    assert state(batch.plant.db) == before


def test_an_expired_lot_is_refused(batch: Any) -> None:
    short = receive_lot(batch.supervisor, "API-0003", expires_on=date(2026, 3, 10))
    assert short.status_code == 201, short.text
    release_material_lot(
        batch.plant.qc, batch.qa, short.json()["id"], batch.plant.material_spec["id"]
    )
    batch.clock.advance(days=10)
    batch.operator.login("operator")  # the API token of the day before has expired
    before = state(batch.plant.db)
    problem = refused(dispense(batch, "API-0003"), 409, "material_not_usable")
    assert (problem["codes"], problem["reasons"]) == (
        ["expired"],
        ["lot API-0003 expired on 2026-03-10"],
    )
    assert state(batch.plant.db) == before


def test_a_lot_from_a_supplier_no_longer_approved_is_refused(batch: Any) -> None:
    approvals = batch.qa.get("/api/v1/production/supplier-approvals").json()
    approval = next(
        a for a in approvals if (a["material_code"], a["supplier_code"]) == (MATERIAL, SUPPLIER)
    )
    disqualified = batch.qa.post(
        f"/api/v1/records/supplier_approval/{approval['id']}/transitions/disqualify",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(batch.qa, "supplier_approval", approval["id"]),
            "reason": "audit found data integrity failures",
        },
    )
    assert disqualified.status_code == 200, disqualified.text
    before = state(batch.plant.db)
    problem = refused(dispense(batch, batch.plant.material_lot), 409, "material_not_usable")
    assert problem["codes"] == ["supplier_not_approved"]
    assert problem["reasons"] == [f"S-ACME is disqualified for M-PARA-API ({approval['number']})"]
    assert state(batch.plant.db) == before


def test_a_quarantined_lot_is_used_under_qa_override_and_recorded_as_an_exception(
    batch: Any,
) -> None:
    refused(dispense(batch, QUARANTINED_LOT), 409, "material_not_usable")
    with unit_of_work(batch.plant.db, write=False) as s:
        lot_id = s.scalars(select(Lot.id).where(Lot.lot_number == QUARANTINED_LOT)).one()
    override = batch.qa.post(
        f"/api/v1/production/material-lots/{lot_id}/overrides",
        json={
            "justification": "Release testing complete, certificate in signature",
            "password": PASSWORD,
            "batch_reference": LOT,
        },
    )
    assert override.status_code == 201, override.text

    entry = dispense(batch, QUARANTINED_LOT, quantity=49.0)

    assert entry.status_code == 201, entry.text
    assert (entry.json()["override_id"], entry.json()["within_limits"]) == (
        override.json()["id"],
        False,
    )
    assert exceptions_of(batch) == [
        (
            "override",
            f"lot {QUARANTINED_LOT} of M-PARA-API used at step 1 under QA override "
            f"{override.json()['number']}: lot {QUARANTINED_LOT} is in quarantine: not released "
            "by quality control",
        ),
        (
            "out_of_tolerance",
            "49 kg of M-PARA-API dispensed at step 1; the master asks 50 kg ± 1 %",
        ),
    ]


def test_a_material_is_dispensed_once_then_corrected_with_a_reason(batch: Any) -> None:
    first = dispense(batch, batch.plant.material_lot, quantity="50,3")
    assert first.status_code == 201, first.text
    before = state(batch.plant.db)
    refused(dispense(batch, batch.plant.material_lot), 409, "conflict")
    assert state(batch.plant.db) == before

    corrected = post(
        batch.operator,
        f"/batch-step-entries/{first.json()['id']}/corrections",
        {"reason": "scale read before it settled", "quantity": 50.1},
    )

    assert corrected.status_code == 201, corrected.text
    assert (corrected.json()["value"], corrected.json()["corrects_id"]) == (
        50.1,
        first.json()["id"],
    )
    with unit_of_work(batch.plant.db, write=False) as s:
        old = s.get(StepEntry, first.json()["id"])
        assert old is not None
        assert (old.value, old.replaced_by_id) == (50.3, corrected.json()["id"])
        consumed = s.scalars(
            select(MaterialConsumption.quantity)
            .where(MaterialConsumption.batch_id == batch.lot)
            .order_by(MaterialConsumption.id)
        ).all()
    # The genealogy is append-only: the first weighing is reversed, the corrected one stands.
    assert consumed == [50.3, 50.1, -50.3]
    assert exceptions_of(batch) == [
        (
            "correction",
            "M-PARA-API corrected at step 1: lot API-0001 50.3 kg → lot API-0001 50.1 kg "
            "(scale read before it settled)",
        )
    ]


# --- refused: equipment ---------------------------------------------------------------------


@pytest.mark.clause("part11:11.10(h)")
def test_equipment_of_the_wrong_kind_or_out_of_calibration_is_refused(batch: Any) -> None:
    before = state(batch.plant.db)
    wrong = post(
        batch.operator, f"/batch-steps/{batch.step[0]}/equipment", {"equipment_code": PRESS}
    )
    assert refused(wrong, 409, "equipment_not_usable")["detail"] == (
        "wrong equipment: TP-01 is a tablet press; step 1 uses balance"
    )
    assert state(batch.plant.db) == before
    batch.clock.advance(days=61)  # the balance's calibration fell due on 2026-05-01
    batch.operator.login("operator")
    late = post(
        batch.operator, f"/batch-steps/{batch.step[0]}/equipment", {"equipment_code": BALANCE}
    )
    assert refused(late, 409, "equipment_not_usable")["reasons"] == [
        "BAL-01: calibration CAL-BAL-01-1 fell due on 2026-05-01"
    ]


# --- refused: signatures and training -------------------------------------------------------


def test_a_step_is_not_signed_before_its_entries_are_complete(batch: Any) -> None:
    assert dispense(batch, batch.plant.material_lot).status_code == 201
    before = state(batch.plant.db)
    signed = post(batch.operator, f"/batch-steps/{batch.step[0]}/perform", {"password": PASSWORD})
    assert refused(signed, 409, "transition_not_allowed")["reasons"] == [
        "step 1: record the balance used"
    ]
    assert state(batch.plant.db) == before


@pytest.mark.clause("annex11:6")
def test_the_performer_can_not_verify_their_own_step(batch: Any) -> None:
    finish_step_one(batch)
    before = state(batch.plant.db)
    verified = post(batch.operator, f"/batch-steps/{batch.step[0]}/verify", {"password": PASSWORD})
    problem = refused(verified, 403, "segregation_of_duties")
    assert problem["detail"] == (
        "who signed EBR-2026-0001-0001 Weigh the paracetamol as Performed may not "
        "'Verify the step (second person)' it"
    )
    assert state(batch.plant.db) == before
    by_other = post(
        batch.supervisor, f"/batch-steps/{batch.step[0]}/verify", {"password": PASSWORD}
    )
    assert by_other.status_code == 200, by_other.text
    assert [(s["meaning"], s["signer_username"]) for s in by_other.json()["signatures"]] == [
        ("Performed", "operator"),
        ("Verified", "supervisor"),
    ]


def test_a_wrong_password_signs_nothing(batch: Any) -> None:
    assert dispense(batch, batch.plant.material_lot).status_code == 201
    assert (
        post(
            batch.operator, f"/batch-steps/{batch.step[0]}/equipment", {"equipment_code": BALANCE}
        ).status_code
        == 201
    )
    signatures_before = trail_counts(batch.plant.db)[1]
    signed = post(batch.operator, f"/batch-steps/{batch.step[0]}/perform", {"password": "wrong"})
    refused(signed, 401, "signature_refused")
    assert trail_counts(batch.plant.db)[1] == signatures_before
    step = batch.operator.get(f"/api/v1/production/batch-steps/{batch.step[0]}").json()
    assert (step["status"], step["signatures"]) == ("in_progress", [])


def test_a_person_not_trained_on_the_sop_is_refused(batch: Any, people: Any) -> None:
    with unit_of_work(batch.plant.db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),  # provisioned: operators sign their steps
            username="newbie",
            full_name="Nina Newcomer",
            roles=["production_operator"],
            password=PASSWORD,
            must_change_password=False,
        )
    from tests.conftest import Api

    newbie = Api(batch.operator.client.app, "newbie")
    before = state(batch.plant.db)
    response = post(
        newbie,
        f"/batch-steps/{batch.step[0]}/materials",
        {
            "material_code": MATERIAL,
            "lot_number": batch.plant.material_lot,
            "quantity": 50,
            "unit": "kg",
        },
    )
    problem = refused(response, 403, "training_missing")
    assert problem["detail"] == (
        f"Nina Newcomer (newbie) is not trained for this step: {batch.plant.sop} Tablet "
        "manufacturing: never trained"
    )
    assert state(batch.plant.db) == before


# --- accepted, recorded as exceptions -------------------------------------------------------


def test_an_out_of_limit_value_is_accepted_and_recorded_as_an_exception(batch: Any) -> None:
    finish_step_one(batch)
    entry = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/values",
        {"name": "granulation_time", "value": 13.5, "unit": "min"},
    )
    assert entry.status_code == 201, entry.text
    assert (entry.json()["within_limits"], entry.json()["low"], entry.json()["high"]) == (
        False,
        8.0,
        12.0,
    )
    # Step 1 needed a second person and nobody verified it before step 2 began.
    assert exceptions_of(batch) == [
        (
            "missing_verification",
            "step 1 (Weigh the paracetamol) needs a second-person verification; the batch "
            "record continued without it",
        ),
        (
            "out_of_limit",
            "granulation_time = 13.5 min at step 2 is outside its limits 8 – 12 min",
        ),
    ]


def test_a_step_performed_after_its_target_duration_is_an_exception(batch: Any) -> None:
    assert dispense(batch, batch.plant.material_lot).status_code == 201
    assert (
        post(
            batch.operator, f"/batch-steps/{batch.step[0]}/equipment", {"equipment_code": BALANCE}
        ).status_code
        == 201
    )
    batch.clock.advance(minutes=47)
    assert (
        post(
            batch.operator, f"/batch-steps/{batch.step[0]}/perform", {"password": PASSWORD}
        ).status_code
        == 200
    )
    assert exceptions_of(batch) == [
        ("late_step", "step 1 (Weigh the paracetamol) took 47 min; its target is 30 min")
    ]


def test_a_deviation_is_raised_from_a_step_in_one_step(batch: Any) -> None:
    finish_step_one(batch)
    raised = post(
        batch.operator,
        f"/batch-steps/{batch.step[1]}/deviations",
        {
            "title": "Binder solution prepared with the wrong water",
            "description": "Potable instead of purified water used for the binder.",
            "immediate_actions": "Granulation stopped; granulate segregated.",
        },
    )
    assert raised.status_code == 201, raised.text
    deviation = raised.json()
    assert (deviation["number"], deviation["status"]) == ("DEV-2026-0001", "reported")
    with unit_of_work(batch.plant.db, write=False) as s:
        found = s.get(Deviation, deviation["id"])
        assert found is not None
        assert [b.batch_id for b in found.batches] == [LOT]
        link = s.scalars(select(QualityLink).where(QualityLink.target_id == found.id)).one()
        assert (link.source_type, link.source_label) == (
            "batch_step",
            "EBR-2026-0001-0002 Granulate",
        )
    assert lot_status(batch.plant.db, batch.lot) == "on_hold"
    assert exceptions_of(batch)[-1] == (
        "deviation",
        "DEV-2026-0001 raised at step 2: Binder solution prepared with the wrong water",
    )


def test_a_second_batch_record_for_the_same_batch_is_refused(batch: Any) -> None:
    before = state(batch.plant.db)
    again = post(
        batch.supervisor, "/batch-records", {"master_id": batch.plant.master_id, "lot_number": LOT}
    )
    assert refused(again, 409, "conflict")["detail"] == (
        f"batch P-PARA500/{LOT} has its batch record already: EBR-2026-0001"
    )
    assert state(batch.plant.db) == before


def test_the_equipment_register_answers_at_a_moment_and_with_hindsight() -> None:
    from datetime import UTC, datetime

    q = equipment.Qualification(
        1, "PQ", datetime(2026, 1, 1, tzinfo=UTC), date(2027, 1, 1), True, "PQ-1"
    )
    c1 = equipment.Calibration(
        1, datetime(2026, 1, 5, tzinfo=UTC), date(2026, 4, 5), True, True, "C1"
    )
    c2 = equipment.Calibration(
        2, datetime(2026, 3, 5, tzinfo=UTC), date(2026, 6, 5), False, True, "C2"
    )
    used = datetime(2026, 2, 10, tzinfo=UTC)
    at_use = equipment.standing_at(
        "BAL-9",
        calibration_required=True,
        retired_at=None,
        qualifications=[q],
        calibrations=[c1, c2],
        at=used,
    )
    looking_back = equipment.standing_at(
        "BAL-9",
        calibration_required=True,
        retired_at=None,
        qualifications=[q],
        calibrations=[c1, c2],
        at=used,
        hindsight=True,
    )
    too_late = equipment.standing_at(
        "BAL-9",
        calibration_required=True,
        retired_at=None,
        qualifications=[q],
        calibrations=[c1],
        at=datetime(2026, 4, 6, tzinfo=UTC),
    )
    assert (at_use.usable, at_use.reasons) == (True, ())
    assert looking_back.reasons == (
        "BAL-9: the next calibration (C2, 2026-03-05) found it out of tolerance",
    )
    assert too_late.reasons == ("BAL-9: calibration C1 fell due on 2026-04-05",)
    nothing = equipment.standing_at(
        "BAL-9",
        calibration_required=True,
        retired_at=None,
        qualifications=[],
        calibrations=[],
        at=used,
    )
    assert nothing.reasons == (
        "BAL-9 had no qualification on record",
        "BAL-9 had no calibration on record",
    )


def test_equipment_without_calibration_is_used_on_its_qualification(batch: Any) -> None:
    finish_step_one(batch)
    used = post(
        batch.operator, f"/batch-steps/{batch.step[1]}/equipment", {"equipment_code": GRANULATOR}
    )
    assert used.status_code == 201, used.text
    with unit_of_work(batch.plant.db, write=False) as s:
        entry = s.get(StepEntry, used.json()["id"])
        assert entry is not None
        snapshot = entry.equipment_status
    assert snapshot is not None
    assert (snapshot["usable"], snapshot["calibration_id"], snapshot["qualified_until"]) == (
        True,
        None,
        "2027-07-15",
    )


def test_a_batch_record_for_a_lot_number_a_gs1_barcode_cannot_carry_is_refused(
    batch: Any,
) -> None:
    """Issue 9 §4: the batch-record path applies the GS1 lot rule (AI 10, charset 82) that the
    MES path applies, so every lot can be printed on its packs."""
    before = state(batch.plant.db)
    with unit_of_work(batch.plant.db, write=False) as s:
        lots = s.scalar(select(func.count()).select_from(Lot))
    opened = post(
        batch.supervisor,
        "/batch-records",
        {"master_id": batch.plant.master_id, "lot_number": "PB26-€1\x0f"},
    )
    detail = refused(opened, 422, "invalid_input")["detail"]
    assert "GS1 character set 82" in detail
    assert "'€'" in detail
    assert state(batch.plant.db) == before
    with unit_of_work(batch.plant.db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Lot)) == lots
