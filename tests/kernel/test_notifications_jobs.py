"""The notification work that runs without a person: ``pharmaqms notify`` commands, the daily
job, and the in-process job runner ``pharmaqms serve`` starts on SQLite — each against a real
SMTP server the test starts."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.mailbox import Mailbox, free_port, mailbox, smtp_settings, subject
from tests.kernel.test_notifications import choose, notices, report

from pharmaqms.kernel import clock, tasks
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.jobs import InProcessWorker, enqueue
from pharmaqms.kernel.notifications.jobs import SWEEP_JOB
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations.models import Deviation

__all__ = ["mailbox"]


def env_for(port: int) -> dict[str, str]:
    """The SMTP settings as an operator exports them (the CLI reads its own environment)."""
    return {
        "PHARMAQMS_SMTP_HOST": "127.0.0.1",
        "PHARMAQMS_SMTP_PORT": str(port),
        "PHARMAQMS_SMTP_TLS": "none",
        "PHARMAQMS_SMTP_SENDER": "qms@example.org",
        "PHARMAQMS_NOTIFY_RETRY_MINUTES": "0",
    }


def test_notify_run_sends_what_a_down_server_left_queued(
    db: Database, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2")
    port = free_port()
    with smtp_settings(monkeypatch, port):
        report(db, people)
    assert [n[2] for n in notices(db)] == ["queued", "queued"]

    box = Mailbox(port)
    box.start()
    try:
        result = run_cli(db, "notify", "run", env=env_for(port))
        again = run_cli(db, "notify", "deliver", env=env_for(port))
    finally:
        box.stop()

    assert result.exit_code == 0, result.output
    assert "e-mails sent: 2, to try again: 0, failed: 0" in result.output
    assert "e-mails sent: 0, to try again: 0, failed: 0" in again.output
    assert sorted(rcpt[0] for rcpt, _ in box.received) == ["qa2@example.org", "qa@example.org"]


def test_the_daily_job_announces_overdue_tasks_and_sends_the_digests(
    db: Database, people: People, mailbox: Mailbox, frozen_clock: clock.FrozenClock
) -> None:
    choose(db, people, "qa", digest=True)
    report(db, people)  # its classification task is due in two days
    frozen_clock.advance(days=2, hours=1)

    result = run_cli(db, "jobs", "run-daily", env=env_for(mailbox.port))

    assert result.exit_code == 0, result.output
    assert "tasks due soon announced: 0, overdue: 1" in result.output
    assert "digests sent: 1 (carrying 2 notices), failed: 0" in result.output
    [(rcpt, digest)] = mailbox.received
    assert (rcpt, subject(digest)) == (["qa@example.org"], "[pharmaqms] Daily digest: 2 notices")


def test_the_servers_in_process_runner_sweeps_and_sends_without_a_person(
    db: Database, people: People, mailbox: Mailbox
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2", kinds=())
    report(db, people)
    mailbox.received.clear()
    with unit_of_work(db) as s:
        deviation = s.scalars(select(Deviation)).one()
        tasks.open_task(
            s,
            deviation,
            actor=people.qa,
            kind="review",
            title="Review the press log",
            user_id=people.qa.user_id,
            due_at=clock.now() - timedelta(minutes=1),
        )
    mailbox.received.clear()

    runner = InProcessWorker(db).start()
    try:
        enqueue(SWEEP_JOB, database=db)  # what the runner's clock does every few minutes
        deadline = time.monotonic() + 20
        while len(mailbox.received) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        runner.stop()

    assert [subject(m) for _, m in mailbox.received] == [
        f"[pharmaqms] Overdue since {clock.now():%Y-%m-%d}: Review the press log"
    ]


@pytest.mark.parametrize(("interval", "running"), [("300", True), ("0", False)])
def test_serve_runs_the_job_runner_beside_the_web_server_unless_turned_off(
    db: Database, monkeypatch: pytest.MonkeyPatch, interval: str, running: bool
) -> None:
    import threading

    import uvicorn

    seen: list[bool] = []

    def fake_run(app: object, **kw: object) -> None:
        seen.append(any(t.name == "pharmaqms-jobs" for t in threading.enumerate()))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = run_cli(db, "serve", env={"PHARMAQMS_NOTIFY_INTERVAL_SECONDS": interval})

    assert result.exit_code == 0, result.output
    assert seen == [running]
    # stopped with the server
    assert not any(t.name == "pharmaqms-jobs" for t in threading.enumerate())
