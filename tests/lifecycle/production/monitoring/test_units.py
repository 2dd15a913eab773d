"""Readings in another unit than the parameter's: converted when they measure the same kind of
quantity (and judged like any other point, live and when a monitor is rebuilt), and otherwise
never dropped in silence: a data-quality alert to the parameter's alert roles names the
reading, its unit and why it is not plotted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.production.monitoring.setup import (
    REFERENCE,
    approve_limits,
    deliver,
    monitor,
    reading,
    seed,
    series,
)

from pharmaqms.kernel import audit
from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import chart, live, service
from pharmaqms.lifecycle.production.monitoring.models import MonitoredParameter, ProcessAlert
from pharmaqms.lifecycle.production.monitoring.series import (
    NO_UNIT,
    UNIT_NOT_CONVERTIBLE,
    Conversion,
    UnitIssue,
    conversion,
)
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.arrivals import reading_stored
from pharmaqms.platform.timeseries.models import ProcessReading

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _set_up(db: Database, people: Any, frozen_clock: FrozenClock) -> int:
    seed(db, people, "REF-1", "B-1")
    parameter_id = monitor(db, people)  # kN; centre 10, σ 1
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    return parameter_id


def _alerts(db: Database) -> list[tuple[str, int, int, float, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (a.rule_set, a.rule, a.point_index, a.value, a.rule_name)
            for a in s.scalars(select(ProcessAlert).order_by(ProcessAlert.id))
        ]


def _reading_id(db: Database, value: float, unit: str) -> int:
    with unit_of_work(db, write=False) as s:
        return s.scalars(
            select(ProcessReading.id).where(
                ProcessReading.value == value, ProcessReading.unit == unit
            )
        ).one()


def _store(db: Database, people: Any, rows: list[dict[str, Any]]) -> None:
    """Readings stored by a connector that does not check units (the MES ingest quarantines a
    unit pint does not know): the live monitoring gets them all the same."""
    with unit_of_work(db) as s:
        for row in rows:
            lot = s.scalars(select(Lot.id).where(Lot.lot_number == row["lot_number"])).one()
            stored = ProcessReading(
                batch_id=lot,
                unit_procedure=row["unit_procedure"],
                operation=row["operation"],
                phase=row["phase"],
                parameter=row["parameter"],
                value=row["value"],
                unit=row["unit"],
                measured_at=datetime.fromisoformat(row["measured_at"]),
            )
            with audit.changes(s, actor=people.supervisor):  # as a connector, naming who
                s.add(stored)
            reading_stored(s, stored)


def _plotted(db: Database, parameter_id: int) -> list[tuple[int, float]]:
    with unit_of_work(db, write=False) as s:
        parameter = service.get_parameter(s, parameter_id)
        return [(p.index, round(p.value, 9)) for p in chart.parameter_chart(s, parameter).points]


def test_conversions_between_units_of_one_kind_and_the_issues_of_the_others() -> None:
    assert conversion("kN", "kN") == Conversion(1.0, 0.0)
    assert conversion("N", "kN") == Conversion(0.001, 0.0)
    assert conversion("degC", "°C") == Conversion(1.0, 0.0)
    assert round(conversion("degF", "°C")(98.6), 9) == 37.0  # type: ignore[operator]
    assert conversion("pH", "pH") == Conversion(1.0, 0.0)
    assert conversion("kg", "kN") == UnitIssue(
        UNIT_NOT_CONVERTIBLE,
        "'kg' can't be converted to 'kN': a different kind of quantity; the chart is in 'kN'",
    )
    assert conversion("zorkmid", "kN") == UnitIssue(
        UNIT_NOT_CONVERTIBLE, "unknown unit 'zorkmid'; the chart is in 'kN'"
    )
    assert conversion("", "kN") == UnitIssue(NO_UNIT, "sent without a unit; the chart is in 'kN'")


def test_a_reading_in_newtons_is_converted_and_judged_on_the_kn_chart(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    parameter_id = _set_up(db, people, frozen_clock)

    # 10 500 N = 10.5 kN (in control); 25 000 N = 25 kN, far beyond 3σ (13).
    deliver(
        db,
        people,
        [
            reading("B-1", "compression_force", 10_500.0, AT, unit="N"),
            reading("B-1", "compression_force", 25_000.0, AT + timedelta(minutes=1), unit="N"),
        ],
    )

    assert _alerts(db) == [
        ("nelson", 1, 1, 25.0, "One point beyond 3σ"),
        ("dispersion", 1, 1, 14.5, "MR: dispersion beyond its control limits"),
    ]
    assert _plotted(db, parameter_id) == [(0, 10.5), (1, 25.0)]
    with unit_of_work(db, write=False) as s:  # the reading is stored as it came
        assert s.execute(
            select(ProcessReading.value, ProcessReading.unit).where(
                ProcessReading.measured_at >= AT
            )
        ).all() == [(10_500.0, "N"), (25_000.0, "N")]


def test_a_monitor_rebuilt_from_storage_converts_the_readings_it_replays(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    _set_up(db, people, frozen_clock)
    # 8 points above the centre, two of them sent in N.
    above = [10.5, 10_600.0, 10.4, 10.3, 10_700.0, 10.2, 10.5, 10.6]
    deliver(
        db,
        people,
        [
            reading("B-1", "compression_force", v, AT + timedelta(minutes=i), unit=u)
            for i, v in enumerate(above)
            for u in ["N" if v > 1000 else "kN"]
        ],
    )
    assert _alerts(db) == []

    live.LIVE.reset()  # a restarted process rebuilds the monitor from the stored readings
    deliver(db, people, [reading("B-1", "compression_force", 10.1, AT + timedelta(minutes=8))])

    # The ninth point in a row above the centre: the N readings counted as 10.6 and 10.7 kN.
    assert _alerts(db) == [
        ("nelson", 2, 8, 10.1, "Nine points in a row on the same side of the centre line"),
    ]


@pytest.mark.parametrize(
    ("unit", "rule", "why"),
    [
        ("kg", UNIT_NOT_CONVERTIBLE, "'kg' can't be converted to 'kN': a different kind of "
         "quantity; the chart is in 'kN'"),
        ("zorkmid", UNIT_NOT_CONVERTIBLE, "unknown unit 'zorkmid'; the chart is in 'kN'"),
        ("", NO_UNIT, "sent without a unit; the chart is in 'kN'"),
    ],
)  # fmt: skip
def test_a_reading_that_cant_be_converted_raises_a_data_quality_alert(
    db: Database, people: Any, frozen_clock: FrozenClock, unit: str, rule: int, why: str
) -> None:
    parameter_id = _set_up(db, people, frozen_clock)
    deliver(db, people, [reading("B-1", "compression_force", 10.2, AT)])

    (_store if unit == "zorkmid" else deliver)(
        db,
        people,
        [
            reading("B-1", "compression_force", 99.0, AT + timedelta(minutes=1), unit=unit),
            reading("B-1", "compression_force", 98.0, AT + timedelta(minutes=2), unit=unit),
        ],
    )

    shown = repr(unit) if unit else "no unit"
    # One alert for the batch and unit, naming the first reading; the next point is point 1.
    assert _alerts(db) == [
        ("data_quality", rule, 1, 99.0, f"Reading in {shown} not plotted: {why}"),
    ]
    with unit_of_work(db, write=False) as s:
        alert = s.scalars(select(ProcessAlert)).one()
        assert (alert.reading_id, alert.parameter_id, alert.rule_label) == (
            _reading_id(db, 99.0, unit),
            parameter_id,
            "Data quality",
        )
        tasks = s.execute(
            select(Task.assignee_role, Task.kind).where(
                Task.record_type == "process_alert", Task.record_id == alert.id
            )
        ).all()
        assert sorted(tasks) == [("production_supervisor", "spc_alert"), ("qa", "spc_alert")]
    assert _plotted(db, parameter_id) == [(0, 10.2)]  # stored, not plotted

    # The chart goes on after them: the next reading in kN is point 1.
    deliver(db, people, [reading("B-1", "compression_force", 20.0, AT + timedelta(minutes=3))])
    assert _alerts(db)[1:] == [
        ("nelson", 1, 1, 20.0, "One point beyond 3σ"),
        ("dispersion", 1, 1, 9.8, "MR: dispersion beyond its control limits"),
    ]


def test_the_unit_of_a_parameter_is_spelled_as_the_platform_stores_readings_of_its_kind(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "B-1")

    parameter_id = monitor(db, people, parameter="inlet_temp", unit="degC")
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    deliver(
        db,
        people,
        [
            reading("REF-1", "inlet_temp", v + 40.0, start + timedelta(minutes=i), unit="degC")
            for i, v in enumerate(REFERENCE)
        ],
    )
    approve_limits(db, people, parameter_id, ["REF-1"])  # the "°C" readings are its series
    frozen_clock.advance(hours=2)
    # 122 °F = 50 °C, the centre line.
    deliver(db, people, [reading("B-1", "inlet_temp", 122.0, AT, unit="degF")])

    with unit_of_work(db, write=False) as s:
        assert s.get(MonitoredParameter, parameter_id).unit == "°C"  # type: ignore[union-attr]
        assert set(s.scalars(select(ProcessReading.unit))) == {"°C"}
    assert _plotted(db, parameter_id) == [(0, 50.0)]
    assert _alerts(db) == []
