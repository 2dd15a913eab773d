"""Trying a configuration draft on a copy of the database, before QA approves it.

The copy is the live database as a backup would restore it (``kernel/backup.py``: every table,
one consistent snapshot, SQLite and PostgreSQL both ways), marked as a sandbox for one draft
(``kernel/configuration/sandbox.py``). In it the draft is in force for its key from the moment
the copy was made; people log in with their own accounts and work the real records under the
draft; what would leave the system (e-mail, EPCIS deliveries, the MQTT ingest) is held back.

Three verbs:

- ``make_copy``: registers the copy in the live database (who, which draft and content, from
  which trail entry, where), then backs up, restores into the new database and marks it;
- ``collect_evidence``: reads the copy back — its audit trail verified, what was done in it
  after it was made, the actions that ran under the draft — and keeps that in the live
  database as sealed evidence;
- ``evidence_lines``: what the draft's test run cites of that evidence (``service.test_version``).

A copy holds what the live database holds, personal data and signatures included, and is
keyed with the live key file (its trail must verify): it is kept, and removed, like a backup
(docs/deploy.md)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration import checks
from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.backup import backup, restore
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.configuration.models import (
    ConfigStatus,
    ConfigUse,
    ConfigVersion,
    SandboxCopy,
    SandboxDisposal,
    SandboxEvidence,
    SandboxMark,
)
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, ControlBroken, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import key_file_path
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.sealing import SEAL_ACTION
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify

MANAGE = "config.manage"
COPYABLE = (ConfigStatus.DRAFT.value, ConfigStatus.TESTED.value)
# Actions named one by one in the evidence; beyond this, a count.
LISTED_ACTIONS = 40
# A copy holds the live GxP and personal data: one kept longer than this without being
# removed is flagged in the register (it should go once its evidence is read back).
KEEP_DAYS = 30
Progress = Callable[[str, int], None]


def _url(text: str, field: str) -> str:
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


def _same_database(a: str, b: str) -> bool:
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


def _refuse_a_copy_as_live(session: Session) -> None:
    """Copies are made of, and read back into, the live database: a copy of a copy would carry
    two marks, and a copy's register is not the one QA approves from."""
    mark = sandbox.mark(session)
    if mark is not None:
        raise Conflict(
            f"this database is sandbox copy #{mark.copy_id}: sandbox copies are made of, and "
            "read back into, the live database"
        )


def _tables_with_rows(database: Database) -> list[str]:
    try:
        conn = database.engine.connect()
    except OperationalError as err:
        first = (str(err.orig or err).strip().splitlines() or ["no answer"])[0]
        raise InvalidInput(
            f"{shown_url(database.url)} can't be reached: {first}", field="target"
        ) from None
    with conn:
        found = inspect(conn)
        return [
            name
            for name in sorted(found.get_table_names())
            if name != "alembic_version"
            and conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None
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
    target_url = _url(target_url, "target")
    if _same_database(live.url, target_url):
        raise Conflict("a sandbox copy goes into another database, not the live one")
    copy_db = Database(target_url)
    try:
        busy = _tables_with_rows(copy_db)
        if busy:
            raise Conflict(
                f"{shown_url(target_url)} holds data ({', '.join(busy[:5])}"
                f"{', …' if len(busy) > 5 else ''}): a sandbox copy needs a new, empty database"
            )
        with unit_of_work(live) as session:
            _refuse_a_copy_as_live(session)
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


def _actions(session: Session, after_seq: int) -> tuple[int, list[str]]:
    """The entries made in the copy after it was marked: how many, and the first ones named
    (the mark's own seal entry is the copy's making, not something tried in it)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.seq > after_seq)
        .where(
            ~(
                (AuditEntry.action == SEAL_ACTION)
                & (AuditEntry.record_type == SandboxMark.__tablename__)
            )
        )
        .order_by(AuditEntry.seq)
    )
    count = 0
    lines: list[str] = []
    for entry in session.scalars(query):
        count += 1
        if len(lines) < LISTED_ACTIONS:
            lines.append(
                f"entry {entry.seq}, {format_time(entry.occurred_at)}: {entry.record_label} "
                f"— {entry.action} by {entry.actor_username}"
            )
    if count > LISTED_ACTIONS:
        lines.append(f"… and {count - LISTED_ACTIONS} more")
    return count, lines


def _registered(live: Database, copy_id: int, copy_url: str) -> tuple[SandboxCopy, str]:
    """The register's entry of ``copy_id`` (detached), and the copy's URL as given."""
    copy_url = _url(copy_url, "copy")
    if _same_database(live.url, copy_url):
        raise Conflict("that is the live database, not a sandbox copy")
    with unit_of_work(live, write=False) as session:
        _refuse_a_copy_as_live(session)
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


def _that_copy(copy_db: Database, registered: SandboxCopy, copy_url: str) -> sandbox.Mark:
    """The copy's mark, once the database at ``copy_url`` is shown to be that copy."""
    try:
        connection = copy_db.engine.connect()
    except OperationalError as err:
        first = (str(err.orig or err).strip().splitlines() or ["no answer"])[0]
        raise InvalidInput(f"{shown_url(copy_url)} can't be reached: {first}") from None
    with connection:
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


def collect_evidence(
    live: Database, *, actor: Actor, copy_id: int, copy_url: str
) -> SandboxEvidence:
    """Read the sandbox copy ``copy_id`` at ``copy_url`` back into the live database's
    evidence. Refused, and nothing kept, when that database is not that copy."""
    actor.require(MANAGE, "collect sandbox evidence")
    registered, copy_url = _registered(live, copy_id, copy_url)
    copy_db = Database(copy_url)
    try:
        mark = _that_copy(copy_db, registered, copy_url)
        # A new session: verify asks for one snapshot (REPEATABLE READ on PostgreSQL) for the
        # whole check, and the counts below are read in the same one.
        with unit_of_work(copy_db, write=False) as session:
            report = verify(session)
            copied_last = session.scalar(select(SandboxMark.copied_last_seq).limit(1)) or 0
            actions, listed = _actions(session, copied_last)
            uses = (
                session.scalar(
                    select(func.count())
                    .select_from(ConfigUse)
                    .where(
                        ConfigUse.key == mark.key,
                        ConfigUse.content_sha256 == mark.content_sha256,
                        ConfigUse.used_at >= mark.made_at,
                    )
                )
                or 0
            )
    finally:
        copy_db.dispose()
    trail = (
        f"its audit trail verified intact ({report.entries:,} entries)"
        if report.intact
        else f"its audit trail is NOT intact: {len(report.findings)} finding(s), the first: "
        f"{report.findings[0].message}"
    )
    findings = [
        f"sandbox copy #{copy_id} ({registered.target}), made {format_time(registered.made_at)} "
        f"by {registered.made_by} for {registered.config_number}: {trail}",
        f"{actions} action(s) taken in the copy after it was made; {uses} ran under "
        f"{registered.config_number}",
        *listed,
    ]
    with unit_of_work(live) as session:
        evidence = SandboxEvidence(
            copy_id=copy_id,
            collected_by_id=actor.user_id,
            collected_by=actor.username,
            collected_at=clock.now(),
            trail_intact=report.intact,
            actions=actions,
            uses_of_draft=uses,
            findings=findings,
        )
        with audit.changes(
            session, actor=actor, reason=f"what was done on sandbox copy #{copy_id}"
        ):
            session.add(evidence)
    return evidence


def remove_copy(live: Database, *, actor: Actor, copy_id: int, copy_url: str) -> SandboxDisposal:
    """Remove the sandbox copy ``copy_id`` at ``copy_url`` — a SQLite file is deleted with the
    key file copied beside it, a PostgreSQL database dropped — and record that in the live
    register. Refused, and nothing removed, when that database is not that copy, the copy was
    removed already, or PostgreSQL refuses the drop."""
    actor.require(MANAGE, "remove sandbox copies")
    registered, copy_url = _registered(live, copy_id, copy_url)
    copy_db = Database(copy_url)
    try:
        _that_copy(copy_db, registered, copy_url)
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


def latest_evidence(session: Session, copy_ids: list[int]) -> dict[int, SandboxEvidence]:
    found: dict[int, SandboxEvidence] = {}
    if copy_ids:
        for row in session.scalars(
            select(SandboxEvidence)
            .where(SandboxEvidence.copy_id.in_(copy_ids))
            .order_by(SandboxEvidence.id)
        ):
            found[row.copy_id] = row
    return found


def evidence_lines(session: Session, version: ConfigVersion) -> list[str]:
    """What the draft's test run cites: the latest evidence of each copy made of the draft
    as it is now (a copy of an earlier content tried something else)."""
    current = [c for c in copies_of(session, version) if c.content_sha256 == version.content_sha256]
    if not current:
        return [
            "no sandbox copy of this content has been tried "
            "(pharmaqms compliance sandbox-copy makes one)"
        ]
    evidence = latest_evidence(session, [c.id for c in current])
    lines: list[str] = []
    for copy in current:
        found = evidence.get(copy.id)
        if found is None:
            lines.append(
                f"sandbox copy #{copy.id} made {format_time(copy.made_at)} by {copy.made_by}: "
                "not read back yet (pharmaqms compliance sandbox-evidence)"
            )
        else:
            lines += found.findings
    return lines
