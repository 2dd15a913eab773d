"""Ingest: one delivery of data → an import run, accepted rows, quarantined rows, lineage.

The same function serves the CLI (`pharmaqms ingest`), the HTTP push endpoints, bulk uploads
and the MQTT worker, so every entry point applies the same governance and leaves the same
trace. A row that fails is quarantined with its reasons and the rest of the delivery is still
taken; a delivery that can't be read at all is refused and the refusal is recorded."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.errors import (
    Conflict,
    DocumentRefused,
    InvalidInput,
    NotFound,
    QMSError,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.settings import get_settings
from pharmaqms.platform.governance.rules import Checked, Context, Problem, check
from pharmaqms.platform.ingest.connector import Connector, SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.deliveries import delivery_completed
from pharmaqms.platform.ingest.guard import (
    STORAGE_REFUSED,
    UNREADABLE_ROW,
    describe,
    guarded,
    nul_problems,
    transient,
)
from pharmaqms.platform.ingest.models import (
    DataSource,
    ImportRun,
    Lineage,
    QuarantinedRow,
    QuarantineStatus,
    RunStatus,
)

CONNECTORS: dict[str, Connector] = {}
# Rows stored per savepoint on the way through a delivery (see ``_apply``).
CHUNK_ROWS = 100
Progress = Callable[[int], None]


def register_connector(connector: Connector) -> Connector:
    CONNECTORS[connector.kind] = connector
    return connector


def connector_for(kind: str) -> Connector:
    try:
        return CONNECTORS[kind]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS)) or "none"
        raise InvalidInput(
            f"unknown source kind {kind!r}; one of: {known}", field="source"
        ) from None


def get_source(session: Session, code: str) -> DataSource:
    source = session.scalars(select(DataSource).where(DataSource.code == code)).one_or_none()
    if source is None:
        raise NotFound(f"no data source {code!r}")
    return source


def default_source(session: Session, kind: str, *, actor: Actor) -> DataSource:
    """The source a delivery is attributed to when the caller names only the kind."""
    code = f"{kind}-default"
    source = session.scalars(select(DataSource).where(DataSource.code == code)).one_or_none()
    if source is None:
        connector_for(kind)
        source = DataSource(code=code, name=f"Default {kind.upper()} source", kind=kind, mapping={})
        with audit.changes(session, actor=actor, reason="first delivery from this kind of source"):
            session.add(source)
    return source


def register_source(
    session: Session, *, actor: Actor, code: str, name: str, kind: str, mapping: dict[str, Any]
) -> DataSource:
    actor.require("data.manage", "register data sources")
    connector_for(kind)
    if session.scalars(select(DataSource).where(DataSource.code == code)).first():
        raise Conflict(f"a data source {code!r} exists already", field="code")
    source = DataSource(code=code, name=name, kind=kind, mapping=mapping, active=True)
    with audit.changes(session, actor=actor, reason="data source registered"):
        session.add(source)
    return source


@dataclass
class _Tally:
    accepted: int = 0
    corrected: int = 0
    duplicate: int = 0
    quarantined: int = 0
    expected: int = 0
    present: int = 0


def _quarantine(
    session: Session, run: ImportRun, source: DataSource, row: SourceRow, problems: list[Any]
) -> QuarantinedRow | None:
    """Keep a rejected row with its reasons. The same row sent again is not quarantined twice
    (re-sending a file changes nothing): returns None. That holds whatever became of the first
    copy — still open, fixed and replayed, or discarded: the decision taken on it stands, and
    a file re-sent after the fix must not put the fixed row back in the queue."""
    raw = plain(row.values)
    # The entity and position are the connector's words, but may carry the sender's (an MES
    # record_type): plain text columns, where PostgreSQL refuses U+0000.
    entity = row.entity.replace("\x00", "\\0")[:40]
    position = row.position.replace("\x00", "\\0")[:100]
    already = session.scalars(
        select(QuarantinedRow.id).where(
            QuarantinedRow.source_id == source.id,
            QuarantinedRow.entity == entity,
            QuarantinedRow.raw == raw,
        )
    ).first()
    if already is not None:
        return None
    item = QuarantinedRow(
        run_id=run.id,
        source_id=source.id,
        entity=entity,
        position=position,
        raw=raw,
        reasons=[p.as_dict() for p in problems],
        status=QuarantineStatus.OPEN,
        created_at=clock.now(),
    )
    session.add(item)
    return item


def _store(
    connector: Connector, ctx: StoreContext, run: ImportRun, row: SourceRow, checked: Checked
) -> Stored:
    """One accepted row written, with the lineage of its corrections (in the row's savepoint:
    a row refused by the database leaves no lineage behind)."""
    stored = connector.store(ctx, row.entity, checked)
    if stored.problems or stored.duplicate:
        return stored
    for c in checked.corrections:
        ctx.session.add(
            Lineage(
                run_id=run.id,
                entity=row.entity,
                entity_id=stored.entity_id or 0,
                field=c.field,
                original=c.original,
                corrected=c.corrected,
                rule=c.rule,
            )
        )
    return stored


def _apply(
    session: Session,
    connector: Connector,
    run: ImportRun,
    source: DataSource,
    rows: list[SourceRow],
    tally: _Tally,
    delays: list[float],
    progress: Progress | None,
    actor: Actor,
) -> list[QuarantinedRow]:
    ctx = Context(now=clock.now(), source_timezone=source.mapping.get("timezone"))
    store_ctx = StoreContext(session, run.id, source.id, run.received_at, source.mapping, actor)
    quarantined: list[QuarantinedRow] = []
    # Natural key → (position, values) of the first row with that key in this delivery.
    seen: dict[tuple[str, tuple[Any, ...]], tuple[str, dict[str, Any]]] = {}

    def keep(row: SourceRow, problems: list[Any]) -> None:
        item = _quarantine(session, run, source, row, problems)
        if item is None:
            tally.duplicate += 1
        else:
            quarantined.append(item)
            tally.quarantined += 1

    def take(row: SourceRow, alone: bool) -> None:
        nul = nul_problems(row.values)
        if nul:
            keep(row, nul)
            return
        spec = connector.specs.get(row.entity)
        if spec is None:
            keep(
                row,
                [
                    Problem(
                        "entity", "unknown_entity", f"this source does not deliver {row.entity!r}"
                    )
                ],
            )
            return
        checked = check(spec, row.values, ctx)
        # Completeness is about what the entity requires: an optional field (the place a
        # topic names, a humidity a logger doesn't measure) left out is not a gap.
        required = [f.name for f in spec.fields if f.required]
        tally.expected += len(required)
        tally.present += sum(1 for name in required if checked.values.get(name) is not None)
        if not checked.ok:
            keep(row, checked.problems)
            return
        key = (row.entity, checked.key(spec))
        if key in seen:
            first_position, first_values = seen[key]
            if first_values == checked.values:
                tally.duplicate += 1
            else:
                # Same identity, different values: the later row is quarantined so that
                # the conflict is seen and decided by a person, not merged silently.
                keep(
                    row,
                    [
                        Problem(
                            ",".join(spec.natural_key),
                            "conflicting_row",
                            f"{first_position} of this delivery has the same "
                            f"{', '.join(spec.natural_key)} with different values",
                        )
                    ],
                )
            return
        if alone:
            stored = guarded(session, lambda: _store(connector, store_ctx, run, row, checked))
        else:
            stored = _store(connector, store_ctx, run, row, checked)
        seen[key] = (row.position, checked.values)
        if stored.problems:
            keep(row, stored.problems)
        elif stored.duplicate:
            tally.duplicate += 1
        else:
            tally.accepted += 1
            if checked.corrections:
                tally.corrected += 1
            if stored.measured_at is not None:
                delays.append((run.received_at - stored.measured_at).total_seconds())

    def take_alone(row: SourceRow) -> None:
        try:
            take(row, alone=True)
        except Exception as err:
            if transient(err):
                raise  # the database, not the row: the whole delivery is retried
            code = STORAGE_REFUSED if isinstance(err, sa_exc.DBAPIError) else UNREADABLE_ROW
            what = "the database refused it" if code == STORAGE_REFUSED else "it can't be read"
            keep(row, [Problem("row", code, f"{what} ({describe(err)})")])

    def take_all(chunk: list[SourceRow]) -> None:
        for row in chunk:
            take(row, alone=False)

    # A savepoint per row costs a few times the row's own insert; so rows go in chunks, each
    # in one savepoint, and only a chunk in which some row fails is rolled back and taken
    # again row by row, each row in its own savepoint (then the failing one is quarantined).
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        counted, held, timed, keys = replace(tally), len(quarantined), len(delays), set(seen)
        try:
            guarded(session, partial(take_all, chunk))
        except Exception as err:
            if transient(err):
                raise
            vars(tally).update(vars(counted))
            del quarantined[held:], delays[timed:]
            for key in set(seen) - keys:
                del seen[key]
            for row in chunk:
                take_alone(row)
        if progress:
            progress(len(chunk))
    return quarantined


def _open_run(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    content: bytes,
    filename: str,
    source_code: str | None,
) -> tuple[Connector, DataSource, ImportRun]:
    actor.require("data.ingest", "deliver data")
    connector = connector_for(kind)
    source = (
        get_source(session, source_code)
        if source_code
        else default_source(session, kind, actor=actor)
    )
    if source.kind != kind:
        raise InvalidInput(
            f"source {source.code} delivers {source.kind}, not {kind}", field="source"
        )
    if not source.active:
        raise Conflict(f"source {source.code} is deactivated")
    run = ImportRun(
        status=RunStatus.RECEIVED,
        source_id=source.id,
        kind=kind,
        entity=",".join(sorted(connector.specs)),
        # PostgreSQL can't store U+0000 in text; an uploaded file's name may hold one.
        filename=filename.replace("\x00", "\ufffd")[:300],
        content_sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        channel=str(actor.channel),
        received_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"delivery from {source.code}"):
        session.add(run)
    return connector, source, run


def _refuse(session: Session, run: ImportRun, *, actor: Actor, reason: str) -> ImportRun:
    with audit.changes(session, actor=actor, reason=reason, action="refuse"):
        run.status = RunStatus.REFUSED
        run.refused_reason = reason
        run.finished_at = clock.now()
    return run


def refuse_delivery(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    filename: str,
    reason: str,
    source_code: str | None = None,
) -> ImportRun:
    """Record a delivery that could not even be read as bytes (a directory named as the file,
    a file without read permission): refused like an unreadable document, so it is on record."""
    _connector, _source, run = _open_run(
        session, actor=actor, kind=kind, content=b"", filename=filename, source_code=source_code
    )
    return _refuse(session, run, actor=actor, reason=reason)


def ingest(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    content: bytes,
    filename: str = "",
    source_code: str | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Take one delivery. Returns the run; ``run.status`` is ``refused`` (with the reason) when
    the whole delivery could not be read, which the caller reports as an error after commit."""
    connector, source, run = _open_run(
        session,
        actor=actor,
        kind=kind,
        content=content,
        filename=filename,
        source_code=source_code,
    )
    limit = get_settings().max_upload_bytes
    try:
        if len(content) > limit:
            raise DocumentRefused(f"the delivery is {len(content):,} bytes; the limit is {limit:,}")
        rows = list(connector.rows(content, source.mapping))
    except DocumentRefused as refusal:
        return _refuse(session, run, actor=actor, reason=refusal.detail)
    except Exception as err:
        return _refuse(
            session, run, actor=actor, reason=f"the document can't be read ({describe(err)})"
        )
    tally = _Tally()
    delays: list[float] = []
    # Quarantined rows are audited records: attributed to the delivering actor.
    with audit.changes(session, actor=actor, reason=f"governance of {run.number}"):
        _apply(session, connector, run, source, rows, tally, delays, progress, actor)
    with audit.changes(session, actor=actor, reason="delivery processed", action="complete"):
        run.status = RunStatus.COMPLETED
        run.finished_at = clock.now()
        run.rows_total = len(rows)
        run.rows_accepted = tally.accepted
        run.rows_corrected = tally.corrected
        run.rows_duplicate = tally.duplicate
        run.rows_quarantined = tally.quarantined
        run.fields_expected = tally.expected
        run.fields_present = tally.present
        run.delay_p50_seconds = statistics.median(delays) if delays else None
        run.max_delay_seconds = max(delays) if delays else None
    if tally.accepted or tally.quarantined:
        # Quarantined rows too: an impossible sensor value is itself something to act on.
        delivery_completed(session, kind, run.id)
    return run


def replay(
    session: Session, *, actor: Actor, row_id: int, corrected: dict[str, Any], reason: str
) -> ImportRun:
    """A person corrects a quarantined row and replays it through the same governance. If it
    still fails, nothing changes and the remaining problems are returned as the error."""
    actor.require("data.ingest", "replay quarantined rows")
    if not reason.strip():
        raise InvalidInput("say why the row is corrected", field="reason")
    item = session.get(QuarantinedRow, row_id)
    if item is None:
        raise NotFound(f"no quarantined row {row_id}")
    if item.status != QuarantineStatus.OPEN:
        raise Conflict(f"quarantined row {row_id} is {item.status} already")
    source = session.get(DataSource, item.source_id)
    assert source is not None
    connector = connector_for(source.kind)
    spec = connector.specs.get(item.entity)
    if spec is None:
        raise InvalidInput(f"{source.kind} sources do not deliver {item.entity!r}")
    nul = nul_problems(corrected)
    if nul:
        raise InvalidInput(nul[0].message, field=nul[0].field)
    checked = check(
        spec, corrected, Context(now=clock.now(), source_timezone=source.mapping.get("timezone"))
    )
    if not checked.ok:
        raise InvalidInput(
            "the corrected row still fails: " + "; ".join(p.message for p in checked.problems),
            reasons=[p.message for p in checked.problems],
        )
    now = clock.now()
    run = ImportRun(
        status=RunStatus.RECEIVED,
        source_id=source.id,
        kind=source.kind,
        entity=item.entity,
        filename=f"replay of quarantined row {item.id}",
        content_sha256=hashlib.sha256(repr(sorted(plain(corrected).items())).encode()).hexdigest(),
        size_bytes=0,
        channel=str(actor.channel),
        received_at=now,
    )
    with audit.changes(session, actor=actor, reason=reason):
        session.add(run)
        try:
            stored = connector.store(
                StoreContext(session, run.id, source.id, now, source.mapping, actor),
                item.entity,
                checked,
            )
        except QMSError:
            raise
        except Exception as err:
            if transient(err):
                raise
            # The caller's unit of work rolls everything back: the row stays quarantined.
            raise InvalidInput(
                f"the corrected row can't be stored ({describe(err)})", field="values"
            ) from None
        if stored.problems:
            raise InvalidInput(
                "the corrected row is still refused: "
                + "; ".join(p.message for p in stored.problems),
                reasons=[p.message for p in stored.problems],
            )
        for c in checked.corrections:
            session.add(
                Lineage(
                    run_id=run.id,
                    entity=item.entity,
                    entity_id=stored.entity_id or 0,
                    field=c.field,
                    original=c.original,
                    corrected=c.corrected,
                    rule=c.rule,
                )
            )
    with audit.changes(session, actor=actor, reason=reason, action="replay"):
        item.status = QuarantineStatus.REPLAYED
        item.corrected = plain(corrected)
        item.resolved_at = now
        item.resolved_by_id = actor.user_id
        item.replay_run_id = run.id
        run.status = RunStatus.COMPLETED
        run.finished_at = now
        run.rows_total = 1
        run.rows_accepted = 0 if stored.duplicate else 1
        run.rows_duplicate = 1 if stored.duplicate else 0
        run.rows_corrected = 1
    return run


def discard(session: Session, *, actor: Actor, row_id: int, reason: str) -> QuarantinedRow:
    """Judge a quarantined row not to be data (a test message, a duplicate sent by hand). It is
    kept, with who decided and why."""
    actor.require("data.ingest", "discard quarantined rows")
    if not reason.strip():
        raise InvalidInput("say why the row is discarded", field="reason")
    item = session.get(QuarantinedRow, row_id)
    if item is None:
        raise NotFound(f"no quarantined row {row_id}")
    if item.status != QuarantineStatus.OPEN:
        raise Conflict(f"quarantined row {row_id} is {item.status} already")
    with audit.changes(session, actor=actor, reason=reason, action="discard"):
        item.status = QuarantineStatus.DISCARDED
        item.resolved_at = clock.now()
        item.resolved_by_id = actor.user_id
    return item
