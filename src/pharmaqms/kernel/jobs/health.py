"""The job queue as operations see it: a readiness check (``/readyz``: the queue answers) and
gauges for ``/metrics`` (jobs due and waiting, jobs per status, live PostgreSQL workers).

A queue with no live worker does not make the API unready — requests are still served and
their jobs wait safely in the queue — so that is a gauge to alert on
(``pharmaqms_job_workers_alive == 0``), not a readiness failure."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.db import Database, database_of
from pharmaqms.kernel.jobs.service import job_counts, queue_status
from pharmaqms.kernel.observability.health import register_readiness_check
from pharmaqms.kernel.observability.metrics import register_gauge


def queue_ready(database: Database) -> str | None:
    queue_status(database)  # raises when the queue's tables can't be read
    return None


def _ready(session: Session) -> float:
    return float(queue_status(database_of(session)).ready)


def _by_status(session: Session) -> dict[tuple[str, ...], float]:
    return {(status,): float(count) for status, count in job_counts(session).items()}


def _workers(session: Session) -> float | None:
    alive = queue_status(database_of(session)).workers_alive
    return None if alive is None else float(alive)


register_readiness_check("job queue", queue_ready)
register_gauge("pharmaqms_jobs_ready", "Jobs queued and due now, waiting for a worker.", _ready)
register_gauge("pharmaqms_jobs", "Jobs in the queue by status.", _by_status, labels=("status",))
register_gauge(
    "pharmaqms_job_workers_alive",
    "PostgreSQL job workers with a recent heartbeat (none on SQLite: jobs run in process).",
    _workers,
)
