"""A batch executed in an external MES, imported through the platform: reviewed by exception
(each exception assessed, the review signed) and released by the QP on the imported evidence.
Before the review, and after the imported record changed, the release is refused naming the
rule, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.production.ebr_setup import Plant, build_plant, pass_qc, plant_database
from tests.lifecycle.production.setup import MATERIAL, PRODUCT, trail_counts
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.models import Lot

BATCH = "X26-0001"
HEADER = (
    "record_type,item_code,lot_number,quantity,unit,manufactured_on,manufacturing_ended_at,"
    "expires_on,unit_procedure,operation,phase,equipment,parameter,value,measured_at,"
    "material_code,material_lot,step,consumed_at\n"
)


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def p(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Plant:
    return built[1].rebind(db, people, api)


def deliver(p: Plant, rows: str) -> None:
    with unit_of_work(p.db) as s:
        ingest.ingest(
            s,
            actor=p.people.supervisor,
            kind="mes",
            content=(HEADER + rows).encode(),
            filename="mes.csv",
        )


def mes_batch(p: Plant) -> int:
    """The MES reports the batch, a reading, the API it consumed (released) and one reading
    without a time zone (quarantined: an exception of the record)."""
    deliver(
        p,
        f"batch,{PRODUCT},{BATCH},100000,tablets,2026-03-02,2026-03-02T08:55:00+00:00,"
        "2029-02-28,,,,,,,,,,,\n"
        f"process_reading,{PRODUCT},{BATCH},,kN,,,,Compression,Main compression,,TP-02,"
        "compression_force,12.4,2026-03-02T08:40:00+00:00,,,,\n"
        f"process_reading,{PRODUCT},{BATCH},,kN,,,,Compression,Main compression,,TP-02,"
        "compression_force,3,2026-03-02 08:45:00,,,,\n"
        f"material_consumption,{PRODUCT},{BATCH},2,kg,,,,,,,,,,,{MATERIAL},{p.material_lot},"
        "Dispensing,2026-03-02T08:30:00+00:00\n",
    )
    with unit_of_work(p.db, write=False) as s:
        return int(s.scalars(select(Lot.id).where(Lot.lot_number == BATCH)).one())


def test_an_mes_batch_is_reviewed_by_exception_and_released_on_the_imported_evidence(
    p: Plant, api: Any, frozen_clock: Any
) -> None:
    lot_id = mes_batch(p)
    pass_qc(p, lot_id)
    frozen_clock.advance(hours=1)
    qp, supervisor = api("qp"), api("supervisor")

    # Before any review: the batch record rule says what is missing, the QP can't release.
    body = qp.get(f"/api/v1/production/batches/{lot_id}/release").json()
    assert body["failing_rules"] == ["batch_record_complete", "exceptions_reviewed"], body
    [rule] = [r for r in body["rules"] if r["code"] == "batch_record_complete"]
    assert rule["findings"] == [
        "its imported record has not been reviewed (open the MES record review)"
    ]

    opened = supervisor.post("/api/v1/production/external-reviews", json={"lot_id": lot_id})
    assert opened.status_code == 201, opened.text
    review = opened.json()
    assert review["summary"]["readings"] == 1
    [exception] = review["exceptions"]
    assert exception["key"].startswith("quarantined:")
    assert exception["text"].startswith("process_reading row line 4 quarantined: ")

    # Signing with an exception not assessed is refused and changes nothing.
    before = trail_counts(p.db)
    early = supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/review",
        json={"password": PASSWORD, "expected_version": review["version"]},
    )
    assert early.status_code == 409, early.text
    assert "assess the exception" in early.text
    assert trail_counts(p.db) == before

    assessed = supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/assessments",
        json={
            "key": exception["key"],
            "comment": "A duplicate reading in a wrong unit; the kN one stands.",
        },
    )
    assert assessed.status_code == 200, assessed.text
    signed = supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/review",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(supervisor, "external_batch_review", review["id"]),
        },
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "reviewed"

    body = qp.get(f"/api/v1/production/batches/{lot_id}/release").json()
    assert body["failing_rules"] == [], body
    released = qp.post(f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD})
    assert released.status_code == 200, released.text
    assert released.json()["lot_status"] == "released"


def test_a_new_import_after_the_review_stops_the_release(
    p: Plant, api: Any, frozen_clock: Any
) -> None:
    lot_id = mes_batch(p)
    pass_qc(p, lot_id)
    supervisor, qp = api("supervisor"), api("qp")
    review = supervisor.post("/api/v1/production/external-reviews", json={"lot_id": lot_id}).json()
    [exception] = review["exceptions"]
    supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/assessments",
        json={"key": exception["key"], "comment": "duplicate in a wrong unit"},
    )
    supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/review",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(supervisor, "external_batch_review", review["id"]),
        },
    )
    frozen_clock.advance(hours=1)
    # The MES delivers one more reading of the batch after the review.
    deliver(
        p,
        f"process_reading,{PRODUCT},{BATCH},,kN,,,,Compression,Main compression,,TP-02,"
        "compression_force,12.9,2026-03-02T08:50:00+00:00,,,,\n",
    )

    body = qp.get(f"/api/v1/production/batches/{lot_id}/release").json()
    assert body["failing_rules"] == ["batch_record_complete"]
    [rule] = [r for r in body["rules"] if r["code"] == "batch_record_complete"]
    assert rule["findings"] == [
        f"{review['number']}: the imported record changed since it was reviewed"
    ]
    before = trail_counts(p.db)
    refused = qp.post(f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD})
    assert refused.status_code == 409
    assert trail_counts(p.db) == before


def test_a_review_is_not_opened_on_a_batch_made_here_or_with_nothing_imported(
    p: Plant, api: Any
) -> None:
    supervisor = api("supervisor")
    deliver(p, f"batch,{PRODUCT},X26-0002,100000,tablets,2026-03-02,,2029-02-28,,,,,,,,,,,\n")
    with unit_of_work(p.db, write=False) as s:
        lot_id = int(s.scalars(select(Lot.id).where(Lot.lot_number == "X26-0002")).one())
    before = trail_counts(p.db)
    refused = supervisor.post("/api/v1/production/external-reviews", json={"lot_id": lot_id})
    assert refused.status_code == 422
    assert "nothing of" in refused.json()["detail"]
    assert trail_counts(p.db) == before


def _master_version(p: Plant) -> str:
    from pharmaqms.lifecycle.production.batchrecords.models import MasterBatchRecord
    from pharmaqms.quality.documents.models import DocumentVersion

    with unit_of_work(p.db, write=False) as s:
        return str(
            s.scalars(
                select(DocumentVersion.number)
                .join(
                    MasterBatchRecord, MasterBatchRecord.document_version_id == DocumentVersion.id
                )
                .where(MasterBatchRecord.product_code == PRODUCT)
            ).one()
        )


def test_readings_outside_the_approved_limits_are_exceptions_assessed_before_signing(
    p: Plant, api: Any, frozen_clock: Any
) -> None:
    # The master batch record in force sets compression_force 10 – 14 kN at step 3
    # (Compression / Press) and impeller_speed 100 – 150 rpm at step 2.
    deliver(
        p,
        f"batch,{PRODUCT},{BATCH},100000,tablets,2026-03-02,2026-03-02T08:55:00+00:00,"
        "2029-02-28,,,,,,,,,,,\n"
        + "".join(
            f"process_reading,{PRODUCT},{BATCH},,{unit},,,,{path},TP-02,{name},{value},"
            f"2026-03-02T08:{minute:02d}:00+00:00,,,,\n"
            for unit, path, name, value, minute in (
                ("rpm", "Granulation,Wet massing,Mix", "impeller_speed", 120, 10),
                ("kN", "Compression,Press,", "compression_force", 12.0, 40),
                ("kN", "Compression,Press,", "compression_force", 15.5, 42),
                ("kN", "Compression,Press,", "compression_force", 9.1, 44),
                ("N", "Compression,Press,", "compression_force", 12000, 46),
                ("kN", "Compression,Main compression,", "compression_force", 30, 48),
            )
        ),
    )
    supervisor = api("supervisor")
    master = _master_version(p)
    with unit_of_work(p.db, write=False) as s:
        lot_id = int(s.scalars(select(Lot.id).where(Lot.lot_number == BATCH)).one())

    opened = supervisor.post("/api/v1/production/external-reviews", json={"lot_id": lot_id})

    assert opened.status_code == 201, opened.text
    review = opened.json()
    assert review["summary"]["limits"] == (f"4 reading(s) compared with the 4 limits of {master}")
    # (the reading at "Main compression" names no step of the master: not compared)
    assert review["exceptions"] == [
        {
            "key": "unit:3:compression_force:1",
            "text": f"compression_force at step 3 (Compression / Press): 1 reading(s) in N "
            f"where {master} sets 10 – 14 kN: not compared",
        },
        {
            "key": "limit:3:compression_force:2",
            "text": f"compression_force at step 3 (Compression / Press): 2 of 3 readings "
            f"outside 10 – 14 kN of {master} (lowest 9.1, highest 15.5; first at "
            "2026-03-02 08:42 UTC)",
        },
    ]

    # Signing before both are assessed is refused and changes nothing.
    supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/assessments",
        json={"key": "unit:3:compression_force:1", "comment": "Logged in N by the MES; 12 kN."},
    )
    before = trail_counts(p.db)
    early = supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/review",
        json={
            "password": PASSWORD,
            "expected_version": reviewed_version(supervisor, "external_batch_review", review["id"]),
        },
    )
    assert early.status_code == 409, early.text
    assert early.json()["reasons"] == [f"assess the exception: {review['exceptions'][1]['text']}"]
    assert trail_counts(p.db) == before

    # One more reading outside arrives: the exception is a new one, its assessment asked again.
    supervisor.post(
        f"/api/v1/production/external-reviews/{review['id']}/assessments",
        json={"key": "limit:3:compression_force:2", "comment": "Press stopped; DEV raised."},
    )
    deliver(
        p,
        f"process_reading,{PRODUCT},{BATCH},,kN,,,,Compression,Press,,TP-02,"
        "compression_force,14.6,2026-03-02T08:50:00+00:00,,,,\n",
    )
    refreshed = supervisor.post(f"/api/v1/production/external-reviews/{review['id']}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert [e["key"] for e in refreshed.json()["exceptions"]] == [
        "unit:3:compression_force:1",
        "limit:3:compression_force:3",
    ]
    assert set(refreshed.json()["comments"]) == {"unit:3:compression_force:1"}
