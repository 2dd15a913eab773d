"""The audit trail in human terms: field labels instead of column names, people's names instead
of user ids, the number of a referenced record instead of its id, workflow words instead of
status codes, times through ``text.format_time``. The stored entry stays as it is (it is hashed
byte for byte); this is only how it is read, on screen and on paper alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column
from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel import workflow_steps
from pharmaqms.kernel.db import Base
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.reports.text import NOTHING, format_time, format_value, humanize

# What an entry holds that means nothing to a reader: the row's own internal id and the
# signature row's id (the signature itself is shown by meaning, signer and time).
HIDDEN = frozenset({"id", "signature_id"})
ACTIONS = {
    "create": "Created",
    "update": "Changed",
    "sign": "Signed",
    "link": "Linked",
    "export": "Exported",
    "retire": "Retired",
}
HASH_SHOWN = 12


@dataclass(frozen=True)
class HumanChange:
    field: str
    old: str
    new: str
    paired: bool  # False for an event's details, which have a value but no "before"


@dataclass(frozen=True)
class HumanEntry:
    seq: int
    when: str
    actor_name: str
    actor_username: str
    channel: str
    action: str
    action_code: str
    record_type: str
    record_type_label: str
    record_label: str
    changes: list[HumanChange]
    reason: str

    @property
    def who(self) -> str:
        return f"{self.actor_name} ({self.actor_username})"


def _models_by_audit_type() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for mapper in Base.registry.mappers:
        audit_type = getattr(mapper.class_, "__audit_type__", None)
        if isinstance(audit_type, str):
            found.setdefault(audit_type, mapper.class_)
    return found


def _models_by_table() -> dict[str, type[Any]]:
    return {
        str(getattr(m.class_, "__tablename__", "")): m.class_
        for m in Base.registry.mappers
        if getattr(m.class_, "__tablename__", None)
    }


class TrailReader:
    """Reads entries of one session; remembers the names and numbers it looked up."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._models = _models_by_audit_type()
        self._tables: dict[str, type[Any]] | None = None
        self._names: dict[tuple[str, int], str] = {}
        self._site_steps: dict[tuple[str, str], str | None] = {}

    # --- words for one record type -----------------------------------------------------------

    def type_label(self, record_type: str) -> str:
        registered = RECORD_TYPES.get(record_type)
        return registered.label if registered else humanize(record_type)

    def field_label(self, record_type: str, field: str) -> str:
        registered = RECORD_TYPES.get(record_type)
        if registered is not None:
            for name, heading in (*registered.detail_fields, *registered.list_columns):
                if name == field:
                    return heading
        return humanize(field)

    def action_label(self, record_type: str, action: str) -> str:
        if action.startswith("transition:"):
            name = action.split(":", 1)[1]
            registered = RECORD_TYPES.get(record_type)
            if registered is not None:
                for transition in registered.workflow.transitions:
                    if transition.name == name:
                        return transition.label
                step = (record_type, name)
                if step not in self._site_steps:
                    self._site_steps[step] = workflow_steps.label_of(
                        self.session, registered.workflow, name
                    )
                if (site := self._site_steps[step]) is not None:
                    return site
            return humanize(name)
        return ACTIONS.get(action, humanize(action.replace(":", " ")))

    def _rank(self, record_type: str, field: str) -> int:
        """Fields in the order the record's page shows them; the others after, as stored."""
        registered = RECORD_TYPES.get(record_type)
        names = [name for name, _ in registered.detail_fields] if registered else []
        return names.index(field) if field in names else len(names)

    # --- values ------------------------------------------------------------------------------

    def _column(self, record_type: str, field: str) -> Column[Any] | None:
        model = self._models.get(record_type)
        table = getattr(model, "__table__", None)
        column = table.c.get(field) if table is not None else None
        return column if isinstance(column, Column) else None

    def _referenced(self, table: str, key: int) -> str:
        """The name of a person or the number of a record a foreign key points at."""
        if (table, key) in self._names:
            return self._names[(table, key)]
        if table == User.__tablename__:
            user = self.session.get(User, key)
            name = f"{user.full_name} ({user.username})" if user else "an unknown user"
        else:
            if self._tables is None:
                self._tables = _models_by_table()
            model = self._tables.get(table)
            row = self.session.get(model, key) if model is not None else None
            label = getattr(row, "audit_label", None)
            name = str(label()) if callable(label) else f"a {humanize(table)} row"
        self._names[(table, key)] = name
        return name

    def value(self, record_type: str, field: str, value: Any) -> str:
        if value is None or value == "":
            return NOTHING
        column = self._column(record_type, field)
        if column is not None and column.foreign_keys and isinstance(value, int):
            return self._referenced(next(iter(column.foreign_keys)).column.table.name, value)
        registered = RECORD_TYPES.get(record_type)
        if field == "status" and registered is not None and isinstance(value, str):
            return registered.workflow.state_label(value)
        if field == "transition" and isinstance(value, str):
            return self.action_label(record_type, f"transition:{value}")
        if (
            field.endswith(("_hash", "_digest"))
            and isinstance(value, str)
            and len(value) > HASH_SHOWN
        ):
            return value[:HASH_SHOWN] + "…"
        return format_value(value)

    # --- entries -----------------------------------------------------------------------------

    def changes(self, entry: AuditEntry) -> list[HumanChange]:
        try:
            stored = json.loads(entry.changes)
        except ValueError:
            return [HumanChange("", "", entry.changes, paired=False)]
        if not isinstance(stored, dict):
            return [HumanChange("", "", format_value(stored), paired=False)]
        found = []
        kind = entry.record_type
        for name, values in sorted(stored.items(), key=lambda item: self._rank(kind, item[0])):
            if name in HIDDEN:
                continue
            label = self.field_label(kind, name)
            if isinstance(values, list) and len(values) == 2:
                old, new = values
                if old in (None, "", [], {}) and new in (None, "", [], {}):
                    continue  # a creation's empty fields say nothing
                found.append(
                    HumanChange(
                        label, self.value(kind, name, old), self.value(kind, name, new), True
                    )
                )
            else:
                found.append(HumanChange(label, "", self.value(kind, name, values), False))
        return found

    def entry(self, entry: AuditEntry) -> HumanEntry:
        return HumanEntry(
            seq=entry.seq,
            when=format_time(entry.occurred_at, seconds=True),
            actor_name=entry.actor_name,
            actor_username=entry.actor_username,
            channel=entry.channel,
            action=self.action_label(entry.record_type, entry.action),
            action_code=entry.action,
            record_type=entry.record_type,
            record_type_label=self.type_label(entry.record_type),
            record_label=entry.record_label,
            changes=self.changes(entry),
            reason=entry.reason or "",
        )


def reader_for(session: Session) -> TrailReader:
    """The session's reader, so a page of entries looks each name up once."""
    reader = session.info.get("trail_reader")
    if not isinstance(reader, TrailReader):
        reader = session.info["trail_reader"] = TrailReader(session)
    return reader


def human_entry(entry: AuditEntry) -> HumanEntry:
    """An entry read through the session it was loaded in (the page renders inside it)."""
    session = object_session(entry)
    if session is None:
        raise ValueError("an audit entry is read in human terms while its session is open")
    return reader_for(session).entry(entry)
