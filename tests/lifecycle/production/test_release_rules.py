"""A release blocked by each rule in turn: one batch per case, made the same way, with exactly
one condition broken — and the checklist names exactly that rule, while the QP's release is
refused with it and nothing changes. The first case breaks nothing: every rule passes.

The plant (suppliers, specifications, SOP and training, equipment, an effective master) is built
once for the module and copied for each case; each case makes its own batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.ebr_setup import (
    BALANCE,
    QUARANTINED_LOT,
    Plant,
    build_plant,
    make_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.setup import MATERIAL, PRODUCT, SUPPLIER, trail_counts
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.signatures import sign
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords import equipment, exceptions
from pharmaqms.lifecycle.production.batchrecords.models import BatchStep
from pharmaqms.lifecycle.production.materials.service import (
    approval_for,
    material_by_code,
    supplier_by_code,
)
from pharmaqms.lifecycle.production.materials.workflow import SUPPLIER_APPROVAL_WORKFLOW
from pharmaqms.lifecycle.production.monitoring.alerts import AlertDraft, raise_alerts
from pharmaqms.lifecycle.production.nonconforming import service as nonconforming
from pharmaqms.lifecycle.production.release.models import BatchRelease
from pharmaqms.lifecycle.production.release.rules import RULES
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.masterdata.service import set_lot_status
from pharmaqms.quality import events

LOT = "B3001"


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


Ids = tuple[int, int, list[int]]


def accept_exceptions(p: Plant, record_id: int) -> None:
    with unit_of_work(p.db, write=False) as s:
        found = [e.id for e in exceptions.exceptions_of(s, record_id)]
    assert found, "the case expects an exception to review"
    for exception_id in found:
        with unit_of_work(p.db) as s:
            exceptions.review_exception(
                s,
                actor=p.people.qa,
                exception_id=exception_id,
                decision="accept",
                reason="assessed: no impact on the batch",
                password=PASSWORD,
            )


def nothing(p: Plant, ids: Ids) -> None:
    """Every condition met."""


def unverified(p: Plant, ids: Ids) -> None:
    """Made without the second-person verification of step 1; QA accepted the exception, but
    the signature is still missing."""
    accept_exceptions(p, ids[0])


def unreviewed(p: Plant, ids: Ids) -> None:
    """An out-of-limit value recorded as an exception that QA has not reviewed."""


def open_deviation(p: Plant, ids: Ids) -> None:
    """QA raised a deviation from the batch record; it is open and not assessed."""
    with unit_of_work(p.db) as s:
        events.raise_deviation(
            s,
            actor=p.people.qa,
            source_type="batch_record",
            source_id=ids[0],
            source_label=None,
            title="Granulation end point judged by eye",
            description="The end point was judged by eye; the power reading was not recorded.",
            area="Production",
            occurred_at=clock.now(),
            discovered_at=clock.now(),
        )


def quarantined_material(p: Plant, ids: Ids) -> None:
    """The MES reports a top-up from a lot still in quarantine, outside the batch record."""
    with unit_of_work(p.db) as s:
        lot = s.get(Lot, ids[1])
        assert lot is not None
        content = (
            "record_type,item_code,lot_number,material_code,material_lot,quantity,unit,step,"
            "consumed_at\n"
            f"material_consumption,{PRODUCT},{lot.lot_number},{MATERIAL},{QUARANTINED_LOT},2,kg,"
            "Dispensing top-up,2026-03-02T09:00:00+00:00\n"
        ).encode()
        run = ingest.ingest(
            s, actor=p.people.supervisor, kind="mes", content=content, filename="mes.csv"
        )
        assert (run.rows_accepted, run.rows_quarantined) == (1, 0)


def balance_found_out_of_tolerance(p: Plant, ids: Ids) -> None:
    """The balance's next calibration found it out of tolerance: every weighing since the last
    calibration is in question."""
    with unit_of_work(p.db) as s:
        balance = equipment.equipment_by_code(s, BALANCE)
        equipment.record_calibration(
            s,
            actor=p.people.supervisor,
            equipment_id=balance.id,
            calibrated_at=clock.now(),
            due_on=datetime(2026, 6, 1, tzinfo=UTC).date(),
            as_found_in_tolerance=False,
            as_left_in_tolerance=True,
            certificate="CAL-BAL-01-2",
            note="as found +0.4 % at 50 kg; adjusted",
        )


def untrained_signer(p: Plant, ids: Ids) -> None:
    """A second verification of step 1 signed by someone never trained on its SOP (a signature
    carried over outside the gated batch record flow): the release catches it by itself."""
    with unit_of_work(p.db) as s:
        step = s.get(BatchStep, ids[2][0])
        assert step is not None
        sign(s, step, actor=p.people.qa2, password=PASSWORD, meaning="Verified")


def open_change(p: Plant, ids: Ids) -> None:
    """A change control raised for this batch is still open."""
    with unit_of_work(p.db) as s:
        events.request_change(
            s,
            actor=p.people.supervisor,
            source_type="batch_record",
            source_id=ids[0],
            source_label=None,
            title="Temporary change: second tablet press for this batch",
            description="Compress part of the batch on TP-02.",
            justification="TP-01 maintenance overruns",
            change_type="temporary",
        )


def open_spc_alert(p: Plant, ids: Ids) -> None:
    """The live monitoring raised an alert on the batch; nobody acknowledged it."""
    with unit_of_work(p.db) as s:
        raise_alerts(
            s,
            actor=p.people.supervisor,
            drafts=[
                AlertDraft(
                    dedupe_key=f"test:{ids[1]}",
                    subject="compression_force",
                    batch_id=ids[1],
                    reading_id=None,
                    measured_at=clock.now(),
                    rule_set="nelson",
                    rule=2,
                    rule_name="nine points on one side of the centre line",
                    point_index=9,
                    value=13.1,
                    ucl=13.5,
                    roles=("production_supervisor",),
                    center=12.0,
                    lcl=10.5,
                )
            ],
        )


def open_nonconformance(p: Plant, ids: Ids) -> None:
    """Chipped tablets found at packaging: nonconforming product, the batch held by it."""
    with unit_of_work(p.db) as s:
        nonconforming.open_nonconformance(
            s,
            actor=p.people.qa,
            lot_id=ids[1],
            source_type="inspection",
            source_id=None,
            source_label="line clearance inspection",
            description="Chipped tablets found in the first carton.",
        )


def held_by_a_person(p: Plant, ids: Ids) -> None:
    """QA put the batch on hold by hand, for a reason no linked record explains."""
    with unit_of_work(p.db) as s:
        lot = s.get(Lot, ids[1])
        assert lot is not None
        set_lot_status(
            s, lot, "on_hold", actor=p.people.qa, reason="QA: complaint on the previous batch"
        )


CASES: list[tuple[str | None, dict[str, Any], bool, Callable[[Plant, Ids], None]]] = [
    (None, {}, True, nothing),
    ("batch_record_complete", {"verify": False}, True, unverified),
    ("exceptions_reviewed", {"impeller_speed": 155}, True, unreviewed),
    ("deviations_closed", {}, True, open_deviation),
    ("qc_passed", {}, False, nothing),
    ("materials_released", {}, True, quarantined_material),
    ("equipment_qualified", {}, True, balance_found_out_of_tolerance),
    ("training_current", {}, True, untrained_signer),
    ("no_blocking_change", {}, True, open_change),
    ("spc_alerts_acknowledged", {}, True, open_spc_alert),
    ("no_open_nonconformance", {}, True, open_nonconformance),
    ("lot_awaits_release", {}, True, held_by_a_person),
]


def test_every_rule_has_a_case() -> None:
    assert sorted(code for code, *_ in CASES if code) == sorted(rule.code for rule in RULES)


def release_rows(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(BatchRelease)) or 0)


@pytest.mark.parametrize(
    ("broken", "make", "tested", "break_it"),
    CASES,
    ids=[code or "nothing_broken" for code, *_ in CASES],
)
def test_a_release_is_blocked_by_each_rule_in_turn(
    p: Plant,
    api: Any,
    frozen_clock: Any,
    broken: str | None,
    make: dict[str, Any],
    tested: bool,
    break_it: Callable[[Plant, Ids], None],
) -> None:
    # Given a batch made and tested the same way, with one condition broken
    ids = make_batch(p, LOT, **make)
    if tested:
        pass_qc(p, ids[1])
    frozen_clock.advance(hours=1)
    break_it(p, ids)
    qp = api("qp")

    # When the QP opens the checklist
    checklist = qp.get(f"/api/v1/production/batches/{ids[1]}/release")

    # Then exactly the broken rule fails, with what it found
    assert checklist.status_code == 200, checklist.text
    body = checklist.json()
    assert body["failing_rules"] == ([broken] if broken else [])
    for rule in body["rules"]:
        assert bool(rule["findings"]) is (rule["code"] == broken), rule
    if broken is None:
        released = qp.post(
            f"/api/v1/production/batches/{ids[1]}/release", json={"password": PASSWORD}
        )
        assert released.status_code == 200, released.text
        assert released.json()["lot_status"] == "released"
        return

    # And the QP's release is refused, naming the rule, and nothing changes
    before = (trail_counts(p.db), release_rows(p.db), lot_status(p.db, ids[1]))
    refused = qp.post(f"/api/v1/production/batches/{ids[1]}/release", json={"password": PASSWORD})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert (problem["code"], problem["failing_rules"]) == ("release_blocked", [broken])
    title = next(r.title for r in RULES if r.code == broken)
    assert problem["detail"].endswith(f"can't be released: {title}")
    assert (trail_counts(p.db), release_rows(p.db), lot_status(p.db, ids[1])) == before


def lot_status(db: Database, lot_id: int) -> str:
    with unit_of_work(db, write=False) as s:
        lot = s.get(Lot, lot_id)
        assert lot is not None
        return lot.status


def test_a_material_used_after_its_supplier_was_disqualified_blocks_the_release(
    p: Plant, api: Any, frozen_clock: Any
) -> None:
    # Given a batch dispensed from API-0001 at 09:00, while S-ACME was qualified for it
    ids = make_batch(p, LOT)
    pass_qc(p, ids[1])
    # and S-ACME disqualified for the material at 10:00
    frozen_clock.advance(hours=1)
    with unit_of_work(p.db) as s:
        approval = approval_for(
            s, material_by_code(s, MATERIAL).id, supplier_by_code(s, SUPPLIER).id
        )
        assert approval is not None
        perform(
            s,
            SUPPLIER_APPROVAL_WORKFLOW,
            approval,
            "disqualify",
            actor=p.people.qa,
            password=PASSWORD,
            reason="audit found data integrity failures",
        )
        number = approval.number
    # when the MES reports a top-up from the same (released) lot at 10:15, outside the record
    frozen_clock.advance(minutes=30)
    with unit_of_work(p.db) as s:
        batch = s.get(Lot, ids[1])
        assert batch is not None
        content = (
            "record_type,item_code,lot_number,material_code,material_lot,quantity,unit,step,"
            "consumed_at\n"
            f"material_consumption,{PRODUCT},{batch.lot_number},{MATERIAL},{p.material_lot},2,"
            "kg,Dispensing top-up,2026-03-02T10:15:00+00:00\n"
        ).encode()
        run = ingest.ingest(
            s, actor=p.people.supervisor, kind="mes", content=content, filename="mes.csv"
        )
        assert (run.rows_accepted, run.rows_quarantined) == (1, 0)
    qp = api("qp")

    # then only the top-up fails the materials rule, naming the lot and its supplier
    body = qp.get(f"/api/v1/production/batches/{ids[1]}/release").json()
    assert body["failing_rules"] == ["materials_released"]
    [rule] = [r for r in body["rules"] if r["code"] == "materials_released"]
    assert rule["findings"] == [
        f"{MATERIAL} lot {p.material_lot} (Dispensing top-up): its supplier {SUPPLIER} was "
        f"disqualified for {MATERIAL} ({number}) when used"
    ]

    # and the QP's release is refused, and nothing changes
    before = (trail_counts(p.db), release_rows(p.db), lot_status(p.db, ids[1]))
    refused = qp.post(f"/api/v1/production/batches/{ids[1]}/release", json={"password": PASSWORD})
    assert refused.status_code == 409, refused.text
    assert refused.json()["failing_rules"] == ["materials_released"]
    assert (trail_counts(p.db), release_rows(p.db), lot_status(p.db, ids[1])) == before
