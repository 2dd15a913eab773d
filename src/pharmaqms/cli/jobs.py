"""``pharmaqms jobs``: the scheduled work by hand, and a look at the queue.

The same jobs run on their own from the job runner (``pharmaqms worker`` on PostgreSQL, the
in-process runner of ``pharmaqms serve`` on SQLite) on the schedule of ``pharmaqms.schedule``;
``run-daily`` runs the daily ones now (cron can still call it). Each is safe to run twice: a
second run the same day finds nothing left to do.
"""

from __future__ import annotations

import typer

from pharmaqms.cli.common import cli_actor, console, handle_errors

app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)


@app.callback()
def jobs() -> None:
    """Scheduled jobs: run the daily ones now, see the queue."""


@app.command("run-daily")
@handle_errors
def run_daily(
    acting_as: str | None = typer.Option(
        None, "--as", help="Run as this user (default: the system account)."
    ),
) -> None:
    """Run the daily jobs now: make scheduled document versions effective, open due periodic
    reviews and flag overdue ones, assign recurring training that falls due again, judge LIMS
    results not taken over yet (QC's and stability's), open the tasks of sign-offs that records
    waited for before they came into force, announce tasks due soon and overdue by e-mail and
    send the daily digests."""
    from pharmaqms.cli.notify import print_delivery, print_digests, print_sweep
    from pharmaqms.kernel.db import get_database
    from pharmaqms.kernel.jobs import bind
    from pharmaqms.schedule import run_daily_jobs

    bind(get_database())
    result = run_daily_jobs(cli_actor(acting_as))
    console.print(f"documents made effective: {len(result.effective)}")
    for number in result.effective:
        console.print(f"  {number}", highlight=False)
    console.print(
        f"periodic reviews opened: {result.reviews_opened}, "
        f"flagged overdue: {len(result.reviews_overdue)}"
    )
    for number, due in result.reviews_overdue:
        console.print(f"  overdue: {number} (due {due})")
    console.print(
        f"recurring training assigned: {result.training_renewed}, "
        f"training overdue: {result.training_overdue}"
    )
    console.print(
        f"cold-chain sensors silent: {result.sensors_silent}, "
        f"alarms escalated: {result.alarms_escalated}"
    )
    console.print(
        f"LIMS results taken over: {result.lims_taken_over}, OOS opened: {result.oos_opened}, "
        f"out of trend: {result.out_of_trend}"
    )
    console.print(
        f"stability results taken over: {result.stability_stored}, "
        f"quarantined: {result.stability_quarantined}"
    )
    console.print(f"sign-off tasks opened for records already waiting: {result.sign_off_tasks}")
    console.print(
        "configuration versions in force that no longer pass this code's checks (QA task "
        f"opened): {result.config_recheck_opened}"
    )
    print_sweep(result.notices.swept)
    print_delivery(result.notices.delivered)
    print_digests(result.notices.digests)


@app.command("status")
@handle_errors
def status() -> None:
    """The queue at a glance: who runs the jobs, how many wait, run, failed."""
    from pharmaqms.kernel.db import get_database
    from pharmaqms.kernel.jobs import bind, queue_status
    from pharmaqms.schedule import declare

    database = bind(get_database())
    found = queue_status(database)
    console.print(f"runner: {found.runner} ({'PostgreSQL queue' if found.durable else 'SQLite'})")
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(found.counts.items())) or "no jobs"
    console.print(f"jobs: {counts}; ready now: {found.ready}")
    if found.workers_alive is not None:
        console.print(f"workers alive: {found.workers_alive}")
    for name, cron in declare().items():
        console.print(f"  {cron:<16} {name}", highlight=False)
