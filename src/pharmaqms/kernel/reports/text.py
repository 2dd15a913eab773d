"""Values as a person reads them. ``format_time`` is the one place a time is put into words for
a reader (printed reports, the audit trail viewer, signature manifestations): showing it in the
reader's own time zone is a change here alone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

# ISO-8601 times as the audit trail stores them ("2026-01-02T19:43:16.456006Z").
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
NOTHING = "—"


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def format_time(value: datetime, *, seconds: bool = False) -> str:
    """``2026-12-06 14:03 +00:00``: the offset is always shown, never microseconds. Times are
    shown in UTC until readers have their own time zone. A naive time (none is stored; the
    kernel's clock is aware) is read as UTC rather than guessed at."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    shown = aware.astimezone(UTC)
    stamp = shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{stamp} {_offset(shown.utcoffset())}"


def parse_time(text: str) -> datetime | None:
    """A stored ISO-8601 time, or None when ``text`` is not one."""
    if not _ISO_TIME.match(text.strip()):
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def humanize(name: str) -> str:
    """A field name as a heading: ``root_cause`` → "Root cause", ``investigator_id`` →
    "Investigator"."""
    words = name.removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def format_value(value: Any) -> str:
    """A field value in words: times through ``format_time``, yes/no, lists joined, a dash for
    nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, str):
        when = parse_time(value) if "T" in value or ":" in value else None
        return format_time(when) if when is not None and len(value) > 10 else value
    if isinstance(value, dict):
        return "; ".join(f"{humanize(str(k))}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(format_value(v) for v in value) or NOTHING
    return str(value)
