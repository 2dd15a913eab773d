"""Master batch records: defined with steps governed by SOPs in force, approved and made
effective through document control, and only then used to open batch records. Refused with the
field named: a step without an SOP, an SOP not in force, an unknown material, limits the wrong
way round, an unknown key; a batch record from a master that is not effective, or whose steps
no longer match what was approved. Also: values the instrument measures are taken from the
platform's process readings, and typing one by hand is an exception."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import (
    GRANULATOR,
    effective_master,
    effective_sop,
    qualified_equipment,
    steps,
    train,
)
from tests.lifecycle.production.setup import MATERIAL, PRODUCT, seed_master_data, trail_counts
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import definition
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, MasterBatchRecord
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion


@pytest.fixture
def sop(db: Database, people: Any, frozen_clock: Any) -> str:
    seed_master_data(db, people)
    document_id, number = effective_sop(db, people, "Tablet manufacturing")
    train(db, people, document_id, "operator", "supervisor")
    return number


def masters_and_documents(db: Database) -> tuple[int, int, int, tuple[int, int]]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(MasterBatchRecord)) or 0),
            int(s.scalar(select(func.count()).select_from(ControlledDocument)) or 0),
            int(s.scalar(select(func.count()).select_from(DocumentVersion)) or 0),
            trail_counts(db),
        )


def define(client: Any, raw_steps: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/production/masters",
        json={
            "product_code": PRODUCT,
            "title": "Paracetamol 500 mg tablets",
            "batch_size": 100000,
            "batch_unit": "tablets",
            "steps": raw_steps,
        },
    )


def broken(sop: str, path: list[Any], value: Any) -> list[dict[str, Any]]:
    raw = copy.deepcopy(steps(sop))
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "field", "detail"),
    [
        (
            [0, "sop_numbers"],
            [],
            "steps[1].sop_numbers",
            "steps[1]: name the SOP(s) governing the step (document numbers)",
        ),
        (
            [0, "sop_numbers"],
            ["SOP-2026-0099"],
            "steps",
            "a step must be governed by SOPs in force: SOP-2026-0099: no such document",
        ),
        (
            [0, "materials", 0, "material_code"],
            "M-UNKNOWN",
            "steps",
            "unknown materials: M-UNKNOWN",
        ),
        (
            [1, "parameters", 0, "low"],
            200,
            "steps[2].parameters[0]",
            "steps[2].parameters[0] (impeller_speed): the lower limit exceeds the upper",
        ),
        (
            [1, "parameters", 0, "high"],
            "fast",
            "steps[2].parameters[0].high",
            "steps[2].parameters[0].high: 'fast' is not a number",
        ),
        (
            [2, "target_minutes"],
            0,
            "steps[3].target_minutes",
            "steps[3].target_minutes is 1 to 10080",
        ),
        ([2, "colour"], "blue", "steps[3]", "steps[3]: unknown keys colour"),
        ([0, "title"], KeyError, "steps[1].title", "steps[1].title is required"),
    ],
)
def test_a_master_with_a_bad_step_is_refused_and_nothing_is_created(
    db: Database, api: Any, sop: str, path: list[Any], value: Any, field: str, detail: str
) -> None:
    supervisor = api("supervisor")
    before = masters_and_documents(db)
    response = define(supervisor, broken(sop, path, value))
    assert response.status_code == 422, response.text
    assert (response.json()["field"], response.json()["detail"]) == (field, detail)
    assert masters_and_documents(db) == before


def test_a_step_governed_by_an_sop_not_in_force_is_refused(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    from tests.web.support import make_sop

    _, _, draft = make_sop(db, people.supervisor, state="in_review", title="Coating")
    number = draft.split(" ")[0]
    supervisor = api("supervisor")
    before = masters_and_documents(db)
    response = define(supervisor, broken(sop, [2, "sop_numbers"], [sop, number]))
    assert response.status_code == 422, response.text
    assert response.json()["reasons"] == [f"{number} is not in force (in_development)"]
    assert masters_and_documents(db) == before


@pytest.mark.postgres
def test_a_batch_record_needs_an_effective_master_whose_steps_were_approved(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    supervisor, qa = api("supervisor"), api("qa")
    created = define(supervisor, steps(sop))
    assert created.status_code == 201, created.text
    master = created.json()
    assert master["problems"] == [
        "MBR-2026-0001 v1.0 is draft, not effective",
        "MBR-2026-0001 v1.0: no approval signature covers the current content",
    ]
    before = trail_counts(db)
    opened = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": master["id"], "lot_number": "B1"}
    )
    assert opened.status_code == 409, opened.text
    assert opened.json()["code"] == "master_not_effective"
    assert trail_counts(db) == before

    # A draft is edited: the document's body follows the steps
    edited = supervisor.patch(
        f"/api/v1/production/masters/{master['id']}",
        json={"steps": broken(sop, [2, "target_minutes"], 300), "reason": "longer compression"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["definition_hash"] != master["definition_hash"]
    version_id = master["document_version_id"]
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, version_id)
        assert version is not None
        assert "Target duration 300 min; no verification" in version.body
        assert version.body.endswith(f"Definition SHA-256: {edited.json()['definition_hash']}")
    for client, name, body in (
        (supervisor, "submit", {}),
        (qa, "approve", {"password": PASSWORD, "expected_version": None}),
        (qa, "make_effective", {}),
    ):
        if "expected_version" in body:
            body["expected_version"] = reviewed_version(client, "document_version", version_id)
        moved = client.post(
            f"/api/v1/records/document_version/{version_id}/transitions/{name}", json=body
        )
        assert moved.status_code == 200, moved.text
    # Once approved it is not edited any more
    refused = supervisor.patch(
        f"/api/v1/production/masters/{master['id']}", json={"title": "Another title"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")

    # When someone changes the stored steps behind document control's back
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE master_batch_records SET steps = replace(steps, '\"high\":150', '\"high\":180')"
        )
    opened = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": master["id"], "lot_number": "B1"}
    )
    assert opened.status_code == 409, opened.text
    assert opened.json()["reasons"] == [
        "MBR-2026-0001 v1.0: the stored steps no longer hash to the recorded value"
    ]
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(BatchRecord)) == 0


def test_a_revision_starts_from_the_steps_in_force(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    master_id = effective_master(db, people, steps(sop))
    revised = api("supervisor").post(
        f"/api/v1/production/masters/{master_id}/revisions",
        json={"change_summary": "add a friability check", "major": False},
    )
    assert revised.status_code == 201, revised.text
    body = revised.json()
    assert (body["number"], body["document_status"], body["effective"]) == (
        "MBR-2026-0001 v1.1",
        "draft",
        False,
    )
    original = api("supervisor").get(f"/api/v1/production/masters/{master_id}").json()
    assert (body["steps"], body["definition_hash"]) == (
        original["steps"],
        original["definition_hash"],
    )
    assert original["effective"] is True


def instrument_steps(sop: str) -> list[dict[str, Any]]:
    raw = steps(sop)[1:2]
    raw[0]["parameters"][0]["capture"] = "instrument"
    raw[0]["equipment"] = ["granulator"]
    return raw


@pytest.mark.postgres
def test_an_instrument_value_is_taken_from_the_readings_and_a_typed_one_is_an_exception(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    qualified_equipment(db, people, GRANULATOR, "granulator", calibrated=False)
    master_id = effective_master(db, people, instrument_steps(sop))
    supervisor, operator = api("supervisor"), api("operator")
    record = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": master_id, "lot_number": "B7001"}
    ).json()
    step_id = record["steps"][0]["id"]
    missing = operator.post(
        f"/api/v1/production/batch-steps/{step_id}/readings", json={"name": "impeller_speed"}
    )
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "no reading of impeller_speed at Granulation / Wet massing / Mix has arrived for this "
        "batch: enter it by hand (recorded as a manual entry) or wait for the instrument",
    )
    content = (
        "record_type,item_code,lot_number,unit_procedure,operation,phase,equipment,parameter,"
        "value,unit,measured_at\n"
        f"process_reading,{PRODUCT},B7001,Granulation,Wet massing,Mix,GRN-01,impeller_speed,"
        "131,rpm,2026-03-02T08:55:00+00:00\n"
    ).encode()
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.supervisor, kind="mes", content=content, filename="m.csv"
        )
        assert run.rows_accepted == 1
    taken = operator.post(
        f"/api/v1/production/batch-steps/{step_id}/readings", json={"name": "impeller_speed"}
    )
    assert taken.status_code == 201, taken.text
    assert (taken.json()["value"], taken.json()["source"], taken.json()["within_limits"]) == (
        131.0,
        "instrument",
        True,
    )
    typed = operator.post(
        f"/api/v1/production/batch-steps/{step_id}/values",
        json={"name": "granulation_time", "value": 10, "unit": "min"},
    )
    assert typed.status_code == 201
    exceptions = operator.get(f"/api/v1/production/batch-records/{record['id']}/exceptions").json()
    assert exceptions == []
    corrected = operator.post(
        f"/api/v1/production/batch-step-entries/{taken.json()['id']}/corrections",
        json={"reason": "reading looks wrong", "value": 120},
    )
    assert (corrected.status_code, corrected.json()["detail"]) == (
        409,
        "an instrument's value is not corrected: enter the value by hand instead",
    )


def test_a_value_typed_where_the_instrument_measures_is_a_manual_entry_exception(
    db: Database, api: Any, people: Any, sop: str
) -> None:
    master_id = effective_master(db, people, instrument_steps(sop))
    supervisor, operator = api("supervisor"), api("operator")
    record = supervisor.post(
        "/api/v1/production/batch-records", json={"master_id": master_id, "lot_number": "B7002"}
    ).json()
    typed = operator.post(
        f"/api/v1/production/batch-steps/{record['steps'][0]['id']}/values",
        json={"name": "impeller_speed", "value": 128, "unit": "RPM"},
    )
    assert typed.status_code == 201, typed.text
    assert (typed.json()["source"], typed.json()["unit"]) == ("manual", "rpm")
    exceptions = operator.get(f"/api/v1/production/batch-records/{record['id']}/exceptions").json()
    assert [(e["kind"], e["description"]) for e in exceptions] == [
        (
            "manual_entry",
            "impeller_speed = 128 rpm typed by hand at step 1; the master expects the "
            "instrument's value",
        )
    ]


def test_the_approved_text_names_every_step_and_its_hash() -> None:
    parsed = definition.parse_steps(steps("SOP-2026-0001"))
    header = {
        "product_code": PRODUCT,
        "title": "Paracetamol",
        "batch_size": 100000.0,
        "batch_unit": "tablets",
    }
    digest = definition.definition_hash(header, parsed)
    text = definition.render(header, parsed, digest)
    assert text.splitlines()[:7] == [
        "Master batch record for P-PARA500: Paracetamol",
        "Batch size: 100000 tablets",
        "",
        "Step 1. Dispensing / Weigh / Weigh API: Weigh the paracetamol",
        "  Instructions: Weigh the API on the calibrated balance into a clean container.",
        "  Governing SOPs: SOP-2026-0001",
        f"  Dispense {MATERIAL}: 50 kg (± 1 %)",
    ]
    assert text.splitlines()[-1] == f"Definition SHA-256: {digest}"
    moved = [parsed[1], parsed[0], parsed[2]]
    assert definition.definition_hash(header, moved) != digest
