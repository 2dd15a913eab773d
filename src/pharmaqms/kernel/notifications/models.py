"""The outbox and each person's choices of what reaches them by e-mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import not_gxp


class NoticeKind(StrEnum):
    NEW_TASK = "new_task"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    ALARM = "alarm"


NOTICE_LABELS: dict[str, str] = {
    NoticeKind.NEW_TASK: "New task",
    NoticeKind.DUE_SOON: "Due soon",
    NoticeKind.OVERDUE: "Overdue",
    NoticeKind.ESCALATION: "Escalation",
    NoticeKind.ALARM: "Alarm",
}

# Never held for a digest: an alarm or an escalation read the next morning is read too late.
URGENT = frozenset({NoticeKind.ESCALATION, NoticeKind.ALARM})


class NoticeStatus(StrEnum):
    QUEUED = "queued"  # to be e-mailed now; after a failure, again later
    SENDING = "sending"  # claimed by one sender (another process leaves it alone)
    DIGEST = "digest"  # waits for the person's daily digest
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum attempts; an administrator may retry
    IN_APP = "in_app"  # not for e-mail (no SMTP server, no address, or not chosen)


class Notification(Base):
    """One notice to one person about one task. The same task, kind and person never twice:
    the sweep that finds due tasks can run any number of times."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("task_id", "kind", "user_id"),
        Index("ix_notifications_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    # Why it stays in-app, or the last SMTP error.
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    # The address it went to (a person may change theirs later).
    sent_to: Mapped[str | None] = mapped_column(String(200))
    # The job sending it (kernel/jobs ``current_claim``): the same job run again after its
    # worker died takes the notice back; any other sender leaves it alone.
    claimed_by: Mapped[str | None] = mapped_column(String(60))


class NotificationPreference(Base):
    """A person's choices; without a row: every kind, each e-mailed at once."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    digest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    kinds: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    last_digest_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


not_gxp(
    "notifications",
    "an outbox of e-mails about tasks: each copies what the task says, and the task and its "
    "record are audited; the row keeps when it was sent, to which address, and each failure",
)
not_gxp(
    "notification_preferences",
    "a person's choice of how to be told about their tasks (at once or in a daily digest, "
    "which kinds); the e-mail address itself is on the audited user",
)
