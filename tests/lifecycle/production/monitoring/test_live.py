"""The live path: readings delivered through the platform's MES ingest are evaluated after the
delivery's commit, and each rule that starts being broken raises one alert, with a task for
every alert role. The series below is built so that its violations are known by hand (centre
10, σ 1, so the zones lie at 9/11, 8/12, 7/13):

    index  value  what it completes
      6    13.5   rule 1 (beyond 3σ)
      7     9.6   the moving range 3.9, above the MR chart's UCL (3.686)
      8    12.4   rule 5 (6 and 8 beyond 2σ, 2 of 3); still broken at 9: same alert
     16    10.5   rule 3 (11..16 rising); still rising at 17: same alert
     23    10.5   rule 2 (15..23 above the centre); the run goes on to 26: same alert
     31     8.8   rule 6 (27, 28, 30, 31 beyond 1σ below, 4 of 5)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.monitoring.setup import (
    EXPECTED,
    MONITORED_FROM,
    REFERENCE,
    SERIES,
    STEP,
    add_batch,
    approve_limits,
    deliver,
    monitor,
    reading,
    rows,
    seed,
    series,
)

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import live, service
from pharmaqms.lifecycle.production.monitoring.models import ProcessAlert
from pharmaqms.platform.timeseries.arrivals import (
    ArrivedReading,
    add_reading_listener,
    remove_reading_listener,
)


def _set_up(db: Database, people: Any, frozen_clock: FrozenClock, **options: Any) -> int:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(db, people, **options)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])  # in force from 09:00
    frozen_clock.advance(hours=2)
    return parameter_id


def _alerts(db: Database) -> list[tuple[str, int, int, float, str]]:
    from pharmaqms.platform.masterdata.models import Lot

    with unit_of_work(db, write=False) as s:
        return [
            (a.rule_set, a.rule, a.point_index, round(a.value, 9), lot)
            for a, lot in s.execute(
                select(ProcessAlert, Lot.lot_number)
                .join(Lot, Lot.id == ProcessAlert.batch_id)
                .order_by(ProcessAlert.id)
            )
        ]


@pytest.mark.postgres
def test_a_constructed_series_raises_exactly_the_alerts_of_the_rules_it_breaks(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)

    # Deliveries of different sizes, one with a parameter nobody monitors and one reading in a
    # unit of another kind than the parameter's, which is not plotted but raises a data-quality
    # alert (at the index the series' next point gets).
    deliver(db, people, rows(SERIES[:7]))
    deliver(db, people, rows(SERIES[7:16], first=7))
    deliver(
        db,
        people,
        [
            *rows(SERIES[16:17], first=16),
            reading("B-2", "punch_speed", 99.0, MONITORED_FROM, unit="rpm"),
            reading("B-2", "compression_force", 3000.0, MONITORED_FROM, unit="kg"),
        ],
    )
    deliver(db, people, rows(SERIES[17:], first=17))

    assert _alerts(db) == [*EXPECTED[:4], ("data_quality", 1, 17, 3000.0, "B-2"), *EXPECTED[4:]]
    with unit_of_work(db, write=False) as s:
        alert = s.scalars(select(ProcessAlert).where(ProcessAlert.point_index == 23)).one()
        assert (alert.rule_set, alert.rule_name, alert.status) == (
            "nelson",
            "Nine points in a row on the same side of the centre line",
            "open",
        )
        assert (round(alert.center or 0, 9), round(alert.ucl, 9), round(alert.lcl or 0, 9)) == (
            10.0,
            13.0,
            7.0,
        )
        tasks = s.execute(
            select(Task.assignee_role, Task.status).where(
                Task.record_type == "process_alert", Task.record_id == alert.id
            )
        ).all()
        assert sorted(tasks) == [("production_supervisor", "open"), ("qa", "open")]


def test_a_rule_switched_off_raises_nothing(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _set_up(db, people, frozen_clock)
    with unit_of_work(db) as s:
        service.configure_parameter(
            s,
            actor=people.qa,
            parameter_id=parameter_id,
            rules=[1, 2, 3, 4, 7, 8],
            reason="zone rules 5 and 6 give false alarms on this press",
        )

    deliver(db, people, rows(SERIES))

    assert _alerts(db) == [EXPECTED[0], EXPECTED[1], EXPECTED[3], EXPECTED[4]]


def test_a_restart_rebuilds_the_monitors_from_the_stored_readings(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    deliver(db, people, rows(SERIES[:20]))

    live.LIVE.reset()  # what a restarted process has in memory: nothing
    deliver(db, people, rows(SERIES[20:], first=20))

    assert _alerts(db) == EXPECTED


@pytest.mark.postgres
def test_readings_stored_by_another_process_are_caught_up_with_the_next_delivery(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    deliver(db, people, rows(SERIES[:5]))
    # Another process stores readings 5–24; this one does not hear of them.
    remove_reading_listener(live.LIVE.on_readings)
    try:
        deliver(db, people, rows(SERIES[5:25], first=5))
    finally:
        add_reading_listener(live.LIVE.on_readings)
    assert _alerts(db) == []

    deliver(db, people, rows(SERIES[25:], first=25))

    assert _alerts(db) == EXPECTED


def test_readings_of_a_batch_only_another_process_met_are_caught_up(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    with unit_of_work(db) as s:
        add_batch(s, people, "B-3")

    def on(batch: str, first: int, last: int) -> list[dict[str, Any]]:
        return [
            reading(batch, "compression_force", SERIES[i], MONITORED_FROM + timedelta(minutes=i))
            for i in range(first, last)
        ]

    deliver(db, people, on("B-1", 0, 10))
    remove_reading_listener(live.LIVE.on_readings)
    try:
        deliver(db, people, on("B-2", 10, 25))  # stored by another process
    finally:
        add_reading_listener(live.LIVE.on_readings)
    deliver(db, people, on("B-3", 25, 32))

    assert _alerts(db) == [*EXPECTED[:5], ("nelson", 6, 31, 8.8, "B-3")]


def test_a_reading_measured_before_points_already_charted_is_judged_in_its_place(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    deliver(db, people, rows(SERIES[:6]))

    # Index 6 arrives after 7 and 8 (a delayed buffer on the press).
    deliver(db, people, rows(SERIES[7:9], first=7))
    deliver(db, people, rows(SERIES[6:7], first=6))

    assert _alerts(db) == [EXPECTED[0], EXPECTED[1], EXPECTED[2]]


def test_an_unmonitored_parameter_or_an_unknown_batch_passes_without_an_alert(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    strangers = [
        ArrivedReading(9_999, 1, "Granulation", "Drying", "", "outlet_temp", 41.0, "°C",
                       MONITORED_FROM, None),
        ArrivedReading(9_998, 424_242, STEP["unit_procedure"], STEP["operation"],
                       STEP["phase"], "compression_force", 20.0, "kN", MONITORED_FROM, None),
    ]  # fmt: skip

    raised = live.LIVE.on_readings(strangers)

    assert raised == []
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(ProcessAlert)) == 0


def test_a_suspended_parameter_is_not_evaluated(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    from pharmaqms.kernel.workflow import perform
    from pharmaqms.lifecycle.production.monitoring.workflow import PARAMETER_WORKFLOW

    parameter_id = _set_up(db, people, frozen_clock)
    with unit_of_work(db) as s:
        parameter = service.get_parameter(s, parameter_id)
        perform(
            s,
            PARAMETER_WORKFLOW,
            parameter,
            "suspend",
            actor=people.qa,
            reason="press requalification",
        )

    deliver(db, people, rows(SERIES))

    assert _alerts(db) == []
