"""A lot's stability budget summed over its excursions (hand-counted), held while an excursion
waits for QA, and QA's signed assessment: usable lifts the excursion's hold, an exhausted budget
can't be usable, quarantine raises a deviation; refusals change nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from tests.lifecycle.distribution.alarms.setup import START, deliver, seed, snapshot
from tests.support import PASSWORD

from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.lifecycle.distribution import assessment, budget, excursions
from pharmaqms.lifecycle.distribution.models import Excursion, ExcursionAssessment
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.hold_models import LotHold
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality.deviations.models import Deviation

# 35 min at 9 °C (7 readings × 5 min), then 35 min at 12 °C an hour later.
FIRST = [5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0]
SECOND = [5.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 5.0]
BANDS: list[tuple[str, float | None, float | None, float]] = [
    ("8–25 °C", 8.0, 25.0, 1.0),
    ("above 25 °C", 25.0, None, 0.5),
    ("below 2 °C", None, 2.0, 0.0),
]


def _setup(db, people) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code="VAX01",
            lot_number="V2403",
            status="released",
        )
        budget.set_stability_budget(
            s, actor=people.qa, product_code="VAX01", bands=BANDS, basis="STAB-VAX01-R3 §8"
        )


def _excursion_ids(db) -> list[int]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return list(s.scalars(select(Excursion.id).order_by(Excursion.id)))


def _lot(db) -> tuple[str, list[tuple[str, str | None]]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == "V2403")).one()
        holds = [
            (h.holder, h.lifted_at and "lifted")
            for h in s.scalars(select(LotHold).where(LotHold.lot_id == lot.id).order_by(LotHold.id))
        ]
        return lot.status, holds


def _excursion_with_lot(db, people, readings: list[float], start: datetime) -> int:  # type: ignore[no-untyped-def]
    deliver(db, people, readings, start=start)
    excursion_id = _excursion_ids(db)[-1]
    with unit_of_work(db) as s:
        excursions.name_affected_lot(
            s, actor=people.qa, excursion_id=excursion_id, lot_number="V2403"
        )
    return excursion_id


@pytest.mark.postgres
def test_the_budget_is_summed_over_the_lots_excursions_and_qa_signs_each_assessment(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    first = _excursion_with_lot(db, people, FIRST, START)
    assert _lot(db) == ("on_hold", [("EXC-2026-0001", None)])
    with unit_of_work(db, write=False) as s:
        lot_id = s.scalars(select(Lot.id).where(Lot.lot_number == "V2403")).one()
        usage = budget.lot_budget(s, lot_id).as_dict()
    # Hand count: 35 min = 0.5833 h of the 1 h in 8–25 °C; nothing in the other bands.
    assert usage["bands"] == [
        {"band": "8–25 °C", "allowed_h": 1.0, "consumed_h": 0.5833, "remaining_h": 0.4167},
        {"band": "above 25 °C", "allowed_h": 0.5, "consumed_h": 0.0, "remaining_h": 0.5},
        {"band": "below 2 °C", "allowed_h": 0.0, "consumed_h": 0.0, "remaining_h": 0.0},
    ]
    assert usage["exceeded"] is False

    with unit_of_work(db) as s:
        record = assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=first,
            disposition="usable",
            rationale="35 min at 9 °C, within the 1 h allowance",
            password=PASSWORD,
        )
        assert (record.status, record.budget_exceeded, record.deviation_id) == (
            "signed",
            False,
            None,
        )
    # The excursion placed the hold; usable gives the lot back its status.
    assert _lot(db) == ("released", [("EXC-2026-0001", "lifted")])

    second = _excursion_with_lot(db, people, SECOND, START.replace(hour=8))
    with unit_of_work(db, write=False) as s:
        usage = budget.lot_budget(s, lot_id).as_dict()
    # 35 + 35 = 70 min = 1.1667 h against 1 h: exceeded by 10 min.
    assert usage["bands"][0] == {
        "band": "8–25 °C",
        "allowed_h": 1.0,
        "consumed_h": 1.1667,
        "remaining_h": -0.1667,
    }
    assert usage["exceeded"] is True

    before = snapshot(db)
    with pytest.raises(Conflict, match="V2403 is exceeded"), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=second,
            disposition="usable",
            rationale="short",
            password=PASSWORD,
        )
    with pytest.raises(InvalidInput, match="unknown disposition"), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=second,
            disposition="fine",
            rationale="x",
            password=PASSWORD,
        )
    with pytest.raises(InvalidInput, match="rationale"), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=second,
            disposition="quarantine",
            rationale=" ",
            password=PASSWORD,
        )
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.logistics,
            excursion_id=second,
            disposition="quarantine",
            rationale="x",
            password=PASSWORD,
        )
    assert snapshot(db) == before

    with unit_of_work(db) as s:
        record = assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=second,
            disposition="quarantine",
            rationale="Budget exhausted: stability testing of retained samples",
            password=PASSWORD,
        )
        record_id = record.id
    with unit_of_work(db, write=False) as s:
        record = s.get(ExcursionAssessment, record_id)
        assert record is not None and record.budget_exceeded
        deviation = s.get(Deviation, record.deviation_id)
        assert deviation is not None
        assert "EXC-2026-0002" in deviation.title and [b.batch_id for b in deviation.batches] == [
            "V2403"
        ]
        signatures = list(
            s.scalars(
                select(ElectronicSignature.meaning).where(
                    ElectronicSignature.record_type == "excursion_assessment"
                )
            )
        )
        assert signatures == ["Approved", "Approved"]
    assert _lot(db)[0] == "on_hold"

    # The whole trail verifies: every alarm, excursion, hold and assessment as audited.
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.findings == []
    # Assessed twice: refused, nothing changed.
    before = snapshot(db)
    with pytest.raises(Conflict, match="assessed already"), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=second,
            disposition="reject",
            rationale="again",
            password=PASSWORD,
        )
    assert snapshot(db) == before


def test_a_wrong_password_signs_nothing_and_changes_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    first = _excursion_with_lot(db, people, FIRST, START)
    before = snapshot(db)
    with pytest.raises(Exception, match=r"(?i)password"), unit_of_work(db) as s:
        assessment.assess_excursion(
            s,
            actor=people.qa,
            excursion_id=first,
            disposition="usable",
            rationale="fine",
            password="wrong",
        )
    after = snapshot(db)
    # A failed signature attempt is itself audited (Part 11): one audit entry more, no record.
    assert after["counts"]["ExcursionAssessment"] == before["counts"]["ExcursionAssessment"]
    assert after["counts"]["ElectronicSignature"] == before["counts"]["ElectronicSignature"]
    assert after["lots"] == before["lots"] and after["alarms"] == before["alarms"]


def test_a_budget_that_leaves_temperatures_uncovered_is_refused(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match=r"hole|reach"), unit_of_work(db) as s:
        budget.set_stability_budget(
            s,
            actor=people.qa,
            product_code="VAX01",
            bands=[("8–25 °C", 8.0, 25.0, 1.0), ("below 2 °C", None, 2.0, 0.0)],
            basis="draft",
        )
    assert snapshot(db) == before
    assert _lot(db) == ("released", [])
