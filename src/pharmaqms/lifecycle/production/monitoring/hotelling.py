"""Hotelling T² over correlated parameters of one step, on live readings.

An observation is the set of the group's parameters measured on one batch at one instant (one
in-process control sample: force, hardness and thickness of the same tablets). It is complete
when every parameter of the group has a reading at that instant, in its unit; only complete
observations are charted. The live check needs no memory: when readings arrive, the observations
they touch are read back from storage (so it does not matter in which delivery, or in which
process, the other parameters of the sample arrived), and each complete one above the UCL raises
an alert. Every observation above the UCL is an alert of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import linalg
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.monitoring.alerts import HOTELLING, HOTELLING_RULE, AlertDraft
from pharmaqms.lifecycle.production.monitoring.models import (
    LimitsStatus,
    MonitoredParameter,
    MonitoringStatus,
    MultivariateGroup,
    MultivariateLimits,
)
from pharmaqms.lifecycle.production.spc import HotellingT2Chart
from pharmaqms.platform.masterdata.models import Lot, LotKind
from pharmaqms.platform.timeseries.arrivals import ArrivedReading
from pharmaqms.platform.timeseries.models import ProcessReading as R

Instant = tuple[int, datetime]  # (batch id, measured at)


@dataclass(frozen=True)
class GroupSpec:
    """Which readings make a group's observations."""

    product_code: str
    unit_procedure: str
    operation: str
    phase: str
    parameters: tuple[str, ...]  # in the order of the vector
    units: tuple[str, ...]

    @property
    def step(self) -> tuple[str, str, str]:
        return (self.unit_procedure, self.operation, self.phase)

    def conditions(self) -> list[ColumnElement[bool]]:
        return [
            R.unit_procedure == self.unit_procedure,
            R.operation == self.operation,
            R.phase == self.phase,
            or_(
                *(
                    and_(R.parameter == name, R.unit.in_(sorted({unit, ""})))
                    for name, unit in zip(self.parameters, self.units, strict=True)
                )
            ),
            R.batch_id.in_(
                select(Lot.id).where(
                    Lot.kind == LotKind.FINISHED, Lot.item_code == self.product_code
                )
            ),
        ]


@dataclass(frozen=True)
class Observation:
    batch_id: int
    measured_at: datetime
    values: tuple[float, ...]
    reading_id: int  # the last stored reading of the observation

    @property
    def instant(self) -> Instant:
        return (self.batch_id, self.measured_at)


def spec_of(session: Session, group: MultivariateGroup) -> GroupSpec:
    parameters = {
        p.id: p
        for p in session.scalars(
            select(MonitoredParameter).where(MonitoredParameter.id.in_(group.parameter_ids))
        )
    }
    ordered = [parameters[i] for i in group.parameter_ids if i in parameters]
    return GroupSpec(
        group.product_code,
        group.unit_procedure,
        group.operation,
        group.phase,
        tuple(p.parameter for p in ordered),
        tuple(p.unit for p in ordered),
    )


def _complete(
    rows: Iterable[tuple[int, datetime, str, float, int]], spec: GroupSpec
) -> list[Observation]:
    found: dict[Instant, dict[str, tuple[float, int]]] = defaultdict(dict)
    for batch_id, measured_at, parameter, value, reading_id in rows:
        found[(batch_id, measured_at)][parameter] = (value, reading_id)
    observations = []
    for (batch_id, measured_at), values in found.items():
        if len(values) == len(spec.parameters):
            observations.append(
                Observation(
                    batch_id,
                    measured_at,
                    tuple(values[name][0] for name in spec.parameters),
                    max(reading_id for _, reading_id in values.values()),
                )
            )
    observations.sort(key=lambda o: (o.measured_at, o.batch_id))
    return observations


def observations(
    session: Session,
    spec: GroupSpec,
    *,
    since: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    batch_ids: Sequence[int] | None = None,
    instants: Iterable[Instant] | None = None,
) -> list[Observation]:
    """The complete observations, in time order."""
    query = select(R.batch_id, R.measured_at, R.parameter, R.value, R.id).where(*spec.conditions())
    for bound in (since, start):
        if bound is not None:
            query = query.where(R.measured_at >= bound)
    if end is not None:
        query = query.where(R.measured_at < end)
    if batch_ids is not None:
        query = query.where(R.batch_id.in_(list(batch_ids)))
    if instants is not None:
        wanted = set(instants)
        query = query.where(
            R.batch_id.in_(sorted({b for b, _ in wanted})),
            R.measured_at.in_(sorted({t for _, t in wanted})),
        )
        rows = [row for row in session.execute(query) if (row[0], row[1]) in wanted]
        return _complete(rows, spec)
    return _complete(session.execute(query), spec)


def recent_observations(
    session: Session, spec: GroupSpec, *, since: datetime | None, count: int
) -> tuple[int, list[Observation]]:
    """About the last ``count`` complete observations, and the index of the first."""
    query = (
        select(R.batch_id, R.measured_at, R.parameter, R.value, R.id)
        .where(*spec.conditions())
        .order_by(R.measured_at.desc(), R.id.desc())
        .limit((count + 1) * len(spec.parameters))
    )
    if since is not None:
        query = query.where(R.measured_at >= since)
    found = _complete(session.execute(query), spec)[-count:]
    if not found:
        return 0, []
    return index_of(session, spec, since, found[0].instant), found


def index_of(session: Session, spec: GroupSpec, since: datetime | None, instant: Instant) -> int:
    """The 0-based position of an observation among the group's complete observations."""
    batch_id, at = instant
    earlier = (
        select(R.batch_id, R.measured_at)
        .where(
            *spec.conditions(),
            or_(R.measured_at < at, and_(R.measured_at == at, R.batch_id < batch_id)),
        )
        .group_by(R.batch_id, R.measured_at)
        .having(func.count(R.parameter.distinct()) == len(spec.parameters))
    )
    if since is not None:
        earlier = earlier.where(R.measured_at >= since)
    return int(session.execute(select(func.count()).select_from(earlier.subquery())).scalar_one())


def chart_of(limits: MultivariateLimits) -> HotellingT2Chart:
    """The phase II chart of approved limits (the stored estimates, not a new estimate)."""
    mean = np.asarray(limits.mean, dtype=np.float64)
    covariance = np.asarray(limits.covariance, dtype=np.float64)
    return HotellingT2Chart(
        mean=mean,
        covariance=covariance,
        reference_size=limits.reference_size,
        alpha=limits.alpha,
        ucl=limits.ucl,
        cholesky=linalg.cholesky(covariance, lower=True),
    )


@dataclass(frozen=True)
class LiveGroup:
    group: MultivariateGroup
    limits: MultivariateLimits
    spec: GroupSpec


def live_groups(session: Session, products: Iterable[str]) -> list[LiveGroup]:
    """Active groups of these products with approved limits."""
    rows = session.execute(
        select(MultivariateGroup, MultivariateLimits)
        .join(MultivariateLimits, MultivariateLimits.group_id == MultivariateGroup.id)
        .where(
            MultivariateGroup.status == MonitoringStatus.ACTIVE,
            MultivariateGroup.product_code.in_(sorted(set(products))),
            MultivariateLimits.status == LimitsStatus.APPROVED,
        )
    ).all()
    return [LiveGroup(group, limits, spec_of(session, group)) for group, limits in rows]


def check(
    session: Session,
    readings: Sequence[ArrivedReading],
    product_of: Mapping[int, str],
    charts: dict[int, HotellingT2Chart],
) -> list[AlertDraft]:
    """Alerts for the complete observations these readings touch whose T² is above the UCL.
    ``charts`` caches the phase II chart of each approved limits revision."""
    products = {product_of[r.batch_id] for r in readings if r.batch_id in product_of}
    drafts: list[AlertDraft] = []
    for live in live_groups(session, products) if products else []:
        spec, limits = live.spec, live.limits
        since = limits.effective_from
        assert since is not None, "approved limits have a start"
        names = set(spec.parameters)
        touched = {
            (r.batch_id, r.measured_at)
            for r in readings
            if r.parameter in names
            and (r.unit_procedure, r.operation, r.phase) == spec.step
            and product_of.get(r.batch_id) == spec.product_code
            and r.measured_at >= since
        }
        if not touched:
            continue
        chart = charts.get(limits.id)
        if chart is None:
            chart = charts[limits.id] = chart_of(limits)
        found = observations(session, spec, since=since, instants=touched)
        if not found:
            continue
        t_squared = chart.t_squared([o.values for o in found])
        for observation, value in zip(found, t_squared, strict=True):
            if value > chart.ucl:
                drafts.append(_draft(session, live, observation, float(value)))
    return drafts


def _draft(session: Session, live: LiveGroup, observation: Observation, value: float) -> AlertDraft:
    group, limits = live.group, live.limits
    return AlertDraft(
        dedupe_key=(
            f"g{group.id}:l{limits.id}:{HOTELLING}:b{observation.batch_id}:"
            f"t{observation.measured_at.isoformat()}"
        ),
        subject=group.audit_label(),
        batch_id=observation.batch_id,
        reading_id=observation.reading_id,
        measured_at=observation.measured_at,
        rule_set=HOTELLING,
        rule=1,
        rule_name=HOTELLING_RULE,
        point_index=index_of(session, live.spec, limits.effective_from, observation.instant),
        value=value,
        ucl=limits.ucl,
        lcl=0.0,
        roles=group.roles,
        group_id=group.id,
        group_limits_id=limits.id,
    )
