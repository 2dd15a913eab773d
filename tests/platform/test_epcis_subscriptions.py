"""Subscriptions to named EPCIS queries (pharmaqms.platform.epcis_repository.delivery): a real
HTTP receiver on this machine, the official GS1 examples captured through the ingest pipeline,
and what arrives compared with what the examples say."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.kernel.jobs_helpers import worker_runs
from tests.support import conformance_dir
from typer.testing import CliRunner

from pharmaqms.cli.epcis import app as epcis_cli
from pharmaqms.kernel import clock
from pharmaqms.kernel.jobs import run_now
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis import parse_epcis
from pharmaqms.platform.epcis.schema import document_validator
from pharmaqms.platform.epcis_repository import delivery
from pharmaqms.platform.epcis_repository.delivery import (
    BACKOFF,
    retry_failed_deliveries,
)
from pharmaqms.platform.epcis_repository.models import (
    EpcisDeliveryAttempt,
    EpcisSubscription,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.traceability.models import EpcisEvent

EXAMPLES = conformance_dir() / "json"
# Two ObjectEvents: one shipping, one receiving.
OBJECT_EVENTS = EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld"
# One AggregationEvent, receiving.
AGGREGATION = EXAMPLES / "Example_9.6.3-AggregationEvent.jsonld"
SECRET = "a-shared-secret-of-the-receiver"


class Receiver:
    """A webhook on 127.0.0.1 that records what it is sent and answers the statuses queued."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def to(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for p, headers, body in self.requests if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def _capture(db: Any, people: Any, path: Any) -> None:
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=path.read_bytes())
    worker_runs(db)  # the delivery job the capture queued (on SQLite it ran in process)


def _named_query(api: Any, name: str, query: dict[str, Any]) -> Any:
    client = api("logistics")
    made = client.post("/api/v1/epcis/queries", json={"name": name, "query": query})
    assert made.status_code == 201, made.text
    return client


def _subscribe(client: Any, name: str, dest: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/epcis/queries/{name}/subscriptions",
        json={"dest": dest, "signatureToken": SECRET, **extra},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["signatureToken"] == SECRET
    return body


def _events_of(body: bytes) -> list[dict[str, Any]]:
    document = json.loads(body)
    assert list(document_validator().iter_errors(document)) == []
    assert document["type"] == "EPCISQueryDocument"
    events: list[dict[str, Any]] = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def _attempts(db: Any) -> list[EpcisDeliveryAttempt]:
    with unit_of_work(db, write=False) as s:
        rows = list(s.scalars(select(EpcisDeliveryAttempt).order_by(EpcisDeliveryAttempt.id)))
        s.expunge_all()
    return rows


@pytest.mark.postgres
def test_new_matching_events_are_sent_signed_and_valid(
    db, people, frozen_clock, api, receiver
) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "shipments", {"EQ_bizStep": "shipping"})
    kept = _subscribe(client, "shipments", f"{receiver.url}/hook")
    ended = _subscribe(client, "shipments", f"{receiver.url}/ended")
    stop = client.client.delete(
        f"/api/v1/epcis/queries/shipments/subscriptions/{ended['subscriptionID']}",
        headers=client.headers,
        params={"reason": "partner moved to another repository"},
    )
    assert stop.status_code == 200, stop.text
    assert stop.json()["active"] is False

    _capture(db, people, OBJECT_EVENTS)  # one shipping event of two
    _capture(db, people, AGGREGATION)  # nothing shipped

    sent = receiver.to("/hook")
    assert len(sent) == 1
    assert receiver.to("/ended") == []
    headers, body = sent[0]
    assert headers["Content-Type"] == "application/ld+json"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Pharmaqms-Signature"], expected)
    events = _events_of(body)
    # What the example says ships, independently of the SQL.
    shipped = [
        e for e in parse_epcis(OBJECT_EVENTS.read_bytes()).events if e.biz_step == "shipping"
    ]
    assert [e["eventID"] for e in events] == [e.event_id for e in shipped]
    assert json.loads(body)["epcisBody"]["queryResults"]["queryName"] == "shipments"

    attempts = _attempts(db)
    assert len(attempts) == 1
    (attempt,) = attempts
    assert attempt.delivered and attempt.attempt == 1 and attempt.status_code == 200
    assert attempt.delivery_key == headers["X-Pharmaqms-Delivery"]
    assert attempt.subscription_id == int(kept["subscriptionID"])
    with unit_of_work(db, write=False) as s:
        shipping_rows = list(
            s.scalars(select(EpcisEvent.id).where(EpcisEvent.biz_step == "shipping"))
        )
        reason = s.scalar(
            select(AuditEntry.reason).where(
                AuditEntry.record_type == "epcis_subscription", AuditEntry.action == "deactivate"
            )
        )
        trail = list(
            s.scalars(
                select(AuditEntry.changes).where(AuditEntry.record_type == "epcis_subscription")
            )
        )
    assert attempt.event_ids == shipping_rows
    assert reason == "partner moved to another repository"
    # Subscribing is audited, the shared secret is not written into the trail.
    assert len(trail) == 3
    assert all(SECRET not in changes for changes in trail)

    listed = api("auditor").get("/api/v1/epcis/queries/shipments/subscriptions")
    assert listed.status_code == 200
    assert [(s["active"], "signatureToken" in s) for s in listed.json()] == [
        (True, False),
        (False, False),
    ]


@pytest.mark.postgres
def test_a_failed_delivery_is_retried_after_its_backoff(
    db, people, frozen_clock, api, receiver
) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "receipts", {"EQ_bizStep": "receiving"})
    _subscribe(client, "receipts", f"{receiver.url}/hook")
    receiver.statuses = [500]

    _capture(db, people, AGGREGATION)

    (failed,) = _attempts(db)
    assert not failed.delivered and failed.status_code == 500 and failed.attempt == 1
    assert failed.retry_at == clock.now() + BACKOFF[0]
    with unit_of_work(db, write=False) as s:  # the capture stands
        assert s.scalar(select(func.count()).select_from(EpcisEvent)) == 1

    frozen_clock.advance(seconds=30)
    early = retry_failed_deliveries(db, clock.now())
    assert (early.sent, early.failed) == (0, 0)
    assert len(receiver.requests) == 1

    frozen_clock.advance(seconds=30)
    retried = retry_failed_deliveries(db, clock.now())
    assert (retried.sent, retried.failed) == (1, 0)
    first, second = receiver.to("/hook")
    assert first[0]["X-Pharmaqms-Delivery"] == second[0]["X-Pharmaqms-Delivery"]
    assert [e["eventID"] for e in _events_of(second[1])] == [
        e.event_id for e in parse_epcis(AGGREGATION.read_bytes()).events
    ]
    _, done = _attempts(db)
    assert done.delivered and done.attempt == 2 and done.retry_at is None
    assert retry_failed_deliveries(db, clock.now() + timedelta(days=1)).sent == 0


@pytest.mark.postgres
def test_retries_run_from_the_cli_and_as_a_job(db, people, frozen_clock, api, receiver) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "receipts", {"EQ_bizStep": "receiving"})
    _subscribe(client, "receipts", f"{receiver.url}/hook")
    receiver.statuses = [500, 500]
    _capture(db, people, AGGREGATION)
    frozen_clock.advance(minutes=1)

    ran = CliRunner().invoke(epcis_cli, ["deliver"])
    assert ran.exit_code == 0, ran.output
    assert "deliveries sent: 0, failed (will retry): 1, given up: 0" in ran.output

    frozen_clock.advance(minutes=5)
    assert run_now(delivery.RETRY_JOB) == {"sent": 1, "failed": 0, "given_up": 0}
    assert run_now(delivery.RETRY_JOB) == {"sent": 0, "failed": 0, "given_up": 0}
    assert [a.delivered for a in _attempts(db)] == [False, False, True]
    assert len(receiver.requests) == 3


@pytest.mark.postgres
def test_a_receiver_that_never_answers_well_is_given_up_and_flagged(
    db, people, frozen_clock, api, receiver
) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "receipts", {"EQ_bizStep": "receiving"})
    _subscribe(client, "receipts", f"{receiver.url}/hook")
    receiver.statuses = [503] * 10

    _capture(db, people, AGGREGATION)
    for wait in BACKOFF:
        frozen_clock.advance(seconds=wait.total_seconds())
        summary = retry_failed_deliveries(db, clock.now())
        assert summary.failed == 1
    attempts = _attempts(db)
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5]
    assert [a.given_up for a in attempts] == [False] * 4 + [True]
    assert attempts[-1].retry_at is None
    frozen_clock.advance(hours=24)
    assert retry_failed_deliveries(db, clock.now()).failed == 0
    assert len(receiver.requests) == 5
    listed = api("auditor").get("/api/v1/epcis/queries/receipts/subscriptions").json()
    assert listed[0]["deliveriesGivenUp"] == 1


@pytest.mark.postgres
def test_a_receiver_that_is_down_never_fails_the_capture(
    db, people, frozen_clock, api, receiver
) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "receipts", {"EQ_bizStep": "receiving"})
    _subscribe(client, "receipts", f"{receiver.url}/hook")
    receiver.server.shutdown()
    receiver.server.server_close()

    _capture(db, people, AGGREGATION)

    (failed,) = _attempts(db)
    assert not failed.delivered and failed.status_code is None and failed.error
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(EpcisEvent)) == 1


@pytest.mark.postgres
def test_a_subscription_ended_while_waiting_is_sent_nothing_more(
    db, people, frozen_clock, api, receiver
) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "receipts", {"EQ_bizStep": "receiving"})
    made = _subscribe(client, "receipts", f"{receiver.url}/hook")
    receiver.statuses = [500]
    _capture(db, people, AGGREGATION)
    stop = client.client.delete(
        f"/api/v1/epcis/queries/receipts/subscriptions/{made['subscriptionID']}",
        headers=client.headers,
        params={"reason": "contract ended"},
    )
    assert stop.status_code == 200
    frozen_clock.advance(minutes=1)
    assert retry_failed_deliveries(db, clock.now()).given_up == 1
    assert len(receiver.requests) == 1
    assert _attempts(db)[-1].given_up


@pytest.mark.postgres
def test_bad_subscriptions_are_refused_and_change_nothing(db, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    client = _named_query(api, "shipments", {"EQ_bizStep": "shipping"})

    def counts() -> tuple[int, int]:
        with unit_of_work(db, write=False) as s:
            return (
                int(s.scalar(select(func.count()).select_from(EpcisSubscription)) or 0),
                int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            )

    auditor = api("auditor")  # signed in before: a login is audited
    before = counts()
    url = "/api/v1/epcis/queries/shipments/subscriptions"
    for dest in (
        "file:///etc/passwd",
        "ftp://partner.example/hook",
        "http://partner.example/hook",
        "https://user:password@partner.example/hook",
        "https:///no-host",
        "not a url",
    ):
        refused = client.post(url, json={"dest": dest})
        assert refused.status_code == 422, (dest, refused.text)
        assert "dest" in refused.text, dest
    short = client.post(url, json={"dest": "https://partner.example/hook", "signatureToken": "x"})
    assert short.status_code == 422 and "signatureToken" in short.text
    unknown = client.post(
        "/api/v1/epcis/queries/nothing/subscriptions", json={"dest": "https://partner.example/h"}
    )
    assert unknown.status_code == 404
    gone = client.client.delete(f"{url}/999", headers=client.headers, params={"reason": "x"})
    assert gone.status_code == 404
    assert counts() == before
    denied = auditor.post(url, json={"dest": "https://partner.example/hook"})
    assert denied.status_code == 403
    assert counts()[0] == before[0]  # (the refusal itself is audited)
