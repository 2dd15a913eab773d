"""The background jobs page: what the job runner has queued, is running, has done and has
given up on, with each job's attempts and errors, and a retry for a failed one (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.db import database_of
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.jobs import service
from pharmaqms.kernel.jobs.runner import scheduled

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Admin", "Background jobs", "/admin/jobs", "jobs.read", 25))


@router.get("/admin/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, actor: ActorDep, status: str = "") -> HTMLResponse:
    actor.require("jobs.read", "see the background jobs")
    with transaction(request) as session:
        found = service.list_jobs(session, status=status or None)
        return render(
            request,
            "kernel/jobs.html",
            {
                "jobs": found,
                "counts": service.job_counts(session),
                "statuses": service.STATUSES,
                "labels": service.STATUS_LABELS,
                "status": status,
                "queue": service.queue_status(database_of(session)),
                "schedule": scheduled(),
            },
        )


@router.post("/admin/jobs/{job_id}/retry")
def retry_job(job_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        view = service.retry_job(session, job_id, actor=actor)
        message = f"Job {view.id} ({view.task}) is queued again."
    return redirect("/admin/jobs?status=todo", message)
