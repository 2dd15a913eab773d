"""Upkeep, as jobs: finished jobs are removed after ``jobs_keep_days`` (the failed ones stay
until a person retries them), so the queue and its page stay small; on PostgreSQL the months
ahead get their partitions before their first row arrives (kernel/partitions.py)."""

from __future__ import annotations

from sqlalchemy import text

from pharmaqms.kernel import clock, partitions
from pharmaqms.kernel.jobs import runner
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work

FINISHED = ("succeeded", "cancelled", "aborted")


PRUNE_JOB = "jobs.prune"
PARTITIONS_JOB = "db.partitions"


@runner.job(PARTITIONS_JOB, queue=runner.SCHEDULE)
def ensure_partitions() -> dict[str, int]:
    """This month's and the next ``db_partitions_months_ahead`` months' partitions. A row of a
    month without one still lands (in the DEFAULT partition); then that month is reported
    blocked here, and creating it means moving those rows (docs/deploy.md)."""
    database = runner.job_database()
    with database.engine.begin() as conn:
        found = partitions.ensure(conn, get_settings().db_partitions_months_ahead)
    counts: dict[str, int] = {}
    for row in found:
        outcome = row.outcome.split(":")[0]
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@runner.job(PRUNE_JOB, queue=runner.SCHEDULE)
def prune_finished_jobs() -> int:
    database = runner.job_database()
    keep = runner.prune_after()
    if database.dialect != "postgresql":
        cutoff = clock.now() - keep
        old = [
            job_id
            for job_id, row in list(runner._memory.jobs.items())
            if row["status"] in FINISHED
            and all(event["at"] < cutoff for event in runner._memory.events.get(job_id, []))
        ]
        for job_id in old:
            runner._memory.jobs.pop(job_id, None)
            runner._memory.events.pop(job_id, None)
        return len(old)
    with unit_of_work(database) as session:
        session.execute(text("SELECT set_config('search_path', 'procrastinate, public', true)"))
        removed = session.execute(
            text(
                "DELETE FROM procrastinate.procrastinate_jobs j WHERE j.status::text IN "
                "('succeeded', 'cancelled', 'aborted') AND NOT EXISTS (SELECT 1 FROM "
                "procrastinate.procrastinate_events e WHERE e.job_id = j.id "
                "AND e.at >= :cutoff)"
            ),
            {"cutoff": clock.now() - keep},
        )
        return int(getattr(removed, "rowcount", 0) or 0)
