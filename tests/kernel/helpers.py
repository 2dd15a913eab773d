"""What the kernel tests share: counting what a refusal must leave untouched, making SOPs in a
given state through the document services, and raw SQL as a tamperer would write it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from tests.conftest import superuser_url
from tests.support import PASSWORD, name_job_role_in

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import (
    AuditChainHead,
    AuditEntry,
    ElectronicSignature,
    PasswordHistory,
    SecurityAlert,
    Task,
    User,
)
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion

SOP_BODY = (
    "1. Purpose\n\nDescribes the cleaning of the tablet press after each batch.\n\n"
    "2. Steps\n\n2.1 Remove the punches. 2.2 Wipe with 70 % IPA. 2.3 Record and sign."
)


@dataclass(frozen=True)
class Snapshot:
    """Row counts of every table a refusal could have written to, and the chain head."""

    audit_entries: int
    signatures: int
    users: int
    documents: int
    versions: int
    tasks: int
    alerts: int
    password_history: int
    head: tuple[int, str]


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def snapshot(db: Database) -> Snapshot:
    with unit_of_work(db, write=False) as s:
        head = s.get(AuditChainHead, 1)
        assert head is not None
        return Snapshot(
            audit_entries=_count(s, AuditEntry),
            signatures=_count(s, ElectronicSignature),
            users=_count(s, User),
            documents=_count(s, ControlledDocument),
            versions=_count(s, DocumentVersion),
            tasks=_count(s, Task),
            alerts=_count(s, SecurityAlert),
            password_history=_count(s, PasswordHistory),
            head=(head.seq, head.entry_hash),
        )


def row(db: Database, model: type[Any], row_id: int) -> dict[str, Any]:
    """Every column of one row, as stored."""
    with unit_of_work(db, write=False) as s:
        obj = s.get(model, row_id)
        assert obj is not None, (model, row_id)
        return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def entries(
    db: Database, *, record_type: str | None = None, record_id: int | None = None, after: int = 0
) -> list[AuditEntry]:
    """Audit entries in chain order, optionally of one record and after a sequence number."""
    with unit_of_work(db, write=False) as s:
        query = select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)
        if record_type is not None:
            query = query.where(AuditEntry.record_type == record_type)
        if record_id is not None:
            query = query.where(AuditEntry.record_id == record_id)
        found = list(s.scalars(query))
        s.expunge_all()  # plain objects that outlive the read-only unit of work
        return found


def signatures(db: Database, version_id: int) -> list[ElectronicSignature]:
    """The signatures of a document version, oldest first."""
    with unit_of_work(db, write=False) as s:
        found = list(
            s.scalars(
                select(ElectronicSignature)
                .where(
                    ElectronicSignature.record_type == "document_version",
                    ElectronicSignature.record_id == version_id,
                )
                .order_by(ElectronicSignature.id)
            )
        )
        s.expunge_all()
        return found


def changes_of(entry: AuditEntry) -> dict[str, Any]:
    return dict(json.loads(entry.changes))


def head_seq(db: Database) -> int:
    return snapshot(db).head[0]


# --- SOPs through the document services ---------------------------------------------------


def new_sop(db: Database, author: Actor, title: str = "Cleaning of the tablet press") -> int:
    with unit_of_work(db) as s:
        version = service.create_document(
            s, actor=author, doc_type="sop", title=title, body=SOP_BODY, area="Production"
        )
        return version.id


def transition(
    db: Database,
    actor: Actor,
    version_id: int,
    name: str,
    *,
    password: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> None:
    with unit_of_work(db) as s:
        service.transition(
            s,
            actor=actor,
            version_id=version_id,
            name=name,
            password=password,
            reason=reason,
            expected_version=expected_version,
        )


def sop_in_state(db: Database, author: Actor, approver: Actor, state: str, title: str) -> int:
    """An SOP version driven to ``state`` (draft, in_review, approved or effective)."""
    vid = new_sop(db, author, title)
    if state == "draft":
        return vid
    transition(db, author, vid, "submit")
    if state == "in_review":
        return vid
    transition(db, approver, vid, "approve", password=PASSWORD)
    if state == "approved":
        return vid
    with unit_of_work(db) as s:
        name_job_role_in(s, approver, service.get_version(s, vid).document_id)
    transition(db, approver, vid, "make_effective")
    assert state == "effective", state
    return vid


# --- tampering ----------------------------------------------------------------------------


def tamperer(db: Database) -> Engine:
    """An engine with every right on the test's database (PostgreSQL: the superuser; the
    application's own role can't drop triggers)."""
    return db.engine if db.dialect == "sqlite" else create_engine(superuser_url(db))


def raw(db: Database, sql: str, **params: Any) -> None:
    """Run SQL behind the application's back: no ORM, no audit hooks. Timestamps are written
    as the application stores them (on SQLite, its canonical UTC text), as a careful tamperer
    would: one written any other way is found for that alone (test_tamper_keyed)."""
    if db.dialect == "sqlite":
        params = {
            k: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
            for k, v in params.items()
        }
    engine = tamperer(db)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        if engine is not db.engine:
            engine.dispose()


def drop_append_only_triggers(db: Database, table: str) -> None:
    """What someone with the database file (or a superuser) can do first."""
    if db.dialect == "sqlite":
        raw(db, f"DROP TRIGGER {table}_no_update")
        raw(db, f"DROP TRIGGER {table}_no_delete")
    else:
        raw(db, f"DROP TRIGGER {table}_append_only ON {table}")
