"""What the page and the API share: the date range as typed (reader's calendar days), the
drill-down selection, and the table exported as CSV."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from pharmaqms.compliance.process_analytics.drill import Selection
from pharmaqms.compliance.process_analytics.figures import START, ProcessFigures
from pharmaqms.compliance.process_analytics.intervals import Window
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.timezones import day_start_utc

PERMISSION = "audit.read"
WHY = "read process analytics"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")

TABLE_HEADERS = (
    "Record type",
    "Kind",
    "From",
    "To",
    "Count",
    "Open now",
    "Median (h)",
    "p90 (h)",
    "Mean (h)",
    "Total (h)",
    "Waits for",
    "Bottleneck",
)


def _day(raw: str, name: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"the {name} date {text[:20]!r} is not YYYY-MM-DD", field=name) from None


@dataclass(frozen=True)
class Range:
    """The date range as typed: whole days of the reader's calendar, both ends included."""

    since: date | None = None
    until: date | None = None

    @classmethod
    def read(cls, since: str, until: str) -> Range:
        found = cls(_day(since, "since"), _day(until, "until"))
        if found.since and found.until and found.until < found.since:
            raise InvalidInput("the range ends before it begins", field="until")
        return found

    def window(self) -> Window:
        return Window(
            since=day_start_utc(self.since) if self.since else None,
            until=day_start_utc(self.until + timedelta(days=1)) if self.until else None,
        )

    def query(self, **more: str) -> str:
        params = {k: v for k, v in more.items() if v}
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        return ("?" + urlencode(params)) if params else ""


def month(raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    matched = MONTH.match(text)
    if matched is None or not 1 <= int(matched.group(2)) <= 12:
        raise InvalidInput(f"month {text[:20]!r} is not YYYY-MM", field="month")
    return date(int(matched.group(1)), int(matched.group(2)), 1)


def selection(state: str, target: str, role: str, month_text: str) -> Selection:
    return Selection(
        state=state.strip() or None,
        target=target.strip() or None,
        role=role.strip() or None,
        month=month(month_text),
    )


def _hours(value: float | None) -> object:
    return None if value is None else round(value, 2)


def table_rows(found: ProcessFigures) -> list[list[object]]:
    """The states then the transitions of one process, as the page's table shows them."""
    name = found.process.name
    rows: list[list[object]] = []
    for s in found.states:
        st = s.stays
        rows.append(
            [
                name,
                "state",
                s.state,
                "",
                st.count,
                st.open,
                _hours(st.median),
                _hours(st.p90),
                _hours(st.mean),
                _hours(st.total),
                " ".join(s.waits_for),
                "yes" if s.bottleneck else "",
            ]
        )
    for t in found.transitions:
        rows.append(
            [
                name,
                "transition",
                "(created)" if t.source == START else t.source,
                t.target,
                t.count,
                "",
                _hours(t.median),
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return rows
