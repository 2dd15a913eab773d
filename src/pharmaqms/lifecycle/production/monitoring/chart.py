"""What a chart page shows: the recent points of a parameter (or a T² group) under the limits in
force, every point that breaks a rule (every point of a persisting pattern, as the rules flag
them; alerts are raised once per pattern), every moving range, subgroup range or SD beyond the
dispersion chart's limits, and a stamp that changes when a reading or an alert
arrives, which the page polls to refresh itself."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.timezones import reader_zone
from pharmaqms.lifecycle.production.monitoring import hotelling, store
from pharmaqms.lifecycle.production.monitoring.limits import (
    group_limits_in_force,
    limits_in_force,
)
from pharmaqms.lifecycle.production.monitoring.models import (
    AlertStatus,
    ControlLimits,
    MonitoredParameter,
    MultivariateGroup,
    MultivariateLimits,
    ProcessAlert,
)
from pharmaqms.lifecycle.production.monitoring.series import Point, points_of
from pharmaqms.lifecycle.production.monitoring.svg import Panel, chart_svg
from pharmaqms.lifecycle.production.spc import (
    ChartKind,
    Limits,
    RuleSet,
    evaluate_rules,
    points_outside,
)
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import ProcessReading

CHART_POINTS = 100
# Points read before the first one shown, so a pattern that ends on screen is seen whole.
LEAD_IN = 15


@dataclass(frozen=True)
class ParameterChart:
    parameter: MonitoredParameter
    limits: ControlLimits | None
    points: list[Point]
    flags: dict[int, tuple[int, ...]]  # point index → rules broken there
    lots: dict[int, str]  # batch id → lot number
    open_alerts: int


def parameter_chart(
    session: Session,
    parameter: MonitoredParameter,
    *,
    count: int = CHART_POINTS,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ParameterChart:
    """The last ``count`` points measured in [start, end) (either open), judged under the
    limits in force, rules read over the points before the first shown as well."""
    limits = limits_in_force(session, parameter.id)
    kind = ChartKind(parameter.chart_kind)
    since = limits.effective_from if limits is not None else None
    series = store.Series(parameter.key, parameter.unit, since)
    # A place before which every reading measured before ``end`` lies (no reading id is < 0).
    until = (end, 0) if end is not None else None
    window = store.recent(session, series, parameter.subgroup_size, count + LEAD_IN, until=until)
    points = points_of(
        window.readings, kind, parameter.subgroup_size, first_index=window.first_index
    )
    flags: dict[int, tuple[int, ...]] = {}
    if limits is not None and points:
        found: defaultdict[int, list[int]] = defaultdict(list)
        for violation in evaluate_rules(
            [p.value for p in points],
            center=limits.center,
            sigma=limits.location_sigma,
            rule_set=RuleSet(parameter.rule_set),
            enabled=parameter.rules,
        ):
            found[points[violation.index].index].append(violation.rule)
        flags = {index: tuple(rules) for index, rules in found.items()}
    shown = [p for p in points if start is None or p.measured_at >= start][-count:]
    return ParameterChart(
        parameter=parameter,
        limits=limits,
        points=shown,
        flags={i: r for i, r in flags.items() if shown and i >= shown[0].index},
        lots=_lots(session, {p.batch_id for p in shown}),
        open_alerts=_open_alerts(session, ProcessAlert.parameter_id == parameter.id),
    )


def _lots(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Lot.id, Lot.lot_number).where(Lot.id.in_(ids)))
    return {int(lot_id): str(number) for lot_id, number in rows}


def _open_alerts(session: Session, condition: ColumnElement[bool]) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ProcessAlert)
            .where(condition, ProcessAlert.status == AlertStatus.OPEN)
        ).scalar_one()
    )


def _batch_starts(points: list[tuple[int, int]], lots: dict[int, str]) -> list[tuple[int, str]]:
    """(index, lot number) where a new batch begins, from (index, batch id) in order."""
    starts, previous = [], None
    for index, batch_id in points:
        if batch_id != previous:
            starts.append((index, lots.get(batch_id, str(batch_id))))
            previous = batch_id
    return starts


def parameter_svg(chart: ParameterChart) -> str:
    parameter, limits = chart.parameter, chart.limits
    kind = ChartKind(parameter.chart_kind)
    location = [(p.index, p.value) for p in chart.points]
    dispersion = [(p.index, p.dispersion) for p in chart.points if p.dispersion is not None]
    labels = {i: ",".join(str(r) for r in rules) for i, rules in chart.flags.items()}
    beyond: dict[int, str] = {}
    if limits is not None:
        bounds = Limits(limits.dispersion_center, limits.dispersion_lcl, limits.dispersion_ucl)
        found = points_outside([v for _, v in dispersion], bounds)
        beyond = {dispersion[n][0]: kind.dispersion_label for n in found}
    unit = f" ({parameter.unit})" if parameter.unit else ""
    panels = [
        Panel(
            kind.location_label.replace("Xbar", "X̄"),
            location,
            center=limits.center if limits else None,
            lower=limits.lcl if limits else None,
            upper=limits.ucl if limits else None,
            sigma=limits.location_sigma if limits else None,
            flags=labels,
        ),
        Panel(
            kind.dispersion_label,
            [(i, float(v)) for i, v in dispersion],
            center=limits.dispersion_center if limits else None,
            lower=limits.dispersion_lcl if limits else None,
            upper=limits.dispersion_ucl if limits else None,
            height=130,
            flags=beyond,
        ),
    ]
    state = f"limits {limits.number}" if limits else "no approved limits"
    return chart_svg(
        panels,
        title=f"{parameter.title}{unit}: {kind.value} chart, {state}",
        batches=_batch_starts([(p.index, p.batch_id) for p in chart.points], chart.lots),
        times={p.index: p.measured_at for p in chart.points},
        zone=reader_zone(),
    )


def parameter_stamp(session: Session, parameter: MonitoredParameter) -> str:
    """Changes when a reading of the parameter, an alert or its status, or the limits change."""
    last_reading = _last_reading(session, store.Series(parameter.key, parameter.unit).conditions())
    limits = limits_in_force(session, parameter.id)
    version = f"{parameter.version}.{limits.id if limits else 0}"
    return _stamp(session, ProcessAlert.parameter_id == parameter.id, last_reading, version)


def _last_reading(session: Session, conditions: list[ColumnElement[bool]]) -> int | None:
    # The newest reading by time: the (parameter, measured_at) index finds it without a scan.
    # (A reading measured earlier than it shows with the next change of the stamp.)
    return session.execute(
        select(ProcessReading.id)
        .where(*conditions)
        .order_by(ProcessReading.measured_at.desc(), ProcessReading.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _stamp(
    session: Session, condition: ColumnElement[bool], last_reading: int | None, version: str
) -> str:
    alerts = session.execute(
        select(func.max(ProcessAlert.id), func.max(ProcessAlert.updated_at)).where(condition)
    ).one()
    changed = alerts[1].isoformat() if alerts[1] is not None else "-"
    return f"{last_reading or 0}.{alerts[0] or 0}.{changed}.{version}"


# --- T² groups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupChart:
    group: MultivariateGroup
    limits: MultivariateLimits | None
    observations: list[hotelling.Observation]
    first_index: int
    t_squared: list[float]
    lots: dict[int, str]
    open_alerts: int
    parameters: tuple[str, ...] = field(default=())


def group_chart(
    session: Session, group: MultivariateGroup, *, count: int = CHART_POINTS
) -> GroupChart:
    limits = group_limits_in_force(session, group.id)
    spec = hotelling.spec_of(session, group)
    since = limits.effective_from if limits is not None else None
    first, found = hotelling.recent_observations(session, spec, since=since, count=count)
    values: list[float] = []
    if limits is not None and found:
        values = [float(v) for v in hotelling.chart_of(limits).t_squared([o.values for o in found])]
    return GroupChart(
        group=group,
        limits=limits,
        observations=found,
        first_index=first,
        t_squared=values,
        lots=_lots(session, {o.batch_id for o in found}),
        open_alerts=_open_alerts(session, ProcessAlert.group_id == group.id),
        parameters=spec.parameters,
    )


def group_svg(chart: GroupChart) -> str:
    limits = chart.limits
    points = [(chart.first_index + n, v) for n, v in enumerate(chart.t_squared)]
    flags = {i: "T²" for i, v in points if limits is not None and v > limits.ucl}
    return chart_svg(
        [
            Panel(
                "T²",
                points,
                lower=0.0 if limits else None,
                upper=limits.ucl if limits else None,
                flags=flags,
            )
        ],
        title=f"{chart.group.title}: Hotelling T² of {', '.join(chart.parameters)}",
        batches=_batch_starts(
            [(chart.first_index + n, o.batch_id) for n, o in enumerate(chart.observations)],
            chart.lots,
        ),
        times={chart.first_index + n: o.measured_at for n, o in enumerate(chart.observations)},
        zone=reader_zone(),
    )


def group_stamp(session: Session, group: MultivariateGroup) -> str:
    spec = hotelling.spec_of(session, group)
    last_reading = _last_reading(session, spec.conditions())
    limits = group_limits_in_force(session, group.id)
    version = f"{group.version}.{limits.id if limits else 0}"
    return _stamp(session, ProcessAlert.group_id == group.id, last_reading, version)
