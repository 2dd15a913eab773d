"""The audit trail: automatic capture of every change to an audited row, in the same
transaction, appended to a hash-chained, append-only table (Part 11 §11.10(e), Annex 11 §9).

Services open a change context naming the actor and, where needed, the reason::

    with changes(session, actor=actor, reason="typo in step 4"):
        record.title = "..."

The flush hooks below then refuse what must not happen (a delete, a change without an actor,
a change without a reason once the record has left draft) and draft one entry per row, timed
when the change is flushed. The drafts are linked into the chain when the transaction commits,
all in one append: the chain head is locked only for that last step, not from a transaction's
first write to its end, so concurrent transactions no longer queue behind it for their whole
duration, and a transaction pays one head round trip instead of one per flush. The chain's
order is the order of commits. Whoever reads the trail inside a transaction still sees its own
entries: such a read writes the drafts first (``_read_of_trail``).
Bulk ``update()``/``delete()`` statements bypass the ORM and so these hooks: services never
use them on audited tables, and ``audit verify`` finds the rows they would have changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Dialect, event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, attributes, object_mapper
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from pharmaqms.kernel import clock
from pharmaqms.kernel.canonical import canonical_json, plain
from pharmaqms.kernel.chain import (
    entry_text,
    keyed_linker,
    link,
    move_head,
    plain_link,
    writable_head,
)
from pharmaqms.kernel.errors import QMSError, ReasonRequired
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import Keyring
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.numbering import allocate_number
from pharmaqms.kernel.observability.request_context import current_request_id
from pharmaqms.kernel.records import BOOKKEEPING, Audited, GxPRecord, Versioned

_CONTEXT = "pharmaqms.change_context"
_PENDING = "pharmaqms.pending_audit"
_AUDIT_TABLE = AuditEntry.__table__
_QUEUE = "pharmaqms.audit_queue"
MASK = "***"


class RecordsAreNeverDeleted(QMSError):
    status = 409
    code = "records_are_never_deleted"
    title = "Records are never deleted"


@dataclass
class ChangeContext:
    actor: Actor
    reason: str | None = None
    action: str | None = None


@dataclass
class EntryDraft:
    action: str
    record_type: str
    record_id: int | None
    record_label: str
    changes: dict[str, Any]
    reason: str | None
    state_hash: str | None
    actor: Actor
    occurred_at: Any = field(default=None)


@dataclass
class _Queue:
    """The transaction's drafts in order, how many of them are in the chain already (a read of
    the trail wrote them early), and the marks of the savepoints open: a savepoint rolled back
    takes its drafts away, and the database takes back what was written inside it."""

    drafts: list[EntryDraft] = field(default_factory=list)
    written: int = 0
    marks: dict[int, tuple[int, int]] = field(default_factory=dict)


def _queue(session: Session) -> _Queue:
    queue: _Queue | None = session.info.get(_QUEUE)
    if queue is None:
        queue = session.info[_QUEUE] = _Queue()
    return queue


@contextmanager
def changes(
    session: Session, *, actor: Actor, reason: str | None = None, action: str | None = None
) -> Iterator[None]:
    """Attribute every change made inside the block to ``actor`` (with ``reason``), and flush
    at the end so the audit entries are written under this context."""
    previous = session.info.get(_CONTEXT)
    session.info[_CONTEXT] = ChangeContext(actor, (reason or "").strip() or None, action)
    try:
        yield
        session.flush()
    finally:
        if previous is None:
            session.info.pop(_CONTEXT, None)
        else:
            session.info[_CONTEXT] = previous


def current_change(session: Session) -> ChangeContext | None:
    """The change context open on ``session``, if any."""
    context: ChangeContext | None = session.info.get(_CONTEXT)
    return context


def _changed_columns(obj: Audited) -> dict[str, tuple[Any, Any]]:
    found: dict[str, tuple[Any, Any]] = {}
    excluded = obj.__audit_excluded__
    for attr in object_mapper(obj).column_attrs:
        if attr.key in excluded:
            continue
        history = attributes.get_history(obj, attr.key)
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                found[attr.key] = (old, new)
    return found


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, Audited):
            raise RecordsAreNeverDeleted(
                f"{obj.audit_label()} can't be deleted: GxP records are retired, not deleted"
            )
    new = [o for o in session.new if isinstance(o, Audited)]
    dirty: list[tuple[Audited, dict[str, tuple[Any, Any]]]] = []
    for obj in session.dirty:
        if isinstance(obj, Audited) and obj not in session.new:
            changed = _changed_columns(obj)
            if changed:
                dirty.append((obj, changed))
    if not new and not dirty:
        return
    context: ChangeContext | None = session.info.get(_CONTEXT)
    if context is None:
        raise RuntimeError(
            "an audited row was changed outside a change context: use audit.changes(...)"
        )
    now = clock.now()
    pending: list[tuple[Audited, str, dict[str, tuple[Any, Any]]]] = session.info.setdefault(
        _PENDING, []
    )
    for obj in new:
        for name in ("created_at", "updated_at"):
            if hasattr(obj, name) and getattr(obj, name) is None:
                setattr(obj, name, now)
        for name in ("created_by_id", "updated_by_id"):
            if hasattr(obj, name) and getattr(obj, name) is None:
                setattr(obj, name, context.actor.user_id)
        if isinstance(obj, GxPRecord) and not getattr(obj, "number", None):
            prefix = obj.__number_prefix__
            if prefix is None:
                raise RuntimeError(f"{type(obj).__name__} needs a number or a number prefix")
            obj.number = allocate_number(session, prefix, now.year)
        pending.append((obj, "create", {}))
    for obj, changed in dirty:
        status = changed.get("status")
        previous_status = status[0] if status else getattr(obj, "status", None)
        shown = set(changed) - BOOKKEEPING | ({"status"} if status else set())
        if obj.reason_required_for(shown, previous_status) and not context.reason:
            raise ReasonRequired(
                f"a reason for change is required to change {obj.audit_label()} "
                f"({', '.join(sorted(shown))}) once it has left draft",
                field="reason",
            )
        if isinstance(obj, Versioned):
            # Here and not in the ORM: a row whose only change is an operational field gets
            # no entry, so its version must not move either (see ``Versioned``).
            obj.version += 1
        if hasattr(obj, "updated_at"):
            obj.updated_at = now
        if hasattr(obj, "updated_by_id"):
            obj.updated_by_id = context.actor.user_id
        pending.append((obj, context.action or "update", changed))


def forget_pending(session: Session) -> None:
    """Drop the changes a failed flush left unaudited: their rows went with a rolled-back
    savepoint (the ingest's per-row guard), so the next flush must not draft them."""
    session.info.pop(_PENDING, None)


def _masked(obj: Audited, key: str, value: Any) -> Any:
    return MASK if key in obj.__audit_masked__ and value is not None else plain(value)


def _after_flush(session: Session, _ctx: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    context: ChangeContext = session.info[_CONTEXT]
    drafts: list[EntryDraft] = []
    flushed_at = clock.now()
    for obj, action, changed in pending:
        if action == "create":
            shown = {
                k: [None, _masked(obj, k, v)]
                for k, v in obj.audit_state().items()
                if k not in BOOKKEEPING or k == "status"
            }
        else:
            shown = {
                k: [_masked(obj, k, old), _masked(obj, k, new)]
                for k, (old, new) in changed.items()
                if k not in BOOKKEEPING or k == "status"
            }
        drafts.append(
            EntryDraft(
                action=action,
                record_type=obj.__audit_type__,
                record_id=getattr(obj, "id", None),
                record_label=obj.audit_label(),
                changes=shown,
                reason=context.reason,
                state_hash=obj.state_hash(),
                actor=context.actor,
                occurred_at=flushed_at,
            )
        )
    _queue(session).drafts.extend(drafts)


def write_queued(session: Session) -> None:
    """Link the drafts queued so far into the chain now, ahead of the commit."""
    session.flush()
    queue = _queue(session)
    if queue.written < len(queue.drafts):
        append_entries(session.connection(), queue.drafts[queue.written :])
        queue.written = len(queue.drafts)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its drafts stay queued for the outer transaction
    from pharmaqms.kernel import sealing

    session.flush()
    queue = session.info.pop(_QUEUE, None)
    drafts = [] if queue is None else queue.drafts[queue.written :]
    drafts.extend(sealing.seal_drafts(session))
    append_entries(session.connection(), drafts)


def _savepoint_opened(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        queue = _queue(session)
        queue.marks[id(transaction)] = (len(queue.drafts), queue.written)


def _savepoint_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    queue: _Queue | None = session.info.get(_QUEUE)
    if queue is None or not transaction.nested:
        return
    mark = queue.marks.pop(id(transaction), None)
    if mark is not None:
        drafted, written = mark
        del queue.drafts[drafted:]
        queue.written = min(queue.written, written)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's mark stays until the outer transaction ends: SQLAlchemy closes a savepoint
    # before it reports the rollback that needs the mark.
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)
        session.info.pop(_PENDING, None)


def _read_of_trail(state: ORMExecuteState) -> None:
    """A query of the trail inside a transaction sees the transaction's own entries: the
    workflow reads who drafted a record to keep authors from approving it, an alert reads the
    reason given with the transition just taken. Checked only while something is unwritten."""
    if not state.is_select:
        return
    session = state.session
    queue: _Queue | None = session.info.get(_QUEUE)
    unwritten = queue is not None and queue.written < len(queue.drafts)
    if not unwritten and session._is_clean():
        return
    statement = state.statement
    if isinstance(statement, ClauseElement) and _AUDIT_TABLE in find_tables(
        statement, check_columns=True, include_joins=True
    ):
        write_queued(session)


def entry_content(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in AuditEntry.HASHED}


_ENTRY_KEY_SET = frozenset(AuditEntry.HASHED)


def _text(content: dict[str, Any]) -> str:
    if content.keys() == _ENTRY_KEY_SET:  # an entry: its fields are known and flat
        return entry_text([content[name] for name in AuditEntry.HASHED])
    return canonical_json(content)


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The unkeyed link: entries written before a chain was keyed (and what someone without
    the key can compute)."""
    return plain_link(prev_hash, _text(content))


def keyed_chain_hash(keyring: Keyring, prev_hash: str, content: dict[str, Any]) -> str:
    return link(keyring, prev_hash, _text(content))


_INSERT_COLUMNS = (*AuditEntry.HASHED, "entry_hash")
_AT = AuditEntry.HASHED.index("occurred_at")


@dataclass(frozen=True)
class _EntryInsert:
    """The INSERT of entries compiled once per dialect, where each column stands among its
    parameters, and the columns whose type converts the value for the driver."""

    statement: str
    order: tuple[int, ...]  # the parameters' positions in ``_INSERT_COLUMNS`` order
    positional: bool
    names: tuple[str, ...]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # by ``_INSERT_COLUMNS`` position


_INSERTS: dict[tuple[str, str, str], _EntryInsert] = {}


def _entry_insert(dialect: Dialect) -> _EntryInsert:
    """The INSERT of entries compiled once per dialect, and each column type's own conversion:
    ``executemany`` on the driver, without SQLAlchemy's per-row parameter processing, which
    cost as much as the insert itself."""
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    cached = _INSERTS.get(key)
    if cached is not None:
        return cached
    table = AuditEntry.__table__
    compiled = insert(AuditEntry).compile(dialect=dialect, column_keys=list(_INSERT_COLUMNS))
    names = tuple(compiled.positiontup or ()) if compiled.positional else _INSERT_COLUMNS
    if set(names) != set(_INSERT_COLUMNS):
        raise RuntimeError(f"unexpected parameters of the audit insert: {names}")
    converters = []
    for position, name in enumerate(_INSERT_COLUMNS):
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters.append((position, convert))
    _INSERTS[key] = _EntryInsert(
        str(compiled),
        tuple(_INSERT_COLUMNS.index(name) for name in names),
        bool(compiled.positional),
        names,
        tuple(converters),
    )
    return _INSERTS[key]


def append_entries(conn: Connection, drafts: Sequence[EntryDraft]) -> list[int]:
    """Append entries to the chain, keyed. The head row is locked (FOR UPDATE on PostgreSQL; on
    SQLite the writer lock held by this transaction already serialises appends) and checked
    against the key first: a head moved behind the application's back stops all writing."""
    if not drafts:
        return []
    head, keyring = writable_head(conn)
    seq, prev_hash = head.seq, head.entry_hash
    now = clock.now()
    keyed = keyed_linker(keyring.audit.secret)
    plan = _entry_insert(conn.dialect)
    converters = plan.converters
    # The drafts of one transaction's flush share a timestamp: its canonical text and its
    # driver value are worked out once (formatting it was the largest single cost of an entry).
    stamps: dict[Any, tuple[str, list[Any]]] = {}
    rows: list[list[Any]] = []
    request_id = current_request_id()
    for draft in drafts:
        seq += 1
        occurred = draft.occurred_at or now
        stamp = stamps.get(occurred)
        if stamp is None:
            stamp = stamps[occurred] = (plain(occurred), [])
        actor = draft.actor
        # In AuditEntry.HASHED order, then the entry hash; hashed with ``occurred_at`` as its
        # canonical text, stored as the timestamp.
        values: list[Any] = [
            seq,
            stamp[0],
            actor.user_id,
            actor.username,
            actor.full_name,
            str(actor.channel),
            # A signed-in request's actor carries its id; a request without a session (a
            # login, a public report) is found through the context the request runs in.
            actor.request_id or request_id,
            draft.action,
            draft.record_type,
            draft.record_id,
            draft.record_label,
            canonical_json(draft.changes),
            draft.reason,
            draft.state_hash,
            prev_hash,
        ]
        prev_hash = keyed(f"{prev_hash}{entry_text(values)}".encode())
        values.append(prev_hash)
        values[_AT] = occurred
        stamp[1].append(values)
        rows.append(values)
    for position, convert in converters:
        if position == _AT:  # one conversion per distinct timestamp
            for occurred, (_text_form, stamped) in stamps.items():
                converted = convert(occurred)
                for values in stamped:
                    values[_AT] = converted
        else:
            for values in rows:
                values[position] = convert(values[position])
    order, names = plan.order, plan.names
    if plan.positional:
        parameters: list[Any] = [tuple([values[i] for i in order]) for values in rows]
    else:
        parameters = [dict(zip(names, [values[i] for i in order], strict=True)) for values in rows]
    conn.exec_driver_sql(plan.statement, parameters)
    move_head(conn, keyring, head, seq, prev_hash)
    return [values[0] for values in rows]


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    record: Audited | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
    record_label: str | None = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """An audit entry for an event that is not a change of a row: a signature, a failed
    signature attempt, a login, an export of the trail."""
    session.flush()
    draft = EntryDraft(
        occurred_at=clock.now(),
        action=action,
        record_type=record.__audit_type__ if record is not None else (record_type or "system"),
        record_id=getattr(record, "id", None) if record is not None else record_id,
        record_label=record.audit_label() if record is not None else (record_label or "-"),
        changes=plain(details or {}),
        reason=reason,
        state_hash=None,
        actor=actor,
    )
    _queue(session).drafts.append(draft)


def install(session_class: type[Session] = Session) -> None:
    from pharmaqms.kernel import sealing  # it writes its seals with append_entries

    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_transaction_create", _savepoint_opened)
        event.listen(session_class, "after_soft_rollback", _savepoint_rolled_back)
        event.listen(session_class, "after_transaction_end", _transaction_ended)
        event.listen(session_class, "do_orm_execute", _read_of_trail)
    sealing.install(session_class)


install()
