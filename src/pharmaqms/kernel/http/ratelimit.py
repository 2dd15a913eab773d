"""A sliding-window rate limiter for public pages, keyed by client address, counted in the
database so that every server process counts the same attempts.

Each limiter has a name; each (name, address) pair has one row holding the times of its
attempts still inside the window (at most ``limit`` of them). A check locks that row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writer lock serialises anyway), drops the
attempts that left the window, and admits the new one only while fewer than ``limit`` remain:
two processes asked at the same instant can't both admit the last allowed attempt. A refused
attempt is not counted, as before, so a client that waits out the window gets in again.

The check runs in a short transaction of its own, before the page's own work, and commits
whatever that work then does. It is there to stop one client hammering a public page (and
the verification records each scan writes); a distributed attack belongs in front of the
application, at the reverse proxy."""

from __future__ import annotations

import random

from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.observability.models import RateLimitWindow
from pharmaqms.kernel.uow import unit_of_work

# About one check in this many also deletes the rows of its limiter whose window has passed.
PRUNE_EVERY = 200


class RateLimiter:
    def __init__(self, name: str, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit admits at least one attempt in a positive window")
        self.name = name
        self.limit = limit
        self.window_s = window_s

    def allow(self, key: str, database: Database | None = None) -> bool:
        """Counts this attempt; False when ``key`` has used up its attempts in the window."""
        now = clock.now().timestamp()
        row_key = f"{self.name}:{key}"[:200]
        with unit_of_work(database) as session:
            hits, last_at = _locked_window(session, row_key, now)
            recent = [t for t in _times(hits) if now - t < self.window_s]
            allowed = len(recent) < self.limit
            if allowed:
                recent.append(now)
            session.execute(
                update(RateLimitWindow)
                .where(RateLimitWindow.key == row_key)
                .values(
                    hits=" ".join(f"{t:.6f}" for t in recent),
                    last_at=max(recent, default=last_at),
                )
            )
            if random.random() < 1 / PRUNE_EVERY:  # noqa: S311 - when to tidy, not a secret
                _prune(session, self.name, now - self.window_s)
        return allowed


def _locked_window(session: Session, key: str, now: float) -> tuple[str, float]:
    """The key's attempts and newest time; its row created when missing and locked for the
    rest of the transaction. (Core statements, not ORM objects: this runs before every public
    page.)"""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(RateLimitWindow)
        .values(key=key, hits="", last_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.execute(
        select(RateLimitWindow.hits, RateLimitWindow.last_at)
        .where(RateLimitWindow.key == key)
        .with_for_update()
    ).one()
    return str(row.hits), float(row.last_at)


def _times(hits: str) -> list[float]:
    return [float(t) for t in hits.split()]


def _prune(session: Session, name: str, before: float) -> None:
    """This limiter's rows whose newest attempt has left its window: nothing of them still
    counts. (Only its own rows: another limiter may have a longer window.)"""
    session.execute(
        delete(RateLimitWindow).where(
            RateLimitWindow.key.startswith(f"{name}:", autoescape=True),
            RateLimitWindow.last_at < before,
        )
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
