"""Distribution KPIs against a hand count: five shipments on two lanes over two months, two
with an excursion; two alarms acknowledged 12 and 42 minutes after they were raised."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from tests.lifecycle.distribution.alarms.setup import deliver

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import alarms, kpi, profiles
from pharmaqms.lifecycle.distribution.models import ColdChainAlarm
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.sensors import service as sensors
from pharmaqms.platform.traceability import shipments

BREACH = [5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0]
MARCH = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 20, 6, 0, tzinfo=UTC)
# code, origin, destination, shipped, excursion
SHIPMENTS = [
    ("S1", "A", "B", MARCH, True),
    ("S2", "A", "B", MARCH, False),
    ("S3", "A", "B", MARCH, False),
    ("S4", "A", "C", MARCH, True),
    ("S5", "A", "B", FEBRUARY, False),
]


def _lanes(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        for code in "ABC":
            masterdata.add_location(s, actor=people.admin, code=code, name=code, kind="warehouse")
        for code, origin, destination, shipped, _x in SHIPMENTS:
            shipments.register_shipment(
                s,
                actor=people.admin,
                code=code,
                origin_code=origin,
                destination_code=destination,
                shipped_at=shipped,
                status="in_transit",
                required_min_c=2.0,
                required_max_c=8.0,
            )
            sensors.register_sensor(
                s,
                actor=people.admin,
                code=f"LOG-{code}",
                kind="data_logger",
                shipment_code=code,
                calibrated_on=date(2025, 6, 1),
                calibration_due_on=date(2026, 6, 1),
                certificate="CAL-1",
            )
    with unit_of_work(db) as s:
        for code, *_rest in SHIPMENTS:
            profiles.set_alarm_profile(
                s, actor=people.qa, shipment_code=code, low_c=2.0, high_c=8.0, reason="lane spec"
            )


@pytest.mark.postgres
def test_excursion_rate_per_lane_and_month_and_mean_time_to_acknowledge(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _lanes(db, people)
    for code, *_rest, excursion in SHIPMENTS:
        readings = BREACH if excursion else [5.0] * len(BREACH)
        deliver(
            db, people, readings, sensor=f"LOG-{code}", start=datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
        )
    with unit_of_work(db, write=False) as s:
        alarm_ids = list(
            s.scalars(
                select(ColdChainAlarm.id)
                .where(ColdChainAlarm.kind == "alarm")
                .order_by(ColdChainAlarm.id)
            )
        )
    assert len(alarm_ids) == 2
    for minutes, alarm_id in zip((12, 30), alarm_ids, strict=True):
        frozen_clock.advance(minutes=minutes)
        with unit_of_work(db) as s:
            alarms.acknowledge_alarm(s, actor=people.logistics, alarm_id=alarm_id, comment="seen")
    with unit_of_work(db, write=False) as s:
        rates = [(r.month, r.lane, r.with_excursion, r.shipments) for r in kpi.excursion_rate(s)]
        acknowledged = [
            (m.month, m.acknowledged, m.mean_minutes, m.unacknowledged)
            for m in kpi.mean_time_to_acknowledge(s)
        ]
    assert rates == [
        ("2026-02", "A → B", 0, 1),
        ("2026-03", "A → B", 1, 3),
        ("2026-03", "A → C", 1, 1),
    ]
    # 12 and 42 minutes: 27 on average; the two pre-alarms are not acknowledged.
    assert acknowledged == [("2026-03", 2, 27.0, 2)]
