"""Liveness, readiness, metrics and the request id: what the operators' tools see."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from tests.conftest import port_open, service_unavailable
from tests.quality.quality_steps import REPORT, days_ago
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.observability.logs import JsonLines
from pharmaqms.kernel.observability.request_context import enter_request, leave_request
from pharmaqms.kernel.observability.verify_runs import record_verify_run
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"authorization": f"Bearer {token.json()['token']}"}


def entries_of(db: Database, request_id: str) -> list[tuple[str, str]]:
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.record_type)
            .where(AuditEntry.request_id == request_id)
            .order_by(AuditEntry.seq)
        )
        return [(r[0], r[1]) for r in rows]


# --- liveness and readiness -------------------------------------------------------------


def test_healthz_says_alive_and_readyz_ready_on_a_migrated_database(app: Any) -> None:
    client = TestClient(app)

    alive = client.get("/healthz")
    ready = client.get("/readyz")

    assert alive.status_code == 200 and alive.json() == {"status": "alive"}
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.headers["cache-control"] == "no-store"


def test_readyz_fails_clearly_when_the_database_is_unreachable(db: Database) -> None:
    from pharmaqms.web.app import create_app

    # given a server whose database does not answer (nothing listens on port 1)
    gone = Database("postgresql+psycopg://pharmaqms_app:secret-word@127.0.0.1:1/pharmaqms")
    try:
        client = TestClient(create_app(gone))

        # when the orchestrator asks whether it is ready, and whether it is alive
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    finally:
        set_database(db)
        gone.dispose()

    # then not ready, saying which part, and nothing of the address or the credentials
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not ready",
        "checks": {"database": "unreachable", "job queue": "check failed", "mqtt_broker": "ok"},
    }
    for secret in ("127.0.0.1", "secret-word", "pharmaqms_app", ":1"):
        assert secret not in ready.text
    # and still alive: a restart would not bring the database back
    assert alive.status_code == 200


def test_readyz_fails_on_a_database_without_the_migrations(db: Database, tmp_path: Path) -> None:
    from pharmaqms.web.app import create_app

    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        ready = TestClient(create_app(empty)).get("/readyz")
    finally:
        set_database(db)
        empty.dispose()

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "not migrated: run pharmaqms init"


@pytest.fixture
def broker_url(monkeypatch: pytest.MonkeyPatch) -> Any:
    def configure(url: str) -> None:
        monkeypatch.setenv("PHARMAQMS_MQTT_URL", url)
        reset_settings_cache()

    yield configure
    monkeypatch.delenv("PHARMAQMS_MQTT_URL", raising=False)
    reset_settings_cache()


def test_readyz_checks_a_configured_broker(app: Any, broker_url: Any) -> None:
    client = TestClient(app)

    broker_url("mqtt://127.0.0.1:1")  # configured, nothing listening
    refused = client.get("/readyz")

    assert refused.status_code == 503
    assert refused.json()["checks"] == {
        "database": "ok",
        "job queue": "ok",
        "mqtt_broker": "broker unreachable",
    }

    if not port_open("127.0.0.1", 1883):
        service_unavailable("Mosquitto on 127.0.0.1:1883")
    broker_url("mqtt://127.0.0.1:1883")
    assert client.get("/readyz").status_code == 200


def test_a_registered_readiness_check_takes_part(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pharmaqms.kernel.observability import health

    # given a module (the job runner) that registers its queue's check
    monkeypatch.setattr(health, "_CHECKS", dict(health._CHECKS))
    health.register_readiness_check("job_queue", lambda _db: "queue not reachable")
    health.register_readiness_check("broken", lambda _db: 1 / 0)  # type: ignore[arg-type,return-value]

    ready = TestClient(app).get("/readyz")

    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["job_queue"] == "queue not reachable"
    assert checks["broken"] == "check failed"  # the exception is logged, not shown
    assert "ZeroDivision" not in ready.text


# --- metrics -----------------------------------------------------------------------------


def test_metrics_need_the_permission(app: Any) -> None:
    client = TestClient(app)

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(client, "qa")).status_code == 403
    assert client.get("/metrics", headers=bearer(client, "admin")).status_code == 200


def test_metrics_are_prometheus_text_with_latency_by_route_template(app: Any, db: Database) -> None:
    client = TestClient(app)
    admin = bearer(client, "admin")
    client.get("/healthz")
    # a record read through a path with ids in it
    assert client.get("/api/v1/records/deviation/999999", headers=admin).status_code == 404

    scraped = client.get("/metrics", headers=admin)

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = families(scraped.text)
    latency = found["pharmaqms_http_request_duration_seconds"]
    assert latency.type == "histogram"
    routes = {s.labels["route"] for s in latency.samples}
    assert "/healthz" in routes
    assert "/api/v1/records/{type_name}/{record_id}" in routes
    assert not any("999999" in r for r in routes)  # templates, never raw paths
    counted = [
        s
        for s in latency.samples
        if s.name.endswith("_count")
        and s.labels == {"method": "GET", "route": "/healthz", "status": "200"}
    ]
    assert counted and counted[0].value >= 1
    # nothing recorded yet: the database gauges are declared without a sample
    for name in (
        "pharmaqms_audit_verify_age_seconds",
        "pharmaqms_ingest_lag_seconds",
        "pharmaqms_ingest_last_reading_age_seconds",
    ):
        assert found[name].type == "gauge" and found[name].samples == []


def test_metrics_report_the_age_of_the_last_intact_verification(app: Any, db: Database) -> None:
    client = TestClient(app)
    admin = bearer(client, "admin")
    with unit_of_work(db) as s:
        record_verify_run(s, verify(s))

    found = families(client.get("/metrics", headers=admin).text)

    (age,) = found["pharmaqms_audit_verify_age_seconds"].samples
    assert 0 <= age.value < 120
    (intact,) = found["pharmaqms_audit_verify_last_intact"].samples
    assert intact.value == 1.0


def test_a_registered_gauge_with_labels_is_scraped(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pharmaqms.kernel.observability import metrics

    monkeypatch.setattr(metrics, "_GAUGES", dict(metrics._GAUGES))
    metrics.register_gauge(
        "pharmaqms_job_queue_depth",
        "Jobs waiting, by queue.",
        lambda _s: {("default",): 3.0, ("mail",): 0.0},
        labels=("queue",),
    )
    client = TestClient(app)

    found = families(client.get("/metrics", headers=bearer(client, "admin")).text)

    depth = {s.labels["queue"]: s.value for s in found["pharmaqms_job_queue_depth"].samples}
    assert depth == {"default": 3.0, "mail": 0.0}


# --- the request id ----------------------------------------------------------------------


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "pharmaqms.requests"]


def test_the_request_id_is_returned_logged_and_in_the_audit_entries(
    app: Any, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(app)
    caplog.set_level(logging.INFO, logger="pharmaqms.requests")

    # a login (no actor yet: its entries find the id through the request's context)
    login = client.post(
        "/api/v1/auth/token",
        json={"username": "operator", "password": PASSWORD},
        headers={"X-Request-ID": "proxy-7f3a.login"},
    )
    # a signed-in write
    raised = client.post(
        "/api/v1/deviations",
        json={**REPORT, "occurred_at": days_ago(2), "discovered_at": days_ago(1)},
        headers={
            "authorization": f"Bearer {login.json()['token']}",
            "X-Request-ID": "proxy-7f3a.dev",
        },
    )

    assert login.headers["x-request-id"] == "proxy-7f3a.login"
    assert raised.status_code == 201, raised.text
    assert raised.headers["x-request-id"] == "proxy-7f3a.dev"
    assert ("login", "user") in entries_of(db, "proxy-7f3a.login")
    created = entries_of(db, "proxy-7f3a.dev")
    # The deviation, its task, and the seal of the rules it ran under (configuration use).
    assert created and all(t == "deviation" for _, t in created if t not in ("task", "config_uses"))
    lines = {line["request_id"]: line for line in request_lines(caplog)}
    line = lines["proxy-7f3a.dev"]
    assert line["method"] == "POST" and line["route"] == "/api/v1/deviations"
    assert line["status"] == 201 and line["duration_ms"] > 0
    assert set(line) == {"time", "method", "route", "status", "duration_ms", "request_id"}


def test_an_implausible_request_id_is_replaced(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(app)
    caplog.set_level(logging.INFO, logger="pharmaqms.requests")

    sent = client.get("/healthz", headers={"X-Request-ID": 'x" onload="y'})
    unsent = client.get("/healthz")

    for response in (sent, unsent):
        rid = response.headers["x-request-id"]
        assert len(rid) == 32 and int(rid, 16) >= 0
    assert sent.headers["x-request-id"] != unsent.headers["x-request-id"]
    assert [line["request_id"] for line in request_lines(caplog)] == [
        sent.headers["x-request-id"],
        unsent.headers["x-request-id"],
    ]


def test_an_unmatched_path_is_logged_under_one_label(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pharmaqms.requests")

    TestClient(app).get("/no/such/page/12345")

    (line,) = request_lines(caplog)
    assert line["route"] == "<unmatched>" and line["status"] == 404


def test_other_log_records_become_json_lines_with_the_request_id() -> None:
    record = logging.LogRecord(
        "pharmaqms.health", logging.WARNING, __file__, 1, "db %s", ("down",), None
    )
    token = enter_request("abc-123")
    try:
        line = json.loads(JsonLines().format(record))
    finally:
        leave_request(token)

    assert line["level"] == "warning" and line["logger"] == "pharmaqms.health"
    assert line["message"] == "db down" and line["request_id"] == "abc-123"


def test_the_verify_command_records_its_run_for_the_metrics(db: Database) -> None:
    from tests.kernel.cli import run_cli

    from pharmaqms.kernel.observability.models import AuditVerifyRun

    result = run_cli(db, "audit", "verify", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["intact"] is True  # stdout stays pure JSON
    with unit_of_work(db, write=False) as s:
        runs = [(r.intact, r.findings, r.entries) for r in s.scalars(select(AuditVerifyRun))]
    assert runs == [(True, 0, json.loads(result.stdout)["entries"])]


@pytest.mark.postgres
def test_the_job_queue_takes_part_in_readiness_and_metrics(app: Any, db: Database) -> None:
    """On PostgreSQL a queued job waits for a worker (none runs here): the queue depth and the
    per-status count see it, and no worker is alive."""
    if db.dialect != "postgresql":
        pytest.skip("the durable queue is PostgreSQL's")
    from pharmaqms.kernel.jobs import enqueue_after_commit
    from pharmaqms.kernel.notifications.service import DELIVER_JOB

    client = TestClient(app)
    admin = bearer(client, "admin")
    assert client.get("/readyz").json()["checks"]["job queue"] == "ok"

    def scrape() -> tuple[float, dict[str, float], float]:
        found = families(client.get("/metrics", headers=admin).text)
        (depth,) = found["pharmaqms_jobs_ready"].samples
        (alive,) = found["pharmaqms_job_workers_alive"].samples
        by_status = {x.labels["status"]: x.value for x in found["pharmaqms_jobs"].samples}
        return depth.value, by_status, alive.value

    depth, by_status, alive = scrape()
    with unit_of_work(db) as s:
        enqueue_after_commit(s, DELIVER_JOB, ids=[])
    depth_after, by_status_after, _ = scrape()

    assert depth_after == depth + 1
    assert by_status_after.get("todo", 0) == by_status.get("todo", 0) + 1
    assert alive == 0
