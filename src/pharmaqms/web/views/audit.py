"""The audit trail viewer: the page an inspector uses to answer "who changed what, when and
why" — filtered, paged, and exported as CSV (the export goes through the API's audit endpoint,
which the session cookie opens)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, select

from pharmaqms.kernel.audit_query import AuditFilter, record_by_number
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    any_contains,
    distinct_options,
    register_response,
)
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


def _record_id(query: Select[Any], value: Any) -> Select[Any]:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return query  # a number that named no record: ignored, and said so (see below)
    return query.where(AuditEntry.record_id == int(text))


def _day_filter(
    build: Callable[[datetime], Any],
) -> Callable[[Select[Any], Any], Select[Any]]:
    """A filter on a day of the reader's calendar: ``build`` gets the UTC instant it begins."""

    def apply(query: Select[Any], value: Any) -> Select[Any]:
        return query.where(build(day_start_utc(value)))

    return apply


def _next_day_filter(
    build: Callable[[datetime], Any],
) -> Callable[[Select[Any], Any], Select[Any]]:
    """``build`` gets the UTC instant the reader's next calendar day begins."""

    def apply(query: Select[Any], value: Any) -> Select[Any]:
        return query.where(build(day_start_utc(value + timedelta(days=1))))

    return apply


def _action(query: Select[Any], value: Any) -> Select[Any]:
    return query.where(AuditEntry.action.startswith(str(value).strip(), autoescape=True))


def _user(query: Select[Any], value: Any) -> Select[Any]:
    return query.where(AuditEntry.actor_username == str(value).strip().lower())


AUDIT_REGISTER = Register(
    name="audit-trail",
    title="Audit trail",
    query=lambda _session, _actor: select(AuditEntry),
    columns=(
        Column("seq", "#", lambda e: e.seq, AuditEntry.seq),
        Column("when", "When", lambda e: e.occurred_at, AuditEntry.occurred_at),
        Column("user", "User", lambda e: e.actor_username, AuditEntry.actor_username),
        Column("name", "Full name", lambda e: e.actor_name, AuditEntry.actor_name),
        Column(
            "record_type",
            "Record type",
            lambda e: e.record_type,
            AuditEntry.record_type,
            "choice",
            distinct_options(AuditEntry.record_type),
        ),
        Column("record_id", "Record id", lambda e: e.record_id, AuditEntry.record_id),
        Column("record", "Record", lambda e: e.record_label, AuditEntry.record_label),
        Column("action", "Action", lambda e: e.action, AuditEntry.action),
        Column("changes", "Changes", lambda e: e.changes),
        Column("reason", "Reason", lambda e: e.reason, AuditEntry.reason),
        Column("channel", "Channel", lambda e: e.channel, AuditEntry.channel),
        Column("hash", "Entry hash", lambda e: e.entry_hash),
    ),
    default_sort="-seq",
    tiebreak=AuditEntry.seq,
    extra_filters=(
        Filter("record_id", "Record id", "text", _record_id),
        Filter("user", "User", "text", _user),
        Filter("action", "Action", "text", _action),
        Filter("since", "From", "date", _day_filter(lambda day: AuditEntry.occurred_at >= day)),
        Filter(
            "until",
            "To",
            "date",
            # "to" a day includes that whole day: up to the start of the next local day.
            _next_day_filter(lambda day: AuditEntry.occurred_at < day),
        ),
        Filter(
            "q",
            "Text",
            "text",
            any_contains(AuditEntry.record_label, AuditEntry.reason, AuditEntry.changes),
        ),
    ),
)


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
) -> Response:
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
    params = dict(request.query_params)
    params.update(record_type=form.record_type, record_id=form.record_id)
    for name, value in (("since", form.since), ("until", form.until)):
        if value.strip() and _day(value) is None:
            params.pop(name)  # named in the problems below, not twice
    return register_response(
        request,
        actor,
        AUDIT_REGISTER,
        "kernel/audit.html",
        lambda session: {
            "form": form,
            "problems": problems + form.problems(),
            "csv_url": form.csv_url(),
            "types": sorted(session.scalars(select(AuditEntry.record_type).distinct())),
            "usernames": sorted(session.scalars(select(User.username))),
        },
        params=params,
    )
