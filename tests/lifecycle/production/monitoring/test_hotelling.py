"""Hotelling T² on live readings: tablet weight and thickness move together (a heavier tablet is
a thicker one). A tablet that is heavy *and* thin is inside both parameters' own limits, so their
charts say nothing, but the combination is far outside what the process does: T² catches it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.production.monitoring.setup import (
    approve_group_limits,
    approve_limits,
    deliver,
    monitor,
    reading,
    seed,
)

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring import limits as limits_service
from pharmaqms.lifecycle.production.monitoring import service
from pharmaqms.lifecycle.production.monitoring.models import ControlLimits, ProcessAlert

REFERENCE_START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
MONITORED_FROM = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)


def _reference() -> list[tuple[float, float]]:
    rng = random.Random(11)
    pairs = []
    for _ in range(30):
        weight = 250.0 + rng.gauss(0.0, 2.0)
        pairs.append((weight, 4.0 + 0.02 * (weight - 250.0) + rng.gauss(0.0, 0.005)))
    return pairs


def _observations(
    batch: str, pairs: list[tuple[float, float]], start: datetime, which: str
) -> list[dict[str, Any]]:
    rows = []
    for i, (weight, thickness) in enumerate(pairs):
        at = start + timedelta(minutes=i)
        if which in ("both", "weight"):
            rows.append(reading(batch, "tablet_weight", weight, at, unit="mg"))
        if which in ("both", "thickness"):
            rows.append(reading(batch, "thickness", thickness, at, unit="mm"))
    return rows


@pytest.mark.postgres
def test_t_squared_catches_a_combination_drift_the_univariate_charts_miss(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "B-1")
    weight_id = monitor(db, people, parameter="tablet_weight", unit="mg", classification="CQA")
    thickness_id = monitor(db, people, parameter="thickness", unit="mm", classification="CQA")
    with unit_of_work(db) as s:
        group = service.define_group(
            s,
            actor=people.supervisor,
            title="Tablet weight and thickness",
            parameter_ids=[weight_id, thickness_id],
        )
        s.flush()
        group_id = group.id
    deliver(db, people, _observations("REF-1", _reference(), REFERENCE_START, "both"))
    approve_limits(db, people, weight_id, ["REF-1"])
    approve_limits(db, people, thickness_id, ["REF-1"])
    approve_group_limits(db, people, group_id, ["REF-1"])
    with unit_of_work(db, write=False) as s:
        weight = limits_service.limits_in_force(s, weight_id)
        thickness = limits_service.limits_in_force(s, thickness_id)
        assert isinstance(weight, ControlLimits) and isinstance(thickness, ControlLimits)
        centre = (weight.center, thickness.center)
        # Heavy by 1.5σ and thin by 1.5σ: each inside its own 2σ zone.
        drift = (weight.center + 1.5 * weight.sigma, thickness.center - 1.5 * thickness.sigma)
    frozen_clock.advance(hours=2)

    calm = [centre] * 5
    deliver(db, people, _observations("B-1", [*calm, drift], MONITORED_FROM, "weight"))
    deliver(db, people, _observations("B-1", [*calm, drift], MONITORED_FROM, "thickness"))

    with unit_of_work(db, write=False) as s:
        alerts = s.scalars(select(ProcessAlert).order_by(ProcessAlert.id)).all()
        assert [(a.rule_set, a.group_id, a.parameter_id, a.point_index) for a in alerts] == [
            ("hotelling", group_id, None, 5)
        ]
        [alert] = alerts
        assert alert.rule_name == "T² above the upper control limit"
        assert alert.value > 100.0 > alert.ucl
        assert alert.measured_at == MONITORED_FROM + timedelta(minutes=5)
