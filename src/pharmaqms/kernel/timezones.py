"""Local time for people; UTC for everything else.

Stored times stay UTC (the clock, the database, the canonical form, the API, every export).
What changes is the edge where a person reads or types a time:

* **Reading.** ``reader_zone()`` is the zone of whoever is being shown a page, a PDF or an
  e-mail: set for a web request once the person is known (``kernel/http/context.py``), set
  around an e-mail for its recipient, and otherwise the site's default
  (``PHARMAQMS_SITE_TIME_ZONE``). ``kernel.reports.text.format_time`` and the template filters
  read it, so a time is shown in one place's words with its offset:
  ``2026-12-06 23:41 CET (+01:00)``.
* **Typing.** ``local_to_utc`` reads a wall-clock time a person typed (a ``datetime-local``
  field has no offset) in their zone. A time the clocks skip in spring does not exist there
  and is refused. A time the clocks pass twice in autumn is taken as its *first* occurrence
  (the one still on summer time); the stored time is then shown back with its offset, so which
  one was taken is visible. A typed time with an explicit offset is taken as it is.

Zone names are IANA names (``Europe/Berlin``), checked against the zone database
(``zoneinfo``, with the ``tzdata`` package where the system has none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from pharmaqms.kernel.errors import InvalidInput

DEFAULT_ZONE = "UTC"


class UnknownTimeZone(InvalidInput):
    code = "unknown_time_zone"
    title = "Unknown time zone"


class LocalTimeDoesNotExist(InvalidInput):
    code = "local_time_does_not_exist"
    title = "No such local time"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's zone database knows."""
    return frozenset(available_timezones() | {DEFAULT_ZONE})


def is_zone_name(name: str) -> bool:
    return name in zone_names()


def zone_named(name: str, *, field: str = "time_zone") -> ZoneInfo:
    """The zone of an IANA name, or ``UnknownTimeZone`` (never a guess: 'CET' is refused as
    well as 'Berlin', since an abbreviation names an offset, not a place's rules)."""
    text = (name or "").strip()
    if not is_zone_name(text):
        shown = text[:60] or "(empty)"
        raise UnknownTimeZone(
            f"{shown!r} is not a time zone name of the IANA database: use a name such as "
            "'Europe/Berlin', 'Asia/Shanghai' or 'UTC'",
            field=field,
        )
    return _zone(text)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def site_zone() -> ZoneInfo:
    # Imported here: settings validate the name with this module.
    from pharmaqms.kernel.settings import get_settings

    return _zone(get_settings().site_time_zone)


_READER: ContextVar[ZoneInfo | None] = ContextVar("pharmaqms_reader_zone", default=None)


def reader_zone() -> ZoneInfo:
    """The zone times are shown and typed in right now: the reader's, else the site's."""
    return _READER.get() or site_zone()


def set_reader_zone(zone: ZoneInfo | str | None) -> Token[ZoneInfo | None]:
    """Make ``zone`` the reader's zone for the rest of this context (one web request). None
    (or an unknown name, such as one removed from a later zone database): the site's."""
    if isinstance(zone, str):
        zone = _zone(zone) if is_zone_name(zone) else None
    return _READER.set(zone)


@contextmanager
def reading_in(zone: ZoneInfo | str | None) -> Iterator[ZoneInfo]:
    """Show and read times in ``zone`` inside the block (an e-mail for its recipient)."""
    token = set_reader_zone(zone)
    try:
        yield reader_zone()
    finally:
        _READER.reset(token)


def offset_text(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def local(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``value`` on the reader's wall clock (a naive value is read as UTC, never guessed)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone or reader_zone())


def zone_suffix(moment: datetime) -> str:
    """``CET (+01:00)`` for a local time; the offset alone where the zone database has no
    abbreviation for it (it then writes the offset itself, '+04')."""
    offset = offset_text(moment.utcoffset())
    name = moment.tzname() or ""
    return f"{name} ({offset})" if name.isalpha() else offset


def local_to_utc(
    wall: datetime, zone: ZoneInfo | None = None, *, field: str | None = None
) -> datetime:
    """A time typed by a person, in UTC. A naive ``wall`` is read in ``zone`` (the reader's by
    default); an aware one is taken as it is. A wall time the clocks skip is refused; one they
    pass twice is its first occurrence (see the module's note)."""
    if wall.tzinfo is not None:
        return _to_utc(wall, field)
    zone = zone or reader_zone()
    first = wall.replace(tzinfo=zone, fold=0)
    utc = _to_utc(first, field)
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise LocalTimeDoesNotExist(_gap_message(wall, zone), field=field)
    return utc


def _to_utc(moment: datetime, field: str | None) -> datetime:
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(
            f"{moment.isoformat()} lies outside the years 1 to 9999 in UTC", field=field
        ) from None


def _gap_message(wall: datetime, zone: ZoneInfo) -> str:
    before = wall.replace(tzinfo=zone, fold=0)
    after = wall.replace(tzinfo=zone, fold=1)
    return (
        f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks go forward that night "
        f"from {offset_text(before.utcoffset())} ({before.tzname()}) to "
        f"{offset_text(after.utcoffset())} ({after.tzname()}), so nothing can have happened at "
        "that time; check the time and type it again"
    )


def is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the clocks show ``wall`` twice in ``zone`` (the autumn change)."""
    naive = wall.replace(tzinfo=None)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset() and (
        first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    )


def parse_typed(text: str, *, field: str | None = None, zone: ZoneInfo | None = None) -> datetime:
    """A date-time (``2026-03-29T02:30``) or a date (``2026-03-29``, its midnight) typed in a
    form, in UTC. ``ValueError`` when it is neither; ``InvalidInput`` when it does not exist."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return local_to_utc(value, zone, field=field)


def day_start_utc(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The UTC instant a local calendar day begins (midnight, or the first time that exists
    when the clocks skip midnight)."""
    zone = zone or reader_zone()
    wall = datetime.combine(day, time())
    for minutes in range(0, 24 * 60, 15):
        moment = wall + timedelta(minutes=minutes)
        try:
            return local_to_utc(moment, zone)
        except LocalTimeDoesNotExist:
            continue
    # A day the zone skipped altogether (Pacific/Apia, 2011-12-30): refused as such.
    return local_to_utc(wall, zone)


def site_date(moment: datetime) -> date:
    """The calendar day of ``moment`` at the site. Monthly figures count by the site's
    calendar, not the reader's: two people comparing one dashboard see the same months."""
    return moment.astimezone(site_zone()).date()


def site_month_start(moment: datetime | date) -> date:
    """The first day of the site's calendar month ``moment`` falls in (a date is taken as
    already the site's)."""
    day = site_date(moment) if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def site_day_start_utc(day: date) -> datetime:
    """The UTC instant a calendar day begins at the site."""
    return day_start_utc(day, site_zone())


def from_form(value: str, field: str) -> datetime | None:
    """A form's ``datetime-local`` or ``date`` field, read in the reader's zone, in UTC; None
    when left empty. The one reading every page's time fields share."""
    text = value.strip()
    if not text:
        return None
    try:
        return parse_typed(text, field=field)
    except ValueError:
        raise InvalidInput(f"{value[:40]!r} is not a date and time", field=field) from None
