"""The batch record demo on a fresh database (after the materials and QC demos it builds on):
a master batch record in force and three recent batches — one released, one waiting for the QP
with every rule green after QA reviewed its exception, one blocked by an open deviation."""

from __future__ import annotations

from random import Random
from typing import Any

from sqlalchemy import select
from tests.lifecycle.production.setup import nominate_the_qp
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordException
from pharmaqms.lifecycle.production.materials import demo as materials_demo
from pharmaqms.lifecycle.production.qc import demo as qc_demo
from pharmaqms.lifecycle.production.release import demo as batch_record_demo
from pharmaqms.lifecycle.production.release.service import decision_of, evaluate_release
from pharmaqms.platform.masterdata.models import Lot

DEMO_NAMES = {
    "amelia.admin": "admin",
    "quinn.qa": "qa",
    "rosa.qa": "qa2",
    "chen.qc": "qc",
    "oscar.operator": "operator",
    "sofia.supervisor": "supervisor",
    "peter.qp": "qp",
}


def test_the_release_page_has_a_released_a_green_and_a_red_batch(
    db: Database, people: Any, frozen_clock: Any
) -> None:
    ctx = DemoContext(
        db,
        {demo: people.actor(test) for demo, test in DEMO_NAMES.items()},
        PASSWORD,
        Random(7),
        scale=0.3,
    )
    # The demo's QP is nominated by the competence loader, which runs before these in the demo.
    nominate_the_qp(db, people)
    for loader in (materials_demo.load, qc_demo.load, batch_record_demo.load):
        with unit_of_work(db) as s:
            loader(s, ctx)
    with unit_of_work(db, write=False) as s:
        records = s.scalars(select(BatchRecord).order_by(BatchRecord.id)).all()
        lots = [s.get(Lot, r.lot_id) for r in records]
        assert [(lot.lot_number, lot.status) for lot in lots if lot] == [
            ("PB26-101", "released"),
            ("PB26-102", "quarantine"),
            ("PB26-103", "on_hold"),
        ]
        assert [r.status for r in records] == ["completed"] * 3
        kinds = [
            (e.batch_record_id, e.kind, e.status)
            for e in s.scalars(select(BatchRecordException).order_by(BatchRecordException.id))
        ]
        assert kinds == [
            (records[1].id, "out_of_limit", "accepted"),
            (records[2].id, "deviation", "accepted"),
        ]
        released = decision_of(s, records[0].lot_id)
        assert released is not None
        # last step performed 17:31 on day -6, released 14:00 the next day
        assert (released.status, released.cycle_time_hours) == ("released", 20.483)
        green = evaluate_release(s, records[1].lot_id)
        assert (green.passed, [r.code for r in green.failing]) == (True, [])
        red = evaluate_release(s, records[2].lot_id)
        assert [r.code for r in red.failing] == ["deviations_closed"]
