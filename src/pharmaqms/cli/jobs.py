"""``pharmaqms jobs``: the scheduled work, run by cron or a systemd timer once a day.

Each job runs in its own unit of work, so one refusal does not hold back the others, and each
is safe to run twice: a second run the same day finds nothing left to do.
"""

from __future__ import annotations

import typer

from pharmaqms.cli.common import cli_actor, console, handle_errors
from pharmaqms.kernel.uow import unit_of_work

app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)


@app.callback()
def jobs() -> None:
    """Scheduled jobs (run by cron or a systemd timer)."""


@app.command("run-daily")
@handle_errors
def run_daily(
    acting_as: str | None = typer.Option(
        None, "--as", help="Run as this user (default: the system account)."
    ),
) -> None:
    """Make scheduled document versions effective, open due periodic reviews and flag overdue
    ones, assign recurring training that falls due again, judge LIMS results not taken over
    yet (QC's and stability's), announce tasks due soon and overdue by e-mail and send the
    daily digests."""
    import pharmaqms.schema  # noqa: F401 - every module's tables, workflows and gates
    from pharmaqms.cli.notify import print_delivery, print_digests, print_sweep
    from pharmaqms.kernel.db import get_database
    from pharmaqms.kernel.notifications import jobs as notification_jobs
    from pharmaqms.lifecycle.distribution.live import sweep as coldchain_sweep
    from pharmaqms.lifecycle.production.qc.results import evaluate_lims_results
    from pharmaqms.lifecycle.rnd.stability.lims import take_over_lims_results
    from pharmaqms.quality.documents.periodic_review import open_due_periodic_reviews
    from pharmaqms.quality.documents.service import make_due_versions_effective
    from pharmaqms.quality.training.service import open_recurrent_training

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        effective = make_due_versions_effective(session, actor=actor)
        console.print(f"documents made effective: {len(effective)}")
        for version in effective:
            console.print(f"  {version.number}", highlight=False)
    with unit_of_work() as session:
        reviews = open_due_periodic_reviews(session, actor=actor)
        console.print(
            f"periodic reviews opened: {len(reviews.opened)}, "
            f"flagged overdue: {len(reviews.flagged_overdue)}"
        )
        for review in reviews.flagged_overdue:
            console.print(f"  overdue: {review.number} (due {review.due_at:%Y-%m-%d})")
    with unit_of_work() as session:
        training = open_recurrent_training(session, actor=actor)
        console.print(
            f"recurring training assigned: {len(training.renewed)}, "
            f"training overdue: {len(training.overdue)}"
        )
    with unit_of_work() as session:
        silent, escalated = coldchain_sweep(session, actor=actor)
        console.print(
            f"cold-chain sensors silent: {len(silent)}, alarms escalated: {len(escalated)}"
        )
    with unit_of_work() as session:
        lims = evaluate_lims_results(session, actor=actor)
        console.print(
            f"LIMS results taken over: {lims.taken_over}, OOS opened: {len(lims.failed)}, "
            f"out of trend: {lims.out_of_trend}"
        )
    with unit_of_work() as session:
        stability = take_over_lims_results(session, actor=actor)
        console.print(
            f"stability results taken over: {stability.stored}, "
            f"quarantined: {stability.quarantined}"
        )
    # Last: the notices of every task the jobs above opened or escalated, then the sweep.
    notices = notification_jobs.run_once(get_database())
    print_sweep(notices.swept)
    print_delivery(notices.delivered)
    print_digests(notices.digests)
