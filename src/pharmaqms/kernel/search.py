"""The global search: a record found by its number (DEV-2026-0040) or by the words of its title
and text, over every registered record type the person may read.

Two passes, exact number first: a number names one record, so it leads the results; then every
word typed must appear (case-insensitive, anywhere) in one of the type's text fields. The text
fields are the type's ``searchable`` attributes plus its title, description and summary where the
model has them, and only plain text columns: an encrypted field (the lab notebook's ciphertext,
stored as bytes) or a JSON column is never searched, so nothing secret leaks through a match.
A type behind a read permission of its own (the lab notebook: ``rnd.read``) is searched only for
someone who holds it. LIKE/ILIKE on both databases: at a quality department's size (tens of
thousands of records) a scan per type answers in milliseconds; a tsvector or FTS5 index is the
step beyond."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES, RecordType

MAX_QUERY = 200
MAX_WORDS = 8
# Fields searched by words whenever a model has them, beside its declared ``searchable``.
TEXT_FIELDS = ("title", "description", "summary", "name")


@dataclass(frozen=True)
class Hit:
    record_type: RecordType
    record: GxPRecord
    exact_number: bool

    @property
    def number(self) -> str:
        return str(getattr(self.record, "number", "") or "")

    @property
    def title(self) -> str:
        for name in ("title", "name", "summary", "subject", "product"):
            value = getattr(self.record, name, None)
            if isinstance(value, str) and value and self._field_is_text(name):
                return value
        return self.record.audit_label()

    def _field_is_text(self, name: str) -> bool:
        return name in text_fields(self.record_type)


def readable_types(actor: Actor) -> list[RecordType]:
    """The record types whose records ``actor`` may read, by label."""
    if not actor.can("records.read"):
        return []
    return sorted(
        (
            rt
            for rt in RECORD_TYPES.values()
            if rt.read_permission is None or actor.can(rt.read_permission)
        ),
        key=lambda rt: rt.label,
    )


def text_fields(rt: RecordType) -> list[str]:
    """The plain text columns of the type searched by words (never bytes, never JSON)."""
    model: Any = rt.model
    columns = model.__table__.columns
    found: list[str] = []
    for name in (*rt.searchable, *TEXT_FIELDS):
        column = columns.get(name)
        if column is None or name in found or name.endswith("_ct"):
            continue
        # A TypeDecorator (JSON text, encrypted text) is not a String instance: left out.
        if isinstance(column.type, String):
            found.append(name)
    return found


def words_of(text: str) -> list[str]:
    return [w for w in text[:MAX_QUERY].split() if w][:MAX_WORDS]


def search_records(session: Session, actor: Actor, text: str, *, limit: int = 50) -> list[Hit]:
    """What ``actor`` may read that matches ``text``: exact numbers first, then word matches
    (newest first within a type), at most ``limit`` in all."""
    text = text.strip()[:MAX_QUERY]
    words = words_of(text)
    if not words:
        return []
    types = readable_types(actor)
    hits: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    number = text.upper()
    for rt in types:
        model: Any = rt.model
        if "number" not in model.__table__.columns:
            continue
        for record in session.scalars(
            select(model).where(func.upper(model.number) == number).limit(limit)
        ):
            hits.append(Hit(rt, record, True))
            seen.add((rt.name, record.id))
    for rt in types:
        if len(hits) >= limit:
            break
        model = rt.model
        fields = text_fields(rt)
        if not fields:
            continue
        condition = and_(
            *(
                or_(*(getattr(model, f).icontains(w, autoescape=True) for f in fields))
                for w in words
            )
        )
        query = select(model).where(condition).order_by(model.id.desc()).limit(limit - len(hits))
        for record in session.scalars(query):
            if (rt.name, record.id) not in seen:
                hits.append(Hit(rt, record, False))
                seen.add((rt.name, record.id))
    return hits[:limit]
