"""An X̄-R chart on live readings: subgroups of five consecutive readings of one batch, counted
from the batch's first reading. Readings left over when a batch ends make no point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from tests.lifecycle.production.monitoring.setup import (
    approve_limits,
    deliver,
    monitor,
    reading,
    seed,
)

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring.models import ProcessAlert
from pharmaqms.lifecycle.production.spc import chart_constants
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import ProcessReading

# Subgroups 10 ± a, 10 ± a/2, 10 with range 2a = d2: σ̂ = R̄/d2 = 1, so the X̄ chart's limits are
# 10 ± 3/√5 = 10 ± 1.342.
A = chart_constants(5).d2 / 2
SUBGROUP = [10 - A, 10 - A / 2, 10.0, 10 + A / 2, 10 + A]


def _weights(batch: str, values: list[float], start: datetime) -> list[dict[str, Any]]:
    return [
        reading(batch, "tablet_weight", v, start + timedelta(seconds=10 * i), unit="mg")
        for i, v in enumerate(values)
    ]


def test_subgroups_never_span_two_batches(
    db: Database, people: Any, frozen_clock: FrozenClock
) -> None:
    seed(db, people, "REF-1", "B-1", "B-2")
    parameter_id = monitor(
        db,
        people,
        parameter="tablet_weight",
        unit="mg",
        classification="CQA",
        chart_kind="Xbar-R",
        subgroup_size=5,
    )
    deliver(db, people, _weights("REF-1", SUBGROUP * 20, datetime(2026, 3, 2, 6, 0, tzinfo=UTC)))
    approve_limits(db, people, parameter_id, ["REF-1"])
    frozen_clock.advance(hours=2)
    start = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)

    # B-1: one subgroup at the centre (point 0), then two light readings the batch ends with.
    deliver(db, people, _weights("B-1", [10.0] * 5 + [8.5] * 2, start))
    # B-2: a heavy subgroup (point 1), then one at the centre (point 2). Mixed with B-1's
    # leftovers, the subgroups would average 10.3 and 10.6: no alert at all.
    deliver(db, people, _weights("B-2", [11.5] * 5 + [10.0] * 5, start + timedelta(minutes=5)))

    with unit_of_work(db, write=False) as s:
        [alert] = s.scalars(select(ProcessAlert)).all()
        lot = s.get(Lot, alert.batch_id)
        reading_row = s.get(ProcessReading, alert.reading_id)
        assert lot is not None and reading_row is not None
        assert (alert.rule, alert.point_index, alert.value, lot.lot_number) == (1, 1, 11.5, "B-2")
        # The reading that completed the subgroup: the fifth of B-2.
        assert reading_row.measured_at == start + timedelta(minutes=5, seconds=40)
        assert round(alert.ucl, 6) == round(10 + 3 / 5**0.5, 6)
