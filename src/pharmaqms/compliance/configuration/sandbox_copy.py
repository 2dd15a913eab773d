"""Trying a configuration draft on a copy of the database, before QA approves it.

The copy is the live database as a backup would restore it (``kernel/backup.py``: every table,
one consistent snapshot, SQLite and PostgreSQL both ways), marked as a sandbox for one draft
(``kernel/configuration/sandbox.py``). In it the draft is in force for its key from the moment
the copy was made; people log in with their own accounts and work the real records under the
draft; what would leave the system (e-mail, EPCIS deliveries, the MQTT ingest) is held back.

The verbs, one module each: ``make_copy`` here (registers the copy in the live database — who,
which draft and content, from which trail entry, where — then copies the database into the new
one and marks it); ``sandbox_evidence.collect_evidence`` (reads the copy back: its trail
verified, what was done in it, what ran under the draft; cited by the draft's test run); and
``sandbox_removal.remove_copy`` (drops the copy and records it). This module also holds what
the three share: the copy's URL checked, the register's entry, the proof that a database is
that copy.

A copy holds what the live database holds, personal data and signatures included, and is
keyed with the live key file (its trail must verify): it is kept, and removed, like a backup
(docs/deploy.md)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, func, inspect, literal, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration import checks
from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.backup import backup, restore
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.configuration.models import (
    ConfigStatus,
    ConfigVersion,
    SandboxCopy,
    SandboxDisposal,
    SandboxEvidence,
    SandboxMark,
)
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, ControlBroken, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import key_file_path, keyring_for, use_keys_of
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.uow import unit_of_work

MANAGE = "config.manage"
COPYABLE = (ConfigStatus.DRAFT.value, ConfigStatus.TESTED.value)
# A copy holds the live GxP and personal data: one kept longer than this without being
# removed is flagged in the register (it should go once its evidence is read back).
KEEP_DAYS = 30
Progress = Callable[[str, int], None]


def database_url(text: str, field: str) -> str:
    """A copy's URL: SQLite with a file, or PostgreSQL (the engines pharmaqms runs on)."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise InvalidInput(f"{text!r} is not a database URL", field=field) from None
    engine = url.get_backend_name()
    if engine not in ("sqlite", "postgresql"):
        raise InvalidInput(
            f"{shown_url(text)}: a sandbox copy is a SQLite file or a PostgreSQL database, "
            f"not {engine}",
            field=field,
        )
    if engine == "sqlite" and url.database in (None, "", ":memory:"):
        raise InvalidInput(
            "a sandbox copy in memory would be gone with the command: give a file", field=field
        )
    return url.render_as_string(hide_password=False)


def shown_url(text: str) -> str:
    """A URL as kept in the register and shown: without its password."""
    return make_url(text).render_as_string(hide_password=True)


def same_database(a: str, b: str) -> bool:
    left, right = make_url(a), make_url(b)
    if left.get_backend_name() == "sqlite" and right.get_backend_name() == "sqlite":
        return (
            bool(left.database and right.database)
            and Path(str(left.database)).resolve() == Path(str(right.database)).resolve()
        )
    return (left.host, left.port, left.database) == (right.host, right.port, right.database)


def _draft(session: Session, number: str) -> ConfigVersion:
    version = session.scalars(select(ConfigVersion).where(ConfigVersion.number == number)).first()
    if version is None:
        raise NotFound(f"no configuration version {number}")
    if version.status not in COPYABLE:
        raise Conflict(
            f"{number} is {version.status}: a sandbox copy tries a draft before its approval"
        )
    problems = checks.schema_problems(version.key, version.content) + checks.control_problems(
        version.key, version.content
    )
    if problems:
        raise ControlBroken(
            f"{number} does not pass its checks: " + "; ".join(problems), reasons=problems
        )
    return version


def refuse_a_copy_as_live(session: Session) -> None:
    """Copies are made of, and read back into, the live database: a copy of a copy would carry
    two marks, and a copy's register is not the one QA approves from."""
    mark = sandbox.mark(session)
    if mark is not None:
        raise Conflict(
            f"this database is sandbox copy #{mark.copy_id}: sandbox copies are made of, and "
            "read back into, the live database"
        )


def copy_database(live: Database, url: str) -> Database:
    """The copy's database, keyed in this process with the live installation's keys (its
    trail is the live one): a PostgreSQL copy of a SQLite installation whose key file lies
    beside its database file would otherwise be looked for under the default key file."""
    copy_db = Database(url)
    use_keys_of(str(copy_db.engine.url), keyring_for(str(live.engine.url)))
    return copy_db


def connected(database: Database, field: str) -> Connection:
    """A connection to a copy's database, or the reason it can't be had."""
    try:
        return database.engine.connect()
    except OperationalError as err:
        first = (str(err.orig or err).strip().splitlines() or ["no answer"])[0]
        raise InvalidInput(
            f"{shown_url(database.url)} can't be reached: {first}", field=field
        ) from None


def _tables_with_rows(database: Database) -> list[str]:
    with connected(database, "target") as conn:
        return [
            name
            for name in sorted(inspect(conn).get_table_names())
            if name != "alembic_version"
            and conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
            is not None
        ]


def _copy_key_file(live_url: str, copy_url: str) -> None:
    """The copy's trail is the live one: it verifies only with the live key file. Where the
    copy would look for its own (beside a SQLite file), the live one is copied there."""
    source, target = key_file_path(live_url), key_file_path(copy_url)
    if source.resolve() == target.resolve() or target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)


def make_copy(
    live: Database,
    *,
    actor: Actor,
    number: str,
    target_url: str,
    progress: Progress | None = None,
) -> SandboxCopy:
    """Copy the live database into the new, empty database at ``target_url`` and mark it as
    the sandbox of the draft ``number``. Refused, with nothing written anywhere, when the
    draft is not pending or fails its checks, or the target is the live database or holds
    data."""
    actor.require(MANAGE, "make sandbox copies")
    target_url = database_url(target_url, "target")
    if same_database(live.url, target_url):
        raise Conflict("a sandbox copy goes into another database, not the live one")
    copy_db = copy_database(live, target_url)
    try:
        busy = _tables_with_rows(copy_db)
        if busy:
            raise Conflict(
                f"{shown_url(target_url)} holds data ({', '.join(busy[:5])}"
                f"{', …' if len(busy) > 5 else ''}): a sandbox copy needs a new, empty database"
            )
        with unit_of_work(live) as session:
            refuse_a_copy_as_live(session)
            version = _draft(session, number)
            registered = SandboxCopy(
                config_version_id=version.id,
                config_number=version.number,
                key=version.key,
                version_no=version.version_no,
                content_sha256=version.content_sha256,
                made_by_id=actor.user_id,
                made_by=actor.username,
                made_at=clock.now(),
                source_last_seq=session.scalar(select(func.max(AuditEntry.seq))) or 0,
                target=shown_url(target_url),
            )
            with audit.changes(
                session, actor=actor, reason=f"sandbox copy of the database to try {number}"
            ):
                session.add(registered)
            content = version.content
        try:
            _copy_into(live, copy_db, progress)
        except Exception as err:
            # The register keeps the copy; its evidence says it was never made, and why.
            _record_failure(live, actor, registered, err)
            raise
        _copy_key_file(live.url, target_url)
        with unit_of_work(copy_db) as session:
            copied_last = session.scalar(select(func.max(AuditEntry.seq))) or 0
            with audit.changes(
                session,
                actor=actor,
                reason=f"this database is sandbox copy #{registered.id} for {number}",
            ):
                session.add(
                    SandboxMark(
                        copy_id=registered.id,
                        config_version_id=registered.config_version_id,
                        config_number=registered.config_number,
                        key=registered.key,
                        version_no=registered.version_no,
                        content=content,
                        content_sha256=registered.content_sha256,
                        made_at=registered.made_at,
                        copied_last_seq=copied_last,
                    )
                )
        sandbox.forget(copy_db.engine)
        return registered
    finally:
        copy_db.dispose()


def _copy_into(live: Database, copy_db: Database, progress: Progress | None) -> None:
    if live.dialect == copy_db.dialect == "sqlite":
        # SQLite to SQLite: its online backup, page by page from one consistent snapshot, is
        # the same database many times faster than the portable format
        # (bench/bench_sandbox_copy.py).
        copy_sqlite(live, copy_db)
    else:
        copy_portable(live, copy_db, progress)


def copy_sqlite(live: Database, copy_db: Database) -> None:
    source, target = live.engine.raw_connection(), copy_db.engine.raw_connection()
    try:
        source.driver_connection.backup(target.driver_connection)  # type: ignore[union-attr]
    finally:
        source.close()
        target.close()


def copy_portable(live: Database, copy_db: Database, progress: Progress | None = None) -> None:
    """Any engine to any: a backup of the live database restored into the copy."""
    with tempfile.TemporaryDirectory(prefix="pharmaqms-sandbox-") as folder:
        archive = Path(folder) / "copy.zip"
        backup(live.engine, archive, progress)
        restore(copy_db.engine, archive, progress)


def _record_failure(live: Database, actor: Actor, copy: SandboxCopy, err: Exception) -> None:
    reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:500]
    failed = SandboxEvidence(
        copy_id=copy.id,
        collected_by_id=actor.user_id,
        collected_by=actor.username,
        collected_at=clock.now(),
        trail_intact=False,
        actions=0,
        uses_of_draft=0,
        findings=[f"sandbox copy #{copy.id} could not be made: {reason}"],
    )
    with (
        unit_of_work(live) as session,
        audit.changes(session, actor=actor, reason=f"sandbox copy #{copy.id} failed"),
    ):
        session.add(failed)


def registered_copy(live: Database, copy_id: int, copy_url: str) -> tuple[SandboxCopy, str]:
    """The register's entry of ``copy_id`` (detached), and the copy's URL as given."""
    copy_url = database_url(copy_url, "copy")
    if same_database(live.url, copy_url):
        raise Conflict("that is the live database, not a sandbox copy")
    with unit_of_work(live, write=False) as session:
        refuse_a_copy_as_live(session)
        registered = session.get(SandboxCopy, copy_id)
        if registered is None:
            raise NotFound(f"no sandbox copy #{copy_id} in the register")
        removed = session.scalar(select(SandboxDisposal).where(SandboxDisposal.copy_id == copy_id))
        if removed is not None:
            raise Conflict(
                f"sandbox copy #{copy_id} was removed {format_time(removed.removed_at)} by "
                f"{removed.removed_by}"
            )
        session.expunge(registered)
    return registered, copy_url


def that_copy(copy_db: Database, registered: SandboxCopy, copy_url: str) -> sandbox.Mark:
    """The copy's mark, once the database at ``copy_url`` is shown to be that copy."""
    with connected(copy_db, "copy") as connection:
        if not inspect(connection).has_table(SandboxMark.__tablename__):
            raise Conflict(f"{shown_url(copy_url)} is not a pharmaqms sandbox copy")
    with unit_of_work(copy_db, write=False) as session:
        mark = sandbox.mark(session)
    if mark is None:
        raise Conflict(f"{shown_url(copy_url)} is not a sandbox copy: it has no mark")
    if mark.copy_id != registered.id or mark.content_sha256 != registered.content_sha256:
        raise Conflict(
            f"{shown_url(copy_url)} is sandbox copy #{mark.copy_id} for "
            f"{mark.config_number}, not #{registered.id} for {registered.config_number}"
        )
    return mark


def copies_of(session: Session, version: ConfigVersion) -> list[SandboxCopy]:
    return list(
        session.scalars(
            select(SandboxCopy)
            .where(SandboxCopy.config_version_id == version.id)
            .order_by(SandboxCopy.id)
        )
    )


def latest_copies(session: Session, limit: int) -> list[SandboxCopy]:
    """The register, newest first."""
    return list(session.scalars(select(SandboxCopy).order_by(SandboxCopy.id.desc()).limit(limit)))
