"""Values as a person reads them. ``format_time`` is the one place a time is put into words for
a reader (pages, printed reports, the audit trail viewer, signature manifestations, e-mails),
in the reader's own time zone (``kernel.timezones.reader_zone``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from pharmaqms.kernel.timezones import local, zone_suffix

# ISO-8601 times as the audit trail stores them ("2026-01-02T19:43:16.456006Z").
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
NOTHING = "—"


def format_time(value: datetime, *, seconds: bool = False, zone: ZoneInfo | None = None) -> str:
    """``2026-12-06 23:03 CET (+01:00)``: in the reader's time zone (``kernel.timezones``),
    with its abbreviation and offset always, never microseconds. A naive time (none is
    stored; the kernel's clock is aware) is read as UTC rather than guessed at."""
    shown = local(value, zone)
    stamp = shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{stamp} {zone_suffix(shown)}"


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
