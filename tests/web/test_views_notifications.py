"""Notification pages: my settings (address, digest, kinds) with my recent notices; a bad
address refused with nothing changed; an e-mail's link leads to the record's page; the
administrators' outbox shows failed notices with their error and retries them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.kernel.mailbox import Mailbox, free_port, smtp_settings
from tests.web.support import flash_of

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, Task, User
from pharmaqms.kernel.notifications import service as notify
from pharmaqms.kernel.notifications.models import Notification, NotificationPreference
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations import service as deviations


def report(db: Database, people: Any) -> tuple[int, int]:
    with unit_of_work(db) as s:
        deviation = deviations.report_deviation(
            s,
            actor=people.operator,
            title="Press stopped",
            description="The tablet press stopped mid-batch.",
            area="Production",
            occurred_at=clock.now() - timedelta(hours=2),
            discovered_at=clock.now() - timedelta(hours=1),
        )
        task = s.scalars(select(Task).where(Task.record_id == deviation.id)).one()
        return deviation.id, task.id


def settings_of(db: Database, username: str) -> tuple[str | None, bool | None, list[str] | None]:
    with unit_of_work(db, write=False) as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        pref = notify.preference_of(s, user.id)
        return user.email, pref.digest if pref else None, pref.kinds if pref else None


def checked(page: str) -> list[str]:
    return re.findall(r'name="kinds" value="(\w+)" checked', page)


def test_a_person_chooses_their_address_digest_and_kinds_and_sees_their_notices(
    ui: Any, db: Database, people: Any
) -> None:
    client = ui("qa")
    page = client.get("/account/notifications").text
    assert checked(page) == list(notify.ALL_KINDS)  # nothing chosen yet: every kind
    assert 'data-testid="no-smtp"' in page

    response = client.post(
        "/account/notifications",
        {"email": " quentin@example.org ", "digest": "true", "kinds": ["overdue", "alarm"]},
        referer="/account/notifications",
    )

    page = client.follow(response).text
    assert flash_of(page) == "Notification settings saved."
    assert settings_of(db, "qa") == ("quentin@example.org", True, ["overdue", "alarm"])
    assert checked(page) == ["overdue", "alarm"]
    assert 'value="quentin@example.org"' in page
    assert 'name="digest" value="true" checked' in page

    report(db, people)
    page = client.get("/account/notifications").text
    [row] = re.findall(r'<tr data-testid="notice">(.*?)</tr>', page, re.S)
    assert "Classify DEV-" in row
    assert "in-app (no SMTP server is configured)" in row


@pytest.mark.parametrize("email", ["quentin", "quentin@example.org, eve@example.org"])
def test_a_bad_address_is_refused_with_a_clear_message_and_nothing_changes(
    ui: Any, db: Database, email: str
) -> None:
    client = ui("qa")
    client.get("/account/notifications")
    with unit_of_work(db, write=False) as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))

    response = client.post(
        "/account/notifications",
        {"email": email, "kinds": ["alarm"]},
        referer="/account/notifications",
    )

    page = client.follow(response).text
    assert flash_of(page) == f"{email!r} is not an e-mail address (name@example.org, no spaces)"
    assert settings_of(db, "qa") == (None, None, None)
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
        assert s.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_the_link_of_an_email_leads_to_the_records_page(ui: Any, db: Database, people: Any) -> None:
    deviation_id, task_id = report(db, people)
    client = ui("qa")

    response = client.get(f"/tasks/{task_id}/record")

    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/deviations/{deviation_id}",
    )
    assert client.get(f"/tasks/{task_id + 1}/record").status_code == 404
    # Not signed in: the login page first, then back to the link.
    anonymous = ui().get(f"/tasks/{task_id}/record")
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303,
        f"/login?next=/tasks/{task_id}/record",
    )


def test_the_outbox_shows_a_failed_notice_with_its_error_and_an_administrator_retries_it(
    ui: Any,
    db: Database,
    people: Any,
    frozen_clock: clock.FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHARMAQMS_NOTIFY_MAX_ATTEMPTS", "1")
    admin = ui("admin")
    reader = ui("qa")
    for client, address in ((reader, "qa@example.org"), (ui("qa2"), "")):
        client.get("/account/notifications")
        client.post("/account/notifications", {"email": address, "kinds": ["new_task"]})
    port = free_port()
    with smtp_settings(monkeypatch, port):
        report(db, people)  # the server is down: the one attempt fails

        page = admin.get("/admin/notifications?status=failed").text
        [row] = re.findall(
            r'<tr data-testid="outbox-row" data-status="failed">(.*?)</tr>', page, re.S
        )
        assert "qa" in row and "ConnectionRefusedError" in row
        assert "failed (1)" in page and "in-app (1)" in page
        # someone who may see users but not manage them sees it, without the retry button
        assert "Retry" not in reader.get("/admin/notifications").text
        assert ui("operator").get("/admin/notifications").status_code == 403
        with unit_of_work(db, write=False) as s:
            notice_id = s.scalars(
                select(Notification.id).where(Notification.status == "failed")
            ).one()
        refused = reader.post(
            f"/admin/notifications/{notice_id}/retry", referer="/admin/notifications"
        )
        assert "qa may not retry notifications" in flash_of(reader.follow(refused).text)
        with unit_of_work(db, write=False) as s:
            assert s.get(Notification, notice_id).status == "failed"  # type: ignore[union-attr]

        response = admin.post(
            f"/admin/notifications/{notice_id}/retry", referer="/admin/notifications"
        )
        assert flash_of(admin.follow(response).text) == (
            f"Notification {notice_id} is queued again."
        )
        box = Mailbox(port)
        box.start()
        try:
            assert notify.deliver(db) == notify.DeliveryResult(1, 0, 0)
        finally:
            box.stop()
        page = admin.get("/admin/notifications?status=sent").text
        assert "&lt;qa@example.org&gt;" in page
    lost = admin.get("/admin/notifications?status=lost")
    assert lost.status_code == 422
    assert "unknown status &#39;lost&#39;" in lost.text or "unknown status 'lost'" in lost.text


def test_the_link_of_a_task_tells_someone_who_may_not_read_its_record_nothing(
    ui: Any, db: Database, people: Any
) -> None:
    from tests.lifecycle.rnd.eln_steps import notebook

    from pharmaqms.kernel import tasks
    from pharmaqms.lifecycle.rnd.eln.models import Experiment

    book = notebook(db, people)
    with unit_of_work(db) as s:
        experiment = s.get(Experiment, book.experiment_id)
        assert experiment is not None
        task_id = tasks.open_task(
            s, experiment, actor=people.rd, kind="review", title="Review", user_id=people.rd.user_id
        ).id
    unknown = f"task {task_id} does not exist"

    # The QC analyst may read records, but not the lab notebook: the same answer as a task
    # that does not exist, not the record's type and number.
    refused = ui("qc").get(f"/tasks/{task_id}/record")
    assert refused.status_code == 404
    assert unknown in refused.text
    assert f"/rnd/experiments/{book.experiment_id}" not in refused.text
    # The person the task is for is led to the experiment.
    allowed = ui("rd").get(f"/tasks/{task_id}/record")
    assert (allowed.status_code, allowed.headers["location"]) == (
        303,
        f"/rnd/experiments/{book.experiment_id}",
    )
