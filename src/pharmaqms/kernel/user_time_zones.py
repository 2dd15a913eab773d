"""Each person's time zone: chosen by the person on their account page, or set by an
administrator (with the reason, like any change of someone else's account). Audited as the
``user_time_zone`` of the account; an unknown name is refused and nothing changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.auth import SYSTEM_USERNAME, get_user
from pharmaqms.kernel.errors import InvalidInput, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import UserTimeZone
from pharmaqms.kernel.timezones import zone_named

SITE_DEFAULT = ""


def choice_of(session: Session, user_id: int) -> UserTimeZone | None:
    return session.scalar(select(UserTimeZone).where(UserTimeZone.user_id == user_id))


def time_zone_of(session: Session, user_id: int) -> str | None:
    """The IANA name the person chose, or None for the site's default."""
    return session.scalar(select(UserTimeZone.time_zone).where(UserTimeZone.user_id == user_id))


def zones_of(session: Session, user_ids: list[int]) -> dict[int, str | None]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(UserTimeZone.user_id, UserTimeZone.time_zone).where(
            UserTimeZone.user_id.in_(sorted(set(user_ids)))
        )
    )
    return {user_id: zone for user_id, zone in rows}


def set_time_zone(
    session: Session, *, actor: Actor, user_id: int, time_zone: str, reason: str | None = None
) -> UserTimeZone | None:
    """Set the person's time zone (an IANA name; empty: back to the site's default). Their
    own: no reason needed. Someone else's: ``users.manage`` and a reason. Returns the row,
    unchanged when the zone is already the one asked for."""
    user = get_user(session, user_id)
    own = user.id == actor.user_id
    text = time_zone.strip()
    wanted = zone_named(text).key if text != SITE_DEFAULT else None
    if not own:
        actor.require("users.manage", "change someone else's time zone")
        if user.username == SYSTEM_USERNAME:
            raise PermissionDenied("the system account reads no pages: it has no time zone")
        if not (reason or "").strip():
            raise InvalidInput(
                f"give the reason for changing the time zone of {user.username}", field="reason"
            )
    why = (reason or "").strip() or "time zone chosen by its owner"
    row = choice_of(session, user.id)
    if row is not None and row.time_zone == wanted:
        return row
    if row is None and wanted is None:
        return None
    with audit.changes(session, actor=actor, reason=why, action="set_time_zone"):
        if row is None:
            row = UserTimeZone(user_id=user.id, username=user.username, time_zone=wanted)
            session.add(row)
        else:
            row.time_zone = wanted  # the audit hook moves updated_at on
    return row
