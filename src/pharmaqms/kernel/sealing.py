"""Seals: how append-only GxP data rows (``records.SealedData``) enter the audit chain.

Every transaction that inserts such rows writes, when it commits, one keyed audit entry per
table and actor (action ``seal``): the ids it inserted, as ranges, their count, and a digest
of their content as the database holds it — read back inside the transaction, so that rows
a rolled-back savepoint took away are not claimed, and the digest is what ``audit verify``
will recompute from the same columns on any database (a backup restored from SQLite into
PostgreSQL verifies alike).

Rows added through the ORM are found at flush time. Rows written by a compiled statement on
the driver's cursor (the sensor and process-reading paths, thousands a second) are named by
their writer with ``seal_rows``. A row nobody sealed is found by ``audit verify`` as
``data_without_audit``, so a forgotten call shows up in the first test that verifies.

One entry per table and transaction, not per row: a batch of 500 sensor readings costs one
entry and one read-back, not 500 (an entry per row would bury the changes an inspector reads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping, Table, event, select
from sqlalchemy.orm import Session, SessionTransaction

from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import SEALED_MODELS, SealedData

if TYPE_CHECKING:
    from pharmaqms.kernel.audit import EntryDraft

SEAL_ACTION = "seal"
_NEW = "pharmaqms.new_sealed_rows"
_PENDING = "pharmaqms.pending_seals"
_READ_CHUNK = 500


def sealed_table(name: str) -> Table:
    return SEALED_MODELS[name].__table__  # type: ignore[attr-defined,no-any-return]


def seal_rows(session: Session, *, actor: Actor, table: str, ids: Iterable[int]) -> None:
    """Seal rows of ``table`` that this transaction inserted outside the ORM, at its commit."""
    if table not in SEALED_MODELS:
        raise RuntimeError(f"{table} is not a sealed data table")
    pending: dict[tuple[str, Actor], set[int]] = session.info.setdefault(_PENDING, {})
    pending.setdefault((table, actor), set()).update(ids)


def row_hash(row: Mapping[str, Any] | RowMapping) -> str:
    """A row's content as every column's value reads back through its type (UTC timestamps,
    dates, floats, parsed JSON): the same on SQLite and PostgreSQL.

    Empty (NULL) columns are left out, so that a nullable column added by a later migration
    leaves the rows sealed before it as they were; a value set, changed or emptied behind the
    application's back still changes the hash."""
    return content_hash({name: value for name, value in row.items() if value is not None})


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    """Sorted ids as inclusive ranges: [1, 2, 3, 7] → [[1, 3], [7, 7]]."""
    ranges: list[list[int]] = []
    for row_id in ids:
        if ranges and row_id == ranges[-1][1] + 1:
            ranges[-1][1] = row_id
        else:
            ranges.append([row_id, row_id])
    return ranges


def digest_line(row_id: int, hashed: str) -> bytes:
    return f"{row_id}:{hashed}\n".encode("ascii")


def read_rows(conn: Connection, table: Table, ids: Sequence[int]) -> Iterator[RowMapping]:
    id_column = table.c.id
    for start in range(0, len(ids), _READ_CHUNK):
        chunk = ids[start : start + _READ_CHUNK]
        yield from conn.execute(
            select(table).where(id_column.in_(chunk)).order_by(id_column)
        ).mappings()


def seal_details(conn: Connection, table_name: str, ids: Iterable[int]) -> dict[str, Any] | None:
    """What a seal entry records for these rows of ``table_name``, as stored now."""
    digest = hashlib.sha256()
    found: list[int] = []
    for row in read_rows(conn, sealed_table(table_name), sorted(set(ids))):
        found.append(row["id"])
        digest.update(digest_line(row["id"], row_hash(row)))
    if not found:
        return None
    return {
        "table": table_name,
        "ids": id_ranges(found),
        "rows": len(found),
        "digest": digest.hexdigest(),
    }


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    new = [o for o in session.new if isinstance(o, SealedData)]
    if not new:
        return
    from pharmaqms.kernel.audit import current_change

    context = current_change(session)
    if context is None:
        raise RuntimeError("a GxP data row was added outside a change context: use audit.changes")
    session.info.setdefault(_NEW, []).extend((obj, context.actor) for obj in new)


def _after_flush(session: Session, _ctx: Any) -> None:
    for obj, actor in session.info.pop(_NEW, ()):
        seal_rows(session, actor=actor, table=obj.__tablename__, ids=[obj.id])


def forget_pending(session: Session) -> None:
    """Drop the new rows a failed flush left queued for sealing (their savepoint was rolled
    back). Ids sealed already stay queued: the seal reads only the rows that survive."""
    session.info.pop(_NEW, None)


def seal_drafts(session: Session) -> list[EntryDraft]:
    """The seal entries of the rows this transaction inserted, read back as stored; called by
    the audit trail's commit hook after the last flush, so seals follow the changes they
    accompany in the chain."""
    from pharmaqms.kernel.audit import EntryDraft

    pending: dict[tuple[str, Actor], set[int]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return []
    conn = session.connection()
    drafts = []
    for (table_name, actor), ids in sorted(pending.items(), key=lambda item: item[0][0]):
        details = seal_details(conn, table_name, ids)
        if details is None:
            continue  # every row went with a rolled-back savepoint
        drafts.append(
            EntryDraft(
                action=SEAL_ACTION,
                record_type=table_name,
                record_id=None,
                record_label=f"{details['rows']} row(s) of {table_name}",
                changes=details,
                reason=None,
                state_hash=details["digest"],
                actor=actor,
            )
        )
    return drafts


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_NEW, None)


def install(session_class: type[Session]) -> None:
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_transaction_end", _after_transaction_end)
