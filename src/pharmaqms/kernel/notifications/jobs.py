"""The notification work that runs without a person, as jobs of the job runner
(kernel/jobs): e-mailing the notices a committed change queued, and the sweep for due tasks,
the queue and the digests (scheduled in ``pharmaqms.schedule``; ``pharmaqms notify run`` and
``pharmaqms jobs run-daily`` run it by hand)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.jobs import DELIVERIES, SCHEDULE, current_claim, job, job_database
from pharmaqms.kernel.notifications.models import NoticeStatus, Notification
from pharmaqms.kernel.notifications.service import (
    DELIVER_JOB,
    DeliveryResult,
    DigestResult,
    SweepResult,
    deliver,
    send_digests,
    sweep_due_tasks,
)
from pharmaqms.kernel.uow import unit_of_work

log = logging.getLogger("pharmaqms.notifications")

SWEEP_JOB = "notifications.sweep"


class NotSentYet(Exception):
    """Some notices of a delivery job are still queued: the job is tried again later."""


def sweep(database: Database) -> SweepResult:
    with unit_of_work(database) as session:
        return sweep_due_tasks(session)


@dataclass(frozen=True)
class RunResult:
    swept: SweepResult
    delivered: DeliveryResult
    digests: DigestResult


def run_once(database: Database, *, on_schedule: bool = False) -> RunResult:
    """Sweep for due tasks, send what is queued, then the digests that are due."""
    swept = sweep(database)
    delivered = deliver(database)
    digests = send_digests(database, on_schedule=on_schedule)
    return RunResult(swept, delivered, digests)


@job(DELIVER_JOB, queue=DELIVERIES)
def deliver_notices(ids: list[int]) -> dict[str, Any]:
    """E-mail the notices a committed change queued. Idempotent: each notice is claimed
    before it is sent, and a notice already sent is not sent again."""
    database = job_database()
    result = deliver(database, ids=ids, claim=current_claim())
    if result.retrying:
        with unit_of_work(database, write=False) as session:
            errors = sorted(
                {
                    note
                    for note in session.scalars(
                        select(Notification.note).where(
                            Notification.id.in_(ids),
                            Notification.status == NoticeStatus.QUEUED,
                        )
                    )
                    if note
                }
            )
        raise NotSentYet(
            f"{result.retrying} of {len(ids)} notices not sent yet: {'; '.join(errors)}"
        )
    return asdict(result)


@job(SWEEP_JOB, queue=SCHEDULE)
def sweep_notifications() -> dict[str, Any]:
    """Due-soon and overdue notices, what is still queued (a job lost, a retry due), and the
    digests after their hour."""
    return asdict(run_once(job_database(), on_schedule=True))
