"""Users, authentication, sessions and API tokens: the identity services.

Failed attempts (login or signature) are counted in their own transaction after the failed
one rolls back (``QMSError.after_rollback``), so a refusal changes nothing else but is never
forgotten: five in a row lock the account and raise a security alert. A lock lasts
``lockout_minutes`` (15), doubling with each further lockout before the next successful login,
up to ``lockout_max_minutes`` (a day): someone who only knows the usernames can delay the
department's work but not lock it out for good, and an administrator can unlock at any time.

Administrators manage accounts and never act or sign as someone else: nobody changes their own
roles; roles that sign need a second administrator (``role_grants``); tokens are minted only
for service accounts, a person gets one by logging in; a password reset by an administrator
(``password_resets``) ends the person's sessions and tokens and keeps them from signing until
they have set their own password and confirmed the reset.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, role_permissions
from pharmaqms.kernel.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    OwnAccount,
    PasswordExpired,
    PasswordResetUnconfirmed,
    PermissionDenied,
    PersonTokenRefused,
    QMSError,
    SecondApprovalRequired,
    SegregationOfDuties,
    SignatureRefused,
)
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.models import (
    ApiToken,
    PasswordHistory,
    PasswordReset,
    Role,
    SecurityAlert,
    User,
    WebSession,
)
from pharmaqms.kernel.passwords import (
    check_policy,
    hash_password,
    hash_published_password,
    needs_rehash,
    verify_password,
)
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import get_settings

SYSTEM_USERNAME = "system"
USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
# The demo's accounts have addresses in this domain (``pharmaqms demo`` gives them; nobody
# else should). With PHARMAQMS_DEMO=1 they keep their published password.
DEMO_EMAIL_DOMAIN = "@demo.pharmaqms.org"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- actors -------------------------------------------------------------------------------


def actor_for(session: Session, user: User, channel: Channel = Channel.SYSTEM) -> Actor:
    """The user as they act now: their permissions are those the roles configuration in force
    now gives their roles (``role_permissions``), at login, per request and per API token."""
    rules, permissions = role_permissions.permissions_for(session, user.roles)
    return Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=frozenset(user.roles),
        permissions=permissions,
        channel=channel,
        is_service_account=user.is_service_account,
        permissions_version=rules.version_no,
    )


def system_actor(session: Session, channel: Channel = Channel.SYSTEM) -> Actor:
    user = session.scalars(select(User).where(User.username == SYSTEM_USERNAME)).one()
    return Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=frozenset({"system"}),
        permissions=frozenset({"*"}),
        channel=channel,
        is_service_account=True,
    )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


# --- user administration -------------------------------------------------------------------


def provisions(actor: Actor) -> bool:
    """The system account on the server's command line, installing and seeding accounts
    (``pharmaqms init``, ``demo``, ``user add`` without ``--as``): the one actor that gives
    roles that sign without a second administrator (see docs/security.md)."""
    return actor.username == SYSTEM_USERNAME and actor.channel in (Channel.CLI, Channel.SYSTEM)


def refuse_own_account(actor: Actor, user: User, what: str) -> None:
    if user.id == actor.user_id:
        raise OwnAccount(f"nobody {what}: {actor.username} may not do so")


@dataclass(frozen=True)
class KnownRole:
    """A role an account may be given now, and where it comes from."""

    name: str
    description: str
    origin: str  # "built-in", or the configuration version that defines a site role
    site: bool = False


def known_roles(session: Session) -> list[KnownRole]:
    """The roles an account may be given now: the code's (the ``roles`` register) and the site
    roles the version of ``roles.permissions`` in force now defines. Read at the moment of
    giving, not copied into the register: a version comes into force at its date, not at an
    event (see ``role_permissions``)."""
    builtin = [
        KnownRole(role.name, role.description, "built-in")
        for role in session.scalars(select(Role).order_by(Role.name))
    ]
    rules, sites = role_permissions.site_roles_in_force(session)
    taken = {role.name for role in builtin}
    origin = f"site role, configuration version {rules.version_no} of {rules.key}"
    return builtin + [
        KnownRole(name, sites[name].description, origin, site=True)
        for name in sorted(sites)
        if name not in taken
    ]


def check_roles(session: Session, roles: list[str], *, held: Iterable[str] = ()) -> list[str]:
    """The roles asked for, if each may be given now; ``held`` are roles the account has and
    keeps, known or not (a site role a later version dropped gives nothing but is listed until
    an administrator takes it away)."""
    known = {role.name for role in known_roles(session)}
    unknown = sorted(set(roles) - known - set(held))
    if unknown:
        raise InvalidInput(
            f"unknown role(s): {', '.join(unknown)}; known roles: {', '.join(sorted(known))}",
            field="roles",
        )
    return sorted(set(roles))


def add_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    full_name: str,
    roles: list[str],
    password: str | None = None,
    email: str | None = None,
    service_account: bool = False,
    must_change_password: bool = True,
    signature_password: str | None = None,
    grant_reason: str | None = None,
    published_password: bool = False,
) -> User:
    """Create an account. Roles that sign come with it only when the installation provisions
    it (``provisions``); otherwise the account starts without them and a request for them,
    signed by this administrator with ``signature_password``, waits for a second one.
    ``published_password``: the password is public (a demo account's only), so its hash is
    light until the first login upgrades it (``passwords.hash_published_password``)."""
    from pharmaqms.kernel import role_grants  # it builds on this module

    actor.require("users.manage", "add users")
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "a username is 2 to 64 characters: a lower-case letter, then letters, digits, "
            "'.', '_' or '-'",
            field="username",
        )
    if not full_name.strip():
        raise InvalidInput(
            "a user needs a full name (it is printed with signatures)", field="full_name"
        )
    if user_by_username(session, username) is not None:
        # Part 11 §11.100(a): an identity is never reused, even after deactivation.
        raise Conflict(
            f"the username {username!r} exists already and is never reused", field="username"
        )
    # The password is judged first: it is what the person typing can fix at once.
    if service_account:
        if password:
            raise InvalidInput(
                "a service account has no password: give it an API token", field="password"
            )
    else:
        if not password:
            raise InvalidInput("a person needs an initial password", field="password")
        check_policy(password, username=username, full_name=full_name)
    roles = check_roles(session, roles)
    signing = [] if provisions(actor) else sorted(set(roles) & role_grants.signing_roles(session))
    if signing and not signature_password:
        them = "them" if len(signing) > 1 else "it"
        raise InvalidInput(
            f"{', '.join(signing)} sign{'' if len(signing) > 1 else 's'}: a second "
            f"administrator must approve {them}. Sign the request for {them} with your "
            f"password; the account is created without {them} meanwhile",
            field="signature_password",
        )
    if published_password and not (email or "").lower().endswith(DEMO_EMAIL_DOMAIN):
        # A real account's password is never hashed lightly, whoever asks.
        raise InvalidInput(
            f"only a demo account (an address in {DEMO_EMAIL_DOMAIN}) has a published password",
            field="password",
        )
    now = clock.now()
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email,
        roles=[role for role in roles if role not in signing],
        is_service_account=service_account,
        is_active=True,
        must_change_password=must_change_password and not service_account,
    )
    if password:
        user.password_hash = (
            hash_published_password(password) if published_password else hash_password(password)
        )
        user.password_changed_at = now
    with audit.changes(session, actor=actor, reason="user account created"):
        session.add(user)
    if user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, set_at=now))
    if signing:
        role_grants.request_roles(
            session,
            actor=actor,
            user_id=user.id,
            roles=signing,
            reason=(grant_reason or "").strip() or f"roles of the new account {username}",
            password=signature_password or "",
        )
    return user


def set_roles(
    session: Session, *, actor: Actor, user_id: int, roles: list[str], reason: str
) -> User:
    """Change the roles of someone else's account: take any away, add those that don't sign.
    A role that signs is added only through a request a second administrator approves."""
    from pharmaqms.kernel import role_grants  # it builds on this module

    actor.require("users.manage", "change roles")
    user = get_user(session, user_id)
    refuse_own_account(actor, user, "changes their own roles")
    if user.username == SYSTEM_USERNAME:
        raise PermissionDenied("the system account has no roles to change")
    wanted = check_roles(session, roles, held=user.roles)
    added = set(wanted) - set(user.roles)
    signing = [] if provisions(actor) else sorted(added & role_grants.signing_roles(session))
    if signing:
        raise SecondApprovalRequired(
            f"{', '.join(signing)} sign{'' if len(signing) > 1 else 's'}: giving "
            f"{'them' if len(signing) > 1 else 'it'} to {user.username} takes a request that "
            "a second administrator approves (role-requests)",
            field="roles",
            extra={"signing_roles": signing},
        )
    with audit.changes(session, actor=actor, reason=reason):
        user.roles = wanted
    return user


def deactivate_user(session: Session, *, actor: Actor, user_id: int, reason: str) -> User:
    actor.require("users.manage", "deactivate users")
    user = get_user(session, user_id)
    if user.username == SYSTEM_USERNAME:
        raise PermissionDenied("the system account can't be deactivated")
    if user.id == actor.user_id:
        raise PermissionDenied("you can't deactivate your own account")
    if not user.is_active:
        raise Conflict(f"{user.username} is already deactivated")
    now = clock.now()
    with audit.changes(session, actor=actor, reason=reason, action="deactivate"):
        user.is_active = False
        user.deactivated_at = now
    for web in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ):
        web.ended_at = now
    return user


def reactivate_user(session: Session, *, actor: Actor, user_id: int, reason: str) -> User:
    actor.require("users.manage", "reactivate users")
    user = get_user(session, user_id)
    if user.is_active:
        raise Conflict(f"{user.username} is active")
    with audit.changes(session, actor=actor, reason=reason, action="reactivate"):
        user.is_active = True
        user.deactivated_at = None
    return user


def _refuse_reuse(session: Session, user: User, password: str) -> None:
    history = get_settings().password_history
    recent = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(history)
    ).all()
    if any(verify_password(h, password) for h in recent):
        raise InvalidInput(
            f"the new password must differ from the last {history} passwords", field="password"
        )


def store_password(session: Session, user: User, password: str, *, must_change: bool) -> None:
    check_policy(password, username=user.username, full_name=user.full_name)
    _refuse_reuse(session, user, password)
    now = clock.now()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.must_change_password = must_change
    user.failed_login_count = 0
    user.locked_at = None
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, set_at=now))


def require_password_change(session: Session, *, actor: Actor, user_id: int, reason: str) -> User:
    """The current password still proves who the owner is, but it must be changed before the
    next login or signature (a published or shared password, such as the demo's)."""
    actor.require("users.manage", "require password changes")
    user = get_user(session, user_id)
    if user.is_service_account:
        raise InvalidInput("a service account has no password", field="user_id")
    with audit.changes(session, actor=actor, reason=reason, action="require_password_change"):
        user.must_change_password = True
    return user


def change_password(
    session: Session, *, username: str, old_password: str, new_password: str
) -> User:
    """A user changes their own password, proving the old one (also when it has expired). After
    a reset by an administrator this is the one use of the temporary password."""
    user = user_by_username(session, username)
    if user is None or not user.is_active or user.is_service_account:
        raise AuthenticationFailed("wrong username or password")
    if is_locked(session, user):
        raise AccountLocked(
            f"the account {username} is locked {_until(session, user)}: ask an administrator "
            "to unlock it sooner"
        )
    if not verify_password(user.password_hash, old_password):
        _wrong_password(session, user, old_password, "password change", Channel.UI)
    if old_password == new_password:
        raise InvalidInput("the new password must differ from the old one", field="new_password")
    unused = [r for r in open_resets(session, user.id) if r.password_set_at is None]
    now = clock.now()
    if user.must_change_password and unused and unused[-1].expires_at < now:
        raise AuthenticationFailed(
            f"the temporary password of {user.username} expired on "
            f"{format_time(unused[-1].expires_at)}: ask an administrator for a new reset"
        )
    actor = actor_for(session, user)
    with audit.changes(
        session, actor=actor, reason="password changed by its owner", action="change_password"
    ):
        store_password(session, user, new_password, must_change=False)
    if unused:
        with audit.changes(
            session, actor=actor, reason="the owner set their own password", action="password_set"
        ):
            for reset in unused:
                reset.password_set_at = now
    return user


# --- password resets by an administrator (see password_resets) ----------------------------


def open_resets(session: Session, user_id: int) -> list[PasswordReset]:
    """Resets of this account its owner has not yet confirmed or disputed, oldest first."""
    return list(
        session.scalars(
            select(PasswordReset)
            .where(
                PasswordReset.user_id == user_id,
                PasswordReset.confirmed_at.is_(None),
                PasswordReset.disputed_at.is_(None),
            )
            .order_by(PasswordReset.id)
        )
    )


def _used_temporary(session: Session, user: User, password: str) -> PasswordReset | None:
    """The last reset, when ``password`` is its temporary secret and that was used already."""
    last = session.scalars(
        select(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.password_set_at.is_not(None))
        .order_by(PasswordReset.id.desc())
        .limit(1)
    ).one_or_none()
    if last is not None and verify_password(last.temporary_hash, password):
        return last
    return None


def _wrong_password(
    session: Session, user: User, password: str, what: str, channel: Channel
) -> NoReturn:
    """Refuse a wrong password. When it is a temporary secret that was used already, say so:
    its owner, handed a secret someone else used first, finds out, and security is told."""
    used = _used_temporary(session, user, password)
    if used is None or used.password_set_at is None:
        _fail(user.id, what, AuthenticationFailed("wrong username or password"), channel)
    user_id, username = user.id, user.username
    used_at, reset_at = used.password_set_at, used.reset_at
    error = AuthenticationFailed(
        f"this temporary password was used already, on {format_time(used_at)}: if that "
        "was not you, tell your security officer at once"
    )

    def alert(s: Session) -> None:
        with audit.changes(s, actor=system_actor(s, channel), reason="temporary password reused"):
            s.add(
                SecurityAlert(
                    kind="temporary_password_reused",
                    user_id=user_id,
                    detail=(
                        f"The temporary password of {username} from the reset of "
                        f"{reset_at:%Y-%m-%d %H:%M} UTC was presented again ({what} via "
                        f"{channel}) after its one use on {used_at:%Y-%m-%d %H:%M} UTC: whoever "
                        "used it first may not be its owner"
                    ),
                    raised_at=clock.now(),
                )
            )

    error.after_rollback.append(alert)
    _fail(user_id, what, error, channel)


# --- failures and lockout ------------------------------------------------------------------


def _lockouts_since_last_login(session: Session, user: User) -> int:
    """Lockouts of this account since its last successful login (the alerts say when)."""
    query = select(func.count()).where(
        SecurityAlert.user_id == user.id, SecurityAlert.kind == "account_locked"
    )
    if user.last_login_at is not None:
        query = query.where(SecurityAlert.raised_at > user.last_login_at)
    return int(session.scalar(query) or 0)


def lockout_duration(lockout: int) -> timedelta:
    """The length of the n-th lockout since the last successful login: the base, doubling."""
    settings = get_settings()
    minutes = settings.lockout_minutes * 2 ** min(max(lockout - 1, 0), 20)
    return timedelta(minutes=min(minutes, settings.lockout_max_minutes))


def locked_until(session: Session, user: User) -> datetime | None:
    """When the current lock ends; None when the account is not locked. Derived from the lock's
    start and how many lockouts led up to it, so the settings in force apply."""
    if user.locked_at is None:
        return None
    return user.locked_at + lockout_duration(_lockouts_since_last_login(session, user))


def is_locked(session: Session, user: User) -> bool:
    until = locked_until(session, user)
    return until is not None and clock.now() < until


def _until(session: Session, user: User) -> str:
    until = locked_until(session, user)
    # Shown to the person at the door: in the reader's zone (the site's before login).
    return f"until {format_time(until)}" if until is not None else ""


def register_failure(session: Session, user_id: int, what: str, channel: Channel) -> None:
    """Count one failed attempt; lock the account for a while and raise an alert at the
    threshold. A lock that has run out is ended first, so the count starts again."""
    user = session.get(User, user_id)
    if user is None:
        return
    system = system_actor(session, channel)
    threshold = get_settings().lockout_threshold
    if user.locked_at is not None and not is_locked(session, user):
        with audit.changes(
            session, actor=system, reason="the lockout period ended", action="lockout_ended"
        ):
            user.locked_at = None
            user.failed_login_count = 0
    with audit.changes(
        session, actor=system, reason=f"failed {what}", action=f"{what.replace(' ', '_')}_failed"
    ):
        user.failed_login_count += 1
    if user.failed_login_count >= threshold and user.locked_at is None:
        now = clock.now()
        lockout = _lockouts_since_last_login(session, user) + 1
        minutes = int(lockout_duration(lockout).total_seconds() // 60)
        with audit.changes(
            session,
            actor=system,
            reason=f"{user.failed_login_count} failed attempts in a row",
            action="account_locked",
        ):
            user.locked_at = now
            session.add(
                SecurityAlert(
                    kind="account_locked",
                    user_id=user.id,
                    detail=(
                        f"Account {user.username} ({user.full_name}) locked after "
                        f"{user.failed_login_count} failed attempts; last: {what} via {channel}; "
                        f"lockout {lockout} since the last successful login: {minutes} min, "
                        f"until {now + timedelta(minutes=minutes):%Y-%m-%d %H:%M} UTC"
                    ),
                    raised_at=now,
                )
            )


def _fail(user_id: int, what: str, error: QMSError, channel: Channel = Channel.UI) -> NoReturn:
    def record(session: Session) -> None:
        register_failure(session, user_id, what, channel)

    error.after_rollback.append(record)
    raise error


def unlock_user(session: Session, *, actor: Actor, user_id: int, reason: str) -> User:
    actor.require("users.manage", "unlock accounts")
    user = get_user(session, user_id)
    with audit.changes(session, actor=actor, reason=reason, action="unlock"):
        user.locked_at = None
        user.failed_login_count = 0
    return user


def acknowledge_alert(session: Session, *, actor: Actor, alert_id: int, note: str) -> SecurityAlert:
    actor.require("users.manage", "acknowledge security alerts")
    alert = session.get(SecurityAlert, alert_id)
    if alert is None:
        raise NotFound(f"no security alert {alert_id}")
    if not note.strip():
        raise InvalidInput("say what was done about the alert", field="note")
    reset = session.scalars(select(PasswordReset).where(PasswordReset.alert_id == alert.id)).first()
    if reset is not None and reset.reset_by_id == actor.user_id:
        raise SegregationOfDuties(
            f"{actor.username} reset the password this alert is about: another administrator "
            "acknowledges it"
        )
    with audit.changes(session, actor=actor, reason=note, action="acknowledge"):
        alert.acknowledged_at = clock.now()
        alert.acknowledged_by_id = actor.user_id
        alert.acknowledgement = note.strip()
    return alert


# --- authentication -----------------------------------------------------------------------


def is_demo_account(user: User) -> bool:
    return (user.email or "").lower().endswith(DEMO_EMAIL_DOMAIN)


def _password_expired(user: User) -> bool:
    if get_settings().demo and is_demo_account(user):
        # A demonstration instance (PHARMAQMS_DEMO=1): the demo's published password works.
        return False
    if user.must_change_password:
        return True
    if user.password_changed_at is None:
        return True
    max_age = timedelta(days=get_settings().password_max_age_days)
    return clock.now() - user.password_changed_at > max_age


def authenticate(session: Session, *, username: str, password: str, channel: Channel) -> User:
    """Check a username and password for login. Refusals say no more than needed."""
    user = user_by_username(session, (username or "").strip().lower())
    if user is None or user.is_service_account or not user.is_active:
        error = AuthenticationFailed("wrong username or password")
        # Read now: after the rollback ``user`` is expired, and reloading it through the failed
        # session would open a second transaction beside the follow-up one (on SQLite it waits
        # for the follow-up's writer lock until the busy timeout).
        user_id = user.id if user is not None else None

        def record(s: Session) -> None:
            audit.record_event(
                s,
                actor=system_actor(s, channel),
                action="login_failed",
                record_type="user",
                record_id=user_id,
                record_label=(username or "")[:64] or "-",
                details={"why": "unknown or inactive account"},
            )

        error.after_rollback.append(record)
        raise error
    if is_locked(session, user):
        raise AccountLocked(
            f"the account {user.username} is locked after repeated failed attempts "
            f"{_until(session, user)}: an administrator can unlock it sooner or reset the "
            "password"
        )
    if not verify_password(user.password_hash, password):
        _wrong_password(session, user, password, "login", channel)
    if _password_expired(user):
        raise PasswordExpired(
            f"the password of {user.username} has expired or must be changed: change it first",
            extra={"username": user.username},
        )
    actor = actor_for(session, user, channel)
    with audit.changes(session, actor=actor, action="login"):
        user.failed_login_count = 0
        user.locked_at = None  # a lock that ran out; a running one refused the login above
        user.last_login_at = clock.now()
        if needs_rehash(user.password_hash or ""):
            # A light hash (a demo account's published password) or parameters raised since:
            # the password is at hand now, so the hash takes the installation's parameters.
            user.password_hash = hash_password(password)
    audit.record_event(session, actor=actor, action="login", record=user)
    return user


def verify_signer(session: Session, *, actor: Actor, password: str, meaning: str) -> User:
    """Re-authenticate a signer at the moment of signing (Part 11 §11.200(a)). Every signing
    asks for the password: stricter than the continuous-session allowance, and simpler to
    validate."""
    user = get_user(session, actor.user_id)
    if user.is_service_account:
        raise PermissionDenied("a service account can't sign: signatures belong to people")
    if not user.is_active:
        raise SignatureRefused(f"{user.username} is deactivated and can't sign")
    if is_locked(session, user):
        raise AccountLocked(
            f"the account {user.username} is locked {_until(session, user)}: it can't sign"
        )
    if not verify_password(user.password_hash, password):
        _fail(
            user.id,
            "signature",
            SignatureRefused(
                f"signature ({meaning}) refused: the password is wrong; the attempt is recorded"
            ),
            actor.channel,
        )
    if _password_expired(user):
        # Password ageing holds for signing too, whatever the channel (a bearer token or a
        # web session opened before the password expired).
        raise PasswordExpired(
            f"signature ({meaning}) refused: the password of {user.username} has expired or "
            "must be changed: change it, then sign",
            extra={"username": user.username},
        )
    pending = open_resets(session, user.id)
    if pending:
        raise PasswordResetUnconfirmed(
            f"signature ({meaning}) refused: the password of {user.username} was reset by an "
            f"administrator on {format_time(pending[0].reset_at)}; its owner confirms "
            "the reset (My tasks) before signing again"
        )
    return user


# --- web sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    cookie: str
    csrf_token: str


def open_web_session(session: Session, user: User) -> NewSession:
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = clock.now()
    session.add(
        WebSession(
            token_hash=token_digest(raw),
            csrf_token=csrf,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=get_settings().session_max_hours),
        )
    )
    return NewSession(raw, csrf)


def resolve_web_session(session: Session, raw: str) -> tuple[WebSession, User] | None:
    web = session.scalars(
        select(WebSession).where(WebSession.token_hash == token_digest(raw))
    ).one_or_none()
    if web is None or web.ended_at is not None:
        return None
    now = clock.now()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if now > web.expires_at or now - web.last_seen_at > idle:
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.is_active or is_locked(session, user):
        return None
    return web, user


def touch_web_session(session: Session, web: WebSession) -> None:
    web.last_seen_at = clock.now()


def end_web_session(session: Session, raw: str) -> None:
    web = session.scalars(
        select(WebSession).where(WebSession.token_hash == token_digest(raw))
    ).one_or_none()
    if web is not None and web.ended_at is None:
        web.ended_at = clock.now()


# --- API tokens -----------------------------------------------------------------------------


# A person's token is theirs only: they get it by logging in (``issue_login_token``), never
# from an administrator, and it expires (password ageing must reach the API): at most 90 days.
# A service account's token is an integration's credential, minted by an administrator: a year
# unless asked, or never.
PERSON_TOKEN_MAX_DAYS = 90
SERVICE_TOKEN_DAYS = 365


def _mint(
    session: Session, *, actor: Actor, user: User, name: str, days: int | None
) -> tuple[ApiToken, str]:
    if not name.strip():
        raise InvalidInput("name the token (what uses it)", field="name")
    raw = "pqms_" + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        name=name.strip(),
        user_id=user.id,
        token_prefix=raw[:12],
        token_hash=token_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    with audit.changes(session, actor=actor, reason=f"API token for {user.username}"):
        session.add(token)
    return token, raw


def create_api_token(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    name: str,
    valid_days: int | None = None,
    never_expires: bool = False,
) -> tuple[ApiToken, str]:
    """An administrator mints a token for a service account (an integration). Returns the row
    and the raw token, which is shown once and never stored. ``valid_days`` None means a year.

    Never for a person: whoever holds a token acts as its account, so a token minted for a
    person would let the administrator act as them (Part 11 §11.10(d), §11.300)."""
    actor.require("users.manage", "mint API tokens")
    user = get_user(session, user_id)
    if not user.is_service_account:
        raise PersonTokenRefused(
            f"{user.username} is a person: a person gets a token only by logging in with their "
            "own password; tokens are minted for service accounts"
        )
    if user.username == SYSTEM_USERNAME:
        raise PermissionDenied("the system account acts only inside the server: it holds no token")
    if not user.is_active:
        raise Conflict(f"{user.username} is deactivated")
    if valid_days is not None and valid_days < 1:
        raise InvalidInput("a token is valid for at least a day", field="valid_days")
    days = None if never_expires else (valid_days or SERVICE_TOKEN_DAYS)
    return _mint(session, actor=actor, user=user, name=name, days=days)


def issue_login_token(
    session: Session, *, user: User, channel: Channel, name: str, valid_days: int
) -> tuple[ApiToken, str]:
    """The token a person gets by logging in: call after ``authenticate`` succeeded."""
    if not 1 <= valid_days <= PERSON_TOKEN_MAX_DAYS:
        raise InvalidInput(
            f"a token of a person ({user.username}) expires within {PERSON_TOKEN_MAX_DAYS} "
            "days: only service accounts hold longer-lived tokens",
            field="valid_days",
        )
    actor = actor_for(session, user, channel)
    return _mint(session, actor=actor, user=user, name=name, days=valid_days)


def end_sessions_and_tokens(session: Session, *, actor: Actor, user: User, reason: str) -> int:
    """End every web session and revoke every API token of the account; returns how many."""
    now = clock.now()
    ended = 0
    for web in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ):
        web.ended_at = now
        ended += 1
    live = list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    if live:
        with audit.changes(session, actor=actor, reason=reason, action="revoke"):
            for token in live:
                token.revoked_at = now
    return ended + len(live)


def revoke_api_token(session: Session, *, actor: Actor, token_id: int, reason: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token {token_id}")
    if token.user_id != actor.user_id:
        actor.require("users.manage", "revoke tokens of other accounts")
    with audit.changes(session, actor=actor, reason=reason, action="revoke"):
        token.revoked_at = clock.now()
    return token


# The token and its account in one round trip: every API request starts here.
_TOKEN_AND_USER = (
    select(ApiToken.revoked_at, ApiToken.expires_at, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def resolve_api_token(session: Session, raw: str) -> User | None:
    found = session.execute(_TOKEN_AND_USER, {"digest": token_digest(raw)}).one_or_none()
    if found is None:
        return None
    revoked_at, expires_at, user = found
    if revoked_at is not None:
        return None
    if expires_at is not None and clock.now() > expires_at:
        return None
    if not user.is_active or is_locked(session, user):
        return None
    if user.username == SYSTEM_USERNAME:
        return None
    return user
