"""Control limits: estimated from a reference period (a set of batches, or a time window) as a
draft revision, approved by QA's signature, in force from the approval until the next revision
is approved. The same for the T² limits of a group (phase I mean and covariance, phase II UCL).

The reference must hold enough points for the estimate to mean something: at least
``MIN_REFERENCE_POINTS`` points — readings of an I-MR chart, complete subgroups of an X̄ chart,
complete observations of a T² group (AIAG's SPC manual asks for 20–25 subgroups). Fewer are
refused with the count found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.monitoring import hotelling, store
from pharmaqms.lifecycle.production.monitoring.models import (
    ControlLimits,
    LimitsStatus,
    MultivariateLimits,
    ReferenceKind,
)
from pharmaqms.lifecycle.production.monitoring.series import complete_subgroups
from pharmaqms.lifecycle.production.monitoring.service import get_group, get_parameter
from pharmaqms.lifecycle.production.spc import (
    ChartKind,
    hotelling_t2_chart,
    individuals_limits,
    xbar_r_limits,
    xbar_s_limits,
)
from pharmaqms.platform.masterdata.models import Lot, LotKind

MIN_REFERENCE_POINTS = 20
LimitsT = TypeVar("LimitsT", ControlLimits, MultivariateLimits)
APPROVAL_DUE = timedelta(days=5)


class ReferenceTooSmall(Conflict):
    code = "reference_too_small"
    title = "Too few points in the reference"


class EstimateRefused(Conflict):
    code = "estimate_refused"
    title = "Control limits can't be estimated from this reference"


@dataclass(frozen=True)
class Reference:
    kind: ReferenceKind
    batch_ids: list[int] | None
    lot_numbers: list[str]
    start: datetime | None
    end: datetime | None

    def describe(self) -> str:
        if self.kind is ReferenceKind.BATCHES:
            return f"batches {', '.join(self.lot_numbers)}"
        assert self.start is not None and self.end is not None
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def reference_of(
    session: Session,
    product_code: str,
    batches: Sequence[str],
    start: datetime | None,
    end: datetime | None,
) -> Reference:
    """The reference period named either by batches (lot numbers) or by a window [start, end)."""
    if batches and (start is not None or end is not None):
        raise InvalidInput("name reference batches or a time window, not both", field="batches")
    if batches:
        wanted = list(dict.fromkeys(b.strip() for b in batches if b.strip()))
        lots = {
            str(number): int(lot_id)
            for number, lot_id in session.execute(
                select(Lot.lot_number, Lot.id).where(
                    Lot.kind == LotKind.FINISHED,
                    Lot.item_code == product_code,
                    Lot.lot_number.in_(wanted),
                )
            )
        }
        unknown = [b for b in wanted if b not in lots]
        if unknown:
            raise InvalidInput(
                f"no batch {', '.join(unknown)} of {product_code} is known", field="batches"
            )
        return Reference(ReferenceKind.BATCHES, [lots[b] for b in wanted], wanted, None, None)
    if start is None or end is None:
        raise InvalidInput(
            "name reference batches, or the start and end of a window", field="start"
        )
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("the window's start and end need a time zone", field="start")
    if not start < end:
        raise InvalidInput("the window must end after it starts", field="end")
    return Reference(ReferenceKind.WINDOW, None, [], start, end)


def _next_revision(
    session: Session, model: type[ControlLimits | MultivariateLimits], owner: str, owner_id: int
) -> int:
    current = session.execute(
        select(func.max(model.revision)).where(getattr(model, owner) == owner_id)
    ).scalar_one()
    return int(current or 0) + 1


def _too_few(found: int, what: str, chart: str) -> ReferenceTooSmall:
    return ReferenceTooSmall(
        f"the reference holds {found} {what}; {chart} control limits need at least "
        f"{MIN_REFERENCE_POINTS}",
        reasons=[f"{found} {what} in the reference, {MIN_REFERENCE_POINTS} needed"],
        extra={"points": found, "needed": MIN_REFERENCE_POINTS},
    )


def estimate_limits(
    session: Session,
    *,
    actor: Actor,
    parameter_id: int,
    batches: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> ControlLimits:
    """A draft revision of the parameter's limits estimated from the reference; QA gets a task
    to approve it."""
    actor.require("spc.estimate", "estimate control limits")
    parameter = get_parameter(session, parameter_id)
    reference = reference_of(session, parameter.product_code, batches, start, end)
    found = store.readings(
        session,
        store.Series(parameter.key, parameter.unit),
        start=reference.start,
        end=reference.end,
        batch_ids=reference.batch_ids,
    )
    kind, n = ChartKind(parameter.chart_kind), parameter.subgroup_size
    try:
        if kind is ChartKind.INDIVIDUALS:
            if len(found) < MIN_REFERENCE_POINTS:
                raise _too_few(len(found), "readings", kind.value)
            estimate = individuals_limits([r.value for r in found])
            subgroups = len(found)
        else:
            groups = complete_subgroups(found, n)
            if len(groups) < MIN_REFERENCE_POINTS:
                raise _too_few(len(groups), f"complete subgroups of {n}", kind.value)
            estimate = (xbar_r_limits if kind is ChartKind.XBAR_R else xbar_s_limits)(groups)
            subgroups = len(groups)
    except ValueError as err:
        raise EstimateRefused(str(err), reasons=[str(err)]) from None
    limits = ControlLimits(
        status=LimitsStatus.DRAFT.value,
        parameter_id=parameter.id,
        revision=_next_revision(session, ControlLimits, "parameter_id", parameter.id),
        chart_kind=kind.value,
        subgroup_size=n,
        center=estimate.location.center,
        sigma=estimate.sigma,
        location_sigma=estimate.location_sigma,
        lcl=estimate.location.lower,
        ucl=estimate.location.upper,
        dispersion_center=estimate.dispersion.center,
        dispersion_lcl=estimate.dispersion.lower,
        dispersion_ucl=estimate.dispersion.upper,
        reference_kind=reference.kind.value,
        reference_batches=reference.lot_numbers,
        reference_from=reference.start or found[0].measured_at,
        reference_to=reference.end or found[-1].measured_at,
        reference_points=len(found),
        reference_subgroups=subgroups,
    )
    with audit.changes(session, actor=actor, reason=f"estimated from {reference.describe()}"):
        session.add(limits)
    _approval_task(session, limits, actor, parameter.audit_label())
    return limits


def estimate_group_limits(
    session: Session,
    *,
    actor: Actor,
    group_id: int,
    batches: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> MultivariateLimits:
    """A draft revision of a T² group's limits: the reference's mean vector and covariance, and
    the phase II UCL for its size at the group's α."""
    actor.require("spc.estimate", "estimate T² limits")
    group = get_group(session, group_id)
    spec = hotelling.spec_of(session, group)
    reference = reference_of(session, group.product_code, batches, start, end)
    found = hotelling.observations(
        session, spec, start=reference.start, end=reference.end, batch_ids=reference.batch_ids
    )
    if len(found) < max(MIN_REFERENCE_POINTS, len(spec.parameters) + 1):
        raise _too_few(len(found), "complete observations", "T²")
    try:
        chart = hotelling_t2_chart([o.values for o in found], alpha=group.alpha)
    except ValueError as err:
        raise EstimateRefused(str(err), reasons=[str(err)]) from None
    limits = MultivariateLimits(
        status=LimitsStatus.DRAFT.value,
        group_id=group.id,
        revision=_next_revision(session, MultivariateLimits, "group_id", group.id),
        parameters=list(spec.parameters),
        mean=[float(v) for v in chart.mean],
        covariance=[[float(v) for v in row] for row in chart.covariance],
        reference_size=chart.reference_size,
        alpha=chart.alpha,
        ucl=chart.ucl,
        reference_kind=reference.kind.value,
        reference_batches=reference.lot_numbers,
        reference_from=reference.start or found[0].measured_at,
        reference_to=reference.end or found[-1].measured_at,
    )
    with audit.changes(session, actor=actor, reason=f"estimated from {reference.describe()}"):
        session.add(limits)
    _approval_task(session, limits, actor, group.audit_label())
    return limits


def _approval_task(
    session: Session, limits: ControlLimits | MultivariateLimits, actor: Actor, of: str
) -> None:
    tasks.open_task(
        session,
        limits,
        actor=actor,
        kind="approve",
        title=f"Approve the control limits {limits.audit_label()} of {of}",
        role="qa",
        due_in=APPROVAL_DUE,
    )


def limits_approved(
    session: Session, limits: ControlLimits | MultivariateLimits, *, actor: Actor
) -> None:
    """The approved revision is in force from now; the one in force before is superseded."""
    now = clock.now()
    previous: list[ControlLimits] | list[MultivariateLimits]
    if isinstance(limits, ControlLimits):
        previous = _approved(
            session, ControlLimits, ControlLimits.parameter_id == limits.parameter_id
        )
    else:
        previous = _approved(
            session, MultivariateLimits, MultivariateLimits.group_id == limits.group_id
        )
    for old in previous:
        if old.id == limits.id:
            continue
        with audit.changes(session, actor=actor, reason=f"superseded by {limits.number}"):
            old.status = LimitsStatus.SUPERSEDED.value
            old.retired_at = now
    with audit.changes(session, actor=actor, reason=f"{limits.number} in force"):
        limits.effective_from = now


def _approved(session: Session, model: type[LimitsT], owner: ColumnElement[bool]) -> list[LimitsT]:
    return list(session.scalars(select(model).where(owner, model.status == LimitsStatus.APPROVED)))


def limits_of(session: Session, parameter_id: int) -> list[ControlLimits]:
    return list(
        session.scalars(
            select(ControlLimits)
            .where(ControlLimits.parameter_id == parameter_id)
            .order_by(ControlLimits.revision.desc())
        )
    )


def limits_in_force(session: Session, parameter_id: int) -> ControlLimits | None:
    return session.scalars(
        select(ControlLimits).where(
            ControlLimits.parameter_id == parameter_id,
            ControlLimits.status == LimitsStatus.APPROVED,
        )
    ).first()


def group_limits_of(session: Session, group_id: int) -> list[MultivariateLimits]:
    return list(
        session.scalars(
            select(MultivariateLimits)
            .where(MultivariateLimits.group_id == group_id)
            .order_by(MultivariateLimits.revision.desc())
        )
    )


def group_limits_in_force(session: Session, group_id: int) -> MultivariateLimits | None:
    return session.scalars(
        select(MultivariateLimits).where(
            MultivariateLimits.group_id == group_id,
            MultivariateLimits.status == LimitsStatus.APPROVED,
        )
    ).first()
