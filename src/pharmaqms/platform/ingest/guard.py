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
# ``session.info`` keys of journals a row appends to for after its delivery (the readings for
# the after-commit listeners, the numbered readings for the sequence check): a list, or a dict
# of lists. A rolled-back row's entries are cut off again; the objects themselves are kept (an
# after-commit callback may hold them).
ROW_JOURNALS: set[str] = set()


def _checkpoint(session: Session) -> Callable[[], None]:
    marks: list[tuple[Any, Any]] = []
    for key in ROW_JOURNALS:
        value = session.info.get(key)
        if isinstance(value, list):
            marks.append((value, len(value)))
        elif isinstance(value, dict):
            marks.append((value, {k: len(v) for k, v in value.items()}))
        else:
            marks.append((key, None))

    def restore() -> None:
        for journal, mark in marks:
            if mark is None:  # created by the rolled-back rows: emptied
                created = session.info.get(journal)
                if isinstance(created, list | dict):
                    created.clear()
            elif isinstance(journal, list):
                del journal[mark:]
            else:
                for name in list(journal):
                    if name in mark:
                        del journal[name][mark[name] :]
                    else:
                        del journal[name]

    return restore


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
    """Run ``work`` (the writes of one row, or of a chunk of rows) inside a savepoint; on any
    error roll it back, forget what the flush hooks, caches and journals hold of it, and raise
    the error again for the caller (which quarantines the row, or retries the chunk row by
    row)."""
    restore = _checkpoint(session)
    savepoint = session.begin_nested()
    try:
        result = work()
        session.flush()
    except Exception:
        # A failed flush leaves the savepoint inactive but still to be rolled back.
        savepoint.rollback()
        restore()
        audit.forget_pending(session)
        sealing.forget_pending(session)
        for key in ROW_CACHES:
            session.info.pop(key, None)
        raise
    savepoint.commit()
    return result
