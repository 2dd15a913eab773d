"""What the queue holds, for the page and for readiness checks, and a person's retry of a
failed job (audited)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.db import Database, database_of
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.jobs import runner
from pharmaqms.kernel.jobs.models import JobFailure
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import after_commit, unit_of_work

# Who sees the queue and who may retry a failed job (module vocabulary, kernel/roles.py).
grant("jobs.read", "admin")
grant("jobs.manage", "admin")

STATUSES = ("todo", "doing", "failed", "succeeded", "cancelled", "aborted")
STATUS_LABELS = {
    "todo": "queued",
    "doing": "running",
    "failed": "failed",
    "succeeded": "done",
    "cancelled": "cancelled",
    "aborted": "aborted",
}


@dataclass(frozen=True)
class JobView:
    id: int
    task: str
    queue: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    last_event_at: datetime | None
    arguments: dict[str, Any]
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def last_error(self) -> str | None:
        return self.errors[-1][1] if self.errors else None


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_PG_JOBS = """
SELECT j.id, j.task_name, j.queue_name, j.status::text AS status, j.attempts,
       j.scheduled_at, j.args,
       (SELECT max(e.at) FROM procrastinate.procrastinate_events e WHERE e.job_id = j.id) AS last_at
  FROM procrastinate.procrastinate_jobs j
 WHERE (CAST(:status AS text) IS NULL OR j.status::text = :status)
 ORDER BY j.id DESC
 LIMIT :limit
"""


def list_jobs(session: Session, *, status: str | None = None, limit: int = 200) -> list[JobView]:
    """The latest jobs (of one status when given), newest first, with their errors."""
    if status is not None and status not in STATUSES:
        known = ", ".join(STATUSES)
        raise InvalidInput(f"unknown job status {status!r}; known: {known}", field="status")
    if database_of(session).dialect == "postgresql":
        rows = session.execute(text(_PG_JOBS), {"status": status, "limit": limit}).all()
        errors: dict[int, list[tuple[int, str]]] = {}
        ids = [int(row.id) for row in rows]
        if ids:
            for failure in session.scalars(
                select(JobFailure)
                .where(JobFailure.job_id.in_(ids))
                .order_by(JobFailure.job_id, JobFailure.attempt, JobFailure.id)
            ):
                errors.setdefault(failure.job_id, []).append((failure.attempt, failure.error))
        return [
            JobView(
                id=int(row.id),
                task=row.task_name,
                queue=row.queue_name,
                status=row.status,
                attempts=int(row.attempts),
                scheduled_at=_aware(row.scheduled_at),
                last_event_at=_aware(row.last_at),
                arguments=dict(row.args or {}),
                errors=errors.get(int(row.id), []),
            )
            for row in rows
        ]
    found = []
    for row in sorted(runner._memory.jobs.values(), key=lambda r: -int(r["id"])):
        if status is not None and row["status"] != status:
            continue
        events = runner._memory.events.get(row["id"], [])
        found.append(
            JobView(
                id=int(row["id"]),
                task=row["task_name"],
                queue=row["queue_name"],
                status=str(row["status"]),
                attempts=int(row["attempts"]),
                scheduled_at=_aware(row.get("scheduled_at")),
                last_event_at=_aware(events[-1]["at"]) if events else None,
                arguments=dict(row.get("args") or {}),
                errors=runner.memory_failures(int(row["id"])),
            )
        )
        if len(found) >= limit:
            break
    return found


def job_counts(session: Session) -> dict[str, int]:
    if database_of(session).dialect == "postgresql":
        rows = session.execute(
            text(
                "SELECT status::text, count(*) FROM procrastinate.procrastinate_jobs "
                "GROUP BY status"
            )
        ).all()
        return {str(status): int(count) for status, count in rows}
    return dict(Counter(str(row["status"]) for row in runner._memory.jobs.values()))


@dataclass(frozen=True)
class QueueStatus:
    durable: bool  # PostgreSQL queue (True) or in process (False)
    runner: str  # who runs the jobs: "workers" or "in-process" or "inline"
    counts: dict[str, int]
    ready: int  # queued and due now
    oldest_ready_seconds: float | None
    workers_alive: int | None  # PostgreSQL: workers with a recent heartbeat

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)


def queue_depth(database: Database | None = None) -> int:
    """Jobs queued and due now: what a readiness check or a metric watches."""
    return queue_status(database).ready


def queue_status(database: Database | None = None) -> QueueStatus:
    """The queue at a glance, for a readiness check (``/readyz``), metrics and the page."""
    database = database or runner.job_database()
    now = clock.now()
    with unit_of_work(database, write=False) as session:
        counts = job_counts(session)
        if database.dialect == "postgresql":
            ready, oldest = session.execute(
                text(
                    "SELECT count(*), min(scheduled_at) FROM procrastinate.procrastinate_jobs "
                    "WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())"
                )
            ).one()
            oldest_at = _aware(oldest)
            alive = session.execute(
                text(
                    "SELECT count(*) FROM procrastinate.procrastinate_workers "
                    "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"
                ),
                {"seconds": get_settings().jobs_stalled_seconds},
            ).scalar_one()
            return QueueStatus(
                durable=True,
                runner="workers",
                counts=counts,
                ready=int(ready),
                oldest_ready_seconds=(now - oldest_at).total_seconds() if oldest_at else None,
                workers_alive=int(alive),
            )
    waiting = [
        row
        for row in runner._memory.jobs.values()
        if row["status"] == "todo"
        and (row.get("scheduled_at") is None or _aware(row["scheduled_at"]) <= now)  # type: ignore[operator]
    ]
    worker = runner.in_process_worker()
    return QueueStatus(
        durable=False,
        runner="in-process" if worker is not None and worker.running else "inline",
        counts=counts,
        ready=len(waiting),
        oldest_ready_seconds=None,
        workers_alive=None,
    )


def retry_job(session: Session, job_id: int, *, actor: Actor) -> JobView:
    """Queue a failed job again, now, for one more attempt; the retry is audited with the
    error it failed with."""
    actor.require("jobs.manage", "retry jobs")
    view = job_by_id(session, job_id)
    if view.status != "failed":
        raise InvalidInput(
            f"job {job_id} is {STATUS_LABELS.get(view.status, view.status)}: "
            "only a failed job is retried"
        )
    audit.record_event(
        session,
        actor=actor,
        action="retry",
        record_type="job",
        record_id=job_id,
        record_label=f"job {job_id} ({view.task})",
        details={"task": view.task, "attempts": view.attempts, "last_error": view.last_error},
        reason="a failed background job queued again by a person",
    )
    if database_of(session).dialect == "postgresql":
        # In the transaction of the audit entry: both or neither. The library's triggers
        # (an event row per change of status) find their tables by the search_path.
        session.execute(text("SELECT set_config('search_path', 'procrastinate, public', true)"))
        session.execute(
            text(
                "UPDATE procrastinate.procrastinate_jobs SET status = 'todo', "
                "scheduled_at = now() WHERE id = :id AND status = 'failed'"
            ),
            {"id": job_id},
        )
    else:

        def requeue() -> None:
            row = runner._memory.jobs.get(job_id)
            if row is not None and row["status"] == "failed":
                row["status"] = "todo"
                row["scheduled_at"] = None

        after_commit(session, requeue)
    return view


def job_by_id(session: Session, job_id: int) -> JobView:
    for view in list_jobs(session, limit=100_000):
        if view.id == job_id:
            return view
    raise NotFound(f"job {job_id} does not exist")
