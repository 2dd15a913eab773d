"""``pharmaqms notify``: the e-mail notifications, run by cron or a systemd timer when the
server's own background loop is off (PHARMAQMS_NOTIFY_INTERVAL_SECONDS=0). Each command is safe
to run any number of times: a task is announced once per kind, a notice sent once."""

from __future__ import annotations

import typer

from pharmaqms.cli.common import console, handle_errors
from pharmaqms.kernel.db import get_database
from pharmaqms.kernel.notifications import jobs
from pharmaqms.kernel.notifications.service import (
    DeliveryResult,
    DigestResult,
    SweepResult,
    deliver,
    send_digests,
)

app = typer.Typer(help="E-mail notifications.", no_args_is_help=True)


@app.callback()
def notify() -> None:
    """E-mail notifications: sweep for due tasks, send the outbox, send digests."""


def print_sweep(result: SweepResult) -> None:
    console.print(f"tasks due soon announced: {result.due_soon}, overdue: {result.overdue}")


def print_delivery(result: DeliveryResult) -> None:
    console.print(
        f"e-mails sent: {result.sent}, to try again: {result.retrying}, failed: {result.failed}"
    )


def print_digests(result: DigestResult) -> None:
    console.print(
        f"digests sent: {result.sent} (carrying {result.notices} notices), failed: {result.failed}"
    )


@app.command("sweep")
@handle_errors
def sweep_command() -> None:
    """Announce tasks due soon and overdue (each once per kind)."""
    import pharmaqms.schema  # noqa: F401 - every module's tables

    print_sweep(jobs.sweep(get_database()))


@app.command("deliver")
@handle_errors
def deliver_command() -> None:
    """Send the queued e-mails whose (re)try time has come."""
    import pharmaqms.schema  # noqa: F401

    print_delivery(deliver(get_database()))


@app.command("digest")
@handle_errors
def digest_command() -> None:
    """Send each person who chose it their digest (at most one a day)."""
    import pharmaqms.schema  # noqa: F401

    print_digests(send_digests(get_database()))


@app.command("run")
@handle_errors
def run_command() -> None:
    """Sweep, deliver and send the digests due: what the server's loop does each interval."""
    import pharmaqms.schema  # noqa: F401

    result = jobs.run_once(get_database())
    print_sweep(result.swept)
    print_delivery(result.delivered)
    print_digests(result.digests)
