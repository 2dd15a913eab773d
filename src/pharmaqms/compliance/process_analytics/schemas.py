"""The figures as the API gives them (hours as numbers, the same as the page)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from pharmaqms.compliance.process_analytics.drill import DrillDown
from pharmaqms.compliance.process_analytics.figures import ProcessFigures, Spread


class SpreadOut(BaseModel):
    count: int
    open: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None
    total_hours: float


class StateOut(BaseModel):
    state: str
    label: str
    stays: SpreadOut
    waits_for: list[str]
    share: float | None
    bottleneck: bool


class TransitionOut(BaseModel):
    source: str
    target: str
    count: int
    median_hours: float | None


class RoleWaitOut(BaseModel):
    role: str
    waits: SpreadOut


class MonthOut(BaseModel):
    month: date
    median_hours: float | None
    ended: int
    open: int


class ProcessOut(BaseModel):
    record_type: str
    title: str
    records: int
    since: datetime | None
    until: datetime | None
    bottleneck: str | None
    states: list[StateOut]
    transitions: list[TransitionOut]
    roles: list[RoleWaitOut]
    trend: dict[str, list[MonthOut]]


class BehindOut(BaseModel):
    record_id: int
    label: str
    url: str
    state: str
    began: datetime
    ended: datetime | None
    hours: float
    open: bool
    next_state: str | None


class DrillDownOut(BaseModel):
    record_type: str
    figure: str
    total: int
    records: list[BehindOut]


def spread_out(s: Spread) -> SpreadOut:
    return SpreadOut(
        count=s.count,
        open=s.open,
        median_hours=s.median,
        p90_hours=s.p90,
        mean_hours=s.mean,
        total_hours=s.total,
    )


def process_out(found: ProcessFigures) -> ProcessOut:
    bottleneck = found.bottleneck
    return ProcessOut(
        record_type=found.process.name,
        title=found.process.title,
        records=found.records,
        since=found.window.since,
        until=found.window.until,
        bottleneck=bottleneck.state if bottleneck else None,
        states=[
            StateOut(
                state=s.state,
                label=s.label,
                stays=spread_out(s.stays),
                waits_for=list(s.waits_for),
                share=s.share,
                bottleneck=s.bottleneck,
            )
            for s in found.states
        ],
        transitions=[
            TransitionOut(source=t.source, target=t.target, count=t.count, median_hours=t.median)
            for t in found.transitions
        ],
        roles=[RoleWaitOut(role=r.role, waits=spread_out(r.waits)) for r in found.roles],
        trend={
            state: [
                MonthOut(month=p.month, median_hours=p.median, ended=p.ended, open=p.open)
                for p in points
            ]
            for state, points in found.trend.items()
        },
    )


def drill_out(found: DrillDown) -> DrillDownOut:
    return DrillDownOut(
        record_type=found.process.name,
        figure=found.selection.describe(found.process),
        total=found.total,
        records=[
            BehindOut(
                record_id=r.record_id,
                label=r.label,
                url=r.url,
                state=r.state,
                began=r.began,
                ended=r.ended,
                hours=r.hours,
                open=r.open,
                next_state=r.next_state,
            )
            for r in found.rows
        ],
    )
