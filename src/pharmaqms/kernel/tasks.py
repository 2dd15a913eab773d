"""The task inbox: what waits for whom, with due dates; overdue flagged.

A task goes to a role (everyone holding it sees it) or to a named person. A role's task can be
delegated to one colleague who holds that role — with a reason, audited — and handed back to
the role; from then on only the delegate sees it. A task opened for a named person (a CAPA
action's owner, a deviation's investigator) follows the record: it is re-assigned by changing
the record, not the inbox, so the two never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task, User
from pharmaqms.kernel.notifications import service as notifications
from pharmaqms.kernel.notifications.models import NoticeKind
from pharmaqms.kernel.records import Audited

DUE_SOON = timedelta(days=7)

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
    notice: NoticeKind = NoticeKind.NEW_TASK,
) -> Task:
    """Open a task, and in the same transaction the notices to whoever it is for (e-mailed
    after the commit): ``notice`` says how the task is announced (an alarm, an escalation)."""
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
    notifications.task_opened(session, task, notice)
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

    @property
    def delegated(self) -> bool:
        # Tasks are opened for a role or for a person, never both: both means handed on.
        return self.task.assignee_role is not None and self.task.assignee_user_id is not None


def _mine(actor: Actor) -> ColumnElement[bool]:
    """Tasks for me by name, and my roles' tasks that nobody was delegated."""
    return or_(
        Task.assignee_user_id == actor.user_id,
        and_(Task.assignee_user_id.is_(None), Task.assignee_role.in_(sorted(actor.roles))),
    )


def is_in_inbox_of(task: Task, actor: Actor) -> bool:
    """Whether ``task`` is (or, once closed, was) in the actor's inbox — ``_mine`` for one."""
    if task.assignee_user_id is not None:
        return task.assignee_user_id == actor.user_id
    return task.assignee_role in actor.roles


def concerns(task: Task, actor: Actor) -> bool:
    """The task is the actor's, by name or by role — even when a colleague of the role has it."""
    return task.assignee_user_id == actor.user_id or task.assignee_role in actor.roles


def _item(task: Task, now: datetime) -> InboxItem:
    overdue = task.status == "open" and task.due_at is not None and task.due_at < now
    due_soon = (
        task.status == "open"
        and not overdue
        and task.due_at is not None
        and task.due_at < now + DUE_SOON
    )
    return InboxItem(task, overdue, due_soon)


def inbox(session: Session, actor: Actor, *, include_closed: bool = False) -> list[InboxItem]:
    query = select(Task).where(_mine(actor))
    if not include_closed:
        query = query.where(Task.status == "open")
    now = clock.now()
    ordered = query.order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    return [_item(task, now) for task in session.scalars(ordered)]


Due = Literal["overdue", "soon", "later", "none"]
Sort = Literal["due", "opened", "type"]
DUE_CHOICES: tuple[Due, ...] = ("overdue", "soon", "later", "none")
SORT_CHOICES: tuple[Sort, ...] = ("due", "opened", "type")


@dataclass(frozen=True)
class InboxView:
    """What the inbox page asks for: filters, order and one page."""

    record_type: str | None = None
    due: Due | None = None
    # "me" for tasks by name (delegated included), or one of my roles.
    assignee: str | None = None
    sort: Sort = "due"
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    total: int
    # Over the whole inbox, whatever the filters: the figures of the summary line and the
    # choices of the type filter.
    overdue: int
    due_soon: int
    by_type: dict[str, int] = field(default_factory=dict)


def inbox_page(session: Session, actor: Actor, view: InboxView) -> InboxPage:
    """One page of my open tasks, filtered and ordered in the database (an analyst may have
    hundreds)."""
    now = clock.now()
    mine = and_(Task.status == "open", _mine(actor))
    conditions: list[ColumnElement[bool]] = [mine]
    if view.record_type:
        conditions.append(Task.record_type == view.record_type)
    if view.assignee == "me":
        conditions.append(Task.assignee_user_id == actor.user_id)
    elif view.assignee:
        conditions.append(
            and_(Task.assignee_role == view.assignee, Task.assignee_user_id.is_(None))
        )
    soon = now + DUE_SOON
    if view.due == "overdue":
        conditions.append(Task.due_at < now)
    elif view.due == "soon":
        conditions.append(and_(Task.due_at >= now, Task.due_at < soon))
    elif view.due == "later":
        conditions.append(Task.due_at >= soon)
    elif view.due == "none":
        conditions.append(Task.due_at.is_(None))
    where = and_(*conditions)
    order = {
        "due": (Task.due_at.is_(None), Task.due_at, Task.id),
        "opened": (Task.created_at.desc(), Task.id.desc()),
        "type": (Task.record_type, Task.record_id, Task.due_at.is_(None), Task.due_at, Task.id),
    }[view.sort]
    rows = session.scalars(
        select(Task).where(where).order_by(*order).offset(view.offset).limit(view.limit)
    )
    total = session.scalar(select(func.count()).select_from(Task).where(where)) or 0
    overdue = session.scalar(select(func.count()).select_from(Task).where(mine, Task.due_at < now))
    due_soon = session.scalar(
        select(func.count()).select_from(Task).where(mine, Task.due_at >= now, Task.due_at < soon)
    )
    by_type = {
        str(record_type): int(count)
        for record_type, count in session.execute(
            select(Task.record_type, func.count())
            .where(mine)
            .group_by(Task.record_type)
            .order_by(Task.record_type)
        )
    }
    return InboxPage(
        items=[_item(task, now) for task in rows],
        total=int(total),
        overdue=int(overdue or 0),
        due_soon=int(due_soon or 0),
        by_type=by_type,
    )


# --- handing a task on ------------------------------------------------------------------------


def _open_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if task.status != "open":
        raise InvalidInput(f"task {task_id} is {task.status}: only an open task can be handed on")
    return task


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput("give the reason for handing the task on (at least 5 characters)")
    return reason[:200]


def delegates_for(session: Session, task: Task, actor: Actor) -> list[User]:
    """Who may take a role's task: active people (not service accounts) who hold the role."""
    if task.assignee_role is None:
        return []
    people = session.scalars(
        select(User)
        .where(User.is_active.is_(True), User.is_service_account.is_(False))
        .order_by(User.full_name)
    )
    return [u for u in people if task.assignee_role in u.roles and u.id != task.assignee_user_id]


def delegate_task(
    session: Session, task_id: int, *, actor: Actor, delegate_id: int, reason: str
) -> Task:
    """Hand a role's task to one colleague holding the role (holiday, workload, expertise)."""
    task = _open_task(session, task_id)
    why = _reason(reason)
    if task.assignee_role is None:
        raise InvalidInput(
            f"task {task_id} was opened for a named person: it follows its record "
            f"({task.record_label}); change the owner there"
        )
    if not is_in_inbox_of(task, actor):
        raise PermissionDenied("only whoever has the task in their inbox can hand it on")
    delegate = session.get(User, delegate_id)
    if delegate is None or not delegate.is_active or delegate.is_service_account:
        raise InvalidInput(f"user {delegate_id} is not an active person")
    if task.assignee_role not in delegate.roles:
        raise InvalidInput(
            f"{delegate.username} does not hold the role {task.assignee_role!r} this task needs"
        )
    if delegate.id == task.assignee_user_id:
        raise InvalidInput(f"the task is already with {delegate.username}")
    with audit.changes(
        session, actor=actor, reason=f"task delegated to {delegate.username}: {why}"
    ):
        task.assignee_user_id = delegate.id
    return task


def return_task_to_role(session: Session, task_id: int, *, actor: Actor, reason: str) -> Task:
    """The delegate (or whoever delegated it, holding the role) gives the task back to all
    holders of its role."""
    task = _open_task(session, task_id)
    why = _reason(reason)
    if task.assignee_role is None or task.assignee_user_id is None:
        raise InvalidInput(f"task {task_id} is not delegated: there is nothing to hand back")
    if not concerns(task, actor):
        raise PermissionDenied("only the delegate or a holder of the role can hand it back")
    with audit.changes(
        session, actor=actor, reason=f"task handed back to role {task.assignee_role}: {why}"
    ):
        task.assignee_user_id = None
    return task
