"""Notifications by e-mail, sent to a real SMTP server the test starts (aiosmtpd) and read
back: a new task reaches whoever it is for after the commit, with a link to its record; a
refused change sends nothing; a server that is down keeps the notice queued with its error
until the next run delivers it; no server configured keeps notices in-app; the sweep announces
a task due soon and overdue once each; a digest gathers a person's notices into one e-mail;
cold-chain alarms and escalations are announced as such; bad settings are refused and change
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from tests.conftest import People
from tests.kernel.jobs_helpers import worker_runs
from tests.kernel.mailbox import (
    BASE_URL,
    SENDER,
    Mailbox,
    body,
    free_port,
    mailbox,
    smtp_settings,
    subject,
)
from tests.lifecycle.distribution.alarms import setup as coldchain

from pharmaqms.kernel import clock, tasks
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, PermissionDenied
from pharmaqms.kernel.models import AuditEntry, Task, User
from pharmaqms.kernel.notifications import jobs
from pharmaqms.kernel.notifications import service as notify
from pharmaqms.kernel.notifications.models import Notification, NotificationPreference
from pharmaqms.kernel.settings import Settings
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import set_time_zone
from pharmaqms.lifecycle.distribution import alarms as coldchain_alarms
from pharmaqms.quality.deviations import service as deviations

__all__ = ["mailbox"]  # the fixture, imported to be found


def choose(
    db: Database,
    people: People,
    username: str,
    *,
    email: str | None = None,
    digest: bool = False,
    kinds: tuple[str, ...] = notify.ALL_KINDS,
) -> None:
    with unit_of_work(db) as s:
        notify.update_preferences(
            s,
            actor=people.actor(username),
            email=f"{username}@example.org" if email is None else email,
            digest=digest,
            kinds=list(kinds),
        )


def report(db: Database, people: People, title: str = "Press stopped") -> tuple[str, int]:
    """A deviation: its classification task goes to everyone holding qa (qa and qa2)."""
    with unit_of_work(db) as s:
        deviation = deviations.report_deviation(
            s,
            actor=people.operator,
            title=title,
            description="The tablet press stopped mid-batch.",
            area="Production",
            occurred_at=clock.now() - timedelta(hours=2),
            discovered_at=clock.now() - timedelta(hours=1),
        )
        task = s.scalars(select(Task).where(Task.record_id == deviation.id)).one()
        found = deviation.number, task.id
    worker_runs(db)  # the job the commit queued, to e-mail its notices
    return found


def notices(db: Database) -> list[tuple[str, str, str, int, str | None]]:
    """(username, kind, status, attempts, note) of every notice, in order."""
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(User.username, Notification)
            .join(User, User.id == Notification.user_id)
            .order_by(Notification.id)
        )
        return [(u, n.kind, n.status, n.attempts, n.note) for u, n in rows]


def count(db: Database, model: type) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.postgres
def test_a_new_task_for_a_role_is_emailed_to_each_holder_after_commit_with_a_link_to_its_record(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2")

    number, task_id = report(db, people)

    expected = (
        f"[pharmaqms] New task: Classify {number}: Press stopped "
        "(due 2026-03-04 09:00 UTC (+00:00))"
    )
    assert mailbox.subjects() == [("qa2@example.org", expected), ("qa@example.org", expected)]
    [message] = mailbox.to("qa@example.org")
    assert (message["From"], message["To"], message["Auto-Submitted"]) == (
        SENDER,
        "qa@example.org",
        "auto-generated",
    )
    text = body(message)
    assert f"Open it: {BASE_URL}/tasks/{task_id}/record\n" in text
    assert f"Record: {number}\n" in text
    assert "Dear Quentin Quality," in text
    with unit_of_work(db, write=False) as s:
        sent = s.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(n.status, n.sent_to, n.attempts) for n in sent] == [
            ("sent", "qa@example.org", 1),
            ("sent", "qa2@example.org", 1),
        ]


def test_each_person_reads_the_times_of_their_e_mail_in_their_own_time_zone(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2")
    with unit_of_work(db) as s:
        set_time_zone(s, actor=people.qa, user_id=people.qa.user_id, time_zone="Asia/Shanghai")
        set_time_zone(s, actor=people.qa2, user_id=people.qa2.user_id, time_zone="Europe/Berlin")

    number, _task_id = report(db, people)

    head = f"[pharmaqms] New task: Classify {number}: Press stopped"
    assert mailbox.subjects() == [
        ("qa2@example.org", f"{head} (due 2026-03-04 10:00 CET (+01:00))"),
        ("qa@example.org", f"{head} (due 2026-03-04 17:00 CST (+08:00))"),
    ]
    assert "Due: 2026-03-04 17:00 CST (+08:00)\n" in body(mailbox.to("qa@example.org")[0])
    # The task itself is stored UTC.
    with unit_of_work(db, write=False) as s:
        due = s.scalar(select(Task.due_at).where(Task.record_label == number))
    assert due == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_a_change_rolled_back_sends_nothing_and_queues_nothing(
    db: Database, people: People, mailbox: Mailbox
) -> None:
    choose(db, people, "qa")
    tasks_before = count(db, Task)

    with pytest.raises(RuntimeError), unit_of_work(db) as s:
        deviations.report_deviation(
            s,
            actor=people.operator,
            title="Never saved",
            description="Refused later in the same request.",
            area="Production",
            occurred_at=clock.now() - timedelta(hours=2),
            discovered_at=clock.now() - timedelta(hours=1),
        )
        raise RuntimeError("the request fails after the task was opened")

    assert mailbox.received == []
    assert (count(db, Notification), count(db, Task)) == (0, tasks_before)


@pytest.mark.postgres
def test_smtp_down_keeps_the_notice_queued_with_its_error_and_the_next_run_delivers_it(
    db: Database, people: People, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(db, people, "qa", kinds=("new_task",))
    choose(db, people, "qa2", kinds=())
    port = free_port()  # nothing listens there yet
    with smtp_settings(monkeypatch, port):
        # when the server is down as the task is opened
        number, _ = report(db, people)

        # then the task is saved, and its notice waits with the reason
        [(who, kind, status, attempts, note), qa2] = notices(db)
        assert (who, kind, status, attempts) == ("qa", "new_task", "queued", 1)
        assert note is not None and note.startswith("ConnectionRefusedError")
        assert qa2 == ("qa2", "new_task", "in_app", 0, "this kind is not chosen for e-mail")

        box = Mailbox(port)
        box.start()
        try:
            # not tried again before its retry time (5 min after the first attempt)
            assert notify.deliver(db) == notify.DeliveryResult(0, 0, 0)
            assert box.received == []
            frozen_clock.advance(minutes=5)
            assert notify.deliver(db) == notify.DeliveryResult(1, 0, 0)
            assert notify.deliver(db) == notify.DeliveryResult(0, 0, 0)
        finally:
            box.stop()
    assert [subject(m) for _, m in box.received] == [
        f"[pharmaqms] New task: Classify {number}: Press stopped "
        "(due 2026-03-04 09:00 UTC (+00:00))"
    ]
    assert notices(db)[0] == ("qa", "new_task", "sent", 2, None)


def test_a_server_that_cannot_be_reached_is_tried_once_per_run_not_once_per_notice(
    db: Database, people: People, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2")
    with smtp_settings(monkeypatch, free_port()):
        report(db, people)
        first = notices(db)
        frozen_clock.advance(minutes=5)
        notify.deliver(db)
        second = notices(db)

    # each run stops at the first refused connection: the rest wait, untried (and so not
    # nearer to failing), for the server to come back
    assert [(n[0], n[2], n[3]) for n in first] == [("qa", "queued", 1), ("qa2", "queued", 0)]
    assert [(n[0], n[2], n[3]) for n in second] == [("qa", "queued", 2), ("qa2", "queued", 0)]
    assert second[0][4] is not None and second[0][4].startswith("ConnectionRefusedError")
    assert second[1][4] is None


def test_a_notice_another_sender_claimed_is_left_to_it_until_that_sender_is_presumed_dead(
    db: Database, people: People, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2", kinds=())
    box = Mailbox(free_port())
    with smtp_settings(monkeypatch, box.port):
        report(db, people)  # nothing listens yet: queued after one attempt
        # another process claims it, and dies while sending
        with unit_of_work(db) as s:
            notice = s.scalars(select(Notification).where(Notification.status == "queued")).one()
            notice.status = "sending"
            notice.last_attempt_at = clock.now()
        box.start()
        try:
            frozen_clock.advance(minutes=14)
            assert notify.deliver(db) == notify.DeliveryResult(0, 0, 0)
            frozen_clock.advance(minutes=2)
            assert notify.deliver(db) == notify.DeliveryResult(1, 0, 0)
        finally:
            box.stop()
    assert [rcpt for rcpt, _ in box.received] == [["qa@example.org"]]
    assert notices(db)[0][:4] == ("qa", "new_task", "sent", 2)


def test_after_the_last_attempt_a_notice_is_failed_until_an_administrator_retries_it(
    db: Database, people: People, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(db, people, "qa", kinds=("new_task",))
    choose(db, people, "qa2", kinds=())
    monkeypatch.setenv("PHARMAQMS_NOTIFY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("PHARMAQMS_NOTIFY_RETRY_MINUTES", "0")
    port = free_port()
    with smtp_settings(monkeypatch, port):
        report(db, people)
        assert notify.deliver(db) == notify.DeliveryResult(0, 0, 1)
        [failed, _] = notices(db)
        assert failed[:4] == ("qa", "new_task", "failed", 2)
        notice_id = 1
        with unit_of_work(db, write=False) as s:
            notice_id = s.scalars(select(Notification.id).order_by(Notification.id)).first() or 0

        # refused: someone who may not manage users; a notice that has not failed
        with pytest.raises(PermissionDenied), unit_of_work(db) as s:
            notify.retry_notification(s, notice_id, actor=people.qa)
        with (
            pytest.raises(InvalidInput, match="only a failed one is retried"),
            unit_of_work(db) as s,
        ):
            notify.retry_notification(s, notice_id + 1, actor=people.admin)
        assert notices(db)[0] == failed

        with unit_of_work(db) as s:
            notify.retry_notification(s, notice_id, actor=people.admin)
        box = Mailbox(port)
        box.start()
        try:
            assert notify.deliver(db) == notify.DeliveryResult(1, 0, 0)
        finally:
            box.stop()
    (who, kind, status, attempts, note) = notices(db)[0]
    assert (who, kind, status, attempts, note) == ("qa", "new_task", "sent", 1, None)
    assert len(box.received) == 1


def test_without_an_smtp_server_notices_stay_in_app_and_nothing_is_sent(
    db: Database, people: People
) -> None:
    choose(db, people, "qa")

    report(db, people)

    assert notices(db) == [
        ("qa", "new_task", "in_app", 0, "no SMTP server is configured"),
        ("qa2", "new_task", "in_app", 0, "no SMTP server is configured"),
    ]
    assert notify.deliver(db) == notify.DeliveryResult(0, 0, 0)
    assert jobs.run_once(db).delivered == notify.DeliveryResult(0, 0, 0)
    assert [n[2] for n in notices(db)] == ["in_app", "in_app"]


def test_a_person_without_an_address_or_who_opted_out_is_told_in_app_only(
    db: Database, people: People, mailbox: Mailbox
) -> None:
    choose(db, people, "qa", kinds=("overdue", "alarm"))  # qa2 has no address

    report(db, people)

    assert notices(db) == [
        ("qa", "new_task", "in_app", 0, "this kind is not chosen for e-mail"),
        ("qa2", "new_task", "in_app", 0, "no e-mail address on the account"),
    ]
    assert mailbox.received == []


@pytest.mark.postgres
def test_the_sweep_announces_a_task_due_soon_and_overdue_once_each_however_often_it_runs(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    choose(db, people, "qa")
    choose(db, people, "qa2", kinds=())
    report(db, people)  # its classification task is due in 2 days: within the horizon at once
    with unit_of_work(db) as s:
        deviation_task = s.scalars(select(Task)).one()
        review = tasks.open_task(
            s,
            s.get(deviations.Deviation, deviation_task.record_id),  # type: ignore[arg-type]
            actor=people.qa,
            kind="review",
            title="Review the press log",
            user_id=people.qa.user_id,
            due_in=timedelta(days=5),
        )
        review_id = review.id
    worker_runs(db)
    mailbox.received.clear()

    def swept() -> list[tuple[int, str, str]]:
        with unit_of_work(db, write=False) as s:
            rows = s.scalars(
                select(Notification)
                .where(Notification.kind.in_(("due_soon", "overdue")))
                .order_by(Notification.id)
            )
            return [(n.task_id, n.kind, n.status) for n in rows]

    # five days out: nothing; the classification task was opened already due within 48 h
    assert jobs.sweep(db) == notify.SweepResult(0, 0)
    frozen_clock.advance(days=3, hours=12)
    # 36 h left on the review; the classification task is overdue since 2026-03-04 09:00
    assert jobs.sweep(db) == notify.SweepResult(due_soon=1, overdue=1)
    assert jobs.sweep(db) == notify.SweepResult(0, 0)
    assert notify.deliver(db).sent == 2
    assert notify.deliver(db).sent == 0
    assert mailbox.subjects() == [
        ("qa@example.org", "[pharmaqms] Due 2026-03-07: Review the press log"),
        ("qa@example.org", f"[pharmaqms] Overdue since 2026-03-04: {deviation_task.title}"),
    ]
    [due_soon] = mailbox.to("qa@example.org")[:1]
    assert f"{BASE_URL}/tasks/{review_id}/record" in body(due_soon)

    frozen_clock.advance(days=2)
    assert jobs.sweep(db) == notify.SweepResult(due_soon=0, overdue=1)
    assert jobs.sweep(db) == notify.SweepResult(0, 0)
    assert swept() == [
        (review_id, "due_soon", "sent"),
        (deviation_task.id, "overdue", "sent"),
        (deviation_task.id, "overdue", "in_app"),
        (review_id, "overdue", "queued"),
    ]


@pytest.mark.postgres
def test_a_daily_digest_gathers_a_persons_notices_into_one_email_once_a_day(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    choose(db, people, "qa", digest=True)
    choose(db, people, "qa2")

    first, first_task = report(db, people, "Press stopped")
    second, second_task = report(db, people, "Label jam")

    # qa2 is told at once; qa's notices wait for the digest
    assert [to for to, _ in mailbox.subjects()] == ["qa2@example.org"] * 2
    assert [n[2] for n in notices(db) if n[0] == "qa"] == ["digest", "digest"]

    assert notify.send_digests(db) == notify.DigestResult(sent=1, notices=2, failed=0)
    [digest] = mailbox.to("qa@example.org")
    assert subject(digest) == "[pharmaqms] Daily digest: 2 notices"
    text = body(digest)
    assert f"- [pharmaqms] New task: Classify {first}: Press stopped" in text
    assert f"- [pharmaqms] New task: Classify {second}: Label jam" in text
    assert f"  {BASE_URL}/tasks/{first_task}/record\n" in text
    assert f"  {BASE_URL}/tasks/{second_task}/record\n" in text
    assert [n[2] for n in notices(db) if n[0] == "qa"] == ["sent", "sent"]

    # once a day: a notice later the same day waits for tomorrow's digest
    report(db, people, "Seal leak")
    assert notify.send_digests(db) == notify.DigestResult(0, 0, 0)
    frozen_clock.advance(days=1)
    frozen_clock.advance(hours=-5)  # 04:00 UTC: the server's loop waits for 06:00
    assert notify.send_digests(db, on_schedule=True) == notify.DigestResult(0, 0, 0)
    frozen_clock.advance(hours=2)
    assert notify.send_digests(db, on_schedule=True) == notify.DigestResult(1, 1, 0)
    assert len(mailbox.to("qa@example.org")) == 2


def test_the_digest_hour_and_its_day_are_the_persons_own(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    from pharmaqms.kernel.user_time_zones import set_time_zone

    choose(db, people, "qa", digest=True)
    with unit_of_work(db) as s:
        set_time_zone(s, actor=people.qa, user_id=people.qa.user_id, time_zone="Asia/Shanghai")
    report(db, people, "Press stopped")
    # 09:00 UTC is 17:00 in Shanghai: past the digest hour (06:00) where qa is
    assert notify.send_digests(db, on_schedule=True) == notify.DigestResult(1, 1, 0)
    report(db, people, "Label jam")
    # 20:00 UTC is 04:00 of the next day in Shanghai: a new day for qa, before the hour
    frozen_clock.advance(hours=11)
    assert notify.send_digests(db, on_schedule=True) == notify.DigestResult(0, 0, 0)
    # 23:00 UTC — still the same day in UTC — is 07:00 in Shanghai: tomorrow's digest goes
    frozen_clock.advance(hours=3)
    assert notify.send_digests(db, on_schedule=True) == notify.DigestResult(1, 1, 0)
    assert len(mailbox.to("qa@example.org")) == 2


@pytest.mark.postgres
def test_a_cold_chain_alarm_and_its_escalation_are_emailed_at_once_even_to_digest_readers(
    db: Database, people: People, frozen_clock: clock.FrozenClock, mailbox: Mailbox
) -> None:
    choose(db, people, "logistics", digest=True)
    choose(db, people, "qa")
    choose(db, people, "qa2", kinds=())
    coldchain.seed(db, people, acknowledge_within_min=20.0)

    coldchain.deliver(db, people, [5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0])
    worker_runs(db)

    alarms = mailbox.to("logistics@example.org")
    assert [subject(m).split(":")[0] for m in alarms] == ["[pharmaqms] ALARM"] * 2
    assert "pre-alarm at CR-1 — acknowledge" in subject(alarms[0])
    with unit_of_work(db, write=False) as s:
        alarm_tasks = s.scalars(select(Task).order_by(Task.id)).all()
        assert [t.kind for t in alarm_tasks] == ["coldchain_alarm"] * 2
        assert f"{BASE_URL}/tasks/{alarm_tasks[0].id}/record" in body(alarms[0])

    frozen_clock.advance(minutes=21)
    with unit_of_work(db) as s:
        assert len(coldchain_alarms.escalate_overdue_alarms(s, actor=people.admin)) == 2
    worker_runs(db)

    escalations = mailbox.to("qa@example.org")
    assert [subject(m).split(":")[0] for m in escalations] == ["[pharmaqms] ESCALATION"] * 2
    assert "not acknowledged" in subject(escalations[0])
    # The sweep announces the responders' unacknowledged alarms as overdue (in their digest),
    # not the escalation tasks: the escalation said so already.
    assert jobs.sweep(db) == notify.SweepResult(due_soon=0, overdue=2)
    assert sorted((n[0], n[1], n[2]) for n in notices(db)) == sorted(
        [("logistics", "alarm", "sent")] * 2
        + [("qa", "escalation", "sent"), ("qa2", "escalation", "in_app")] * 2
        + [("logistics", "overdue", "digest")] * 2
    )


@pytest.mark.parametrize(
    ("email", "kinds", "message"),
    [
        ("not an address", ["new_task"], "is not an e-mail address"),
        ("qa@example.org\r\nBcc: all@example.org", ["new_task"], "is not an e-mail address"),
        ("qa@localhost", ["new_task"], "is not an e-mail address"),
        ("qa@example.org", ["new_task", "sms"], "unknown notification kind"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(
    db: Database, people: People, email: str, kinds: list[str], message: str
) -> None:
    choose(db, people, "qa", email="quentin@example.org", kinds=("alarm",))
    audit_before = count(db, AuditEntry)
    with unit_of_work(db, write=False) as s:
        before = s.scalars(select(NotificationPreference)).one()
        kept = (before.digest, before.kinds, before.updated_at)

    with pytest.raises(InvalidInput, match=message), unit_of_work(db) as s:
        notify.update_preferences(s, actor=people.qa, email=email, digest=True, kinds=kinds)

    with unit_of_work(db, write=False) as s:
        user = s.get(User, people.qa.user_id)
        assert user is not None and user.email == "quentin@example.org"
        after = s.scalars(select(NotificationPreference)).one()
        assert (after.digest, after.kinds, after.updated_at) == kept
    assert count(db, AuditEntry) == audit_before


def test_changing_ones_address_is_audited_on_the_account(db: Database, people: People) -> None:
    audit_before = count(db, AuditEntry)

    choose(db, people, "qa", email="quentin@example.org")
    choose(db, people, "qa", email="quentin@example.org", digest=True)  # same address

    with unit_of_work(db, write=False) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.seq > audit_before)).all()
        assert [(e.record_type, e.actor_username, e.reason) for e in entries] == [
            ("user", "qa", "e-mail address changed by its owner for notifications")
        ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"smtp_host": "mail.example.org"}, "PHARMAQMS_SMTP_SENDER is needed"),
        ({"smtp_host": "m", "smtp_sender": "qms at example.org"}, "not an e-mail address"),
        ({"smtp_host": "m", "smtp_sender": "q@example.org", "smtp_tls": "tls"}, "smtp_tls"),
        ({"smtp_user": "relay"}, "go together"),
        ({"base_url": "qms.example.org"}, "starts with http"),
        ({"smtp_port": 0}, "smtp_port"),
    ],
)
def test_invalid_smtp_settings_are_refused_at_start_up(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**given)  # type: ignore[arg-type]
