"""The transaction boundary. Requests, commands and message handlers open one unit of work;
services inside it never commit. On success it commits and then runs the side effects that
leave the process; on a refusal it rolls back and then records what must survive the refusal
(a failed signature attempt) in a transaction of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from pharmaqms.kernel.db import Database, get_database
from pharmaqms.kernel.errors import Conflict, InvalidInput, QMSError, StaleRecord

_AFTER_COMMIT = "pharmaqms.after_commit"


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run ``effect`` once the transaction has committed (notifications, MQTT publishes)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(effect)


def first_after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run ``effect`` once the transaction has committed, ahead of every effect queued so far:
    a receipt the sender waits for (an MQTT acknowledgement) must not wait behind listeners
    that may take seconds."""
    session.info.setdefault(_AFTER_COMMIT, []).insert(0, effect)


def _out_of_range(err: BaseException) -> bool:
    if isinstance(err, DataError | OverflowError):
        return True
    # A value a column type could not convert before sending it (SQLAlchemy wraps the error).
    return isinstance(err, StatementError) and isinstance(err.orig, OverflowError)


def _first_line(err: BaseException) -> str:
    """The database's own words, without the statement and parameters SQLAlchemy appends."""
    cause = getattr(err, "orig", None) or err
    return (str(cause).strip().splitlines() or ["out of range"])[0][:200]


@contextmanager
def unit_of_work(database: Database | None = None, *, write: bool = True) -> Iterator[Session]:
    db = database or get_database()
    session = db.session(write=write)
    try:
        try:
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except StaleDataError as err:
            session.rollback()
            raise StaleRecord(
                "the record was changed by someone else while you edited it; nothing was "
                "saved: reload and try again"
            ) from err
        except IntegrityError as err:
            session.rollback()
            raise Conflict(f"the change conflicts with existing data: {err.orig}") from err
        except (DataError, OverflowError, StatementError) as err:
            # The last line of defence behind the typed parameters and schemas: a number too
            # large for its column (SQLite refuses an int past 2⁶³ before sending it,
            # PostgreSQL answers "out of range"), or a time that has no UTC instant (year 1 at
            # +14:00), is the caller's bad input, not a fault here.
            session.rollback()
            if not _out_of_range(err):
                raise
            raise InvalidInput(f"a value is out of range: {_first_line(err)}") from err
        except QMSError as err:
            session.rollback()
            if err.after_rollback:
                follow_up = db.session(write=True)
                try:
                    for record in err.after_rollback:
                        record(follow_up)
                    follow_up.commit()
                finally:
                    follow_up.close()
            raise
        except BaseException:
            session.rollback()
            raise
        for effect in session.info.pop(_AFTER_COMMIT, []):
            effect()
    finally:
        session.close()
