"""Time to launch on a small fixed data set, worked out by hand.

The project's first gate (pre-formulation) is approved on 2024-01-15 10:00 UTC, its
registration gate on 2025-06-01 09:00 UTC. The product's finished lots:

- A released 2025-03-01 — before registration: a clinical or validation batch, not counted;
- C released 2025-07-20 12:00 — the first commercial batch;
- B released 2025-09-10 — later;
- D never released (quarantine); and a lot of another product released 2025-06-15.

2024-01-15 → 2025-01-15 is 366 days (2024 is a leap year), → 2025-07-15 another 181
(31 + 28 + 31 + 30 + 31 + 30), → 2025-07-20 another 5: 552 days, plus 12:00 − 10:00 = 2 h.
552 + 2/24 = 552.0833 days = 18.138 months of 30.4375 days.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.lifecycle.rnd.gates_steps import PRODUCT, pass_gate, planned_project, product

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.gates import launch
from pharmaqms.platform.masterdata import service as masterdata


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _lot(db: Any, people: Any, item: str, number: str, released_at: datetime | None) -> None:
    with unit_of_work(db) as s:
        lot = masterdata.add_lot(
            s, actor=people.admin, kind="finished", item_code=item, lot_number=number
        )
    if released_at is None:
        return
    with clock.frozen_at(released_at), unit_of_work(db) as s:
        lot = masterdata.find_lot(s, number, item)
        masterdata.set_lot_status(s, lot, "released", actor=people.admin, reason="QP certified")


@pytest.mark.postgres
def test_time_to_launch_runs_from_the_first_gate_to_the_first_commercial_batch(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    product(db, people, code="OTHER1", gtin="05012345678924")
    moments = {
        "pre_formulation": _at(2024, 1, 15, 10),
        "formulation": _at(2024, 6, 3, 9),
        "scale_up": _at(2024, 10, 1, 9),
        "clinical_supply": _at(2025, 2, 3, 9),
        "registration": _at(2025, 6, 1, 9),
    }
    for phase, moment in moments.items():
        pass_gate(db, people, project, phase, at=moment)
    with unit_of_work(db, write=False) as s:
        # Registered, no commercial batch yet: not launched, the months since the first gate.
        with clock.frozen_at(_at(2025, 7, 15, 10)):
            waiting = launch.time_to_launch(s, project.project_id)
        assert not waiting.launched and waiting.days is None
        assert waiting.running_months == pytest.approx(547 / 30.4375)

    _lot(db, people, PRODUCT, "A-001", _at(2025, 3, 1, 8))
    _lot(db, people, PRODUCT, "B-002", _at(2025, 9, 10, 8))
    _lot(db, people, PRODUCT, "C-003", _at(2025, 7, 20, 12))
    _lot(db, people, PRODUCT, "D-004", None)
    _lot(db, people, "OTHER1", "X-900", _at(2025, 6, 15, 8))

    with unit_of_work(db, write=False) as s:
        found = launch.time_to_launch(s, project.project_id)
        assert found.first_gate_approved_at == _at(2024, 1, 15, 10)
        assert found.registration_approved_at == _at(2025, 6, 1, 9)
        assert (found.first_batch, found.first_batch_released_at) == ("C-003", _at(2025, 7, 20, 12))
        assert found.days == pytest.approx(552 + 2 / 24)
        assert found.months == pytest.approx(18.1383, abs=1e-4)
        assert found.running_months is None
        assert [t.project_code for t in launch.launch_times(s)] == ["FORM-IBU"]


def test_a_project_before_its_first_gate_has_no_time_to_launch(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    _lot(db, people, PRODUCT, "A-001", _at(2025, 3, 1, 8))
    with unit_of_work(db, write=False) as s:
        found = launch.time_to_launch(s, project.project_id)
        assert (found.first_gate, found.days, found.running_months) == (None, None, None)


def test_a_lot_created_released_counts_from_its_creation_and_a_later_recall_keeps_it(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    pass_gate(db, people, project, "pre_formulation", at=_at(2024, 1, 15, 10))
    for phase in ("formulation", "scale_up", "clinical_supply", "registration"):
        pass_gate(db, people, project, phase, at=_at(2024, 6, 1, 9))
    with clock.frozen_at(_at(2024, 9, 1, 10)), unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code=PRODUCT,
            lot_number="IMP-1",
            status="released",
        )
    with clock.frozen_at(_at(2024, 10, 1, 10)), unit_of_work(db) as s:
        lot = masterdata.find_lot(s, "IMP-1", PRODUCT)
        masterdata.set_lot_status(s, lot, "recalled", actor=people.admin, reason="field alert")
    with unit_of_work(db, write=False) as s:
        found = launch.time_to_launch(s, project.project_id)
        assert (found.first_batch, found.first_batch_released_at) == ("IMP-1", _at(2024, 9, 1, 10))
        # 2024-01-15 10:00 → 2024-09-01 10:00: 17 + 29 + 31 + 30 + 31 + 30 + 31 + 31 = 230 days.
        assert found.days == pytest.approx(230)
