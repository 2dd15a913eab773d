"""Backup and restore (Annex 11 §7.2): every table, in dependency order, into one zip file
with a manifest of row counts and checksums. The format is database-neutral, so a backup of
the SQLite default restores into PostgreSQL and the other way round; a restore into an empty
database passes ``audit verify`` with the same record and audit counts.

A table's member holds one JSON object per record, each ended by a line feed and split at
line feeds only. JSON escapes a line feed inside a value, so it never occurs within a record;
the other characters Unicode treats as line boundaries (U+0085, U+2028, U+2029, U+001C–U+001E)
may, and a reader that splits where ``str.splitlines`` does cuts such a record in two.

A restore is all or nothing: the schema and every row are written in one transaction (DDL is
transactional on SQLite and PostgreSQL), so a restore that fails half-way leaves the new
database as it found it: without tables, and so without rows."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    Numeric,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.types import LargeBinary

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Base, JSONText, UTCDateTime
from pharmaqms.kernel.errors import Conflict, DocumentRefused
from pharmaqms.kernel.migrate import upgrade_in

FORMAT = "pharmaqms-backup/1"
CHAIN_HEAD = "audit_chain_head"
BATCH = 2000  # rows per INSERT on restore, and per write into the archive on backup
Progress = Callable[[str, int], None]


def _tables() -> list[Table]:
    # Every table the process has loaded: entry points load them all (pharmaqms.schema)
    # before they back up or restore.
    return list(Base.metadata.sorted_tables)


def _member(table_name: str) -> str:
    return f"tables/{table_name}.jsonl"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _decode(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return Decimal(value) if getattr(column_type, "asdecimal", True) else float(value)
    if isinstance(column_type, LargeBinary):
        return bytes.fromhex(value)
    return value


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    for row in conn.execute(select(table).order_by(*order)).mappings():
        yield {key: _encode(value) for key, value in row.items()}


def _write_table(conn: Connection, table: Table, out: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    chunk: list[bytes] = []
    for row in _rows(conn, table):
        chunk.append((json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n").encode())
        count += 1
        if len(chunk) == BATCH:
            data = b"".join(chunk)
            out.write(data)
            digest.update(data)
            chunk.clear()
    data = b"".join(chunk)
    out.write(data)
    digest.update(data)
    return count, digest.hexdigest()


def backup(engine: Engine, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    tick = progress or (lambda _t, _n: None)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "source_dialect": engine.dialect.name,
        "tables": {},
    }
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        # One read transaction: a consistent snapshot of every table.
        with engine.connect() as conn, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            for table in _tables():
                with archive.open(_member(table.name), "w", force_zip64=True) as out:
                    count, sha256 = _write_table(conn, table, out)
                manifest["tables"][table.name] = {"rows": count, "sha256": sha256}
                tick(table.name, count)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written backup left beside the real ones
        raise
    tmp.replace(path)
    return manifest


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise DocumentRefused("not a pharmaqms backup: manifest.json is missing") from None
    except ValueError as err:
        raise DocumentRefused(f"the backup manifest is not valid JSON: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise DocumentRefused(f"unknown backup format {found!r}; expected {FORMAT}")
    return manifest


def _expected(manifest: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Each table's row count and checksum as the manifest gives them."""
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise DocumentRefused("the backup manifest lists no tables")
    unknown = sorted(set(tables) - {t.name for t in _tables()})
    if unknown:
        raise DocumentRefused(
            f"the backup has tables this version does not know: {', '.join(unknown)}"
        )
    expected = {}
    for name, meta in tables.items():
        rows = meta.get("rows") if isinstance(meta, dict) else None
        sha256 = meta.get("sha256") if isinstance(meta, dict) else None
        if type(rows) is not int or not isinstance(sha256, str):
            raise DocumentRefused(f"the backup manifest's entry for table {name} is malformed")
        expected[name] = (rows, sha256)
    return expected


def _checksum(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    try:
        with archive.open(_member(name)) as member:
            while block := member.read(1 << 20):
                digest.update(block)
    except KeyError:
        raise DocumentRefused(f"the backup lacks the table {name} its manifest lists") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DocumentRefused(f"the backup's table {name} can't be read: {err}") from None
    return digest.hexdigest()


def _is_empty(conn: Connection) -> list[str]:
    busy = []
    for table in _tables():
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if table.name == CHAIN_HEAD:
            seq = conn.execute(select(table.c.seq)).scalar()
            if seq:
                busy.append(table.name)
        elif count:
            busy.append(table.name)
    return busy


def _record(table: Table, line: bytes, number: int) -> dict[str, Any]:
    where = f"the backup's table {table.name}, line {number},"
    if not line.endswith(b"\n"):
        raise DocumentRefused(f"{where} is cut off (no line feed at its end)")
    try:
        row = json.loads(line)
    except ValueError as err:  # UnicodeDecodeError included
        raise DocumentRefused(f"{where} is not a JSON record: {err}") from None
    if not isinstance(row, dict):
        raise DocumentRefused(f"{where} is not a JSON record: {type(row).__name__}")
    unknown = sorted(set(row) - set(table.c.keys()))
    if unknown:
        raise DocumentRefused(
            f"{where} has columns this version does not know: {', '.join(unknown)}"
        )
    try:
        return {
            key: value
            if isinstance(table.c[key].type, JSONText)
            else _decode(table.c[key].type, value)
            for key, value in row.items()
        }
    except (TypeError, ValueError) as err:
        raise DocumentRefused(f"{where} holds a value of the wrong kind: {err}") from None


def _first_line(err: BaseException) -> str:
    found = str(getattr(err, "orig", None) or err).strip()
    return found.splitlines()[0] if found else type(err).__name__


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    try:
        if table.name == CHAIN_HEAD:
            for row in rows:  # the migrations wrote its genesis row
                conn.execute(update(table).where(table.c.id == row["id"]).values(**row))
        else:
            conn.execute(insert(table), rows)
    except sa_exc.StatementError as err:
        # A row the database refuses (a broken constraint; a value it can't hold, such as
        # text with NUL on PostgreSQL) or one the column types can't convert. A database
        # that failed for its own reasons (a lost connection) is not the backup's fault.
        if isinstance(err, sa_exc.DBAPIError) and not isinstance(
            err, sa_exc.IntegrityError | sa_exc.DataError
        ):
            raise
        raise DocumentRefused(
            f"the backup's table {table.name} can't be written: {_first_line(err)}"
        ) from None


def _self_references(table: Table) -> list[str]:
    return sorted(fk.parent.name for fk in table.foreign_keys if fk.column.table is table)


def _point(conn: Connection, table: Table, pointers: list[str], rows: list[dict[str, Any]]) -> None:
    """Write the held self-references (every row they point at is in the table now)."""
    if not rows:
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("_row_id"))
        .values({name: bindparam(name) for name in pointers})
    )
    for row in rows:
        # One row at a time: a refusal names the table, and few rows point at their own table.
        try:
            conn.execute(statement, row)
        except sa_exc.IntegrityError as err:
            raise DocumentRefused(
                f"the backup's table {table.name} can't be written: {_first_line(err)}"
            ) from None


def _restore_table(
    conn: Connection, archive: zipfile.ZipFile, table: Table, expected: tuple[int, str] | None
) -> int:
    if expected is None:
        return 0  # a table newer than the backup: it stays empty
    rows_expected, sha256 = expected
    digest = hashlib.sha256()
    count = 0
    batch: list[dict[str, Any]] = []
    # A row may point at a later row of its own table (a regulation superseded by a newer
    # edition, a batch step entry replaced by its correction): such columns are written
    # once every row of the table is in.
    pointers = _self_references(table)
    later: list[dict[str, Any]] = []
    with archive.open(_member(table.name)) as member:
        # Binary lines: split at b"\n" only (see the module's docstring).
        for line in member:
            digest.update(line)
            count += 1
            row = _record(table, line, count)
            held = {name: row[name] for name in pointers if row.get(name) is not None}
            if held:
                later.append({"_row_id": row["id"], **{name: None for name in pointers}, **held})
                row.update(dict.fromkeys(held))
            batch.append(row)
            if len(batch) == BATCH:
                _insert(conn, table, batch)
                batch = []
    _insert(conn, table, batch)
    _point(conn, table, pointers, later)
    if digest.hexdigest() != sha256:  # the file changed since its checksum was checked
        raise DocumentRefused(f"the backup's table {table.name} does not match its checksum")
    if count != rows_expected:
        raise DocumentRefused(
            f"the backup's table {table.name} has {count} rows; its manifest says {rows_expected}"
        )
    return count


def restore(engine: Engine, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Restore into a new database, all or nothing: the schema (unless it is there already,
    migrated and empty) and every row in one transaction. Refused, and nothing left behind,
    when the file is not an intact backup or the database holds data."""
    tick = progress or (lambda _t, _n: None)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DocumentRefused(f"{path} is not a zip file") from None
    with archive:
        manifest = _read_manifest(archive)
        expected = _expected(manifest)
        # Every checksum before the database is touched: a damaged file creates nothing.
        for name, (_rows, sha256) in expected.items():
            if _checksum(archive, name) != sha256:
                raise DocumentRefused(f"the backup's table {name} does not match its checksum")
        with engine.begin() as conn:
            upgrade_in(conn)
            busy = _is_empty(conn)
            if busy:
                raise Conflict(
                    "restore needs an empty database; these tables hold data: " + ", ".join(busy)
                )
            for table in _tables():
                tick(table.name, _restore_table(conn, archive, table, expected.get(table.name)))
            if engine.dialect.name == "postgresql":
                for table in _tables():
                    if "id" in table.c and isinstance(table.c.id.type, Integer):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                            )
                        )
    return manifest
