"""Two real server processes (``pharmaqms serve``) on two ports and one PostgreSQL database,
with requests alternating between them: nothing one process holds in memory is needed by the
other. Sessions, CSRF tokens, bearer tokens, the lockout counter, optimistic locking,
signatures and the public pages' rate limit all live in the database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select, text
from tests.conftest import POSTGRES_URL, app_url
from tests.live_server import free_port
from tests.quality.document_steps import SOP_BODY
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.signatures import SIGN_ACTION
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify

ROOT = Path(__file__).resolve().parents[2]
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_ROUTE = "/api/v1/records/{type_name}/{record_id}/transitions/{name}"


@pytest.fixture
def pg_database(postgres_template: str) -> Iterator[Database]:
    """A database of its own copied from the migrated PostgreSQL template (as ``db`` makes
    one, but PostgreSQL only: SQLite is one machine's database, not one for several servers)."""
    from tests.conftest import _counter

    name = f"pqms_procs_{os.getpid()}_{next(_counter)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    database = Database(app_url(name))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


class Server:
    def __init__(self, database: Database, log: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "PHARMAQMS_DATABASE_URL": database.url,
            "PHARMAQMS_NOTIFY_INTERVAL_SECONDS": "0",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
        env.pop("PHARMAQMS_MQTT_URL", None)
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pharmaqms.cli.main import app; app()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *args,
            ],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"server not ready: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log_file.close()

    def log_lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found


@pytest.fixture
def servers(pg_database: Database, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    a = Server(pg_database, tmp_path / "a.log")
    b = Server(pg_database, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


def token(server: Server, username: str) -> dict[str, str]:
    got = httpx.post(
        server.base + "/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )
    assert got.status_code == 200, got.text
    return {"authorization": f"Bearer {got.json()['token']}"}


def at_once(
    edits: list[tuple[Server, dict[str, str], str, dict[str, Any]]],
) -> dict[str, httpx.Response]:
    """The PATCHes sent together, each from its own thread released at the same moment;
    the responses by the title each tried to set."""
    start = threading.Barrier(len(edits))
    results: dict[str, httpx.Response] = {}

    def send(server: Server, headers: dict[str, str], url: str, body: dict[str, Any]) -> None:
        start.wait()
        results[body["title"]] = httpx.patch(
            server.base + url, json=body, headers=headers, timeout=60
        )

    threads = [threading.Thread(target=send, args=edit) for edit in edits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == len(edits), "an edit hung"
    return results


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_INPUT.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def test_two_server_processes_share_everything_through_the_database(
    servers: tuple[Server, Server], pg_database: Database
) -> None:
    a, b = servers

    # --- a browser session made on A is valid on B; its CSRF token too --------------------
    browser = httpx.Client(follow_redirects=False, timeout=30)
    form = browser.get(a.base + "/login")
    logged_in = browser.post(
        a.base + "/login",
        data={"username": "qa", "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/"
    home_on_b = browser.get(b.base + "/")
    assert home_on_b.status_code == 200 and "Quentin Quality" in home_on_b.text
    csrf_from_a = csrf_of(browser.get(a.base + "/"))
    # a wrong token is refused on B (and nothing ends) …
    forged = browser.post(b.base + "/logout", data={"csrf_token": "x" * 32})
    assert forged.status_code in (303, 403)
    assert browser.get(a.base + "/").status_code == 200
    # … the token A put in its page is B's too: the logout on B ends the session on A
    logged_out = browser.post(b.base + "/logout", data={"csrf_token": csrf_from_a})
    assert logged_out.status_code == 303 and logged_out.headers["location"].startswith("/login")
    assert browser.get(a.base + "/").headers.get("location", "").startswith("/login")

    # --- a bearer token from B works on A; a draft edited with optimistic locking ---------
    author_a, author_b = token(b, "qc"), token(a, "qc")
    created = httpx.post(
        a.base + "/api/v1/documents",
        json={"doc_type": "sop", "title": "Line clearance", "body": SOP_BODY},
        headers=author_a,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    version_id = created.json()["id"]
    url = f"/api/v1/document-versions/{version_id}"
    edited = httpx.patch(
        b.base + url, json={"expected_version": 1, "title": "Line clearance v2"}, headers=author_b
    )
    assert edited.status_code == 200, edited.text
    stale = httpx.patch(
        a.base + url, json={"expected_version": 1, "title": "Lost update"}, headers=author_a
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_record"

    # --- the same edit sent to both at once: exactly one winner, each round ---------------
    for round_ in range(3):
        current = httpx.get(a.base + url, headers=author_a, timeout=30).json()["version"]
        results = at_once(
            [
                (a, author_a, url, {"expected_version": current, "title": f"Race {round_} A"}),
                (b, author_b, url, {"expected_version": current, "title": f"Race {round_} B"}),
            ]
        )
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200, 409], {k: r.text for k, r in results.items()}
        loser = next(r for r in results.values() if r.status_code == 409)
        assert loser.json()["code"] == "stale_record"
        winner = next(t for t, r in results.items() if r.status_code == 200)
        after = httpx.get(b.base + url, headers=author_b, timeout=30).json()
        assert after["version"] == current + 1 and after["title"] == winner

    # --- submitted on A, signed on B (with a request id of the caller's) -----------------
    approver_b = token(b, "qa")
    submitted = httpx.post(
        a.base + f"/api/v1/records/document_version/{version_id}/transitions/submit",
        json={},
        headers=author_a,
        timeout=30,
    )
    assert submitted.status_code == 200, submitted.text
    reviewed = httpx.get(
        a.base + f"/api/v1/records/document_version/{version_id}", headers=approver_b
    ).json()["version"]
    signed = httpx.post(
        b.base + f"/api/v1/records/document_version/{version_id}/transitions/approve",
        json={"password": PASSWORD, "expected_version": reviewed},
        headers={**approver_b, "X-Request-ID": "two-procs-sign-1"},
        timeout=30,
    )
    assert signed.status_code == 200, signed.text
    assert signed.headers["x-request-id"] == "two-procs-sign-1"
    signatures = httpx.get(
        a.base + f"/api/v1/records/document_version/{version_id}/signatures",
        headers=author_a,
        timeout=30,
    ).json()
    assert [(s["signer_username"], s["valid_for_current_content"]) for s in signatures] == [
        ("qa", True)
    ]

    # --- the lockout counts failures on both ---------------------------------------------
    for server in (a, b, a, b, a):
        wrong = httpx.post(
            server.base + "/api/v1/auth/token",
            json={"username": "operator", "password": "not-the-password"},
            timeout=30,
        )
        assert wrong.status_code == 401
    locked = httpx.post(
        b.base + "/api/v1/auth/token",
        json={"username": "operator", "password": PASSWORD},
        timeout=30,
    )
    assert locked.status_code == 401 and locked.json()["code"] == "account_locked"

    # --- the public pages' rate limit is counted across both ----------------------------
    # The side-effect form takes five reports per address in ten minutes (a window no slow
    # machine outlasts during the test); the honeypot field makes each one store nothing.
    visitor = httpx.Client(timeout=30)
    presession = csrf_of(visitor.get(a.base + "/report-side-effect"))
    servers_in_turn = cycle((b, a))
    answers = [
        visitor.post(
            next(servers_in_turn).base + "/report-side-effect",
            data={"csrf_token": presession, "website": "https://spam.example"},
        ).status_code
        for _ in range(7)
    ]
    assert answers == [200] * 5 + [429, 429]

    # --- the request id reached B's log line and the audit entries of the signing --------
    lines = [line for line in b.log_lines() if line.get("request_id") == "two-procs-sign-1"]
    assert len(lines) == 1
    assert lines[0]["route"] == SIGN_ROUTE and lines[0]["status"] == 200
    assert not [line for line in a.log_lines() if line.get("request_id") == "two-procs-sign-1"]
    with unit_of_work(pg_database, write=False) as s:
        actions = list(
            s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == "two-procs-sign-1"))
        )
        # the signature and the transition it authorised, both under the caller's id
        assert SIGN_ACTION in actions and "transition:approve" in actions, actions
        report = verify(s)
    # and the trail written by two processes is one intact chain
    assert report.intact, [f.message for f in report.findings]


def test_workers_of_one_serve_add_up_their_metrics(pg_database: Database, tmp_path: Path) -> None:
    # given one `serve --workers 2` (uvicorn's supervisor and two worker processes)
    server = Server(pg_database, tmp_path / "workers.log", "--workers", "2")
    try:
        server.wait_ready()
        admin = token(server, "admin")
        # when requests spread over the workers, each on a new connection
        for _ in range(12):
            assert httpx.get(server.base + "/healthz", timeout=30).status_code == 200
        scrapes = [httpx.get(server.base + "/metrics", headers=admin, timeout=30) for _ in range(3)]
    finally:
        server.stop()

    # then whichever worker answers the scrape counts the requests of both
    for scrape in scrapes:
        assert scrape.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
        counts = [
            s.value
            for s in families["pharmaqms_http_request_duration_seconds"].samples
            if s.name.endswith("_count") and s.labels.get("route") == "/healthz"
        ]
        assert sum(counts) >= 12
    # and there were two workers, each logging its start as a JSON line
    started = {
        line["message"]
        for line in server.log_lines()
        if line.get("message", "").startswith("Started server process")
    }
    assert len(started) == 2, started


# --- kept connections -----------------------------------------------------------------------


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response read off a kept connection (b"" if the server closed it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert length is not None, head
    while len(body) < int(length.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head


def answers_after_idling(server: Server, idle: float) -> bool:
    """A request on a new kept connection, ``idle`` seconds of nothing, then whether the
    server still answers on that connection (False: it closed it meanwhile)."""
    ask = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(ask)
        assert _response(sock).startswith(b"HTTP/1.1 200"), "the first request failed"
        time.sleep(idle)
        try:
            sock.sendall(ask)
            return _response(sock).startswith(b"HTTP/1.1 200")
        except OSError:  # reset by the server
            return False


def test_a_served_connection_outlives_the_proxys_idle_kept_connections(
    pg_database: Database, tmp_path: Path
) -> None:
    """The reverse proxy keeps connections to the servers and drops one idle for 60 s
    (deploy/nginx); the server must not close it first, or a request sent on it as it closes
    is reset (a 502 for a POST, which the proxy does not retry). uvicorn's own default is 5 s;
    ``serve`` keeps an idle connection 75 s unless ``--keep-alive`` says otherwise."""
    default = Server(pg_database, tmp_path / "default.log")
    told = Server(pg_database, tmp_path / "told.log", "--keep-alive", "1")
    try:
        default.wait_ready()
        told.wait_ready()
        assert answers_after_idling(default, 6.0), "closed before 6 s: uvicorn's 5 s default"
        assert not answers_after_idling(told, 3.0), "--keep-alive 1 kept it 3 s"
    finally:
        default.stop()
        told.stop()
