"""Removing a sandbox copy: its database dropped, or its file deleted with the key file copied
beside it, and the removal recorded in the live register (``config_sandbox_disposals``) — the
copies of GxP data made for testing are accounted for until they are gone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration.sandbox_copy import (
    MANAGE,
    copy_database,
    registered_copy,
    that_copy,
)
from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.configuration.models import SandboxDisposal
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import key_file_path
from pharmaqms.kernel.uow import unit_of_work


def remove_copy(live: Database, *, actor: Actor, copy_id: int, copy_url: str) -> SandboxDisposal:
    """Remove the sandbox copy ``copy_id`` at ``copy_url`` — a SQLite file is deleted with the
    key file copied beside it, a PostgreSQL database dropped — and record that in the live
    register. Refused, and nothing removed, when that database is not that copy, the copy was
    removed already, or PostgreSQL refuses the drop."""
    actor.require(MANAGE, "remove sandbox copies")
    registered, copy_url = registered_copy(live, copy_id, copy_url)
    copy_db = copy_database(live, copy_url)
    try:
        that_copy(copy_db, registered, copy_url)
    finally:
        copy_db.dispose()
    url = make_url(copy_url)
    if url.get_backend_name() == "sqlite":
        how = _delete_sqlite(live.url, copy_url)
    else:
        how = _drop_postgresql(copy_url)
    removed = SandboxDisposal(
        copy_id=copy_id,
        removed_by_id=actor.user_id,
        removed_by=actor.username,
        removed_at=clock.now(),
        how=how,
    )
    with (
        unit_of_work(live) as session,
        audit.changes(session, actor=actor, reason=f"sandbox copy #{copy_id} removed"),
    ):
        session.add(removed)
    return removed


def _delete_sqlite(live_url: str, copy_url: str) -> str:
    path = Path(str(make_url(copy_url).database))
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    key, live_key = key_file_path(copy_url), key_file_path(live_url)
    # Only the copy of the live key that make_copy put there: never another installation's.
    if (
        key.resolve() != live_key.resolve()
        and key.exists()
        and key.read_bytes() == live_key.read_bytes()
    ):
        key.unlink()
        return f"SQLite file {path} deleted, with the copy of the key file beside it"
    return f"SQLite file {path} deleted"


def _drop_postgresql(copy_url: str) -> str:
    url = make_url(copy_url)
    name = str(url.database)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"DROP DATABASE {quoted} WITH (FORCE)")
    except DBAPIError as err:
        first = (str(err.orig or err).strip().splitlines() or ["refused"])[0]
        raise Conflict(f"PostgreSQL did not drop {name}: {first}") from None
    finally:
        server.dispose()
    return f"PostgreSQL database {name} on {url.host or 'localhost'} dropped"


def disposals(session: Session, copy_ids: list[int]) -> dict[int, SandboxDisposal]:
    if not copy_ids:
        return {}
    return {
        row.copy_id: row
        for row in session.scalars(
            select(SandboxDisposal).where(SandboxDisposal.copy_id.in_(copy_ids))
        )
    }
