"""The periodic schedule, declared once: which job runs when (UTC), for ``pharmaqms worker``
on PostgreSQL and the in-process runner of ``pharmaqms serve`` on SQLite alike. Like
``pharmaqms.schema``, an assembly that only entry points load: the daily jobs reach into every
module.

- ``schedule.daily`` at ``PHARMAQMS_JOBS_DAILY_HOUR`` (default 02:00): what ``pharmaqms jobs
  run-daily`` does by hand — effective dates, periodic reviews, recurring training, cold-chain
  sweep, LIMS catch-up, sign-off tasks of records that waited before a sign-off came into
  force, the recheck of the configuration in force against this code (a task for QA on a
  version that no longer passes), then the notification sweep and the digests;
- ``notifications.sweep``, ``schedule.alarms`` and ``workflow.sign_off_tasks`` every
  ``PHARMAQMS_JOBS_SWEEP_MINUTES`` (default 5): due-soon and overdue notices, the e-mail
  queue, digests after their hour; silent sensors and escalations of unacknowledged
  cold-chain alarms; the tasks of sign-offs that records already waited for when a version
  of ``workflow.<type>.sign_offs`` took effect (within minutes of its effective time, not at
  the next daily run);
- ``epcis.retry_deliveries`` every minute (the shortest back-off of a webhook is a minute);
- ``jobs.prune`` once a day: finished jobs older than ``PHARMAQMS_JOBS_KEEP_DAYS``;
- ``db.partitions`` once a day (PostgreSQL): the next ``PHARMAQMS_DB_PARTITIONS_MONTHS_AHEAD``
  months' partitions of the partitioned tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pharmaqms.schema  # noqa: F401 - every module's tables, workflows, gates and jobs
from pharmaqms.compliance.configuration.recheck import recheck_configuration
from pharmaqms.kernel import auth
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.jobs import SCHEDULE, job, job_database, schedule
from pharmaqms.kernel.jobs.housekeeping import PARTITIONS_JOB, PRUNE_JOB
from pharmaqms.kernel.notifications import jobs as notification_jobs
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.sign_off_tasks import open_waiting_sign_off_tasks
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.live import sweep as coldchain_sweep
from pharmaqms.lifecycle.production.qc.results import evaluate_lims_results
from pharmaqms.lifecycle.rnd.stability.lims import take_over_lims_results
from pharmaqms.platform.epcis_repository.delivery import RETRY_JOB as EPCIS_RETRY_JOB
from pharmaqms.quality.documents.periodic_review import open_due_periodic_reviews
from pharmaqms.quality.documents.service import make_due_versions_effective
from pharmaqms.quality.training.service import open_recurrent_training

DAILY_JOB = "schedule.daily"
ALARMS_JOB = "schedule.alarms"
SIGN_OFF_TASKS_JOB = "workflow.sign_off_tasks"


@dataclass(frozen=True)
class DailyResult:
    effective: list[str]
    reviews_opened: int
    reviews_overdue: list[tuple[str, str]]
    training_renewed: int
    training_overdue: int
    sensors_silent: int
    alarms_escalated: int
    lims_taken_over: int
    oos_opened: int
    out_of_trend: int
    stability_stored: int
    stability_quarantined: int
    sign_off_tasks: int
    config_recheck_opened: int
    notices: notification_jobs.RunResult


def run_daily_jobs(actor: Actor | None = None) -> DailyResult:
    """The daily jobs, each in its own unit of work (one refusal does not hold back the
    others), each safe to run twice: a second run the same day finds nothing left to do.
    ``actor``: who runs them (default: the system account)."""
    database = job_database()

    def who(session: Any) -> Actor:
        return actor if actor is not None else auth.system_actor(session, Channel.SYSTEM)

    with unit_of_work(database) as session:
        effective = make_due_versions_effective(session, actor=who(session))
        numbers = [version.number for version in effective]
    with unit_of_work(database) as session:
        reviews = open_due_periodic_reviews(session, actor=who(session))
        overdue = [(r.number, f"{r.due_at:%Y-%m-%d}") for r in reviews.flagged_overdue]
        opened = len(reviews.opened)
    with unit_of_work(database) as session:
        training = open_recurrent_training(session, actor=who(session))
        renewed, late = len(training.renewed), len(training.overdue)
    with unit_of_work(database) as session:
        silent, escalated = coldchain_sweep(session, actor=who(session))
        silent_count, escalated_count = len(silent), len(escalated)
    with unit_of_work(database) as session:
        lims = evaluate_lims_results(session, actor=who(session))
        taken, oos, oot = lims.taken_over, len(lims.failed), lims.out_of_trend
    with unit_of_work(database) as session:
        stability = take_over_lims_results(session, actor=who(session))
        stored, quarantined = stability.stored, stability.quarantined
    with unit_of_work(database) as session:
        # Records that waited before a sign-off came into force get its task.
        sign_offs = len(open_waiting_sign_off_tasks(session, actor=who(session)))
    with unit_of_work(database) as session:
        # After an upgrade: configuration in force that this code no longer accepts.
        rechecked = len(recheck_configuration(session, actor=who(session)).opened)
    # Last: the notices of every task the jobs above opened or escalated, then the sweep.
    notices = notification_jobs.run_once(database)
    return DailyResult(
        effective=numbers,
        reviews_opened=opened,
        reviews_overdue=overdue,
        training_renewed=renewed,
        training_overdue=late,
        sensors_silent=silent_count,
        alarms_escalated=escalated_count,
        lims_taken_over=taken,
        oos_opened=oos,
        out_of_trend=oot,
        stability_stored=stored,
        stability_quarantined=quarantined,
        sign_off_tasks=sign_offs,
        config_recheck_opened=rechecked,
        notices=notices,
    )


@job(DAILY_JOB, queue=SCHEDULE)
def daily() -> dict[str, Any]:
    result = run_daily_jobs()
    return {
        "effective": len(result.effective),
        "reviews_opened": result.reviews_opened,
        "training_renewed": result.training_renewed,
        "alarms_escalated": result.alarms_escalated,
        "lims_taken_over": result.lims_taken_over,
        "stability_stored": result.stability_stored,
        "sign_off_tasks": result.sign_off_tasks,
        "config_recheck_opened": result.config_recheck_opened,
    }


@job(ALARMS_JOB, queue=SCHEDULE)
def alarms() -> dict[str, int]:
    """Silent sensors and escalations of cold-chain alarms nobody acknowledged in time (the
    MQTT worker also looks while idle; this runs when no stream is connected)."""
    with unit_of_work(job_database()) as session:
        silent, escalated = coldchain_sweep(
            session, actor=auth.system_actor(session, Channel.SYSTEM)
        )
        return {"silent": len(silent), "escalated": len(escalated)}


@job(SIGN_OFF_TASKS_JOB, queue=SCHEDULE)
def sign_off_tasks() -> dict[str, int]:
    """The tasks of sign-offs that records already wait for: a sign-offs version takes effect
    at its date, not at an event, so the sweep looks every few minutes (once per record:
    ``open_waiting_sign_off_tasks`` skips a record with its task open or signed off)."""
    with unit_of_work(job_database()) as session:
        opened = open_waiting_sign_off_tasks(
            session, actor=auth.system_actor(session, Channel.SYSTEM)
        )
        return {"opened": len(opened)}


def declare() -> dict[str, str]:
    """The schedule, from the settings as they are when the process starts."""
    settings = get_settings()
    every = f"*/{settings.jobs_sweep_minutes} * * * *"
    return {
        DAILY_JOB: f"0 {settings.jobs_daily_hour} * * *",
        notification_jobs.SWEEP_JOB: every,
        ALARMS_JOB: every,
        SIGN_OFF_TASKS_JOB: every,
        EPCIS_RETRY_JOB: "* * * * *",
        PRUNE_JOB: "17 3 * * *",
        PARTITIONS_JOB: "41 1 * * *",
    }


_declared = False


def install() -> dict[str, str]:
    """Put the schedule on the job runner (once per process); returns it."""
    global _declared
    plan = declare()
    if not _declared:
        for name, cron in plan.items():
            schedule(name, cron)
        _declared = True
    return plan
