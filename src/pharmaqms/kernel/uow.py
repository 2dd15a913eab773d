"""The transaction boundary. Requests, commands and message handlers open one unit of work;
services inside it never commit. On success it commits and then runs the side effects that
leave the process; on a refusal it rolls back and then records what must survive the refusal
(a failed signature attempt) in a transaction of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from pharmaqms.kernel.db import Database, get_database
from pharmaqms.kernel.errors import Conflict, QMSError, StaleRecord

_AFTER_COMMIT = "pharmaqms.after_commit"


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run ``effect`` once the transaction has committed (notifications, MQTT publishes)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(effect)


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
