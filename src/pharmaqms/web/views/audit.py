"""The audit trail viewer: the page an inspector uses to answer "who changed what, when and
why" — filtered, paged, and exported as CSV (the export goes through the API's audit endpoint,
which the session cookie opens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from pharmaqms.kernel.audit_query import (
    AuditFilter,
    count_entries,
    find_entries,
    record_by_number,
)
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import PAGE_SIZE, ActorDep, page_offset
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.timezones import day_start_utc

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Audit trail", "/audit", "audit.read", 95))


@dataclass(frozen=True)
class AuditForm:
    """The viewer's filters as typed in, and what they mean once parsed."""

    record_type: str = ""
    record_id: str = ""
    user: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    q: str = ""

    def problems(self) -> list[str]:
        found = []
        for name, value in (("from", self.since), ("to", self.until)):
            if value.strip() and _day(value) is None:
                found.append(f"the {name} date {value!r} is not a date (YYYY-MM-DD): ignored")
        return found

    def to_filter(self) -> AuditFilter:
        record_id = self.record_id.strip()
        since, until = _day(self.since), _day(self.until)
        return AuditFilter(
            record_type=self.record_type.strip() or None,
            record_id=int(record_id) if record_id.isdecimal() else None,
            actor=self.user.strip().lower() or None,
            action=self.action.strip() or None,
            # Days of the reader's calendar; "to" a day includes that whole day.
            since=day_start_utc(since) if since else None,
            until=day_start_utc(until + timedelta(days=1)) if until else None,
            text=self.q.strip() or None,
        )

    def csv_url(self) -> str:
        f = self.to_filter()
        query: dict[str, str] = {"format": "csv"}
        for key, value in (
            ("record_type", f.record_type),
            ("record_id", f.record_id),
            ("user", f.actor),
            ("action", f.action),
            ("since", f.since.isoformat() if f.since else None),
            ("until", f.until.isoformat() if f.until else None),
            ("q", f.text),
        ):
            if value is not None:
                query[key] = str(value)
        return "/api/v1/audit?" + urlencode(query)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_viewer(
    request: Request,
    actor: ActorDep,
    record_type: str = "",
    record_id: str = "",
    user: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    offset: str = "",
) -> HTMLResponse:
    problems: list[str] = []
    if record_id.strip() and not record_id.strip().isdecimal():
        # A record number (DEV-2026-0040) rather than the internal id: its record's trail.
        with transaction(request) as session:
            found = record_by_number(session, record_id[:60])
        if found is None:
            problems.append(f"no record is numbered {record_id[:60]!r}: ignored")
            record_id = ""
        else:
            record_type, record_id = found[0], str(found[1])
    if record_type and record_id:
        # One record's trail belongs with the record: whoever may read the record may read how
        # it came to be (the record pages link here); the whole trail needs audit.read.
        actor.require("records.read", "read records")
    else:
        actor.require("audit.read", "read the audit trail")
    form = AuditForm(
        record_type[:60], record_id[:12], user[:64], action[:60], since[:10], until[:10], q[:200]
    )
    start = page_offset(offset)
    f = form.to_filter()
    with transaction(request) as session:
        return render(
            request,
            "kernel/audit.html",
            {
                "form": form,
                "problems": problems + form.problems(),
                "entries": find_entries(session, f, limit=PAGE_SIZE, offset=start),
                "total": count_entries(session, f),
                "limit": PAGE_SIZE,
                "offset": start,
                "csv_url": form.csv_url(),
                "types": sorted(session.scalars(select(AuditEntry.record_type).distinct())),
                "usernames": sorted(session.scalars(select(User.username))),
            },
        )
