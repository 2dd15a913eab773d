"""Whether this database is a sandbox copy made to try a configuration draft, and which.

A copy carries one ``config_sandbox_mark`` row (``compliance/configuration/sandbox_copy.py``
writes it while it makes the copy). In such a database the draft is in force for its key
from the moment the copy was made (``store.in_force`` asks here), and what would reach
people or systems outside is held back: e-mail, EPCIS deliveries, the MQTT ingest (which,
on a shared subscription, would take the live system's readings away from it).

The mark is read once per connection pool and kept: it never changes once written, and
``store.in_force`` runs on every request. That a database has no mark is read again after a
minute, so a process started on a copy before its making finished shows the mark from then
on."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from pharmaqms.kernel.configuration.models import SandboxMark
from pharmaqms.kernel.db import current_database

# (the mark or None, when it was read on the monotonic clock)
_MARKS: weakref.WeakKeyDictionary[Pool, tuple[Mark | None, float]] = weakref.WeakKeyDictionary()
NO_MARK_READ_AGAIN_SECONDS = 60.0


def _cached(pool: Pool) -> tuple[bool, Mark | None]:
    found = _MARKS.get(pool)
    if found is None:
        return False, None
    mark, read_at = found
    if mark is None and time.monotonic() - read_at > NO_MARK_READ_AGAIN_SECONDS:
        return False, None
    return True, mark


@dataclass(frozen=True)
class Mark:
    copy_id: int
    config_number: str
    key: str
    version_no: int
    content: Any
    content_sha256: str
    made_at: datetime

    @property
    def print_line(self) -> str:
        """What every page printed in the copy carries at its head."""
        return (
            f"SANDBOX COPY #{self.copy_id} ({self.config_number} in force here) — NOT A GxP RECORD"
        )


def _pool(session: Session) -> Pool:
    # A session may be bound to an engine, an engine with options, or a connection.
    return session.get_bind().engine.pool


def mark(session: Session) -> Mark | None:
    """This database's sandbox mark, or None for a live database."""
    pool = _pool(session)
    known, cached = _cached(pool)
    if known:
        return cached
    row = session.scalars(select(SandboxMark).order_by(SandboxMark.id).limit(1)).first()
    found = (
        None
        if row is None
        else Mark(
            row.copy_id,
            row.config_number,
            row.key,
            row.version_no,
            row.content,
            row.content_sha256,
            row.made_at,
        )
    )
    _MARKS[pool] = (found, time.monotonic())
    return found


def mark_of_engine(engine: Engine) -> Mark | None:
    """The same, for code that holds an engine rather than a session (the senders, every
    answer's headers): from the cache without opening a session once it was read."""
    known, cached = _cached(engine.pool)
    if known:
        return cached
    with Session(engine) as session:
        return mark(session)


def process_mark() -> Mark | None:
    """The mark of the database this process serves, if any is set: what a page, an answer's
    headers or a printed document made by this process must say about where it comes from.

    Never raises: an answer about a database that can't be read (unreachable, not migrated —
    ``/readyz`` says so) goes out without the mark, and the mark is read again next time."""
    database = current_database()
    if database is None:
        return None
    try:
        return mark_of_engine(database.engine)
    except SQLAlchemyError:
        return None


def forget(engine: Engine) -> None:
    """Read the mark again next time (the copy has just been marked)."""
    _MARKS.pop(engine.pool, None)
