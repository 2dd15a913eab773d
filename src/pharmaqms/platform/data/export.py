"""Export of any data-service query to CSV or Parquet, streamed in batches so a year of sensor
readings never sits in memory at once. Parquet keeps the types (UTC timestamps, dates,
numbers); CSV writes times as ISO 8601 in UTC. JSON columns (reactions, reasons) are written
as JSON text in both. Every export is recorded in the audit trail: who took which data out,
with which filters (ALCOA+: attributable, and the trail shows what left the system)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.data.query import Entity, ValueKind, stream


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
}

ARROW_TYPES: dict[ValueKind, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}


@dataclass(frozen=True)
class ExportResult:
    rows: int
    format: ExportFormat


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def write_csv(entity: Entity, batches: Iterable[list[dict[str, Any]]], out: IO[str]) -> int:
    names = [c.name for c in entity.columns]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    total = 0
    for batch in batches:
        writer.writerows([[_cell(row[n]) for n in names] for row in batch])
        total += len(batch)
    return total


def arrow_schema(entity: Entity) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in entity.columns])


def _arrow_value(kind: ValueKind, value: Any) -> Any:
    if kind == "json" and value is not None:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind == "float" and value is not None:
        return float(value)
    return value


def write_parquet(
    entity: Entity, batches: Iterable[list[dict[str, Any]]], out: Path | IO[bytes]
) -> int:
    schema = arrow_schema(entity)
    kinds = [(c.name, c.kind) for c in entity.columns]
    total = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            columns = {
                name: [_arrow_value(kind, row[name]) for row in batch] for name, kind in kinds
            }
            writer.write_table(pa.table(columns, schema=schema))
            total += len(batch)
        if total == 0:
            writer.write_table(schema.empty_table())
    return total


def export(
    session: Session,
    *,
    actor: Actor,
    entity: Entity,
    filters: Mapping[str, str],
    fmt: ExportFormat,
    out: Path | IO[bytes],
) -> ExportResult:
    """Write every row the query finds to ``out`` and record the export in the audit trail."""
    actor.require("data.export", f"export {entity.title.lower()}")
    actor.require(entity.permission, f"read {entity.title.lower()}")
    batches = stream(session, entity, filters)
    if fmt == ExportFormat.CSV:
        if isinstance(out, Path):
            with out.open("w", encoding="utf-8", newline="") as text:
                rows = write_csv(entity, batches, text)
        else:
            wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
            rows = write_csv(entity, batches, wrapper)
            wrapper.detach()
    else:
        rows = write_parquet(entity, batches, out)
    audit.record_event(
        session,
        actor=actor,
        action="data_export",
        record_type="data_export",
        record_label=f"{entity.name} export",
        details={"entity": entity.name, "filters": dict(filters), "format": str(fmt), "rows": rows},
    )
    return ExportResult(rows, fmt)
