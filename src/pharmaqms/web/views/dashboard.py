"""The home page: where things stand for a manager (web/views/standing.py), then my tasks —
filtered, ordered, paged, grouped by record if asked, each one
handed on to a colleague when needed — and, for administrators, the security alerts nobody has
acknowledged yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import tasks
from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import (
    PAGE_SIZE,
    ActorDep,
    page_offset,
    record_url_by_id,
    redirect,
)
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import SecurityAlert, Task, User
from pharmaqms.kernel.settings import get_settings
from pharmaqms.web.views import demo_guide, standing

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Home", "My tasks", "/", "records.read", 10))


@dataclass(frozen=True)
class TaskLine:
    item: tasks.InboxItem
    url: str


def _view(
    actor_roles: frozenset[str],
    type_: str,
    due: str,
    for_: str,
    sort: str,
    offset: str,
    group: bool,
) -> tasks.InboxView:
    """The filters as typed in the URL; a value that is not one of the choices is no filter."""
    return tasks.InboxView(
        record_type=type_[:60] or None,
        due=next((d for d in tasks.DUE_CHOICES if d == due), None),
        assignee=for_ if for_ == "me" or for_ in actor_roles else None,
        sort="type" if group else next((s for s in tasks.SORT_CHOICES if s == sort), "due"),
        offset=page_offset(offset),
        limit=PAGE_SIZE,
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    actor: ActorDep,
    type_: Annotated[str, Query(alias="type")] = "",
    due: str = "",
    for_: Annotated[str, Query(alias="for")] = "",
    sort: str = "",
    group: str = "",
    offset: str = "",
) -> HTMLResponse:
    view = _view(actor.roles, type_, due, for_, sort, offset, group == "record")
    with transaction(request) as session:
        page = tasks.inbox_page(session, actor, view)
        lines = [
            TaskLine(item, record_url_by_id(session, item.task.record_type, item.task.record_id))
            for item in page.items
        ]
        alerts: list[SecurityAlert] = []
        if actor.can("users.manage"):
            alerts = list(
                session.scalars(
                    select(SecurityAlert)
                    .where(SecurityAlert.acknowledged_at.is_(None))
                    .order_by(SecurityAlert.raised_at.desc())
                )
            )
        return render(
            request,
            "kernel/dashboard.html",
            {
                "tasks": lines,
                "page": page,
                "view": view,
                "grouped": group == "record",
                "filters": {"type": type_, "due": due, "for": for_, "sort": sort, "group": group},
                "roles": sorted(actor.roles),
                "alerts": alerts,
                # A demonstration instance says what it holds and where each role starts.
                "demo_guide": demo_guide.starts_for(actor.roles) if get_settings().demo else None,
                "demo_holds": demo_guide.HOLDS,
                # A manager's home page opens with where things stand.
                "standing": (
                    standing.figures_for(session, actor) if standing.shown_on_home(actor) else None
                ),
            },
        )


def _task(session: Session, task_id: int, actor: Actor) -> Task:
    task = session.get(Task, task_id)
    # Someone else's task is not shown, not even its title.
    if task is None or not tasks.concerns(task, actor):
        raise NotFound(f"task {task_id} does not exist")
    return task


@router.get("/tasks/{task_id}/delegate", response_class=HTMLResponse)
def delegate_form(task_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        task = _task(session, task_id, actor)
        return render(
            request,
            "kernel/delegate_task.html",
            {
                "task": task,
                "url": record_url_by_id(session, task.record_type, task.record_id),
                "people": tasks.delegates_for(session, task, actor),
                "can_hand_on": tasks.is_in_inbox_of(task, actor),
            },
        )


@router.post("/tasks/{task_id}/delegate")
def delegate(
    task_id: RecordId,
    request: Request,
    actor: ActorDep,
    delegate_id: Annotated[RecordId, Form()],
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        task = tasks.delegate_task(
            session, task_id, actor=actor, delegate_id=delegate_id, reason=reason
        )
        person = session.get(User, task.assignee_user_id)
        message = f"“{task.title}” handed to {person.full_name if person else 'a colleague'}"
    return redirect("/", message)


@router.post("/tasks/{task_id}/return")
def hand_back(
    task_id: RecordId,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        task = tasks.return_task_to_role(session, task_id, actor=actor, reason=reason)
        message = f"“{task.title}” handed back to everyone holding {task.assignee_role}"
    return redirect("/", message)
