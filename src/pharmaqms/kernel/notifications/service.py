"""Who is told what about which task, and when it goes out.

``task_opened`` runs inside the transaction that opens the task (kernel ``tasks.open_task``),
so the notice commits with the task or not at all; it is e-mailed after the commit. The sweep
finds tasks due soon and overdue; delivery and the digest send what waits. Every function
here that sends opens its own units of work: it is called after a commit, or by a job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.jobs import enqueue_after_commit
from pharmaqms.kernel.models import Task, User
from pharmaqms.kernel.notifications.mail import (
    Mailer,
    ServerUnavailable,
    compose,
    configured,
    describe,
)
from pharmaqms.kernel.notifications.models import (
    NOTICE_LABELS,
    URGENT,
    NoticeKind,
    NoticeStatus,
    Notification,
    NotificationPreference,
)
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import Settings, get_settings, is_email_address
from pharmaqms.kernel.timezones import local, reading_in
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import zones_of

log = logging.getLogger("pharmaqms.notifications")

ALL_KINDS: tuple[str, ...] = tuple(kind.value for kind in NoticeKind)
# A claim older than this belongs to a sender that died while sending: the notice is queued
# again (it may then arrive twice, never not at all).
STALE_CLAIM = timedelta(minutes=15)


# --- who and what ------------------------------------------------------------------------------


def recipients(session: Session, task: Task) -> list[User]:
    """The person the task is with, or every active person holding its role."""
    if task.assignee_user_id is not None:
        user = session.get(User, task.assignee_user_id)
        return [user] if user is not None and user.is_active else []
    people = session.scalars(
        select(User)
        .where(User.is_active.is_(True), User.is_service_account.is_(False))
        .order_by(User.id)
    )
    return [user for user in people if task.assignee_role in user.roles]


def task_link(settings: Settings, task: Task) -> str:
    # The site resolves the record's page when the link is followed: whichever module shows
    # the record, the link in a mailbox stays right.
    return f"{settings.base_url}/tasks/{task.id}/record"


def _subject(settings: Settings, kind: str, task: Task) -> str:
    """In the recipient's time zone (the caller sets it: ``reading_in``)."""
    due = f" (due {format_time(task.due_at)})" if task.due_at else ""
    day = f"{local(task.due_at):%Y-%m-%d}" if task.due_at else ""
    head = {
        NoticeKind.NEW_TASK: "New task",
        NoticeKind.DUE_SOON: f"Due {day}" if task.due_at else "Due soon",
        NoticeKind.OVERDUE: f"Overdue since {day}" if task.due_at else "Overdue",
        NoticeKind.ESCALATION: "ESCALATION",
        NoticeKind.ALARM: "ALARM",
    }[NoticeKind(kind)]
    return f"[{settings.site_name}] {head}: {task.title}" + (
        due if kind == NoticeKind.NEW_TASK else ""
    )


def _body(settings: Settings, kind: str, task: Task, user: User, link: str) -> str:
    lines = [
        f"Dear {user.full_name},",
        "",
        f"{NOTICE_LABELS[kind]}: {task.title}",
        f"Record: {task.record_label}",
        f"For: {user.username if task.assignee_user_id else 'role ' + str(task.assignee_role)}",
    ]
    if task.due_at is not None:
        lines.append(f"Due: {format_time(task.due_at)}")
    lines += [
        "",
        f"Open it: {link}",
        "",
        f"— {settings.site_name}. Choose what reaches you by e-mail on your notification "
        f"settings: {settings.base_url}/account/notifications",
    ]
    return "\n".join(lines)


def preference_of(session: Session, user_id: int) -> NotificationPreference | None:
    return session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    ).first()


def _route(
    settings: Settings, user: User, kind: str, preference: NotificationPreference | None
) -> tuple[NoticeStatus, str | None]:
    """Where one notice goes: e-mail now, the digest, or in-app only (and why)."""
    if not configured(settings):
        return NoticeStatus.IN_APP, "no SMTP server is configured"
    if not user.email:
        return NoticeStatus.IN_APP, "no e-mail address on the account"
    if preference is not None and kind not in preference.kinds:
        return NoticeStatus.IN_APP, "this kind is not chosen for e-mail"
    if preference is not None and preference.digest and kind not in URGENT:
        return NoticeStatus.DIGEST, None
    return NoticeStatus.QUEUED, None


def _enqueue(session: Session, task: Task, kind: str) -> list[Notification]:
    settings = get_settings()
    link = task_link(settings, task)
    now = clock.now()
    # Whoever was told of this task and kind already is not told again (the outbox refuses a
    # second row for them anyway).
    told = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.task_id == task.id, Notification.kind == kind
            )
        )
    )
    made = []
    people = [user for user in recipients(session, task) if user.id not in told]
    zones = zones_of(session, [user.id for user in people])
    for user in people:
        status, note = _route(settings, user, kind, preference_of(session, user.id))
        # Each person reads the times of their notice in their own zone.
        with reading_in(zones.get(user.id)):
            subject = _subject(settings, kind, task)[:300]
            body = _body(settings, kind, task, user, link)
        notice = Notification(
            user_id=user.id,
            task_id=task.id,
            kind=kind,
            subject=subject,
            body=body,
            link=link[:500],
            created_at=now,
            status=status.value,
            note=note,
            attempts=0,
        )
        session.add(notice)
        made.append(notice)
    session.flush()
    return made


DELIVER_JOB = "notifications.deliver"


def task_opened(session: Session, task: Task, kind: NoticeKind = NoticeKind.NEW_TASK) -> None:
    """In the task's own transaction: the notices; once it has committed, a job to e-mail
    them (kernel/notifications/jobs.py). Whatever happens to the job, the notices wait in the
    outbox for the next sweep."""
    made = _enqueue(session, task, kind)
    ids = [n.id for n in made if n.status == NoticeStatus.QUEUED]
    if ids:
        enqueue_after_commit(session, DELIVER_JOB, ids=ids)


# --- the sweep: due soon and overdue -----------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    due_soon: int
    overdue: int


def _not_notified(kind: str, *also: str) -> ColumnElement[bool]:
    earlier = aliased(Notification)
    return ~exists().where(earlier.task_id == Task.id, earlier.kind.in_((kind, *also)))


def sweep_due_tasks(session: Session) -> SweepResult:
    """Notices for open tasks due within the horizon and past due, once per task and kind:
    run it twice, the second run finds nothing. A task opened already within the horizon is
    not announced as due soon (its new-task notice said when it is due), nor an escalated one
    as overdue (the escalation said so)."""
    settings = get_settings()
    now = clock.now()
    horizon = timedelta(hours=settings.notify_due_soon_hours)
    open_due = and_(Task.status == "open", Task.due_at.is_not(None))
    soon = list(
        session.scalars(
            select(Task)
            .where(
                open_due,
                Task.due_at >= now,
                Task.due_at < now + horizon,
                _not_notified(NoticeKind.DUE_SOON),
            )
            .order_by(Task.id)
        )
    )
    soon = [t for t in soon if t.due_at is not None and t.due_at - t.created_at > horizon]
    late = list(
        session.scalars(
            select(Task)
            .where(
                open_due,
                Task.due_at < now,
                _not_notified(NoticeKind.OVERDUE, NoticeKind.ESCALATION),
            )
            .order_by(Task.id)
        )
    )
    for task in soon:
        _enqueue(session, task, NoticeKind.DUE_SOON)
    for task in late:
        _enqueue(session, task, NoticeKind.OVERDUE)
    return SweepResult(due_soon=len(soon), overdue=len(late))


# --- delivery ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    sent: int
    retrying: int
    failed: int


def _due_for_retry(notice: Notification, now: datetime, settings: Settings) -> bool:
    if notice.last_attempt_at is None:
        return True
    wait = timedelta(minutes=settings.notify_retry_minutes * notice.attempts)
    return notice.last_attempt_at + wait <= now


def _claim(database: Database, notice_id: int, now: datetime, claim: str | None) -> bool:
    """Mark one queued notice as being sent, in a transaction of its own: of two senders
    (two workers, a worker and a cron job) only one sends it. A notice left ``sending`` under
    this very ``claim`` is taken back: the same job, run again after its worker died."""
    mine = (
        and_(Notification.status == NoticeStatus.SENDING, Notification.claimed_by == claim)
        if claim is not None
        else Notification.status == NoticeStatus.QUEUED
    )
    with unit_of_work(database) as session:
        claimed = session.execute(
            update(Notification)
            .where(
                Notification.id == notice_id,
                (Notification.status == NoticeStatus.QUEUED) | mine,
            )
            .values(
                status=NoticeStatus.SENDING,
                attempts=Notification.attempts + 1,
                last_attempt_at=now,
                claimed_by=claim,
            )
        )
        return bool(getattr(claimed, "rowcount", 0))


def _requeue_stale_claims(database: Database, now: datetime) -> None:
    with unit_of_work(database) as session:
        session.execute(
            update(Notification)
            .where(
                Notification.status == NoticeStatus.SENDING,
                Notification.last_attempt_at < now - STALE_CLAIM,
            )
            .values(status=NoticeStatus.QUEUED, note="the sender stopped while sending")
        )


def _settle(
    database: Database, notice_id: int, *, to: str | None, error: str | None
) -> NoticeStatus:
    settings = get_settings()
    with unit_of_work(database) as session:
        notice = session.get(Notification, notice_id)
        assert notice is not None
        if error is None:
            notice.status = NoticeStatus.SENT
            notice.sent_at = clock.now()
            notice.sent_to = to
            notice.note = None
        else:
            notice.note = error
            notice.status = (
                NoticeStatus.FAILED
                if notice.attempts >= settings.notify_max_attempts
                else NoticeStatus.QUEUED
            )
        return NoticeStatus(notice.status)


def deliver(
    database: Database, *, ids: list[int] | None = None, claim: str | None = None
) -> DeliveryResult:
    """E-mail the queued notices whose retry time has come; or those ``ids`` only, now (the
    job that was queued for them owns their retries), under the job's ``claim``."""
    settings = get_settings()
    if not configured(settings) or sandbox.mark_of_engine(database.engine) is not None:
        # A sandbox copy keeps its notices queued: its people are the live system's.
        return DeliveryResult(0, 0, 0)
    now = clock.now()
    if ids is None:  # the sweep, not the job queued for given notices
        _requeue_stale_claims(database, now)
    with unit_of_work(database, write=False) as session:
        waiting_status = Notification.status == NoticeStatus.QUEUED
        if claim is not None:
            waiting_status = waiting_status | (
                (Notification.status == NoticeStatus.SENDING) & (Notification.claimed_by == claim)
            )
        query = select(Notification).where(waiting_status)
        if ids is not None:
            query = query.where(Notification.id.in_(ids))
        waiting = [
            (n.id, n.user_id, n.subject, n.body)
            for n in session.scalars(query.order_by(Notification.id))
            if ids is not None or _due_for_retry(n, now, settings)
        ]
        addresses = {
            user.id: user.email
            for user in session.scalars(
                select(User).where(User.id.in_({user_id for _, user_id, _, _ in waiting}))
            )
        }
    outcome = {NoticeStatus.SENT: 0, NoticeStatus.QUEUED: 0, NoticeStatus.FAILED: 0}
    with Mailer(settings) as mailer:
        for notice_id, user_id, subject, body in waiting:
            to = addresses.get(user_id)
            if not _claim(database, notice_id, now, claim):
                continue
            error: str | None = None
            if not to:
                error = "the account has no e-mail address any more"
            else:
                try:
                    mailer.send(compose(settings, to=to, subject=subject, body=body))
                except ServerUnavailable as err:
                    # The rest stay queued, untried, for the next run.
                    outcome[_settle(database, notice_id, to=to, error=str(err))] += 1
                    break
                except Exception as err:  # a message the server refused
                    error = describe(err)
                    mailer.close()
            outcome[_settle(database, notice_id, to=to, error=error)] += 1
    return DeliveryResult(
        outcome[NoticeStatus.SENT], outcome[NoticeStatus.QUEUED], outcome[NoticeStatus.FAILED]
    )


# --- the daily digest --------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestResult:
    sent: int  # digests (one e-mail per person)
    notices: int  # notices they carried
    failed: int


def _digest_body(settings: Settings, user: User, notices: list[Notification]) -> str:
    lines = [f"Dear {user.full_name},", "", f"{len(notices)} notices since your last digest:", ""]
    for notice in notices:
        lines += [f"- {notice.subject}", f"  {notice.link}"]
    lines += [
        "",
        f"— {settings.site_name}. Your notification settings: "
        f"{settings.base_url}/account/notifications",
    ]
    return "\n".join(lines)


def send_digests(database: Database, *, on_schedule: bool = False) -> DigestResult:
    """One e-mail per person with notices waiting for their digest, at most once per day of
    the person's own calendar (their time zone, else the site's). ``on_schedule``: only once
    the digest hour has come where the person is (the server's loop); the daily job sends
    whenever it runs."""
    settings = get_settings()
    if not configured(settings) or sandbox.mark_of_engine(database.engine) is not None:
        return DigestResult(0, 0, 0)
    now = clock.now()
    sent = carried = failed = 0
    with unit_of_work(database, write=False) as session:
        people = list(
            session.scalars(
                select(Notification.user_id)
                .where(Notification.status == NoticeStatus.DIGEST)
                .group_by(Notification.user_id)
                .order_by(Notification.user_id)
            )
        )
        zones = zones_of(session, people)
    unreachable = False
    with Mailer(settings) as mailer:
        for user_id in people:
            with reading_in(zones.get(user_id)) as zone:
                here = local(now, zone)
            if on_schedule and here.hour < settings.notify_digest_hour:
                continue
            with unit_of_work(database) as session:
                preference = preference_of(session, user_id)
                last = preference.last_digest_at if preference else None
                if last is not None and local(last, zone).date() >= here.date():
                    continue
                user = session.get(User, user_id)
                assert user is not None
                notices = list(
                    session.scalars(
                        select(Notification)
                        .where(
                            Notification.user_id == user_id,
                            Notification.status == NoticeStatus.DIGEST,
                        )
                        .order_by(Notification.id)
                    )
                )
                error = None if user.email else "the account has no e-mail address any more"
                if error is None:
                    assert user.email is not None
                    message = compose(
                        settings,
                        to=user.email,
                        subject=f"[{settings.site_name}] Daily digest: {len(notices)} notices",
                        body=_digest_body(settings, user, notices),
                    )
                    try:
                        mailer.send(message)
                    except ServerUnavailable as err:
                        error = str(err)
                        unreachable = True
                    except Exception as err:  # a message the server refused
                        error = describe(err)
                        mailer.close()
                for notice in notices:
                    notice.attempts += 1
                    notice.last_attempt_at = now
                    notice.note = error
                    if error is None:
                        notice.status = NoticeStatus.SENT
                        notice.sent_at = now
                        notice.sent_to = user.email
                if error is None:
                    if preference is not None:
                        preference.last_digest_at = now
                    sent += 1
                    carried += len(notices)
                else:
                    failed += 1
            if unreachable:
                break
    return DigestResult(sent, carried, failed)


# --- a person's settings -----------------------------------------------------------------------


def update_preferences(
    session: Session, *, actor: Actor, email: str, digest: bool, kinds: list[str]
) -> NotificationPreference:
    """The actor's own e-mail address (audited on the account), digest or not, and kinds."""
    email = email.strip()
    if email and not is_email_address(email):
        raise InvalidInput(
            f"{email!r} is not an e-mail address (name@example.org, no spaces)", field="email"
        )
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown:
        raise InvalidInput(
            f"unknown notification kind(s): {', '.join(unknown)}; known: {', '.join(ALL_KINDS)}",
            field="kinds",
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(f"user {actor.user_id} does not exist")
    if (user.email or "") != email:
        with audit.changes(
            session, actor=actor, reason="e-mail address changed by its owner for notifications"
        ):
            user.email = email or None
    preference = preference_of(session, user.id)
    if preference is None:
        preference = NotificationPreference(user_id=user.id)
        session.add(preference)
    preference.digest = digest
    preference.kinds = [kind for kind in ALL_KINDS if kind in set(kinds)]
    preference.updated_at = clock.now()
    session.flush()
    return preference


def kinds_chosen(preference: NotificationPreference | None) -> list[str]:
    return list(ALL_KINDS) if preference is None else list(preference.kinds)


def notices_of(session: Session, user_id: int, *, limit: int = 20) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


# --- the outbox, for administrators ------------------------------------------------------------


def outbox(session: Session, *, status: str | None = None, limit: int = 200) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == status)
    return list(session.scalars(query))


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count()).group_by(Notification.status))
    return {str(status): int(count) for status, count in rows}


def retry_notification(session: Session, notice_id: int, *, actor: Actor) -> Notification:
    """A failed notice goes back to the queue with its attempts counted from zero again."""
    actor.require("users.manage", "retry notifications")
    notice = session.get(Notification, notice_id)
    if notice is None:
        raise NotFound(f"notification {notice_id} does not exist")
    if notice.status != NoticeStatus.FAILED:
        raise InvalidInput(
            f"notification {notice_id} is {notice.status}: only a failed one is retried"
        )
    notice.status = NoticeStatus.QUEUED
    notice.attempts = 0
    notice.last_attempt_at = None
    notice.note = f"retried by {actor.username} after: {notice.note or 'no error recorded'}"
    session.flush()
    return notice
