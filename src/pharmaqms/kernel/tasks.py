"""The task inbox: what waits for whom, with due dates; overdue flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.records import Audited

TITLE_LENGTH: int = Task.__table__.c.title.type.length  # type: ignore[attr-defined]


def open_task(
    session: Session,
    record: Audited,
    *,
    actor: Actor,
    kind: str,
    title: str,
    role: str | None = None,
    user_id: int | None = None,
    due_in: timedelta | None = None,
    due_at: datetime | None = None,
) -> Task:
    if role is None and user_id is None:
        raise ValueError("a task is assigned to a role or to a user")
    # A title quotes the record's own title, which may fill its column already: cut it
    # visibly to the task's column (PostgreSQL enforces the length; SQLite would keep more,
    # and a backup of it would not restore into PostgreSQL).
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    task = Task(
        record_type=record.__audit_type__,
        record_id=getattr(record, "id"),  # noqa: B009 - every audited row has an id
        record_label=record.audit_label(),
        kind=kind,
        title=title,
        assignee_role=role,
        assignee_user_id=user_id,
        due_at=due_at or (clock.now() + due_in if due_in else None),
        status="open",
        created_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"task opened: {title}"):
        session.add(task)
    return task


def close_tasks(
    session: Session,
    record: Audited,
    *,
    actor: Actor,
    outcome: str,
    kind: str | None = None,
) -> list[Task]:
    query = select(Task).where(
        Task.record_type == record.__audit_type__,
        Task.record_id == getattr(record, "id"),  # noqa: B009
        Task.status == "open",
    )
    if kind is not None:
        query = query.where(Task.kind == kind)
    closed = list(session.scalars(query))
    if closed:
        with audit.changes(session, actor=actor, reason=outcome, action="close"):
            for task in closed:
                task.status = "done"
                task.closed_at = clock.now()
                task.closed_by_id = actor.user_id
                task.outcome = outcome[:200]
    return closed


@dataclass(frozen=True)
class InboxItem:
    task: Task
    overdue: bool
    due_soon: bool


def inbox(session: Session, actor: Actor, *, include_closed: bool = False) -> list[InboxItem]:
    query = select(Task).where(
        or_(Task.assignee_user_id == actor.user_id, Task.assignee_role.in_(sorted(actor.roles)))
    )
    if not include_closed:
        query = query.where(Task.status == "open")
    now = clock.now()
    items = []
    for task in session.scalars(query.order_by(Task.due_at.is_(None), Task.due_at, Task.id)):
        overdue = task.status == "open" and task.due_at is not None and task.due_at < now
        due_soon = (
            task.status == "open"
            and not overdue
            and task.due_at is not None
            and task.due_at < now + timedelta(days=7)
        )
        items.append(InboxItem(task, overdue, due_soon))
    return items
