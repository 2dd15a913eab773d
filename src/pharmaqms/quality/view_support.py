"""What the quality modules' pages share: reading form fields (date-times typed in the
reader's zone, one item per line), the people who may be chosen for a role, and the parts
every quality record page shows (links both ways, risk assessments, signatures, workflow
buttons, audit trail).

Every module's pages import this one, so it imports none of them: a part of the record page
that another module owns (the record's risk assessments, owned by ``quality.risk``) is
registered here by that module at import (``register_record_part``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import from_form
from pharmaqms.kernel.workflow import Workflow, options
from pharmaqms.quality.links import links_of

AUDIT_ON_PAGE = 100

# (session, record type, record id) → the part's value in the page's context.
RecordPart = Callable[[Session, str, int], Any]
_PARTS: dict[str, RecordPart] = {}


def register_record_part(name: str, part: RecordPart) -> None:
    """Adds ``name`` to every record page's context, computed by ``part``: how a module that
    the quality modules' pages must not import (a cycle) still shows on each of them.
    Registered at import by the owning module's pages, which every entry point serving
    pages loads (``pharmaqms.web.views``)."""
    _PARTS[name] = part


def utc_from_form(value: str, field: str) -> datetime | None:
    """A datetime-local or date field, read in the reader's time zone and stored UTC."""
    return from_form(value, field)


def required_utc(value: str, field: str, what: str) -> datetime:
    parsed = utc_from_form(value, field)
    if parsed is None:
        raise InvalidInput(f"{what} is required", field=field)
    return parsed


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def people_with(session: Session, roles: tuple[str, ...]) -> list[User]:
    """Active people (not service accounts) holding one of the roles, by name."""
    wanted = set(roles)
    return [
        user
        for user in session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.full_name)
        )
        if not user.is_service_account and wanted & set(user.roles or [])
    ]


def names_by_id(session: Session) -> dict[int, str]:
    return {user.id: user.full_name for user in session.scalars(select(User))}


def _trail(record: GxPRecord, children: Iterable[tuple[str, Iterable[int]]]) -> ColumnElement[bool]:
    """The record's own entries and those of the rows that belong to it (its batches, actions,
    impact assessments, approvals): one history of the record, as an inspector reads it."""
    conditions = [
        and_(AuditEntry.record_type == record.__audit_type__, AuditEntry.record_id == record.id)
    ]
    for child_type, ids in children:
        wanted = sorted(set(ids))
        if wanted:
            conditions.append(
                and_(AuditEntry.record_type == child_type, AuditEntry.record_id.in_(wanted))
            )
    return or_(*conditions)


def record_parts(
    session: Session,
    record: GxPRecord,
    workflow: Workflow,
    actor: Actor,
    children: Iterable[tuple[str, Iterable[int]]] = (),
) -> dict[str, Any]:
    """The parts of a record page every quality module shows the same way."""
    record_type = record.__audit_type__
    trail = _trail(record, list(children))
    return {
        "record": record,
        "workflow": workflow,
        "links": links_of(session, record_type, record.id),
        # the registered parts: "risk_assessments" (quality.risk.views)
        **{name: part(session, record_type, record.id) for name, part in _PARTS.items()},
        "risk_type": record_type,
        "signatures": signatures_of(session, record),
        "options": options(session, workflow, record, actor),
        "transition_base": f"/records/{record_type}/{record.id}/transitions",
        "audit_entries": list(
            session.scalars(
                select(AuditEntry).where(trail).order_by(AuditEntry.seq.desc()).limit(AUDIT_ON_PAGE)
            )
        ),
        "audit_total": int(
            session.scalar(select(func.count()).select_from(AuditEntry).where(trail)) or 0
        ),
        "audit_url": "/audit?" + urlencode({"record_type": record_type, "record_id": record.id}),
        "csv_url": f"/api/v1/records/{record_type}/{record.id}/audit?format=csv",
        "moment": clock.now(),
        "names": names_by_id(session),
        # The configuration versions its actions ran under (due days, matrix, signature rules).
        "config_uses": store.uses_of(session, record_type, record.id),
    }
