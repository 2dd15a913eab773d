"""Reading deviations: the register with its filters, the overdue list and the monthly trend."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.quality.deviations.models import (
    OPEN_STATUSES,
    Deviation,
    DeviationBatch,
    DeviationClass,
)
from pharmaqms.quality.trends import Month, month_of, months_back


@dataclass(frozen=True)
class DeviationFilter:
    status: str | None = None
    classification: str | None = None
    area: str | None = None
    investigator_id: int | None = None
    overdue: bool = False
    open_only: bool = False
    batch_id: str | None = None
    text: str | None = None


def _apply(query: Select[Deviation], f: DeviationFilter) -> Select[Deviation]:
    if f.status:
        query = query.where(Deviation.status == f.status)
    if f.classification:
        query = query.where(Deviation.classification == f.classification)
    if f.area:
        query = query.where(Deviation.area == f.area)
    if f.investigator_id is not None:
        query = query.where(Deviation.investigator_id == f.investigator_id)
    if f.open_only or f.overdue:
        query = query.where(Deviation.status.in_([s.value for s in OPEN_STATUSES]))
    if f.overdue:
        query = query.where(Deviation.due_at.is_not(None), Deviation.due_at < clock.now())
    if f.batch_id:
        query = query.where(
            Deviation.id.in_(
                select(DeviationBatch.deviation_id).where(DeviationBatch.batch_id == f.batch_id)
            )
        )
    if f.text:
        like = f"%{f.text.strip()}%"
        query = query.where(
            Deviation.number.ilike(like)
            | Deviation.title.ilike(like)
            | Deviation.product.ilike(like)
        )
    return query


def find_deviations(
    session: Session, f: DeviationFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Deviation], int]:
    total = session.scalar(
        select(func.count()).select_from(_apply(select(Deviation), f).subquery())
    )
    rows = session.scalars(
        _apply(select(Deviation), f)
        .order_by(Deviation.discovered_at.desc(), Deviation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


def areas(session: Session) -> list[str]:
    return list(session.scalars(select(Deviation.area).distinct().order_by(Deviation.area)))


@dataclass(frozen=True)
class DeviationTrend:
    """Deviations discovered per month, by class and by area."""

    months: list[Month]
    by_class: dict[str, list[int]]
    by_area: dict[str, list[int]]


def trend(session: Session, *, months: int = 12, now: datetime | None = None) -> DeviationTrend:
    window = months_back(now or clock.now(), months)
    start = window[0].start
    rows = session.execute(
        select(Deviation.discovered_at, Deviation.classification, Deviation.area).where(
            Deviation.discovered_at >= start, Deviation.status != "cancelled"
        )
    ).all()
    per_class: Counter[tuple[Month, str]] = Counter()
    per_area: Counter[tuple[Month, str]] = Counter()
    area_names: set[str] = set()
    for discovered_at, classification, area in rows:
        month = month_of(discovered_at)
        per_class[(month, classification or "unclassified")] += 1
        per_area[(month, area)] += 1
        area_names.add(area)
    classes = [c.value for c in DeviationClass]
    if any(key[1] == "unclassified" for key in per_class):
        classes.append("unclassified")
    return DeviationTrend(
        months=window,
        by_class={c: [per_class[(m, c)] for m in window] for c in classes},
        by_area={a: [per_area[(m, a)] for m in window] for a in sorted(area_names)},
    )


def deviations_of_product(
    session: Session,
    *,
    names: list[str],
    batch_ids: list[str],
    start: datetime,
    end: datetime,
) -> list[Deviation]:
    """Deviations discovered in [start, end) that name the product (its code or name, any
    case) or one of its batches: the deviations an annual product review counts."""
    named = func.lower(Deviation.product).in_([n.lower() for n in names])
    on_batch = Deviation.id.in_(
        select(DeviationBatch.deviation_id).where(DeviationBatch.batch_id.in_(batch_ids))
    )
    return list(
        session.scalars(
            select(Deviation)
            .where(
                named | on_batch,
                Deviation.discovered_at >= start,
                Deviation.discovered_at < end,
            )
            .order_by(Deviation.discovered_at, Deviation.id)
        )
    )
