"""Notification pages: each person's choice of what reaches them by e-mail (and the notices
they were sent), the administrators' outbox (queued, sent, failed; retry), and the link every
e-mail carries, which leads to the task's record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pharmaqms.kernel import tasks
from pharmaqms.kernel.errors import InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, record_url_by_id, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task, User
from pharmaqms.kernel.notifications import service
from pharmaqms.kernel.notifications.mail import configured
from pharmaqms.kernel.notifications.models import NOTICE_LABELS, NoticeStatus
from pharmaqms.kernel.registry import readable_record_type
from pharmaqms.kernel.settings import get_settings

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Admin", "E-mail outbox", "/admin/notifications", "users.read", 20))


@router.get("/account/notifications", response_class=HTMLResponse)
def my_notifications(request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotFound(f"user {actor.user_id} does not exist")
        preference = service.preference_of(session, user.id)
        return render(
            request,
            "kernel/notification_settings.html",
            {
                "email": user.email or "",
                "digest": bool(preference and preference.digest),
                "chosen": service.kinds_chosen(preference),
                "kinds": [(kind, NOTICE_LABELS[kind]) for kind in service.ALL_KINDS],
                "notices": service.notices_of(session, user.id),
                "labels": NOTICE_LABELS,
                "smtp": configured(get_settings()),
                "digest_hour": get_settings().notify_digest_hour,
            },
        )


@router.post("/account/notifications")
def save_my_notifications(
    request: Request,
    actor: ActorDep,
    email: Annotated[str, Form(max_length=200)] = "",
    digest: Annotated[bool, Form()] = False,
    kinds: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        service.update_preferences(
            session, actor=actor, email=email, digest=digest, kinds=kinds or []
        )
    return redirect("/account/notifications", "Notification settings saved.")


@router.get("/tasks/{task_id}/record")
def task_record(task_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    """Where an e-mail's link lands: the record's own page, which checks its own permission.

    Only the task's assignee (the person, or a holder of the role) or someone who may read the
    record may follow it; anyone else gets the answer of a task that does not exist, so a
    guessed task number tells them nothing about which record it points at."""
    with transaction(request) as session:
        task = session.get(Task, task_id)
        if task is None or not _may_follow(task, actor):
            raise NotFound(f"task {task_id} does not exist")
        target = record_url_by_id(session, task.record_type, task.record_id)
    return RedirectResponse(target, status_code=303)


def _may_follow(task: Task, actor: Actor) -> bool:
    if tasks.concerns(task, actor):
        return True
    if not actor.can("records.read"):
        return False
    try:
        readable_record_type(task.record_type, actor)
    except (PermissionDenied, NotFound):
        return False
    return True


@router.get("/admin/notifications", response_class=HTMLResponse)
def outbox(request: Request, actor: ActorDep, status: str = "") -> HTMLResponse:
    actor.require("users.read", "see the e-mail outbox")
    if status and status not in set(NoticeStatus):
        raise InvalidInput(
            f"unknown status {status!r}; known: {', '.join(s.value for s in NoticeStatus)}",
            field="status",
        )
    with transaction(request) as session:
        notices = service.outbox(session, status=status or None)
        people = select(User).where(User.id.in_({n.user_id for n in notices}))
        names = {u.id: u.username for u in session.scalars(people)}
        return render(
            request,
            "kernel/outbox.html",
            {
                "notices": notices,
                "names": names,
                "counts": service.outbox_counts(session),
                "statuses": [s.value for s in NoticeStatus],
                "status": status,
                "labels": NOTICE_LABELS,
                "smtp": configured(get_settings()),
            },
        )


@router.post("/admin/notifications/{notice_id}/retry")
def retry(notice_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        notice = service.retry_notification(session, notice_id, actor=actor)
        message = f"Notification {notice.id} is queued again."
    return redirect("/admin/notifications", message)
