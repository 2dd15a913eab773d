"""The records behind a figure: the stays in a state (or of a transition, or begun in a month)
and the tasks that waited for a role, longest first, each linking to its record's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from pharmaqms.compliance.process_analytics import intervals
from pharmaqms.compliance.process_analytics.figures import month_of
from pharmaqms.compliance.process_analytics.intervals import Window
from pharmaqms.compliance.process_analytics.processes import Process
from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.pages import record_url_by_id
from pharmaqms.kernel.timezones import reader_zone

SHOWN = 200


@dataclass(frozen=True)
class Behind:
    """One record behind a figure and its time there."""

    record_id: int
    label: str
    url: str
    state: str  # the state, or the task's kind for a wait
    began: datetime
    ended: datetime | None  # None while open
    hours: float
    open: bool
    next_state: str | None = None


@dataclass(frozen=True)
class Selection:
    state: str | None = None
    target: str | None = None
    role: str | None = None
    month: date | None = None

    def describe(self, process: Process) -> str:
        if self.role is not None:
            text = f"tasks that waited for {self.role}"
        elif self.state is not None and self.target is not None:
            text = (
                f"stays in {process.state_label(self.state)} that moved on to "
                f"{process.state_label(self.target)}"
            )
        elif self.state is not None:
            text = f"stays in {process.state_label(self.state)}"
        else:
            raise InvalidInput("say which figure: a state, a transition or a role", field="state")
        if self.month is not None:
            text += f" begun in {self.month:%Y-%m}"
        return text


@dataclass(frozen=True)
class DrillDown:
    process: Process
    selection: Selection
    total: int
    rows: tuple[Behind, ...]


def _url(session: Session, process: Process, record_id: int) -> str:
    return record_url_by_id(session, process.name, record_id)


def behind(
    session: Session,
    process: Process,
    selection: Selection,
    window: Window | None = None,
    *,
    now: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> DrillDown:
    window = window or Window()
    now = now or clock.now()
    zone = zone or reader_zone()
    selection.describe(process)  # refuses a selection that names no figure
    named = selection.state if selection.role is None else None
    if named is not None and named not in process.workflow.states:
        raise InvalidInput(f"{process.title} has no state {named[:60]!r}", field="state")
    if selection.role is not None:
        frame = intervals.waits(intervals.task_rows(session, [process.name], window), now)
        frame = frame.filter(pl.col("role") == selection.role).rename(
            {"opened": "entered", "closed": "left", "kind": "state"}
        )
        frame = frame.with_columns(next_state=pl.lit(None, dtype=pl.String))
    else:
        entries = intervals.status_entries(session, [process.name])
        frame = intervals.within(intervals.intervals(entries, [process], now), "entered", window)
        frame = frame.filter(pl.col("state") == selection.state)
        if selection.target is not None:
            frame = frame.filter(pl.col("next_state") == selection.target)
        # An open stay has no end yet: its hours run to now, its end is shown as open.
        frame = frame.with_columns(
            pl.when(pl.col("open")).then(None).otherwise("left").alias("left")
        )
    if selection.month is not None:
        frame = frame.filter(month_of("entered", zone) == selection.month)
    frame = frame.sort(["hours", "record_id"], descending=[True, False])
    rows = tuple(
        Behind(
            record_id=int(r["record_id"]),
            label=str(r["label"]),
            url=_url(session, process, int(r["record_id"])),
            state=str(r["state"]),
            began=r["entered"],
            ended=r["left"],
            hours=float(r["hours"]),
            open=bool(r["open"]),
            next_state=r["next_state"],
        )
        for r in frame.head(SHOWN).iter_rows(named=True)
    )
    return DrillDown(process, selection, frame.height, rows)
