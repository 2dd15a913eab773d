"""Process capability of a monitored parameter over a window, and its trend month by month.

Cp and Cpk use the within sigma the parameter's chart estimates from the window's own data
(MR̄/d2 of the readings, or R̄/d2 / S̄/c4 of its complete subgroups); Pp and Ppk the overall SD of
every reading in the window (formulas in ``spc.capability``). A window with fewer than
``MIN_CAPABILITY_POINTS`` points, a parameter without specification limits, or data with no
spread gives no indices, and says why.

``capability_trend(session, parameter_id, months)`` is what the production KPIs read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.production.monitoring import store
from pharmaqms.lifecycle.production.monitoring.models import MonitoredParameter
from pharmaqms.lifecycle.production.monitoring.series import StoredReading, complete_subgroups
from pharmaqms.lifecycle.production.monitoring.service import get_parameter
from pharmaqms.lifecycle.production.spc import (
    CapabilityIndices,
    ChartKind,
    process_capability,
    within_sigma,
)

MIN_CAPABILITY_POINTS = 20
MAX_TREND_MONTHS = 60


@dataclass(frozen=True)
class Capability:
    start: datetime
    end: datetime
    readings: int
    points: int  # readings of an I-MR chart, complete subgroups of an X̄ chart
    indices: CapabilityIndices | None
    reason: str | None  # why there are no indices


@dataclass(frozen=True)
class MonthlyCapability:
    month: date  # the first day of the month (UTC)
    readings: int
    points: int
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    reason: str | None


def _judge(
    parameter: MonitoredParameter, found: list[StoredReading]
) -> tuple[int, CapabilityIndices | None, str | None]:
    kind, n = ChartKind(parameter.chart_kind), parameter.subgroup_size
    data: list[float] | list[list[float]]
    if kind is ChartKind.INDIVIDUALS:
        data = [r.value for r in found]
        points = len(data)
    else:
        data = complete_subgroups(found, n)
        points = len(data)
    if parameter.lsl is None and parameter.usl is None:
        return points, None, "no specification limits (LSL/USL) are set"
    if points < MIN_CAPABILITY_POINTS:
        return points, None, f"{points} points; capability needs at least {MIN_CAPABILITY_POINTS}"
    try:
        sigma = within_sigma(kind, data)
        indices = process_capability(
            [r.value for r in found],
            sigma_within=sigma,
            lsl=parameter.lsl,
            usl=parameter.usl,
            target=parameter.target,
        )
    except ValueError as err:
        return points, None, str(err)
    return points, indices, None


def capability(
    session: Session, parameter_id: int, *, start: datetime, end: datetime
) -> Capability:
    """Cp, Cpk, Pp, Ppk of the readings measured in [start, end)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("the window's start and end need a time zone", field="start")
    if not start < end:
        raise InvalidInput("the window must end after it starts", field="end")
    parameter = get_parameter(session, parameter_id)
    found = store.readings(
        session, store.Series(parameter.key, parameter.unit), start=start, end=end
    )
    points, indices, reason = _judge(parameter, found)
    return Capability(start, end, len(found), points, indices, reason)


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)


def capability_trend(
    session: Session, parameter_id: int, months: int = 12
) -> list[MonthlyCapability]:
    """One entry per calendar month (UTC), oldest first, ending with the current month."""
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise InvalidInput(f"ask for 1 to {MAX_TREND_MONTHS} months", field="months")
    parameter = get_parameter(session, parameter_id)
    starts = [_month_start(clock.now().date())]
    for _ in range(months - 1):
        first = starts[0]
        previous = (
            first.replace(year=first.year - 1, month=12)
            if first.month == 1
            else first.replace(month=first.month - 1)
        )
        starts.insert(0, previous)
    end = _next_month(starts[-1])
    found = store.readings(
        session, store.Series(parameter.key, parameter.unit), start=starts[0], end=end
    )
    by_month: dict[datetime, list[StoredReading]] = {start: [] for start in starts}
    for reading in found:
        by_month[_month_start(reading.measured_at.date())].append(reading)
    trend = []
    for start, readings in by_month.items():
        points, indices, reason = _judge(parameter, readings)
        trend.append(
            MonthlyCapability(
                month=start.date(),
                readings=len(readings),
                points=points,
                cp=indices.cp if indices else None,
                cpk=indices.cpk if indices else None,
                pp=indices.pp if indices else None,
                ppk=indices.ppk if indices else None,
                reason=reason,
            )
        )
    return trend
