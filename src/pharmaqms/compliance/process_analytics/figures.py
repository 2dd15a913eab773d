"""The figures of process analytics, computed in Polars from the stays and waits of
``intervals``. ``DEFINITIONS`` says what each figure means; the page states them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from pharmaqms.compliance.process_analytics import intervals
from pharmaqms.compliance.process_analytics.intervals import Window
from pharmaqms.compliance.process_analytics.processes import PROCESSES, Process
from pharmaqms.kernel import clock
from pharmaqms.kernel.timezones import reader_zone

START = "start"

DEFINITIONS = (
    "Time in a state: from the status change that entered it to the one that left it, read "
    "from the audit trail. A stay not ended yet counts up to now and is flagged open: it is in "
    "the count, the median and the p90, because a record waiting now is where the process is "
    "stuck. Time in an end state (closed, released, cancelled; a closed adverse event case "
    "too, though follow-up information may reopen it) is not counted.",
    "Median and p90: the middle stay and the stay 90 % of stays are shorter than (linear "
    "interpolation between the two nearest stays); mean and total as usual; share: the "
    "state's part of all the time spent in the process.",
    "A transition's time is the time spent in its source state before it was taken.",
    "The bottleneck is the state with the longest median stay (the p90 breaks a tie).",
    "Waiting time per role: a task's age from opened to done (or now), by the role it was "
    "opened for; a task for a named person (an investigator) is grouped as 'named person'.",
    "The trend: per month (reader's calendar) in which stays began, the median of the stays "
    "that have ended, and how many are still open.",
    "The date range selects the stays and tasks that began in it (whole days of the reader's "
    "calendar, both ends included).",
)
SLOWEST = 10


@dataclass(frozen=True)
class Spread:
    count: int
    open: int
    median: float | None
    p90: float | None
    mean: float | None
    total: float


@dataclass(frozen=True)
class StateFigure:
    state: str
    label: str
    stays: Spread
    waits_for: tuple[str, ...]
    share: float | None  # of all the time spent in this process
    bottleneck: bool = False


@dataclass(frozen=True)
class TransitionFigure:
    source: str  # START for the creation of a record
    target: str
    count: int
    median: float | None


@dataclass(frozen=True)
class RoleWait:
    role: str
    waits: Spread


@dataclass(frozen=True)
class MonthPoint:
    month: date
    median: float | None
    ended: int
    open: int


@dataclass(frozen=True)
class ProcessFigures:
    process: Process
    window: Window
    records: int
    states: tuple[StateFigure, ...]
    transitions: tuple[TransitionFigure, ...]
    roles: tuple[RoleWait, ...]
    months: tuple[date, ...]
    trend: dict[str, tuple[MonthPoint, ...]] = field(default_factory=dict)

    @property
    def bottleneck(self) -> StateFigure | None:
        return next((s for s in self.states if s.bottleneck), None)

    def state(self, name: str) -> StateFigure | None:
        return next((s for s in self.states if s.state == name), None)


@dataclass(frozen=True)
class SlowStep:
    process: Process
    state: StateFigure


def _spread(frame: pl.DataFrame) -> Spread:
    """Count, open, median, p90, mean and total of a frame's ``hours``."""
    if frame.height == 0:
        return Spread(0, 0, None, None, None, 0.0)
    row = frame.select(
        pl.len().alias("count"),
        pl.col("open").sum().alias("open"),
        pl.col("hours").median().alias("median"),
        pl.col("hours").quantile(0.9, interpolation="linear").alias("p90"),
        pl.col("hours").mean().alias("mean"),
        pl.col("hours").sum().alias("total"),
    ).row(0, named=True)
    return Spread(
        int(row["count"]),
        int(row["open"]),
        float(row["median"]),
        float(row["p90"]),
        float(row["mean"]),
        float(row["total"]),
    )


def _spreads(frame: pl.DataFrame, by: str) -> dict[str, Spread]:
    if frame.height == 0:
        return {}
    grouped = frame.group_by(by).agg(
        pl.len().alias("count"),
        pl.col("open").sum().alias("open"),
        pl.col("hours").median().alias("median"),
        pl.col("hours").quantile(0.9, interpolation="linear").alias("p90"),
        pl.col("hours").mean().alias("mean"),
        pl.col("hours").sum().alias("total"),
    )
    return {
        r[by]: Spread(
            int(r["count"]),
            int(r["open"]),
            float(r["median"]),
            float(r["p90"]),
            float(r["mean"]),
            float(r["total"]),
        )
        for r in grouped.iter_rows(named=True)
    }


def month_of(column: str, zone: ZoneInfo) -> pl.Expr:
    """The first day of the reader's calendar month an instant falls in."""
    return pl.col(column).dt.convert_time_zone(zone.key).dt.truncate("1mo").dt.date().alias("month")


Trend = dict[str, tuple[MonthPoint, ...]]


def _trend(stays: pl.DataFrame, zone: ZoneInfo) -> tuple[tuple[date, ...], Trend]:
    if stays.height == 0:
        return (), {}
    by_month = (
        stays.with_columns(month_of("entered", zone))
        .group_by("state", "month")
        .agg(
            pl.col("hours").filter(~pl.col("open")).median().alias("median"),
            (~pl.col("open")).sum().alias("ended"),
            pl.col("open").sum().alias("open"),
        )
    )
    first, last = by_month["month"].min(), by_month["month"].max()
    assert isinstance(first, date) and isinstance(last, date)
    months: list[date] = []
    current = first
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    found: dict[tuple[str, date], MonthPoint] = {
        (r["state"], r["month"]): MonthPoint(
            r["month"],
            None if r["median"] is None else float(r["median"]),
            int(r["ended"]),
            int(r["open"]),
        )
        for r in by_month.iter_rows(named=True)
    }
    trend = {
        state: tuple(found.get((state, m), MonthPoint(m, None, 0, 0)) for m in months)
        for state in sorted(set(by_month["state"].to_list()))
    }
    return tuple(months), trend


def _figures(
    process: Process,
    stays: pl.DataFrame,
    created: pl.DataFrame,
    waits: pl.DataFrame,
    window: Window,
    zone: ZoneInfo,
    waits_for: dict[str, tuple[str, ...]] | None = None,
) -> ProcessFigures:
    spreads = _spreads(stays, "state")
    if waits_for is None:
        waits_for = {state: tuple(process.roles_out_of(state)) for state in spreads}
    total = sum(s.total for s in spreads.values())
    ranked = sorted(
        (s for s in spreads.items() if s[1].median is not None),
        key=lambda item: (item[1].median or 0.0, item[1].p90 or 0.0),
        reverse=True,
    )
    worst = ranked[0][0] if ranked else None
    names = [s for s in process.ordered_states() if s in spreads]
    names += sorted(set(spreads) - set(names))  # a state a workflow no longer has
    states = tuple(
        StateFigure(
            state=name,
            label=process.state_label(name),
            stays=spreads[name],
            waits_for=waits_for.get(name, ()),
            share=spreads[name].total / total if total else None,
            bottleneck=name == worst,
        )
        for name in names
    )
    moves = stays.filter(pl.col("next_state").is_not_null())
    transitions = [
        TransitionFigure(START, str(r["state"]), int(r["count"]), None)
        for r in created.group_by("state").agg(pl.len().alias("count")).iter_rows(named=True)
    ]
    if moves.height:
        grouped = moves.group_by("state", "next_state").agg(
            pl.len().alias("count"), pl.col("hours").median().alias("median")
        )
        transitions += [
            TransitionFigure(r["state"], r["next_state"], int(r["count"]), float(r["median"]))
            for r in grouped.iter_rows(named=True)
        ]
    order = {s: i for i, s in enumerate(process.ordered_states())}
    transitions.sort(
        key=lambda t: (
            -1 if t.source == START else order.get(t.source, 99),
            order.get(t.target, 99),
        )
    )
    roles = tuple(
        RoleWait(role, spread)
        for role, spread in sorted(
            _spreads(waits, "role").items(), key=lambda item: -(item[1].median or 0.0)
        )
    )
    months, trend = _trend(stays, zone)
    records = stays.select(pl.col("record_id").n_unique()).item() if stays.height else 0
    return ProcessFigures(
        process=process,
        window=window,
        records=int(records),
        states=states,
        transitions=tuple(transitions),
        roles=roles,
        months=months,
        trend=trend,
    )


def process_figures(
    session: Session,
    processes: Sequence[Process] | None = None,
    window: Window | None = None,
    *,
    now: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> dict[str, ProcessFigures]:
    """The figures of each process (all six by default) over the stays begun in ``window``."""
    chosen = list(processes or PROCESSES.values())
    window = window or Window()
    names = [p.name for p in chosen]
    return figures_from(
        intervals.status_entries(session, names),
        intervals.task_rows(session, names, window),
        chosen,
        window,
        now=now or clock.now(),
        zone=zone or reader_zone(),
        waits_for={p.name: p.roles_in_force(session) for p in chosen},
    )


def figures_from(
    entries: pl.DataFrame,
    tasks: pl.DataFrame,
    processes: Sequence[Process],
    window: Window,
    *,
    now: datetime,
    zone: ZoneInfo,
    waits_for: dict[str, dict[str, tuple[str, ...]]] | None = None,
) -> dict[str, ProcessFigures]:
    """The figures from the status entries and the tasks as ``intervals`` selects them.
    ``waits_for``: per process, the roles each state waits for (the code's when not given)."""
    all_stays = intervals.within(intervals.intervals(entries, processes, now), "entered", window)
    # Creations, for the arrows into each first state (an end state too: a release decided
    # at once).
    creations = intervals.within(
        entries.sort("seq")
        .group_by("record_type", "record_id")
        .agg(pl.col("at").first(), pl.col("state").first()),
        "at",
        window,
    )
    all_waits = intervals.waits(tasks, now)
    return {
        p.name: _figures(
            p,
            all_stays.filter(pl.col("record_type") == p.name),
            creations.filter(pl.col("record_type") == p.name),
            all_waits.filter(pl.col("record_type") == p.name),
            window,
            zone,
            (waits_for or {}).get(p.name),
        )
        for p in processes
    }


def slowest_steps(found: dict[str, ProcessFigures], limit: int = SLOWEST) -> list[SlowStep]:
    """The states with the longest median stay across the processes, slowest first."""
    steps = [SlowStep(f.process, s) for f in found.values() for s in f.states]
    steps.sort(key=lambda step: (step.state.stays.median or 0.0, step.state.stays.p90 or 0.0))
    return list(reversed(steps))[:limit]


def shown(hours: float | None) -> str:
    """A duration as people read it: hours up to two days, days beyond."""
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"
