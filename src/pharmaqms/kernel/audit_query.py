"""Reading the audit trail: filtered, paged, and as CSV for an inspector."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.records import GxPRecord


@dataclass(frozen=True)
class AuditFilter:
    record_type: str | None = None
    record_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def record_by_number(session: Session, number: str) -> tuple[str, int] | None:
    """(audit type, id) of the quality record numbered ``number`` (DEV-2026-0040): an
    inspector quotes numbers, not internal ids. The model whose prefix the number carries is
    asked first; numbers a module forms its own way (an SOP's) are found by asking the rest."""
    number = number.strip()
    prefix = number.split("-", 1)[0].upper()
    models = [
        m.class_
        for m in Base.registry.mappers
        if isinstance(m.class_, type) and issubclass(m.class_, GxPRecord)
    ]
    models.sort(key=lambda model: (model.__number_prefix__ or "").upper() != prefix)
    for model in models:
        found = session.scalar(select(model.id).where(model.number == number))
        if found is not None:
            return model.__audit_type__, int(found)
    return None


def _apply(query: Select[tuple[AuditEntry]], f: AuditFilter) -> Select[tuple[AuditEntry]]:
    if f.record_type:
        query = query.where(AuditEntry.record_type == f.record_type)
    if f.record_id is not None:
        query = query.where(AuditEntry.record_id == f.record_id)
    if f.actor:
        query = query.where(AuditEntry.actor_username == f.actor)
    if f.action:
        query = query.where(AuditEntry.action.like(f"{f.action}%"))
    if f.since:
        query = query.where(AuditEntry.occurred_at >= f.since)
    if f.until:
        query = query.where(AuditEntry.occurred_at < f.until)
    if f.text:
        like = f"%{f.text}%"
        query = query.where(
            AuditEntry.record_label.ilike(like)
            | AuditEntry.reason.ilike(like)
            | AuditEntry.changes.ilike(like)
        )
    return query


def count_entries(session: Session, f: AuditFilter) -> int:
    base = _apply(select(AuditEntry), f).subquery()
    return int(session.scalar(select(func.count()).select_from(base)) or 0)


def find_entries(
    session: Session,
    f: AuditFilter,
    *,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = True,
) -> list[AuditEntry]:
    order = AuditEntry.seq.desc() if newest_first else AuditEntry.seq
    return list(
        session.scalars(_apply(select(AuditEntry), f).order_by(order).limit(limit).offset(offset))
    )


CSV_COLUMNS = (
    "seq",
    "occurred_at_utc",
    "user",
    "full_name",
    "channel",
    "action",
    "record_type",
    "record_id",
    "record",
    "field",
    "old_value",
    "new_value",
    "reason",
    "entry_hash",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # A cell starting with = + - @ would be run as a formula by a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_csv(entries: Iterable[AuditEntry]) -> str:
    """One row per changed field, so old and new values sit side by side."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        changes = json.loads(e.changes)
        fields = list(changes.items()) or [("", None)]
        for name, values in fields:
            old, new = values if isinstance(values, list) and len(values) == 2 else (None, values)
            writer.writerow(
                [
                    e.seq,
                    e.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    e.actor_username,
                    e.actor_name,
                    e.channel,
                    e.action,
                    e.record_type,
                    "" if e.record_id is None else e.record_id,
                    e.record_label,
                    name,
                    _cell(old),
                    _cell(new),
                    _cell(e.reason),
                    e.entry_hash,
                ]
            )
    return out.getvalue()
