"""Sending new events to the subscribers of named EPCIS queries, and sending again what failed.

After an EPCIS capture commits, a job is queued for it (kernel/jobs; the capture's request
sends nothing itself): :func:`deliver_new_events`, run by a worker, evaluates each active
subscription's query over that capture's events only (the query's SQL restricted to the import
run, by index) and POSTs the matching events as one ``EPCISQueryDocument`` to the webhook,
signed with the subscription's secret. Each attempt is a row of the delivery log, written
whatever happened; the capture is committed before any of this starts and nothing here can
undo it.

The job is idempotent: the delivery id of a capture and a subscription is derived from both,
and a subscription that has a logged attempt for it already is skipped, so the job run again
(its worker died, a person retried it) sends only what was not sent.

A failed attempt (no answer within 5 s, a refused connection, any status other than 2xx) is
tried again by :func:`retry_failed_deliveries` after 1 min, 5 min, 30 min and 2 h; the fifth
failure gives the delivery up, flagged in its last log row (and in the subscription listing)
for a person to take up with the receiver. The retries are a periodic job (``pharmaqms.schedule``,
locked so two runs never overlap), and ``pharmaqms epcis deliver`` runs them by hand.

Known limit (at-least-once): a worker that dies between the POST and the log row leaves the
delivery unlogged, and the job's next run sends it again; the ``X-Pharmaqms-Delivery`` id, the
same on every attempt, lets the receiver drop the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth, clock
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.jobs import DELIVERIES, SCHEDULE, enqueue, job, job_database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis_repository import query as q
from pharmaqms.platform.epcis_repository.document import query_document, stored_event
from pharmaqms.platform.epcis_repository.models import (
    EpcisDeliveryAttempt,
    EpcisNamedQuery,
    EpcisSubscription,
)
from pharmaqms.platform.epcis_repository.service import parameter_pairs
from pharmaqms.platform.ingest.deliveries import add_delivery_listener
from pharmaqms.platform.traceability.models import EpcisEvent

log = logging.getLogger("pharmaqms.epcis.delivery")

TIMEOUT_SECONDS: Final = 5.0
# The wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up.
BACKOFF: Final = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
SIGNATURE_HEADER: Final = "X-Pharmaqms-Signature"
DELIVERY_HEADER: Final = "X-Pharmaqms-Delivery"
JSON_LD: Final = "application/ld+json"


def signature(secret: str, body: bytes) -> str:
    """The ``X-Pharmaqms-Signature`` value: HMAC-SHA256 of the exact body sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One POST to make: everything read from the database before the network is touched."""

    subscription_id: int
    delivery_key: str
    run_id: int | None
    event_ids: tuple[int, ...]
    attempt: int
    dest: str
    secret: str
    body: bytes
    ended: bool = False
    """The subscription ended while the delivery waited: logged as given up, not sent."""


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    given_up: int = 0


def _body(
    rows: Sequence[tuple[dict[str, Any], datetime | None]], query_name: str, subscription_id: int
) -> bytes:
    document = query_document(
        [stored_event(document, record_time) for document, record_time in rows],
        clock.now(),
        query_name,
    )
    document["epcisBody"]["queryResults"]["subscriptionID"] = str(subscription_id)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _post(item: Outgoing) -> Outcome:
    headers = {
        "Content-Type": JSON_LD,
        SIGNATURE_HEADER: signature(item.secret, item.body),
        DELIVERY_HEADER: item.delivery_key,
        "GS1-EPCIS-Version": "2.0.0",
        "GS1-CBV-Version": "2.0.0",
    }
    try:
        response = httpx.post(
            item.dest,
            content=item.body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as err:
        return Outcome(None, f"{type(err).__name__}: {err}"[:2000])
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None)
    return Outcome(response.status_code, f"the receiver answered {response.status_code}")


def _record(database: Database, sent: Sequence[tuple[Outgoing, Outcome]]) -> DeliverySummary:
    """Log every attempt in one transaction, with when (and whether) to try again."""
    summary = DeliverySummary()
    if not sent:
        return summary
    with unit_of_work(database) as session:
        actor = auth.system_actor(session, Channel.SYSTEM)
        now = clock.now()
        with audit.changes(session, actor=actor, reason="EPCIS subscription delivery"):
            for item, outcome in sent:
                gives_up = not outcome.delivered and item.attempt > len(BACKOFF)
                retry_at = (
                    None if outcome.delivered or gives_up else now + BACKOFF[item.attempt - 1]
                )
                session.add(
                    EpcisDeliveryAttempt(
                        delivery_key=item.delivery_key,
                        subscription_id=item.subscription_id,
                        run_id=item.run_id,
                        event_ids=list(item.event_ids),
                        attempt=item.attempt,
                        attempted_at=now,
                        status_code=outcome.status_code,
                        error=outcome.error,
                        delivered=outcome.delivered,
                        retry_at=retry_at,
                        given_up=gives_up,
                    )
                )
                if gives_up:
                    log.warning(
                        "EPCIS delivery %s to subscription %d given up after %d attempts: %s",
                        item.delivery_key,
                        item.subscription_id,
                        item.attempt,
                        outcome.error,
                    )
                summary = DeliverySummary(
                    sent=summary.sent + outcome.delivered,
                    failed=summary.failed + (not outcome.delivered),
                    given_up=summary.given_up + gives_up,
                )
    return summary


def _send(database: Database, outgoing: Sequence[Outgoing]) -> DeliverySummary:
    if sandbox.mark_of_engine(database.engine) is not None:
        # A sandbox copy sends nothing: its subscribers are the live system's partners.
        return DeliverySummary(sent=0, failed=0, given_up=0)
    # The network is used outside any transaction: a slow receiver holds no database lock.
    return _record(database, [(item, _post(item)) for item in outgoing])


# --- new captures ----------------------------------------------------------------------------


def delivery_key(run_id: int, subscription_id: int) -> str:
    """The ``X-Pharmaqms-Delivery`` id of one capture's delivery to one subscription: the same
    however often the job runs."""
    return hashlib.sha256(
        f"epcis-run:{run_id}:subscription:{subscription_id}".encode()
    ).hexdigest()[:32]


def new_deliveries(session: Session, run_id: int) -> list[Outgoing]:
    """For each active subscription, the run's events its query matches (none: nothing to
    send, unless it asked for empty reports)."""
    subscribed = session.execute(
        select(EpcisSubscription, EpcisNamedQuery)
        .join(EpcisNamedQuery, EpcisNamedQuery.id == EpcisSubscription.query_id)
        .where(EpcisSubscription.active.is_(True), EpcisNamedQuery.retired.is_(False))
        .order_by(EpcisSubscription.id)
    ).all()
    out: list[Outgoing] = []
    for subscription, named in subscribed:
        query = q.parse_query(parameter_pairs(named.parameters))
        rows = q.matching_in_run(session, query, run_id)
        if not rows and not subscription.report_if_empty:
            continue
        key = delivery_key(run_id, subscription.id)
        if session.scalar(
            select(EpcisDeliveryAttempt.id).where(EpcisDeliveryAttempt.delivery_key == key).limit(1)
        ):
            continue  # sent (or waiting for its retry) by an earlier run of this job
        out.append(
            Outgoing(
                subscription_id=subscription.id,
                delivery_key=key,
                run_id=run_id,
                event_ids=tuple(row_id for row_id, _d, _t in rows),
                attempt=1,
                dest=subscription.dest,
                secret=subscription.secret,
                body=_body([(d, t) for _i, d, t in rows], named.name, subscription.id),
            )
        )
    return out


def deliver_new_events(database: Database, run_id: int) -> DeliverySummary:
    """Send a committed import run's matching events to the subscribers (what the job does)."""
    with unit_of_work(database, write=False) as session:
        outgoing = new_deliveries(session, run_id)
    return _send(database, outgoing)


DELIVER_JOB: Final = "epcis.deliver_capture"
RETRY_JOB: Final = "epcis.retry_deliveries"


@job(DELIVER_JOB, queue=DELIVERIES)
def deliver_capture(run_id: int) -> dict[str, int]:
    """The job queued after a capture commits: its deliveries, each once."""
    return asdict(deliver_new_events(job_database(), run_id))


@job(RETRY_JOB, queue=SCHEDULE)
def retry_due_deliveries() -> dict[str, int]:
    """The periodic job: failed deliveries whose wait is over."""
    summary = retry_failed_deliveries(job_database(), clock.now())
    if summary.sent or summary.failed or summary.given_up:
        log.info("EPCIS delivery retries: %s", summary)
    return asdict(summary)


def _capture_committed(database: Database, run_id: int) -> None:
    # The capture listener: after the capture's commit, queue its deliveries; never raises
    # (the capture stands whatever happens to them; a lost job is a lost delivery, so it is
    # logged loudly).
    try:
        enqueue(DELIVER_JOB, database=database, run_id=run_id)
    except Exception:
        log.exception("the EPCIS deliveries of import run %d could not be queued", run_id)


# --- retries ---------------------------------------------------------------------------------


def _due(session: Session, now: datetime) -> list[Outgoing]:
    latest = (
        select(func.max(EpcisDeliveryAttempt.id))
        .group_by(EpcisDeliveryAttempt.delivery_key)
        .scalar_subquery()
    )
    waiting = session.execute(
        select(EpcisDeliveryAttempt, EpcisSubscription, EpcisNamedQuery)
        .join(EpcisSubscription, EpcisSubscription.id == EpcisDeliveryAttempt.subscription_id)
        .join(EpcisNamedQuery, EpcisNamedQuery.id == EpcisSubscription.query_id)
        .where(
            EpcisDeliveryAttempt.retry_at.is_not(None),
            EpcisDeliveryAttempt.retry_at <= now,
            EpcisDeliveryAttempt.id.in_(latest),
        )
        .order_by(EpcisDeliveryAttempt.id)
    ).all()
    out: list[Outgoing] = []
    for attempt, subscription, named in waiting:
        rows = session.execute(
            select(EpcisEvent.document, EpcisEvent.record_time)
            .where(EpcisEvent.id.in_(attempt.event_ids))
            .order_by(EpcisEvent.id)
        ).all()
        out.append(
            Outgoing(
                subscription_id=subscription.id,
                delivery_key=attempt.delivery_key,
                run_id=attempt.run_id,
                event_ids=tuple(attempt.event_ids),
                attempt=attempt.attempt + 1,
                dest=subscription.dest,
                secret=subscription.secret,
                body=_body(
                    [(r.document, r.record_time) for r in rows], named.name, subscription.id
                ),
                ended=not subscription.active,
            )
        )
    return out


def retry_failed_deliveries(database: Database, now: datetime) -> DeliverySummary:
    """Send again every failed delivery whose wait is over at ``now``."""
    with unit_of_work(database, write=False) as session:
        due = _due(session, now)
    ended = [item for item in due if item.ended]
    summary = _send(database, [item for item in due if not item.ended])
    if ended:
        # Logged as given up, not sent: the subscriber asked for nothing more.
        with unit_of_work(database) as session:
            actor = auth.system_actor(session, Channel.SYSTEM)
            with audit.changes(session, actor=actor, reason="EPCIS subscription ended"):
                for item in ended:
                    session.add(
                        EpcisDeliveryAttempt(
                            delivery_key=item.delivery_key,
                            subscription_id=item.subscription_id,
                            run_id=item.run_id,
                            event_ids=list(item.event_ids),
                            attempt=item.attempt,
                            attempted_at=clock.now(),
                            status_code=None,
                            error="the subscription has ended; not sent",
                            delivered=False,
                            retry_at=None,
                            given_up=True,
                        )
                    )
        summary = DeliverySummary(summary.sent, summary.failed, summary.given_up + len(ended))
    return summary


add_delivery_listener("epcis", _capture_committed)
