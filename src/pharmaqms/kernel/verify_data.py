"""``audit verify`` for what is not a record: the sealed GxP data rows (each seal entry's
ids and digest recomputed from the rows as they stand) and, on SQLite, the text of every
stored timestamp (a time rewritten in another offset, or in another layout, compares wrongly
as text and drops out of time-filtered queries; it must be the one canonical UTC form)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.db import UTCDateTime
from pharmaqms.kernel.records import AUDITED_TYPES, SEALED_MODELS
from pharmaqms.kernel.sealing import digest_line, id_ranges, row_hash

Progress = Callable[[str, int], None]
# What one finding lists of the rows it concerns; the count says how many there are in all.
_SHOWN_RANGES = 5


@dataclass(frozen=True)
class DataFinding:
    kind: str
    message: str
    table: str
    row_id: int | None
    seq: int | None


@dataclass
class Seal:
    seq: int
    table: str
    ranges: list[tuple[int, int]]
    rows: int
    digest: str
    hasher: Any = field(default_factory=hashlib.sha256)
    seen: int = 0
    missing: list[int] = field(default_factory=list)


def parse_seal(seq: int, changes: Any) -> Seal | None:
    """A seal entry's details; None when they are not what the application writes (the
    entry's own hash reports that tampering already)."""
    try:
        details = json.loads(changes)
        ranges = [(int(lo), int(hi)) for lo, hi in details["ids"]]
        return Seal(seq, str(details["table"]), ranges, int(details["rows"]), details["digest"])
    except (TypeError, ValueError, KeyError):
        return None


def _shown(ids: list[int]) -> str:
    ranges = id_ranges(sorted(ids))
    text = ", ".join(f"{lo}" if lo == hi else f"{lo}–{hi}" for lo, hi in ranges[:_SHOWN_RANGES])
    return text + (" …" if len(ranges) > _SHOWN_RANGES else "")


def _rows(session: Session, table: Table) -> Iterator[Any]:
    result = (
        session.connection()
        .execution_options(yield_per=5000)
        .execute(select(table).order_by(table.c.id))
        .mappings()
    )
    for partition in result.partitions():
        yield from partition


def check_table(
    session: Session, table: Table, seals: list[Seal], tick: Progress
) -> tuple[int, list[DataFinding]]:
    """Walk the table's rows in id order beside its seals' id ranges, also in order."""
    intervals = sorted(
        ((lo, hi, seal) for seal in seals for lo, hi in seal.ranges), key=lambda i: (i[0], i[1])
    )
    at = 0
    expected = intervals[0][0] if intervals else 0
    unsealed: list[int] = []
    count = 0

    def close(upto: int) -> None:  # ids of the current interval not seen, up to ``upto``
        _lo, hi, seal = intervals[at]
        if expected <= min(hi, upto):
            seal.missing.extend(range(expected, min(hi, upto) + 1))

    for row in _rows(session, table):
        row_id = row["id"]
        count += 1
        while at < len(intervals) and intervals[at][1] < row_id:
            close(intervals[at][1])
            at += 1
            if at < len(intervals):
                expected = intervals[at][0]
        if at < len(intervals) and intervals[at][0] <= row_id:
            seal = intervals[at][2]
            if row_id > expected:
                close(row_id - 1)
            expected = row_id + 1
            seal.hasher.update(digest_line(row_id, row_hash(row)))
            seal.seen += 1
        else:
            unsealed.append(row_id)
        if count % 5000 == 0:
            tick("data", 5000)
    while at < len(intervals):
        close(intervals[at][1])
        at += 1
        if at < len(intervals):
            expected = intervals[at][0]
    tick("data", count % 5000)
    return count, _table_findings(table.name, seals, unsealed)


def _table_findings(name: str, seals: list[Seal], unsealed: list[int]) -> list[DataFinding]:
    found: list[DataFinding] = []
    for seal in seals:
        if seal.missing:
            found.append(
                DataFinding(
                    "data_missing",
                    f"{len(seal.missing)} row(s) of {name} sealed by entry {seal.seq} are gone "
                    f"(ids {_shown(seal.missing)}): deleted behind the application's back",
                    name,
                    seal.missing[0],
                    seal.seq,
                )
            )
        elif seal.seen != seal.rows or seal.hasher.hexdigest() != seal.digest:
            first = seal.ranges[0][0] if seal.ranges else None
            found.append(
                DataFinding(
                    "data_altered",
                    f"rows of {name} sealed by entry {seal.seq} (ids "
                    f"{_shown([i for lo, hi in seal.ranges for i in (lo, hi)])}) no longer "
                    "match their seal: changed behind the application's back",
                    name,
                    first,
                    seal.seq,
                )
            )
    if unsealed:
        found.append(
            DataFinding(
                "data_without_audit",
                f"{len(unsealed)} row(s) of {name} (ids {_shown(unsealed)}) were never sealed "
                "into the audit trail: inserted behind the application's back",
                name,
                unsealed[0],
                None,
            )
        )
    return found


_EXISTS_PER_STATEMENT = 100  # well under SQLite's 500 terms of one compound SELECT


def non_empty_tables(session: Session, names: Iterable[str]) -> set[str]:
    """Which of these tables hold at least one row, in a statement per hundred tables rather
    than a query each: most of a young installation's tables are empty, and verify used to pay
    a round trip and a result for every one of them."""
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    wanted = sorted(set(names))
    found: set[str] = set()
    for start in range(0, len(wanted), _EXISTS_PER_STATEMENT):
        chunk = wanted[start : start + _EXISTS_PER_STATEMENT]
        # Table names from the application's own metadata, never from outside.
        sql = " UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {quote(name)})" for i, name in enumerate(chunk)
        )
        found.update(chunk[i] for (i,) in conn.exec_driver_sql(sql))
    return found


def check_sealed_data(
    session: Session, seals: dict[str, list[Seal]], tick: Progress
) -> tuple[int, list[DataFinding]]:
    rows = 0
    found: list[DataFinding] = []
    filled = non_empty_tables(session, SEALED_MODELS)
    for name, model in sorted(SEALED_MODELS.items()):
        table: Table = model.__table__  # type: ignore[attr-defined]
        if name not in filled and name not in seals:
            continue  # no row and no seal: nothing to compare
        count, table_findings = check_table(session, table, seals.pop(name, []), tick)
        rows += count
        found.extend(table_findings)
    for name, unknown in sorted(seals.items()):
        found.append(
            DataFinding(
                "record_type_unknown",
                f"entries {_shown([s.seq for s in unknown])} seal rows of {name}, a table this "
                "process does not know, so they could not be checked",
                name,
                None,
                unknown[0].seq,
            )
        )
    return rows, found


# The text SQLAlchemy stores for a UTC timestamp on SQLite: '2026-03-02 09:00:00.000000'.
_CANONICAL_STAMP = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"  # noqa: E501


def _timestamped_tables() -> list[Table]:
    from pharmaqms.kernel.models import AuditEntry, ElectronicSignature

    models: list[Any] = [AuditEntry, ElectronicSignature, *AUDITED_TYPES.values()]
    models.extend(SEALED_MODELS.values())
    tables = {m.__table__.name: m.__table__ for m in models}
    return [tables[name] for name in sorted(tables)]


def check_timestamps(
    session: Session, entry_stamps: list[tuple[Any, Any]] | None = None
) -> list[DataFinding]:
    """SQLite only (PostgreSQL's timestamptz compares by instant whatever was written).
    ``entry_stamps``: the audit entries' times found not canonical while the chain was
    read (the first six, with their sequence numbers), so that the trail is not scanned a
    second time; None to scan it here."""
    if session.get_bind().dialect.name != "sqlite":
        return []
    found: list[DataFinding] = []
    tables = _timestamped_tables()
    filled = non_empty_tables(session, (t.name for t in tables))
    for table in tables:
        if table.name not in filled:
            continue
        key = "seq" if table.name == "audit_entries" else "id"
        for column in table.columns:
            if not isinstance(column.type, UTCDateTime):
                continue
            if entry_stamps is not None and (table.name, column.name) == (
                "audit_entries",
                "occurred_at",
            ):
                rows: list[Any] = list(entry_stamps[:6])
            else:
                # Plain SQL: the point is the stored text, which SQLAlchemy's type would parse.
                rows = list(
                    session.connection().exec_driver_sql(
                        f"SELECT {key}, {column.name} FROM {table.name} WHERE {column.name} "
                        f"IS NOT NULL AND (typeof({column.name}) != 'text' OR "
                        f"length({column.name}) != 26 OR {column.name} NOT GLOB "
                        f"'{_CANONICAL_STAMP}') ORDER BY {key} LIMIT 6"
                    )
                )
            if not rows:
                continue
            ids = [r[0] for r in rows]
            found.append(
                DataFinding(
                    "timestamp_not_canonical",
                    f"{table.name}.{column.name} of {_shown(ids)}"
                    f"{' and more' if len(rows) > 5 else ''} is stored as {rows[0][1]!r}, not "
                    "in the canonical UTC form: rewritten behind the application's back "
                    "(it compares wrongly and drops out of time-filtered queries)",
                    table.name,
                    None if key == "seq" else ids[0],
                    ids[0] if key == "seq" else None,
                )
            )
    return found
