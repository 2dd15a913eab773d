"""The per-row guard: whatever goes wrong with one row — a reader's bug, a value the database
can't hold (an integer beyond PostgreSQL's bigint, a text too long for its column) — is that
row's problem, quarantined with a reason, never the end of the delivery.

Each row is stored inside a SAVEPOINT, so a database error rolls back that row's writes only.
The kernel's flush hooks queue audit entries and seals in ``session.info`` before the flush
writes them; a flush that fails leaves that queue behind, so it is dropped with the row (what
went before the savepoint was flushed already and is not in it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, sealing
from pharmaqms.platform.governance.rules import Problem

T = TypeVar("T")

# Reason codes of the guard (docs/data-services.md lists them with the others).
NUL_CHARACTER = "nul_character"
UNREADABLE_ROW = "unreadable_row"
STORAGE_REFUSED = "storage_refused"

# ``session.info`` keys of connector caches that may hold objects written by a row that is
# rolled back (MES caches the finished lots it registered): dropped with the row.
ROW_CACHES: set[str] = set()


def nul_problems(values: Mapping[str, Any]) -> list[Problem]:
    """PostgreSQL can't store U+0000 in text (SQLite can): a row that holds one is quarantined
    on both, naming the field, so the two databases take the same data."""
    found = sorted(
        {
            str(key).replace("\x00", "\\0")
            for key, value in values.items()
            if _has_nul(key) or _has_nul(value)
        }
    )
    return [
        Problem(
            name, NUL_CHARACTER, f"{name}: holds a NUL character (U+0000), which can't be stored"
        )
        for name in found
    ]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def transient(err: BaseException) -> bool:
    """Database trouble that a retry can cure (locked, restarting, connection lost), as
    opposed to something in the data that fails the same way every time: never a reason to
    quarantine a row."""
    transient_errors: tuple[type[BaseException], ...] = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
        # Raised unwrapped by the prepared inserts, which talk to the driver directly.
        sqlite3.OperationalError,
        sqlite3.InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
    return isinstance(err, transient_errors)


def describe(err: BaseException) -> str:
    text = str(err).replace("\x00", "\\0").splitlines()
    first = text[0] if text else ""
    return f"{type(err).__name__}: {first}"[:300]


def guarded(session: Session, work: Callable[[], T]) -> T:
    """Run ``work`` (one row's writes) inside a savepoint; on any error roll the row back,
    forget what the flush hooks had queued for it, and raise the error again for the caller
    to quarantine the row."""
    savepoint = session.begin_nested()
    try:
        result = work()
        session.flush()
    except Exception:
        # A failed flush leaves the savepoint inactive but still to be rolled back.
        savepoint.rollback()
        audit.forget_pending(session)
        sealing.forget_pending(session)
        for key in ROW_CACHES:
            session.info.pop(key, None)
        raise
    savepoint.commit()
    return result
