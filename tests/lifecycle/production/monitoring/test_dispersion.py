"""The live monitor judges the dispersion chart too: a moving range, subgroup range or subgroup SD
beyond its control limits raises an alert once when it goes out (not again while it stays out),
and the live chart marks every such point on its MR, R or S panel."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

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

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import chart, service
from pharmaqms.lifecycle.production.monitoring.engine import (
    DISPERSION,
    MonitorConfig,
    ParameterMonitor,
    Signal,
)
from pharmaqms.lifecycle.production.monitoring.models import ControlLimits, ProcessAlert
from pharmaqms.lifecycle.production.monitoring.series import StoredReading
from pharmaqms.lifecycle.production.spc import (
    ChartKind,
    ControlChartLimits,
    Limits,
    RuleSet,
    chart_constants,
    individuals_limits_known,
    xbar_s_limits_known,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _alerts(db: Database) -> list[tuple[str, int, int, float, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (a.rule_set, a.rule, a.point_index, round(a.value, 9), a.rule_name)
            for a in s.scalars(select(ProcessAlert).order_by(ProcessAlert.id))
        ]


def test_moving_ranges_above_the_mr_ucl_raise_an_alert_and_are_marked_on_the_chart(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "B-1")
    parameter_id = monitor(db, people)
    deliver(db, people, series("REF-1", REFERENCE, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])  # centre 10, σ 1, MR UCL D4·d2 ≈ 3.686
    frozen_clock.advance(hours=2)

    # Every reading within 2σ of the centre (no run rule broken), every moving range 3.9.
    values = [10 + (1.95 if i % 2 == 0 else -1.95) for i in range(7)]
    at = [AT + timedelta(minutes=i) for i in range(len(values))]
    deliver(
        db,
        people,
        [reading("B-1", "compression_force", v, t) for v, t in zip(values, at, strict=True)],
    )

    # One alert, at the first moving range (point 1), while the MR stays out.
    assert _alerts(db) == [
        ("dispersion", 1, 1, 3.9, "MR: dispersion beyond its control limits"),
    ]
    with unit_of_work(db, write=False) as s:
        alert = s.scalars(select(ProcessAlert)).one()
        limits = s.scalars(select(ControlLimits)).one()
        d2 = 2 / math.sqrt(math.pi)
        assert round(alert.ucl, 3) == round(chart_constants(2).D4 * d2, 3) == 3.686
        assert (alert.ucl, alert.center, alert.lcl) == (
            limits.dispersion_ucl,
            limits.dispersion_center,
            limits.dispersion_lcl,
        )
        assert alert.rule_label == "Dispersion"
        svg = chart.parameter_svg(chart.parameter_chart(s, service.get_parameter(s, parameter_id)))
    marked = re.findall(r'class="point violation" data-index="(\d+)" data-rules="MR"', svg)
    assert marked == ["1", "2", "3", "4", "5", "6"]


def _weights(batch: str, values: list[float], start: datetime) -> list[dict[str, Any]]:
    return [
        reading(batch, "tablet_weight", v, start + timedelta(seconds=10 * i), unit="mg")
        for i, v in enumerate(values)
    ]


def test_a_subgroup_range_above_the_r_ucl_raises_an_alert(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "B-1")
    parameter_id = monitor(
        db,
        people,
        parameter="tablet_weight",
        unit="mg",
        classification="CQA",
        chart_kind="Xbar-R",
        subgroup_size=5,
    )
    a = chart_constants(5).d2 / 2  # reference ranges d2: σ̂ 1, R UCL D4·d2 ≈ 4.918
    reference = [10 - a, 10 - a / 2, 10.0, 10 + a / 2, 10 + a] * 20
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    deliver(db, people, _weights("REF-1", reference, start))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)

    # Point 0 centred and tight; point 1 centred (mean 10) but with a range of 6.
    values = [10.0, 10.1, 9.9, 10.0, 10.0, 7.0, 10.0, 10.0, 10.0, 13.0]
    deliver(db, people, _weights("B-1", values, AT))

    assert _alerts(db) == [("dispersion", 1, 1, 6.0, "R: dispersion beyond its control limits")]


def _config(limits: ControlChartLimits, kind: ChartKind) -> MonitorConfig:
    return MonitorConfig(
        parameter_id=1,
        parameter_version=1,
        limits_id=1,
        subject="MP-2026-0001 Tablet weight",
        key=("P", "", "", "", "tablet_weight"),
        unit="mg",
        chart_kind=kind,
        subgroup_size=limits.subgroup_size,
        rule_set=RuleSet.NELSON,
        rules=(1,),
        center=limits.location.center,
        location_sigma=limits.location_sigma,
        lcl=limits.location.lower,
        ucl=limits.location.upper,
        effective_from=AT,
        alert_roles=("qa",),
        dispersion=limits.dispersion,
    )


def _feed(monitor: ParameterMonitor, values: list[float]) -> list[Signal]:
    signals: list[Signal] = []
    for i, v in enumerate(values):
        monitor.feed(StoredReading(i + 1, 1, v, AT + timedelta(seconds=i)), signals)
    return signals


def test_an_s_below_a_non_zero_lcl_is_beyond_the_limits_too() -> None:
    limits = xbar_s_limits_known(10.0, 1.0, 7)  # S chart B5·σ..B6·σ: LCL ≈ 0.113
    assert limits.dispersion.lower > 0.1
    monitor = ParameterMonitor(_config(limits, ChartKind.XBAR_S))
    normal = [8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5]  # S ≈ 1.08
    flat = [10.0] * 7  # S 0: a sensor stuck, or readings copied

    signals = _feed(monitor, normal + flat + flat + normal + flat)

    assert [(s.kind, s.index, s.value, s.rule_name) for s in signals] == [
        (DISPERSION, 1, 0.0, "S: dispersion beyond its control limits"),
        (DISPERSION, 4, 0.0, "S: dispersion beyond its control limits"),
    ]


def test_the_first_point_has_no_moving_range_and_one_on_the_ucl_is_inside() -> None:
    config = _config(individuals_limits_known(10.0, 1.0), ChartKind.INDIVIDUALS)
    monitor = ParameterMonitor(replace(config, dispersion=Limits(1.0, 0.0, 2.0)))

    # Point 0 is beyond 3σ but has no moving range; the moving ranges 2, 2, 1 are inside.
    signals = _feed(monitor, [14.0, 12.0, 14.0, 13.0])

    assert [(s.kind, s.rule, s.index) for s in signals] == [("rule", 1, 0), ("rule", 1, 2)]
