"""Kernel tables: users and roles, sessions and tokens, the audit trail, e-signatures, record
counters, tasks and security alerts, and the two records of account administration that
protect signatures: role grant requests and password resets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, Versioned, not_gxp

USER_ACCOUNT_FIELDS = frozenset({"username", "full_name", "email", "roles", "is_active"})


class User(Audited, Versioned, Base):
    """A person or an integration service account. Never deleted, never renamed to someone
    else: a username is unique for ever (Part 11 §11.100(a), §11.300(a))."""

    __tablename__ = "users"
    __audit_type__ = "user"
    __audit_masked__ = frozenset({"password_hash"})
    __audit_excluded__ = frozenset({"last_login_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_service_account: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column()
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    failed_login_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_at: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    deactivated_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return self.username

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return bool(changed & USER_ACCOUNT_FIELDS)


class Role(Audited, Versioned, Base):
    __tablename__ = "roles"
    __audit_type__ = "role"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    permissions: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    read_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def audit_label(self) -> str:
        return self.name

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return "permissions" in changed


class PasswordHistory(Base):
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    set_at: Mapped[datetime] = mapped_column(nullable=False)


class WebSession(Base):
    """A browser session. Stored in the database so that any number of web processes can
    serve it; only a hash of the cookie value is kept."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column()


class ApiToken(Audited, Base):
    """A bearer token for the API, for a person or an integration service account."""

    __tablename__ = "api_tokens"
    __audit_type__ = "api_token"
    __audit_masked__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    __audit_excluded__ = frozenset({"last_used_at"})

    def audit_label(self) -> str:
        return f"token {self.token_prefix}… ({self.name})"


class SecurityAlert(Audited, Base):
    """An alert that needs a person's attention: a locked account, repeated signature failures
    (Part 11 §11.300(d): unauthorised use attempts are reported urgently)."""

    __tablename__ = "security_alerts"
    __audit_type__ = "security_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """One link of the hash-chained audit trail. Append-only: triggers refuse UPDATE/DELETE."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_record", "record_type", "record_id", "seq"),
        Index("ix_audit_entries_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    record_type: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int | None] = mapped_column(Integer)
    record_label: Mapped[str] = mapped_column(String(200), nullable=False)
    # Canonical JSON text, hashed byte for byte as stored.
    changes: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    state_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    HASHED: ClassVar[tuple[str, ...]] = (
        "seq",
        "occurred_at",
        "actor_id",
        "actor_username",
        "actor_name",
        "channel",
        "request_id",
        "action",
        "record_type",
        "record_id",
        "record_label",
        "changes",
        "reason",
        "state_hash",
        "prev_hash",
    )


class AuditChainHead(Base):
    """The last link of the chain. Appends lock this row, which serialises them, and it lets
    verification notice entries cut off the end of the chain.

    Entries from ``keyed_from`` on are chained with HMAC under the audit key of the key file
    ``key_id`` names (earlier ones, written before the chain was keyed, with plain SHA-256).
    ``mac`` is the HMAC of the head itself: without the key nobody can move the head to cut
    the chain short, or claim it was keyed later than it was."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    keyed_from: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    key_id: Mapped[str | None] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))


class ElectronicSignature(Base):
    """An e-signature (Part 11 §11.50, §11.70). Append-only. Its own hash binds signer,
    meaning, time and the record's identity and content, so it can't be moved to another
    record or re-dated without verification noticing."""

    __tablename__ = "electronic_signatures"
    __table_args__ = (Index("ix_electronic_signatures_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    record_label: Mapped[str] = mapped_column(String(200), nullable=False)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    signer_username: Mapped[str] = mapped_column(String(64), nullable=False)
    signer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    meaning: Mapped[str] = mapped_column(String(60), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    record_version: Mapped[int] = mapped_column(Integer, nullable=False)
    transition: Mapped[str | None] = mapped_column(String(60))
    comment: Mapped[str | None] = mapped_column(Text)
    signature_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    HASHED: ClassVar[tuple[str, ...]] = (
        "record_type",
        "record_id",
        "record_label",
        "signer_id",
        "signer_username",
        "signer_name",
        "meaning",
        "signed_at",
        "content_hash",
        "record_version",
        "transition",
        "comment",
    )

    def hashed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.HASHED}


class RecordCounter(Base):
    """One row per number prefix and year; incremented inside the creating transaction."""

    __tablename__ = "record_counters"
    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Task(Audited, Versioned, Base):
    """Work waiting for someone: a review, an approval, a signature. Assigned to a user or to
    everyone holding a role; closed when the record moves on."""

    __tablename__ = "tasks"
    __audit_type__ = "task"
    __table_args__ = (
        Index("ix_tasks_open_role", "status", "assignee_role"),
        Index("ix_tasks_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    record_label: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    assignee_role: Mapped[str | None] = mapped_column(String(64))
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(200))


class RoleGrantRequest(GxPRecord, Base):
    """Roles that sign, asked for by one administrator and granted only when a second one
    approves (Part 11 §11.100(b): identity verified before a signature is sanctioned;
    §11.200(a)(3): misuse needs the collusion of two people). Both sign the request."""

    __tablename__ = "role_grant_requests"
    __audit_type__ = "role_grant_request"
    __number_prefix__ = "RGR"
    __draft_states__ = frozenset()
    __signed_fields__ = ("grantee_id", "roles", "reason")

    grantee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    roles: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class PasswordReset(Audited, Base):
    """One password reset by an administrator (Part 11 §11.300(c)). The temporary secret is
    for one use; until its owner has set their own password and confirmed that they asked for
    the reset, they can't sign, so an administrator who used the secret is found out."""

    __tablename__ = "password_resets"
    __audit_type__ = "password_reset"
    __audit_masked__ = frozenset({"temporary_hash"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    # Usernames are never reused or renamed: the label stays true.
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    reset_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reset_at: Mapped[datetime] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    # Kept to recognise the secret when it is presented again after its one use.
    temporary_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("security_alerts.id"))
    password_set_at: Mapped[datetime | None] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    disputed_at: Mapped[datetime | None] = mapped_column()
    owner_note: Mapped[str | None] = mapped_column(Text)

    def audit_label(self) -> str:
        return f"password reset of {self.username} on {self.reset_at:%Y-%m-%d %H:%M} UTC"

    @property
    def resolved(self) -> bool:
        return self.confirmed_at is not None or self.disputed_at is not None


class UserTimeZone(Audited, Versioned, Base):
    """The time zone a person reads and types times in (``kernel.timezones``); without a row,
    or with none chosen, the site's default. A table of its own: a new column of ``users``
    would change the state hash of every existing account."""

    __tablename__ = "user_time_zones"
    __audit_type__ = "user_time_zone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    # Usernames are never reused or renamed: the label stays true.
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    # An IANA name ("Europe/Berlin"); None: the site's default.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"time zone of {self.username}"


not_gxp(
    "web_sessions",
    "browser sessions: who is logged in now; logins and logouts are audit events of their own",
)
not_gxp(
    "password_history",
    "hashes of a person's earlier passwords, kept only to refuse their reuse; every password "
    "change is audited on the user (masked)",
)
not_gxp(
    "record_counters",
    "the next number of each prefix and year; each number is part of its record, audited there",
)
