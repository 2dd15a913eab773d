"""State intervals and task waits as Polars frames, from the audit trail and the task table.

An interval is one stay of one record in one state: it begins at the audit entry that set
the status (the record's creation for its first state) and ends at the next entry that changed
it. A stay not ended yet is counted up to ``now`` and flagged ``open``; a stay in an end state
(closed, released, cancelled) is not time spent in the process and is left out.

The rows are selected with SQLAlchemy core (only the entries that carry a status change) and
the rest is column work in Polars, so 100,000s of entries take well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import JSON, ColumnElement, String, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from pharmaqms.compliance.process_analytics.processes import Process
from pharmaqms.kernel.models import AuditEntry, Task

# Canonical JSON has no whitespace: an entry that changed the status holds this text (the
# database's JSON functions then read the new status; a nested "status" is not read).
STATUS_CHANGE = '%"status":[%'
HOURS = 3600.0

ENTRY_SCHEMA: dict[str, Any] = {
    "record_type": pl.String,
    "record_id": pl.Int64,
    "label": pl.String,
    "seq": pl.Int64,
    "at": pl.String,  # see ``_instant``
    "state": pl.String,
}
TASK_SCHEMA: dict[str, Any] = {
    "record_type": pl.String,
    "record_id": pl.Int64,
    "label": pl.String,
    "kind": pl.String,
    "role": pl.String,
    "person": pl.Int64,
    "opened": pl.String,
    "closed": pl.String,
}
UTC_US = pl.Datetime("us", "UTC")
NAMED_PERSON = "named person"


@dataclass(frozen=True)
class Window:
    """Which stays and tasks count: those begun in [since, until) (UTC instants of the reader's
    calendar days), ``None`` meaning open-ended."""

    since: datetime | None = None
    until: datetime | None = None


def _instant(session: Session, column: Any) -> Any:
    """A timestamp column as text: SQLite stores it as text already, and handing the text to
    Polars to parse in one go is five times faster than a Python datetime per row."""
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String)
    # PostgreSQL: the UTC wall time as text, the same shape as SQLite's.
    return cast(func.timezone("UTC", column), String)


def _new_status(session: Session) -> Any:
    """The status an entry set (``changes.status[1]``), read by the database's JSON functions,
    so the (long) changes of a creation don't travel."""
    if session.get_bind().dialect.name == "sqlite":
        return func.json_extract(AuditEntry.changes, "$.status[1]")
    return func.json_extract_path_text(cast(AuditEntry.changes, JSON), "status", "1")


def parsed(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Timestamps given as text (``2026-03-02 09:00:00[.123456]``, UTC) as UTC datetimes."""
    return frame.with_columns(
        pl.col(c)
        .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=True)
        .dt.replace_time_zone("UTC")
        for c in columns
    )


def status_entries(session: Session, record_types: Sequence[str]) -> pl.DataFrame:
    """Every audit entry of these record types that set a status: record, label, sequence,
    when, and the status set."""
    query = select(
        AuditEntry.record_type,
        AuditEntry.record_id,
        AuditEntry.record_label,
        AuditEntry.seq,
        _instant(session, AuditEntry.occurred_at),
        _new_status(session),
    ).where(
        AuditEntry.record_type.in_(record_types),
        AuditEntry.record_id.is_not(None),
        AuditEntry.changes.like(STATUS_CHANGE),
    )
    rows = session.connection().execute(query).all()
    frame = pl.DataFrame(rows, schema=ENTRY_SCHEMA, orient="row")
    return parsed(frame, "at").filter(pl.col("state").is_not_null())


def intervals(entries: pl.DataFrame, processes: Sequence[Process], now: datetime) -> pl.DataFrame:
    """One row per stay: record, state, entered, left (or ``now``), next state, hours, open.
    ``entries`` as ``status_entries`` gives them."""
    ends = pl.DataFrame(
        [(p.name, s) for p in processes for s in p.end_states],
        schema={"record_type": pl.String, "state": pl.String},
        orient="row",
    ).with_columns(pl.lit(True).alias("end_state"))
    stays = (
        entries.lazy()
        .sort(["record_type", "record_id", "seq"])
        # Sorted by record, the next row is the same record's next change unless the record
        # changes there: plain shifts with a mask, cheaper than windows per record.
        .with_columns(
            same_as_before=(
                (pl.col("record_id") == pl.col("record_id").shift(1))
                & (pl.col("record_type") == pl.col("record_type").shift(1))
            ).fill_null(False)
        )
        # An entry that wrote the status it already had is not a change of state.
        .filter(~(pl.col("same_as_before") & (pl.col("state") == pl.col("state").shift(1))))
        .with_columns(
            same_as_next=(
                (pl.col("record_id") == pl.col("record_id").shift(-1))
                & (pl.col("record_type") == pl.col("record_type").shift(-1))
            ).fill_null(False)
        )
        .with_columns(
            left=pl.when("same_as_next").then(pl.col("at").shift(-1)),
            next_state=pl.when("same_as_next").then(pl.col("state").shift(-1)),
        )
        .join(ends.lazy(), on=["record_type", "state"], how="left")
        .filter(pl.col("end_state").is_null())
        .with_columns(
            open=pl.col("left").is_null(),
            left=pl.col("left").fill_null(pl.lit(now).cast(UTC_US)),
        )
        .select(
            "record_type",
            "record_id",
            "label",
            "state",
            pl.col("at").alias("entered"),
            "left",
            "next_state",
            "open",
            ((pl.col("left") - pl.col("at")).dt.total_microseconds() / 1e6 / HOURS).alias("hours"),
        )
    )
    return stays.collect()


def within(frame: pl.DataFrame, column: str, window: Window) -> pl.DataFrame:
    if window.since is not None:
        frame = frame.filter(pl.col(column) >= window.since)
    if window.until is not None:
        frame = frame.filter(pl.col(column) < window.until)
    return frame


def task_rows(session: Session, record_types: Sequence[str], window: Window) -> pl.DataFrame:
    conditions: list[ColumnElement[bool]] = [
        Task.record_type.in_(record_types),
        Task.status.in_(("open", "done")),
    ]
    if window.since is not None:
        conditions.append(Task.created_at >= window.since)
    if window.until is not None:
        conditions.append(Task.created_at < window.until)
    query = select(
        Task.record_type,
        Task.record_id,
        Task.record_label,
        Task.kind,
        Task.assignee_role,
        Task.assignee_user_id,
        _instant(session, Task.created_at),
        _instant(session, Task.closed_at),
    ).where(and_(*conditions), or_(Task.status == "open", Task.closed_at.is_not(None)))
    frame = pl.DataFrame(
        session.connection().execute(query).all(), schema=TASK_SCHEMA, orient="row"
    )
    return parsed(frame, "opened", "closed")


def waits(tasks: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """One row per task: who it waited for (its role; a task for a named person is grouped as
    such), how many hours from opened to done (or to ``now``), and whether it is open."""
    return tasks.with_columns(
        role=pl.col("role").fill_null(pl.lit(NAMED_PERSON)),
        open=pl.col("closed").is_null(),
        hours=(
            pl.col("closed").fill_null(pl.lit(now).cast(UTC_US)) - pl.col("opened")
        ).dt.total_microseconds()
        / 1e6
        / HOURS,
    )
