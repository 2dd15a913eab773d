"""Reading CAPAs: the register (open / overdue / due this week), overdue actions and the
monthly on-time closure rate."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.quality.capa.models import (
    OPEN_STATUSES,
    ActionStatus,
    Capa,
    CapaAction,
    CapaStatus,
    CheckStatus,
    EffectivenessCheck,
)
from pharmaqms.quality.capa.rules import DUE_SOON
from pharmaqms.quality.links import QualityLink, targets_from
from pharmaqms.quality.trends import Month, month_of, months_back

OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class CapaFilter:
    status: str | None = None
    owner_id: int | None = None
    open_only: bool = False
    overdue: bool = False
    due_this_week: bool = False
    source_type: str | None = None
    text: str | None = None


def source_types(session: Session) -> list[str]:
    """The record types CAPAs were raised from, as the links name them (``oos_investigation``
    from QC, ``deviation``, an ``audit_finding`` named by label only, …)."""
    return list(
        session.scalars(
            select(QualityLink.source_type)
            .where(QualityLink.target_type == "capa")
            .distinct()
            .order_by(QualityLink.source_type)
        )
    )


def closure_due() -> ColumnElement[datetime]:
    """``rules.due_for_closure`` in SQL: the CAPA's due date, or its planned effectiveness
    check's when that is later."""
    pending = (
        select(func.max(EffectivenessCheck.due_at))
        .where(
            EffectivenessCheck.capa_id == Capa.id,
            EffectivenessCheck.status == CheckStatus.PLANNED.value,
        )
        .scalar_subquery()
    )
    return case((pending > Capa.due_at, pending), else_=Capa.due_at)


def _apply(query: Select[Capa], f: CapaFilter, now: datetime) -> Select[Capa]:
    if f.status:
        query = query.where(Capa.status == f.status)
    if f.owner_id is not None:
        query = query.where(Capa.owner_id == f.owner_id)
    if f.open_only or f.overdue or f.due_this_week:
        query = query.where(Capa.status.in_(OPEN))
    due = closure_due()
    if f.overdue:
        query = query.where(due < now)
    if f.due_this_week:
        query = query.where(due >= now, due < now + DUE_SOON)
    if f.source_type:
        query = query.where(
            Capa.id.in_(
                select(QualityLink.target_id).where(
                    QualityLink.target_type == "capa", QualityLink.source_type == f.source_type
                )
            )
        )
    if f.text:
        like = f"%{f.text.strip()}%"
        query = query.where(Capa.number.ilike(like) | Capa.title.ilike(like))
    return query


def find_capas(
    session: Session, f: CapaFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Capa], int]:
    now = clock.now()
    base = _apply(select(Capa), f, now)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.scalars(base.order_by(Capa.due_at, Capa.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


@dataclass(frozen=True)
class RegisterCounts:
    open: int
    overdue: int
    due_this_week: int
    overdue_actions: int


def register_counts(session: Session) -> RegisterCounts:
    now = clock.now()

    def count(f: CapaFilter) -> int:
        base = _apply(select(Capa), f, now)
        return int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)

    overdue_actions = session.scalar(
        select(func.count())
        .select_from(CapaAction)
        .join(Capa, Capa.id == CapaAction.capa_id)
        .where(
            CapaAction.status == ActionStatus.OPEN,
            CapaAction.due_at < now,
            Capa.status == CapaStatus.IMPLEMENTATION,
        )
    )
    return RegisterCounts(
        open=count(CapaFilter(open_only=True)),
        overdue=count(CapaFilter(overdue=True)),
        due_this_week=count(CapaFilter(due_this_week=True)),
        overdue_actions=int(overdue_actions or 0),
    )


def overdue_actions(session: Session) -> list[tuple[Capa, CapaAction]]:
    rows = session.execute(
        select(Capa, CapaAction)
        .join(CapaAction, Capa.id == CapaAction.capa_id)
        .where(
            CapaAction.status == ActionStatus.OPEN,
            CapaAction.due_at < clock.now(),
            Capa.status == CapaStatus.IMPLEMENTATION,
        )
        .order_by(CapaAction.due_at)
    ).all()
    return [(capa, action) for capa, action in rows]


@dataclass(frozen=True)
class OnTimeRate:
    """CAPAs closed per month, and the share of them closed by their due date."""

    months: list[Month]
    closed: list[int]
    on_time: list[int]

    @property
    def rates(self) -> list[float | None]:
        return [
            (on_time / closed if closed else None)
            for closed, on_time in zip(self.closed, self.on_time, strict=True)
        ]


@dataclass(frozen=True)
class CapaClosure:
    """One CAPA closed: what the on-time rate counts."""

    capa_id: int
    number: str
    closed_at: datetime
    due_at: datetime

    @property
    def on_time(self) -> bool:
        return self.closed_at <= self.due_at


def capa_closures(session: Session, *, since: datetime) -> list[CapaClosure]:
    """The CAPAs closed at or after ``since``, oldest closure first."""
    # On time is by the CAPA's due date, or by its last effectiveness check's when later.
    last_check = (
        select(func.max(EffectivenessCheck.due_at))
        .where(
            EffectivenessCheck.capa_id == Capa.id,
            EffectivenessCheck.status != CheckStatus.WITHDRAWN.value,
        )
        .scalar_subquery()
    )
    due = case((last_check > Capa.due_at, last_check), else_=Capa.due_at)
    rows = session.execute(
        select(Capa.id, Capa.number, Capa.closed_at, due)
        .where(
            Capa.status == CapaStatus.CLOSED,
            Capa.closed_at.is_not(None),
            Capa.closed_at >= since,
        )
        .order_by(Capa.closed_at, Capa.id)
    ).all()
    return [
        CapaClosure(capa_id, number, closed_at, due_at)
        for capa_id, number, closed_at, due_at in rows
        if closed_at is not None  # the query's own condition, for the type checker
    ]


def on_time_rate(session: Session, *, months: int = 12, now: datetime | None = None) -> OnTimeRate:
    window = months_back(now or clock.now(), months)
    closed: Counter[Month] = Counter()
    on_time: Counter[Month] = Counter()
    for closure in capa_closures(session, since=window[0].start):
        month = month_of(closure.closed_at)
        closed[month] += 1
        on_time[month] += closure.on_time
    return OnTimeRate(window, [closed[m] for m in window], [on_time[m] for m in window])


def capas_raised_from(session: Session, sources: list[tuple[str, int]]) -> list[Capa]:
    """The CAPAs these records (deviations, complaints, OOS investigations…) led to, through
    the quality links, with their actions and effectiveness checks loaded."""
    ids = targets_from(session, sources, "capa")
    if not ids:
        return []
    return list(session.scalars(select(Capa).where(Capa.id.in_(ids)).order_by(Capa.id)))
