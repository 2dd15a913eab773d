"""Password resets by an administrator (Part 11 §11.300(c): lost credentials are deauthorised
and replaced), done so that the administrator can't become the person.

A reset ends every session and revokes every token of the account, sets a temporary secret
that the system makes up and shows once to the administrator, and that works once: the first
login with it only leads to the change of password. The reset raises a security alert (which
another administrator acknowledges) and puts a task in the person's inbox: "your password was
reset by X on … — confirm it was you who asked". Until the owner has set their own password
and confirmed the reset, the account signs nothing. An administrator who used the secret is
found out: the owner can't log in with their old password any more, the secret they are given
is refused as used (with the time of its use, and an alert), and the owner disputes the reset.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.auth import (
    end_sessions_and_tokens,
    get_user,
    refuse_own_account,
    store_password,
)
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import PasswordReset, SecurityAlert, User
from pharmaqms.kernel.passwords import policy_problems

TEMPORARY_HOURS = 72
TASK_KIND = "confirm_password_reset"
# No look-alikes (0/O, 1/l/I): the secret is read out or copied by hand.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@dataclass(frozen=True)
class TemporaryPassword:
    user: User
    reset: PasswordReset
    secret: str  # shown once to the administrator; only its hash is stored


def temporary_secret(username: str) -> str:
    """Four groups of four, e.g. ``Kq7m-Xp2r-9Tzd-wLb3``: 95 bits, within the policy."""
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
        secret = "-".join(groups)
        if not policy_problems(secret, username=username):
            return secret


def reset_password(
    session: Session, *, actor: Actor, user_id: int, reason: str
) -> TemporaryPassword:
    actor.require("users.manage", "reset passwords")
    user = get_user(session, user_id)
    refuse_own_account(actor, user, "resets their own password (change it with the old one)")
    if user.is_service_account:
        raise InvalidInput("a service account has no password", field="user_id")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the password is reset", field="reason")
    secret = temporary_secret(user.username)
    with audit.changes(session, actor=actor, reason=reason, action="reset_password"):
        store_password(session, user, secret, must_change=True)
    ended = end_sessions_and_tokens(
        session, actor=actor, user=user, reason=f"password reset by an administrator: {reason}"
    )
    now = clock.now()
    alert = SecurityAlert(
        kind="password_reset",
        user_id=user.id,
        detail=(
            f"Password of {user.username} ({user.full_name}) reset by {actor.username} "
            f"({actor.full_name}): {reason}. {ended} session(s) and token(s) ended; "
            f"{user.username} signs nothing until they have set their own password and "
            "confirmed the reset"
        ),
        raised_at=now,
    )
    with audit.changes(session, actor=actor, reason=reason):
        session.add(alert)
    reset = PasswordReset(
        user_id=user.id,
        username=user.username,
        reset_by_id=actor.user_id,
        reset_at=now,
        reason=reason,
        temporary_hash=user.password_hash,
        expires_at=now + timedelta(hours=TEMPORARY_HOURS),
        alert_id=alert.id,
    )
    with audit.changes(session, actor=actor, reason=reason):
        session.add(reset)
    tasks.open_task(
        session,
        reset,
        actor=actor,
        kind=TASK_KIND,
        title=(
            f"Your password was reset by {actor.full_name} ({actor.username}) on "
            f"{now:%Y-%m-%d %H:%M} UTC — confirm it was you who asked"
        ),
        user_id=user.id,
    )
    return TemporaryPassword(user, reset, secret)


def resets_of(session: Session, user_id: int) -> list[PasswordReset]:
    return list(
        session.scalars(
            select(PasswordReset)
            .where(PasswordReset.user_id == user_id)
            .order_by(PasswordReset.id.desc())
        )
    )


def own_reset(session: Session, *, actor: Actor, reset_id: int) -> PasswordReset:
    reset = session.get(PasswordReset, reset_id)
    if reset is None or reset.user_id != actor.user_id:
        # Only its owner answers a reset; others are told no more than that it isn't theirs.
        raise NotFound(f"no password reset {reset_id} of {actor.username}'s account")
    return reset


def _open(session: Session, actor: Actor, reset_id: int) -> PasswordReset:
    reset = own_reset(session, actor=actor, reset_id=reset_id)
    if reset.confirmed_at is not None:
        raise Conflict(f"the {reset.audit_label()} was confirmed already")
    if reset.disputed_at is not None:
        raise Conflict(f"the {reset.audit_label()} was disputed already")
    return reset


def confirm_reset(
    session: Session, *, actor: Actor, reset_id: int, note: str | None = None
) -> PasswordReset:
    """The owner says they asked for the reset; they may sign again."""
    reset = _open(session, actor, reset_id)
    if reset.password_set_at is None:
        raise Conflict("set your own password first, then confirm the reset")
    note = (note or "").strip() or None
    with audit.changes(
        session,
        actor=actor,
        reason=note or "the owner confirmed they asked for the reset",
        action="confirm",
    ):
        reset.confirmed_at = clock.now()
        reset.owner_note = note
    tasks.close_tasks(session, reset, actor=actor, outcome="confirmed by its owner")
    return reset


def dispute_reset(session: Session, *, actor: Actor, reset_id: int, note: str) -> PasswordReset:
    """The owner did not ask for the reset: security is alerted at once."""
    reset = _open(session, actor, reset_id)
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "say what you know: when you last logged in, who might it be", field="note"
        )
    resetter = get_user(session, reset.reset_by_id)
    now = clock.now()
    with audit.changes(session, actor=actor, reason=note, action="dispute"):
        reset.disputed_at = now
        reset.owner_note = note
        session.add(
            SecurityAlert(
                kind="password_reset_disputed",
                user_id=reset.user_id,
                detail=(
                    f"{actor.username} ({actor.full_name}) did not ask for the password reset "
                    f"by {resetter.username} ({resetter.full_name}) on "
                    f"{reset.reset_at:%Y-%m-%d %H:%M} UTC: {note}. What the account did since "
                    "the reset is in question"
                ),
                raised_at=now,
            )
        )
    tasks.close_tasks(session, reset, actor=actor, outcome=f"disputed by its owner: {note}")
    return reset
