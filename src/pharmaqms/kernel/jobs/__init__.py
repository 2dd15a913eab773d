"""Background and scheduled work (procrastinate): see :mod:`pharmaqms.kernel.jobs.runner`."""

from pharmaqms.kernel.jobs.runner import (
    DELIVERIES,
    SCHEDULE,
    InProcessWorker,
    bind,
    current_claim,
    drain,
    enqueue,
    enqueue_after_commit,
    is_durable,
    job,
    job_database,
    run_now,
    run_worker,
    schedule,
    scheduled,
)
from pharmaqms.kernel.jobs.service import QueueStatus, queue_depth, queue_status

__all__ = [
    "DELIVERIES",
    "SCHEDULE",
    "InProcessWorker",
    "QueueStatus",
    "bind",
    "current_claim",
    "drain",
    "enqueue",
    "enqueue_after_commit",
    "is_durable",
    "job",
    "job_database",
    "queue_depth",
    "queue_status",
    "run_now",
    "run_worker",
    "schedule",
    "scheduled",
]
