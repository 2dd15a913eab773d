"""``pharmaqms epcis deliver``: send again the EPCIS subscription deliveries that failed and
whose wait is over (run by cron every few minutes where no MQTT worker runs the retries)."""

from __future__ import annotations

import typer

from pharmaqms.cli.common import console, handle_errors

app = typer.Typer(help="The EPCIS repository.", no_args_is_help=True)


# A callback keeps ``deliver`` a sub-command while it is the only one (see cli/gs1.py).
@app.callback()
def epcis() -> None:
    """The EPCIS repository."""


@app.command("deliver")
@handle_errors
def deliver() -> None:
    """Retry failed subscription deliveries that are due (backoff 1 min, 5 min, 30 min, 2 h;
    then given up and flagged on the subscription)."""
    import pharmaqms.schema  # noqa: F401 - every module's tables
    from pharmaqms.kernel import clock
    from pharmaqms.kernel.db import get_database
    from pharmaqms.platform.epcis_repository.delivery import retry_failed_deliveries

    summary = retry_failed_deliveries(get_database(), clock.now())
    console.print(
        f"deliveries sent: {summary.sent}, failed (will retry): "
        f"{summary.failed - summary.given_up}, given up: {summary.given_up}"
    )
