"""The cold-chain demo on the demo's sensor traces: the open door and the warm trip become
alarms and excursions, the logger past its calibration its own alarm; the cold room's alarm is
worked to the end with a signed assessment."""

from __future__ import annotations

from random import Random

from sqlalchemy import select
from tests.support import PASSWORD

from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import demo
from pharmaqms.lifecycle.distribution.models import ColdChainAlarm, Excursion
from pharmaqms.platform.connectors.sensors_demo import generate_sensor_demo


def test_the_demo_turns_the_excursion_candidates_into_alarms_and_excursions(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    actors = {
        "amelia.admin": people.admin,
        "lena.logistics": people.logistics,
        "quinn.qa": people.qa,
    }
    ctx = DemoContext(db, actors, PASSWORD, Random(7))
    with unit_of_work(db) as s:
        generate_sensor_demo(s, ctx, days=20)
    with unit_of_work(db) as s:
        demo.load(s, ctx)
    with unit_of_work(db, write=False) as s:
        found = [
            (a.place_code, a.kind, a.status)
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]
        excursions = [
            (e.place_code, e.status, e.disposition, e.duration_min)
            for e in s.scalars(select(Excursion).order_by(Excursion.id))
        ]
    assert found == [
        ("CR-LEIDEN-1", "pre_alarm", "raised"),
        ("CR-LEIDEN-1", "alarm", "closed"),
        ("SHP-DEMO-002", "pre_alarm", "raised"),
        ("SHP-DEMO-002", "alarm", "acknowledged"),
        ("SHP-DEMO-005", "out_of_calibration", "raised"),
    ]
    # The door: four 15-minute readings above 8 °C; the trip: three 5-minute ones.
    assert excursions == [
        ("CR-LEIDEN-1", "assessed", "usable", 60.0),
        ("SHP-DEMO-002", "ended", None, 15.0),
    ]
