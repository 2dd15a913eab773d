"""API shapes of the kernel's objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="API session", max_length=100)
    valid_days: int = Field(default=1, ge=1, le=90)


class TokenOut(BaseModel):
    token: str
    token_id: int
    expires_at: datetime | None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[str]
    is_active: bool
    is_service_account: bool
    locked: bool = False
    password_changed_at: datetime | None
    last_login_at: datetime | None
    version: int
    # Roles asked for and waiting for a second administrator's approval.
    pending_roles: list[str] = []


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    roles: list[str] = Field(min_length=1)
    password: str | None = Field(default=None, max_length=256)
    service_account: bool = False
    # Roles that sign are asked for by a request the creating administrator signs with their
    # own password; a second administrator approves it.
    signature_password: str | None = Field(default=None, max_length=256)
    grant_reason: str | None = Field(default=None, max_length=2000)


class Reason(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class RolesChange(Reason):
    roles: list[str] = Field(min_length=1)


class PasswordResetOut(BaseModel):
    """The temporary password is in this answer only: shown once, never stored."""

    user: UserOut
    reset_id: int
    temporary_password: str
    expires_at: datetime


class PasswordResetView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    reset_at: datetime
    reset_by_id: int
    reason: str
    expires_at: datetime
    password_set_at: datetime | None
    confirmed_at: datetime | None
    disputed_at: datetime | None


class ResetAnswer(Strict):
    note: str | None = Field(default=None, max_length=2000)


class RoleGrantCreate(Strict):
    roles: list[str] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=2000)
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(Strict):
    username: str
    old_password: str
    new_password: str


class ApiTokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    # Left out: the account's default (30 days for a person, 365 for a service account); null:
    # never expires, for service accounts only.
    valid_days: int | None = Field(default=None, ge=1, le=3650)


class TransitionRequest(Strict):
    password: str | None = Field(default=None, max_length=256)
    reason: str | None = Field(default=None, max_length=4000)
    comment: str | None = Field(default=None, max_length=4000)
    expected_version: int | None = Field(default=None, ge=1)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    actor_username: str
    actor_name: str
    channel: str
    action: str
    record_type: str
    record_id: int | None
    record_label: str
    changes: dict[str, Any]
    reason: str | None
    state_hash: str | None
    entry_hash: str


class SignatureOut(BaseModel):
    id: int
    signer_name: str
    signer_username: str
    meaning: str
    signed_at: datetime
    content_hash: str
    valid_for_current_content: bool
    manifestation: str


class RoleGrantOut(BaseModel):
    id: int
    number: str
    status: str
    version: int
    grantee_id: int
    grantee: str
    roles: list[str]
    reason: str
    requested_by: str
    requested_at: datetime
    signatures: list[SignatureOut]


class RecordOut(BaseModel):
    record_type: str
    id: int
    number: str
    status: str
    version: int
    content_hash: str


class TransitionOption(BaseModel):
    name: str
    label: str
    target: str
    signature: str | None
    reason_required: bool
    allowed: bool
    reasons: list[str]


class TaskOut(BaseModel):
    id: int
    record_type: str
    record_id: int
    record_label: str
    kind: str
    title: str
    assignee_role: str | None
    due_at: datetime | None
    status: str
    overdue: bool


T = TypeVar("T")


class StoredRow(BaseModel):
    """A row as stored, column by column (master data answers with it): its id, and each
    column of its table under the column's name."""

    model_config = ConfigDict(extra="allow")
    id: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
