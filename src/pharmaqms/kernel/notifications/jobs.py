"""The notification work that runs without a person: small functions a job runner can call
(``pharmaqms notify run``, ``pharmaqms jobs run-daily``), and the loop ``pharmaqms serve``
runs in a background thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.notifications.service import (
    DeliveryResult,
    DigestResult,
    SweepResult,
    deliver,
    send_digests,
    sweep_due_tasks,
)
from pharmaqms.kernel.uow import unit_of_work

log = logging.getLogger("pharmaqms.notifications")


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


class NotificationLoop:
    """``run_once`` every ``interval`` seconds in a daemon thread, until stopped. A failed run
    is logged and the next one tries again: the outbox keeps what was not sent."""

    def __init__(self, database: Database, interval: float) -> None:
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pharmaqms-notify", daemon=True)

    def start(self) -> NotificationLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                run_once(self.database, on_schedule=True)
            except Exception:
                log.exception("the notification run failed; the next one tries again")
            self._stop.wait(self.interval)
