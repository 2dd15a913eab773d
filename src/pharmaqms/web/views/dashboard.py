"""The home page: my tasks with their due dates and, for administrators, the security alerts
nobody has acknowledged yet."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from pharmaqms.kernel import tasks
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, record_url_by_id
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import SecurityAlert

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Home", "My tasks", "/", "records.read", 10))


@dataclass(frozen=True)
class TaskLine:
    item: tasks.InboxItem
    url: str


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        lines = [
            TaskLine(item, record_url_by_id(session, item.task.record_type, item.task.record_id))
            for item in tasks.inbox(session, actor)
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
        return render(request, "kernel/dashboard.html", {"tasks": lines, "alerts": alerts})
