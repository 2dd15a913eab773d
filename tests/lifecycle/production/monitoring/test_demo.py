"""The monitoring demo on batches of the demo tablet: limits approved from the reference batches,
and among the recent batches a hardness rise (Nelson 3) acknowledged, a force run above the
centre (Nelson 2) escalated to a deviation, and a T² alert still open — and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import select
from tests.lifecycle.production.setup import gtin
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import demo
from pharmaqms.lifecycle.production.monitoring.models import (
    ControlLimits,
    MultivariateLimits,
    ProcessAlert,
)
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality.deviations.models import Deviation

DEMO_NAMES = {
    "sofia.supervisor": "supervisor",
    "quinn.qa": "qa",
    "oscar.operator": "operator",
}


def _batches(db: Database, people: Any, count: int) -> None:
    first = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)
    with unit_of_work(db) as s:
        masterdata.add_product(
            s, actor=people.admin, gtin=gtin("0871234500010"), code=demo.PRODUCT, name="Tablet"
        )
    for n in range(count):
        made = first + timedelta(days=7 * n)
        with clock.frozen_at(made), unit_of_work(db) as s:
            masterdata.add_lot(
                s,
                actor=people.admin,
                kind="finished",
                item_code=demo.PRODUCT,
                lot_number=f"PQ-{n + 1:03d}",
                manufactured_on=made.date(),
                manufacturing_ended_at=made,
                expires_on=date(2028, 12, 31),
            )


def test_the_demo_tells_its_story_through_the_live_path(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _batches(db, people, 14)
    ctx = DemoContext(
        db, {name: people.actor(test) for name, test in DEMO_NAMES.items()}, PASSWORD, Random(7)
    )

    with unit_of_work(db) as s:
        demo.load(s, ctx)

    with unit_of_work(db, write=False) as s:
        assert sorted(s.scalars(select(ControlLimits.status))) == ["approved"] * 4
        assert s.scalars(select(MultivariateLimits.status)).all() == ["approved"]
        found = s.execute(
            select(ProcessAlert, Lot.lot_number)
            .join(Lot, Lot.id == ProcessAlert.batch_id)
            .order_by(ProcessAlert.id)
        ).all()
        story = [
            (a.subject.split(" ", 1)[1], a.rule_set, a.rule, a.point_index, lot, a.status)
            for a, lot in found
        ]
        # 6 reference batches, 8 monitored of 20 samples: the events sit in the last three.
        assert story == [
            ("Tablet hardness", "nelson", 3, 5 * 20 + 13, "PQ-012", "acknowledged"),
            ("Main compression force", "nelson", 2, 6 * 20 + 14, "PQ-013", "escalated"),
            ("Force, hardness and thickness", "hotelling", 1, 7 * 20 + 10, "PQ-014", "open"),
        ]
        hardness, force, _ = (a for a, _lot in found)
        assert hardness.acknowledgement.startswith("Hardness creeping up")
        deviation = s.get(Deviation, force.deviation_id)
        assert deviation is not None
        assert [b.batch_id for b in deviation.batches] == ["PQ-013"]
