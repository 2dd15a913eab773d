"""Backup and restore (Annex 11 §7.2): every table, in dependency order, into one zip file
with a manifest of row counts and checksums. The format is database-neutral, so a backup of
the SQLite default restores into PostgreSQL and the other way round; a restore into an empty
database passes ``audit verify`` with the same record and audit counts."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    Numeric,
    Table,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.types import LargeBinary

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Base, JSONText, UTCDateTime
from pharmaqms.kernel.errors import Conflict, DocumentRefused

FORMAT = "pharmaqms-backup/1"
CHAIN_HEAD = "audit_chain_head"
Progress = Callable[[str, int], None]


def _tables() -> list[Table]:
    # Every table the process has loaded: entry points load them all (pharmaqms.schema)
    # before they back up or restore.
    return list(Base.metadata.sorted_tables)


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


def backup(engine: Engine, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    tick = progress or (lambda _t, _n: None)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "source_dialect": engine.dialect.name,
        "tables": {},
    }
    tmp = path.with_suffix(path.suffix + ".part")
    # One read transaction: a consistent snapshot of every table.
    with engine.connect() as conn, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for table in _tables():
            digest = hashlib.sha256()
            count = 0
            buffer = io.StringIO()
            for row in _rows(conn, table):
                line = json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"
                buffer.write(line)
                digest.update(line.encode())
                count += 1
            archive.writestr(f"tables/{table.name}.jsonl", buffer.getvalue())
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
            tick(table.name, count)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(path)
    return manifest


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise DocumentRefused("not a pharmaqms backup: manifest.json is missing") from None
    except ValueError as err:
        raise DocumentRefused(f"the backup manifest is not valid JSON: {err}") from None
    if manifest.get("format") != FORMAT:
        raise DocumentRefused(
            f"unknown backup format {manifest.get('format')!r}; expected {FORMAT}"
        )
    return manifest  # type: ignore[no-any-return]


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


def restore(engine: Engine, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Restore into a migrated, empty database, all or nothing."""
    tick = progress or (lambda _t, _n: None)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DocumentRefused(f"{path} is not a zip file") from None
    with archive:
        manifest = _read_manifest(archive)
        tables = {t.name: t for t in _tables()}
        unknown = sorted(set(manifest["tables"]) - set(tables))
        if unknown:
            raise DocumentRefused(
                f"the backup has tables this version does not know: {', '.join(unknown)}"
            )
        # Check every checksum before writing anything.
        payload: dict[str, bytes] = {}
        for name, meta in manifest["tables"].items():
            data = archive.read(f"tables/{name}.jsonl")
            if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise DocumentRefused(f"the backup's table {name} does not match its checksum")
            payload[name] = data
        with engine.begin() as conn:
            busy = _is_empty(conn)
            if busy:
                raise Conflict(
                    "restore needs an empty database; these tables hold data: " + ", ".join(busy)
                )
            for table in _tables():
                data = payload.get(table.name, b"")
                rows = [json.loads(line) for line in data.decode().splitlines() if line]
                if len(rows) != manifest["tables"].get(table.name, {}).get("rows", 0):
                    raise DocumentRefused(
                        f"the backup's table {table.name} has the wrong row count"
                    )
                decoded = [
                    {
                        key: value
                        if isinstance(table.c[key].type, JSONText)
                        else _decode(table.c[key].type, value)
                        for key, value in row.items()
                    }
                    for row in rows
                ]
                if table.name == CHAIN_HEAD:
                    for row in decoded:
                        conn.execute(update(table).where(table.c.id == row["id"]).values(**row))
                elif decoded:
                    for start in range(0, len(decoded), 2000):
                        conn.execute(insert(table), decoded[start : start + 2000])
                tick(table.name, len(decoded))
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
