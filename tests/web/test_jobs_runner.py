"""The job runner (kernel/jobs, procrastinate) end to end: a request that opens a task only
queues the job that e-mails it, and a worker sends it — real ``pharmaqms worker`` processes on
PostgreSQL, the in-process runner on SQLite; a job that fails is tried again with a growing
wait and then shown as failed on /admin/jobs, where an administrator retries it (audited); a
worker killed with SIGKILL mid-job leaves its job to another worker, and the e-mail still
arrives once; two workers share a queue without running one job twice."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.kernel.mailbox import Mailbox, free_port, smtp_settings
from tests.quality.quality_steps import report_deviation
from tests.web.support import flash_of

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.jobs import InProcessWorker, drain, queue_status
from pharmaqms.kernel.jobs.models import JobFailure
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.notifications.models import Notification
from pharmaqms.kernel.notifications.service import DELIVER_JOB
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work

SRC = Path(__file__).resolve().parents[2] / "src"
WORKER = "from pharmaqms.cli.main import app; app()"


def until(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def choose_email(ui: Any, *usernames: str) -> None:
    for username in usernames:
        client = ui(username)
        client.get("/account/notifications")
        client.post(
            "/account/notifications",
            {"email": f"{username}@example.org", "kinds": ["new_task"]},
        )


def pg_jobs(db: Database) -> list[tuple[int, str, str, int]]:
    """(id, task, status, attempts) of every job in the PostgreSQL queue."""
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            text(
                "SELECT id, task_name, status::text, attempts "
                "FROM procrastinate.procrastinate_jobs ORDER BY id"
            )
        ).all()
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def deliveries(db: Database) -> list[tuple[int, str, str, int]]:
    return [job for job in pg_jobs(db) if job[1] == DELIVER_JOB]


def notices(db: Database) -> list[tuple[str, int, str | None]]:
    with unit_of_work(db, write=False) as s:
        return [
            (n.status, n.attempts, n.claimed_by)
            for n in s.scalars(select(Notification).order_by(Notification.id))
        ]


@contextmanager
def worker_process(db: Database, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``pharmaqms worker`` as an operator starts it, on the test's database."""
    environment = {
        **os.environ,
        "PHARMAQMS_DATABASE_URL": db.url,
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        **env,
    }
    concurrency = environment.pop("CONCURRENCY", "1")
    with log.open("ab") as out:
        process = subprocess.Popen(
            # The periodic sweeps stay out of it: each test watches one job.
            [sys.executable, "-c", WORKER, "worker", "--no-schedule", "--concurrency", concurrency],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class SilentServer:
    """Accepts connections and never says a word: an SMTP client waits for its greeting."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


# --- SQLite: the in-process runner ------------------------------------------------------------


def test_on_sqlite_the_in_process_runner_sends_what_a_request_queued(
    ui: Any, api: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_email(ui, "qa", "qa2")
    box = Mailbox(free_port())
    box.start()
    runner = InProcessWorker(db).start()
    try:
        with smtp_settings(monkeypatch, box.port):
            assert queue_status(db).runner == "in-process"
            report_deviation(api("operator"))
            until(lambda: len(box.received) == 2, 30, "the two e-mails")
            # the request queued the job; the runner's thread sent it
            page = ui("admin").get("/admin/jobs").text
    finally:
        runner.stop()
        box.stop()

    assert sorted(rcpt[0] for rcpt, _ in box.received) == ["qa2@example.org", "qa@example.org"]
    assert [n[0] for n in notices(db)] == ["sent", "sent"]
    rows = re.findall(r'<tr data-testid="job-row" data-status="(\w+)"[^>]*>(.*?)</tr>', page, re.S)
    # The request's delivery, run once (periodic jobs may be listed beside it when the
    # schedule is installed in this process and a tick fell due while the runner ran).
    delivered = [status for status, cells in rows if DELIVER_JOB in cells]
    assert delivered == ["succeeded"]
    assert "Run in process beside the web server" in page


def test_the_jobs_page_is_for_administrators(ui: Any, db: Database) -> None:
    assert ui("admin").get("/admin/jobs").status_code == 200
    assert ui("qa").get("/admin/jobs").status_code == 403
    assert ui("operator").get("/admin/jobs").status_code == 403
    assert "/admin/jobs" in ui("admin").get("/").text
    assert "/admin/jobs" not in ui("qa").get("/").text


# --- PostgreSQL: real workers -----------------------------------------------------------------


@pytest.mark.postgres
def test_a_job_queued_by_a_request_is_run_by_a_worker_process(
    ui: Any, api: Any, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the worker process needs the PostgreSQL queue")
    choose_email(ui, "qa", "qa2")
    box = Mailbox(free_port())
    box.start()
    try:
        with smtp_settings(monkeypatch, box.port):
            report_deviation(api("operator"))
            # committed and queued: nothing sent by the request itself
            assert [(j[1], j[2]) for j in pg_jobs(db)] == [(DELIVER_JOB, "todo")]
            assert box.received == [] and [n[0] for n in notices(db)] == ["queued", "queued"]
            assert queue_status(db).ready == 1

            with worker_process(db, tmp_path / "worker.log"):
                until(lambda: len(box.received) == 2, 60, "the worker's e-mails")
                until(lambda: deliveries(db)[0][2] == "succeeded", 30, "the job done")
    finally:
        box.stop()

    assert sorted(rcpt[0] for rcpt, _ in box.received) == ["qa2@example.org", "qa@example.org"]
    assert [n[0] for n in notices(db)] == ["sent", "sent"]
    assert deliveries(db)[0][3] == 1  # run once (procrastinate counts the run that succeeded)


@pytest.mark.postgres
def test_a_failing_job_is_retried_with_backoff_then_shown_failed_and_retried_by_an_admin(
    ui: Any, api: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the durable queue keeps a failed job")
    choose_email(ui, "qa")
    monkeypatch.setenv("PHARMAQMS_JOBS_RETRY_SECONDS", "1")
    monkeypatch.setenv("PHARMAQMS_JOBS_MAX_ATTEMPTS", "3")
    reset_settings_cache()
    port = free_port()  # nothing listens: the SMTP server is down
    with smtp_settings(monkeypatch, port):
        report_deviation(api("operator"))
        [(job_id, _, _, _)] = deliveries(db)
        waits = []
        for _attempt in range(3):
            until(lambda: _due(db, job_id), 10, "the retry time")
            drain(db)  # a worker takes the job, which fails
            with unit_of_work(db, write=False) as s:
                failed_at = s.scalars(
                    select(JobFailure.failed_at)
                    .where(JobFailure.job_id == job_id)
                    .order_by(JobFailure.id.desc())
                ).first()
                scheduled = s.execute(
                    text("SELECT scheduled_at FROM procrastinate.procrastinate_jobs WHERE id = :i"),
                    {"i": job_id},
                ).scalar_one()
            assert failed_at is not None
            if scheduled is not None and deliveries(db)[0][2] == "todo":
                waits.append((scheduled - failed_at).total_seconds())

        # waited 1 s, then 2 s (base × 2^attempts), then gave up after the third attempt
        assert len(waits) == 2
        assert 0.5 <= waits[0] < 1.9 and 1.5 <= waits[1] < 3.5, waits
        assert deliveries(db) == [(job_id, DELIVER_JOB, "failed", 3)]
        assert notices(db)[0][:2] == ("queued", 3)  # the outbox still holds it

        admin = ui("admin")
        page = admin.get("/admin/jobs?status=failed").text
        [row] = re.findall(
            r'<tr data-testid="job-row" data-status="failed"[^>]*>(.*?)</tr>', page, re.S
        )
        errors = re.findall(r'<div data-testid="job-error">(.*?)</div>', row)
        assert [e.split(":")[0] for e in errors] == ["attempt 1", "attempt 2", "attempt 3"]
        assert all("NotSentYet" in e and "ConnectionRefusedError" in e for e in errors)
        assert "Retry" in row and "failed (1)" in page

        # Refused: someone without jobs.manage; the job stays failed, no retry is audited
        # (the refusal itself is recorded as an access denial, as every refusal is).
        reader = ui("qa")
        refused = reader.post(f"/admin/jobs/{job_id}/retry", referer="/admin/jobs")
        assert refused.status_code in (303, 403)
        assert deliveries(db)[0][2] == "failed" and _retries_audited(db) == 0

        response = admin.post(f"/admin/jobs/{job_id}/retry", referer="/admin/jobs")
        assert flash_of(admin.follow(response).text) == (
            f"Job {job_id} ({DELIVER_JOB}) is queued again."
        )
        assert deliveries(db)[0][2] == "todo" and _retries_audited(db) == 1
        with unit_of_work(db, write=False) as s:
            entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
            assert entry is not None
            assert (entry.action, entry.record_type, entry.record_id) == ("retry", "job", job_id)
            assert "ConnectionRefusedError" in str(entry.changes)

        box = Mailbox(port)
        box.start()
        try:
            drain(db)
        finally:
            box.stop()
    assert [rcpt[0] for rcpt, _ in box.received] == ["qa@example.org"]
    assert deliveries(db)[0][2] == "succeeded"
    assert notices(db)[0][:2] == ("sent", 4)


def _due(db: Database, job_id: int) -> bool:
    with unit_of_work(db, write=False) as s:
        return bool(
            s.execute(
                text(
                    "SELECT scheduled_at IS NULL OR scheduled_at <= now() "
                    "FROM procrastinate.procrastinate_jobs WHERE id = :i"
                ),
                {"i": job_id},
            ).scalar_one()
        )


def _retries_audited(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.record_type == "job", AuditEntry.action == "retry")
            )
            or 0
        )


@pytest.mark.postgres
def test_a_worker_killed_mid_job_leaves_it_to_another_and_the_email_arrives_once(
    ui: Any, api: Any, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("only the PostgreSQL queue outlives a worker")
    choose_email(ui, "qa")
    silent = SilentServer()
    box = Mailbox(free_port())
    box.start()
    fast = {"PHARMAQMS_JOBS_HEARTBEAT_SECONDS": "0.5", "PHARMAQMS_JOBS_STALLED_SECONDS": "3"}
    try:
        with smtp_settings(monkeypatch, box.port):
            report_deviation(api("operator"))
            [(job_id, _, _, _)] = deliveries(db)
            # The first worker claims the notice and hangs on an SMTP server that never answers.
            hung = {
                "PHARMAQMS_SMTP_PORT": str(silent.port),
                "PHARMAQMS_SMTP_TIMEOUT_SECONDS": "120",
            }
            with worker_process(db, tmp_path / "a.log", **fast, **hung) as first:
                until(lambda: notices(db)[0][0] == "sending", 60, "the first worker's claim")
                assert notices(db)[0] == ("sending", 1, f"job:{job_id}")
                assert deliveries(db)[0][2] == "doing"
                first.send_signal(signal.SIGKILL)
                first.wait(10)
            assert box.received == []

            with worker_process(db, tmp_path / "b.log", **fast):
                until(lambda: len(box.received) >= 1, 90, "the second worker's e-mail")
                until(lambda: deliveries(db)[0][2] == "succeeded", 30, "the job done")
                time.sleep(1.5)  # nothing more arrives
    finally:
        box.stop()
        silent.close()

    assert [rcpt[0] for rcpt, _ in box.received] == ["qa@example.org"]
    # run twice (the job once more after its worker died), the notice sent once
    assert deliveries(db) == [(job_id, DELIVER_JOB, "succeeded", 2)]
    assert notices(db)[0][:2] == ("sent", 2)


@pytest.mark.postgres
def test_two_workers_share_the_queue_and_never_run_one_job_twice(
    ui: Any, api: Any, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("two worker processes need the PostgreSQL queue")
    choose_email(ui, "qa", "qa2")
    box = Mailbox(free_port())
    box.start()
    operator = api("operator")
    reports = 12
    try:
        with smtp_settings(monkeypatch, box.port):
            for n in range(reports):
                report_deviation(operator, title=f"Press stopped, run {n}")
            assert len(deliveries(db)) == reports
            with (
                worker_process(db, tmp_path / "a.log", CONCURRENCY="2"),
                worker_process(db, tmp_path / "b.log", CONCURRENCY="2"),
            ):
                until(
                    lambda: all(j[2] == "succeeded" for j in deliveries(db)), 120, "all jobs done"
                )
    finally:
        box.stop()

    subjects = sorted((rcpt[0], m["Subject"]) for rcpt, m in box.received)
    assert len(subjects) == 2 * reports and len(set(subjects)) == 2 * reports
    with unit_of_work(db, write=False) as s:
        started = s.execute(
            text(
                "SELECT job_id, count(*) FROM procrastinate.procrastinate_events "
                "WHERE type = 'started' GROUP BY job_id"
            )
        ).all()
    delivery_ids = {j[0] for j in deliveries(db)}
    assert {job_id: n for job_id, n in started if job_id in delivery_ids} == dict.fromkeys(
        delivery_ids, 1
    )
    assert all(j[3] == 1 for j in deliveries(db))


def test_pharmaqms_worker_on_sqlite_refuses_and_says_where_the_jobs_run(db: Database) -> None:
    from tests.kernel.cli import run_cli

    result = run_cli(db, "worker")

    assert result.exit_code == 2
    assert "needs the PostgreSQL queue" in result.output
    assert "inside `pharmaqms serve`" in result.output
