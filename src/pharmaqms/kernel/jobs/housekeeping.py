"""The queue's own upkeep, as a job: finished jobs are removed after ``jobs_keep_days`` (the
failed ones stay until a person retries them), so the queue and its page stay small."""

from __future__ import annotations

from sqlalchemy import text

from pharmaqms.kernel import clock
from pharmaqms.kernel.jobs import runner
from pharmaqms.kernel.uow import unit_of_work

FINISHED = ("succeeded", "cancelled", "aborted")


PRUNE_JOB = "jobs.prune"


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
