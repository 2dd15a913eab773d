"""A configuration draft tried on a sandbox copy of the database: the copy is registered in
the live database, holds the live records with the draft in force (and only there), works
like the live system for its users, holds back what would leave it (e-mail, deliveries, the
MQTT ingest), and is read back as evidence the draft's test run cites. Refusals change
nothing in the live database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    snapshot,
)
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.conftest import empty_postgres_url
from tests.kernel.mailbox import Mailbox, mailbox
from tests.platform.mqtt_support import settings_for, unique_site
from tests.support import PASSWORD, app_for, browser_login

from pharmaqms.compliance.configuration import (
    sandbox_copy,
    sandbox_evidence,
    sandbox_removal,
    service,
)
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import sandbox, store
from pharmaqms.kernel.configuration.models import ConfigVersion, SandboxCopy, SandboxEvidence
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.notifications import service as notify
from pharmaqms.kernel.notifications.models import NoticeStatus, Notification
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.mqtt.settings import Broker
from pharmaqms.platform.mqtt.worker import IngestWorker
from pharmaqms.quality.deviations import service as deviations

__all__ = ["empty_postgres_url", "mailbox"]  # the fixtures, imported to be found

DUE = "quality.deviation_due_days"
BUILT_IN = {"critical": 15, "major": 30, "minor": 60}
NEW_DAYS = {"critical": 10, "major": 20, "minor": 45}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_QA = {"PHARMAQMS_PASSWORD": PASSWORD}


@pytest.fixture
def moving_clock(db: Any) -> Iterator[clock.FrozenClock]:
    with clock.frozen_at(START) as frozen:
        yield frozen


@pytest.fixture
def pending(db: Database, people: People, moving_clock: clock.FrozenClock) -> str:
    """New deviation due days drafted under an approved change: the draft's number."""
    cid = approved_change_from_a_new_edition(db, people)
    vid = draft(
        db,
        people.qa,
        DUE,
        NEW_DAYS,
        effective_from=clock.now() + timedelta(days=7),
        change_id=cid,
        rationale="TEST 1 (2024) shortens the time to close a deviation.",
    )
    with unit_of_work(db, write=False) as s:
        return str(service.get_version(s, vid).number)


def _copies(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(SandboxCopy)) or 0)


def _due_days(database: Database, did: int) -> int:
    with unit_of_work(database, write=False) as s:
        deviation = deviations.get_deviation(s, did)
        assert deviation.due_at is not None
        return (deviation.due_at - clock.now()).days


@pytest.fixture
def copy_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sandbox.db'}"


@pytest.mark.clause("annex11:10", "part11:11.10(a)")
@pytest.mark.postgres
def test_a_draft_tried_on_a_sandbox_copy_applies_there_only_and_its_evidence_is_cited(
    db: Database, people: People, pending: str, copy_url: str
) -> None:
    before = snapshot(db)
    # when QA copies the database to try the draft
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    assert (made.config_number, made.key, made.made_by) == (pending, DUE, "qa")
    # the live database only gained the register row (and the entry sealing it)
    after = snapshot(db)
    assert after["versions"] == before["versions"]
    assert after["audit"] == before["audit"] + 1
    with unit_of_work(db, write=False) as s:
        assert sandbox.mark(s) is None
        assert store.in_force(s, DUE).content == BUILT_IN
    live_deviation = classified_deviation(db, people, "Live granulation", clock.now())
    assert _due_days(db, live_deviation) == 30

    # in the copy the draft is in force, for the people of the live system
    copy = Database(copy_url)
    try:
        with unit_of_work(copy, write=False) as s:
            marked = sandbox.mark(s)
            assert marked is not None and marked.copy_id == made.id
            in_force = store.in_force(s, DUE)
            assert (in_force.number, in_force.content) == (pending, NEW_DAYS)
            # the past before the copy still reads as it was
            assert store.in_force(s, DUE, at=START - timedelta(days=1)).content == BUILT_IN
        set_database(copy)
        tried = classified_deviation(copy, People(copy), "Tried in the sandbox", clock.now())
        assert _due_days(copy, tried) == 20
        set_database(db)
    finally:
        set_database(db)
        copy.dispose()

    # read back, the copy's work becomes the draft's test evidence
    evidence = sandbox_evidence.collect_evidence(
        db, actor=people.qa, copy_id=made.id, copy_url=copy_url
    )
    assert evidence.trail_intact
    assert evidence.uses_of_draft == 1
    assert evidence.actions >= 2  # reported and classified, at least
    assert evidence.findings[1].startswith(f"{evidence.actions} action(s) taken in the copy")
    assert any("DEV-" in line and "by qa" in line for line in evidence.findings)
    assert "verified intact" in evidence.findings[0]
    with unit_of_work(db) as s:
        version = s.scalars(select(ConfigVersion).where(ConfigVersion.number == pending)).one()
        tested = service.test_version(s, actor=people.qa, version_id=version.id)
        assert evidence.findings[0] in tested.test_summary
        assert evidence.findings[1] in tested.test_summary


def test_a_draft_with_no_copy_says_so_in_its_test_run(
    db: Database, people: People, pending: str
) -> None:
    with unit_of_work(db) as s:
        version = s.scalars(select(ConfigVersion).where(ConfigVersion.number == pending)).one()
        tested = service.test_version(s, actor=people.qa, version_id=version.id)
        assert any("no sandbox copy of this content" in line for line in tested.test_summary)


def test_a_sandbox_copy_holds_back_mail_and_the_mqtt_ingest_and_says_what_it_is(
    db: Database, people: People, pending: str, copy_url: str, mailbox: Mailbox
) -> None:
    with unit_of_work(db) as s:
        notify.update_preferences(
            s, actor=people.qa, email="qa@example.org", digest=False, kinds=list(notify.ALL_KINDS)
        )
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    # the live system e-mails qa the classification task of a new deviation …
    classified_deviation(db, people, "Live", clock.now())
    notify.deliver(db)  # whatever the job queued by the commit has not sent yet
    live_mail = len(mailbox.received)
    assert live_mail >= 1
    copy = Database(copy_url)
    try:
        set_database(copy)
        # … the copy keeps its notices queued: its people are the live system's
        classified_deviation(copy, People(copy), "Sandbox", clock.now())
        assert notify.deliver(copy) == notify.DeliveryResult(0, 0, 0)
        with unit_of_work(copy, write=False) as s:
            assert s.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == NoticeStatus.QUEUED)
            )
        assert len(mailbox.received) == live_mail
        # the MQTT ingest refuses to start on it (it would take the live readings)
        with unit_of_work(copy, write=False) as s:
            from pharmaqms.kernel import auth
            from pharmaqms.kernel.identity import Channel

            actor = auth.system_actor(s, Channel.MQTT)
        worker = IngestWorker(
            copy, settings_for(unique_site()), Broker("127.0.0.1", 1, False), actor
        )
        with pytest.raises(Conflict, match=f"sandbox copy #{made.id}"):
            worker.start()
        # every printed page says so at its head, so no printout passes for a real record
        printed = _pdf_text(copy_printout := _printout())
        assert f"SANDBOX COPY #{made.id} ({pending} in force here)" in printed, copy_printout[:80]
        # every page says it is a sandbox, and which draft is in force there
        client = _client(copy)
        page = client.get("/")
        assert 'data-testid="sandbox-banner"' in page.text
        assert f"Sandbox copy #{made.id}" in page.text and pending in page.text
        # and so does every answer of the API
        answer = client.get("/healthz")
        assert answer.headers["x-pharmaqms-sandbox"] == f"copy {made.id}; {pending} in force"
    finally:
        set_database(db)
        copy.dispose()
    # the live system's pages and printouts don't
    live = _client(db)
    assert "sandbox-banner" not in live.get("/").text
    assert "x-pharmaqms-sandbox" not in live.get("/healthz").headers
    assert "SANDBOX" not in _pdf_text(_printout())


def _printout() -> bytes:
    from reportlab.platypus import Paragraph

    from pharmaqms.kernel.reports.pdf import build_pdf, styles

    return build_pdf(
        [Paragraph("A batch record", styles()["Normal"])],
        title="Batch record",
        author="pharmaqms",
        footer="printed for the test",
    )


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _client(database: Database) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(app_for(database))
    response = browser_login(client, "qa")
    assert response.status_code in (302, 303), response.text
    return client


@pytest.mark.postgres
def test_copies_that_cannot_be_made_are_refused_and_nothing_changes(
    db: Database, people: People, pending: str, copy_url: str, tmp_path: Path
) -> None:
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    before, copies = snapshot(db), _copies(db)
    refusals: list[tuple[type[Exception], str, dict[str, Any]]] = [
        (Conflict, "not the live one", {"target_url": db.url}),
        (Conflict, "holds data", {"target_url": copy_url}),
        (InvalidInput, "not a database URL", {"target_url": "no such thing"}),
        (InvalidInput, "not a database URL", {"target_url": "postgresql://db:port/qms"}),
        (
            InvalidInput,
            "a SQLite file or a PostgreSQL database, not mysql",
            {"target_url": "mysql://db/qms"},
        ),
        (InvalidInput, "in memory would be gone", {"target_url": "sqlite://"}),
        (NotFound, "no configuration version CFG-1999-0001", {"number": "CFG-1999-0001"}),
        (
            PermissionDenied,
            "may not make sandbox copies",
            {"actor": people.operator},
        ),
    ]
    for error, message, override in refusals:
        kwargs: dict[str, Any] = {
            "actor": people.qa,
            "number": pending,
            "target_url": f"sqlite:///{tmp_path / 'other.db'}",
            **override,
        }
        with pytest.raises(error, match=message):
            sandbox_copy.make_copy(db, **kwargs)
        assert (snapshot(db), _copies(db)) == (before, copies), message
    assert not (tmp_path / "other.db").exists() or _empty(f"sqlite:///{tmp_path / 'other.db'}")
    # an approved version is no longer a draft to try
    with unit_of_work(db) as s:
        version = s.scalars(select(ConfigVersion).where(ConfigVersion.number == pending)).one()
        service.test_version(s, actor=people.qa, version_id=version.id)
        vid = version.id
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    before, copies = snapshot(db), _copies(db)
    with pytest.raises(Conflict, match="is approved: a sandbox copy tries a draft"):
        sandbox_copy.make_copy(
            db, actor=people.qa, number=pending, target_url=f"sqlite:///{tmp_path / 'late.db'}"
        )
    assert (snapshot(db), _copies(db)) == (before, copies)
    assert made.id == 1


def _empty(url: str) -> bool:
    other = Database(url)
    try:
        with other.engine.connect() as conn:
            return not conn.exec_driver_sql("SELECT name FROM sqlite_master").first()
    finally:
        other.dispose()


def test_evidence_from_a_database_that_is_not_that_copy_is_refused_and_nothing_kept(
    db: Database, people: People, pending: str, copy_url: str, tmp_path: Path
) -> None:
    first = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    second = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=second_url)
    empty_url = f"sqlite:///{tmp_path / 'empty.db'}"
    before = snapshot(db)
    refusals: list[tuple[type[Exception], str, int, str]] = [
        (Conflict, "that is the live database", first.id, db.url),
        (Conflict, f"is sandbox copy #{first.id} for {pending}, not #{second.id}", second.id,
         copy_url),
        (Conflict, "is not a pharmaqms sandbox copy", first.id, empty_url),
        (NotFound, "no sandbox copy #99", 99, copy_url),
    ]  # fmt: skip
    for error, message, copy_id, url in refusals:
        with pytest.raises(error, match=message):
            sandbox_evidence.collect_evidence(db, actor=people.qa, copy_id=copy_id, copy_url=url)
        assert snapshot(db) == before, message
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(SandboxEvidence)) == 0


def test_a_copy_whose_trail_was_altered_is_reported_as_not_intact(
    db: Database, people: People, pending: str, copy_url: str
) -> None:
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    copy = Database(copy_url)
    try:
        with copy.engine.begin() as conn:  # behind the application's back
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("UPDATE audit_entries SET reason = 'rewritten' WHERE seq = 3"))
    finally:
        copy.dispose()
    # the command says so and exits 1 ...
    read = run_cli(
        db, "compliance", "sandbox-evidence", str(made.id), "--from", copy_url, "--as", "qa",
        env=AS_QA,
    )  # fmt: skip
    assert read.exit_code == 1 and "its audit trail is NOT intact" in read.output
    # ... and the evidence kept says it too
    evidence = sandbox_evidence.collect_evidence(
        db, actor=people.qa, copy_id=made.id, copy_url=copy_url
    )
    assert not evidence.trail_intact
    assert "is NOT intact" in evidence.findings[0]
    # and the draft's page shows the copy and what was read back, for QA's approver to see
    with unit_of_work(db, write=False) as s:
        vid = s.scalars(select(ConfigVersion.id).where(ConfigVersion.number == pending)).one()
    response = _client(db).get(f"/compliance/configuration/versions/{vid}")
    assert response.status_code == 200, response.text[:2000]
    page = response.text
    copies = page[page.index('data-testid="sandbox-copies"') :]
    assert f"<td>#{made.id}</td>" in copies
    assert "trail NOT intact" in copies and "not yet" not in copies


def test_the_commands_make_a_copy_and_read_it_back(
    db: Database, pending: str, copy_url: str
) -> None:
    made = run_cli(
        db, "compliance", "sandbox-copy", pending, "--to", copy_url, "--as", "qa", env=AS_QA
    )
    assert made.exit_code == 0, made.output
    assert f"sandbox copy #1 of the database made in {copy_url}: {pending} is in force" in (
        made.output
    )
    # a second copy into the same database is refused with the reason, and nothing changes
    # (the command's login is audited, as every login is)
    before = (snapshot(db)["versions"], snapshot(db)["uses"], _copies(db))
    again = run_cli(
        db, "compliance", "sandbox-copy", pending, "--to", copy_url, "--as", "qa", env=AS_QA
    )
    assert again.exit_code != 0 and "holds data" in again.output
    assert (snapshot(db)["versions"], snapshot(db)["uses"], _copies(db)) == before
    read = run_cli(
        db, "compliance", "sandbox-evidence", "1", "--from", copy_url, "--as", "qa", env=AS_QA
    )
    assert read.exit_code == 0, read.output
    assert "its audit trail verified intact" in read.output
    assert "0 action(s) taken in the copy after it was made; 0 ran under" in read.output
    gone = run_cli(
        db, "compliance", "sandbox-remove", "1", "--from", copy_url, "--as", "qa", env=AS_QA
    )
    assert gone.exit_code == 0, gone.output
    assert gone.output.startswith("sandbox copy #1 removed: SQLite file ")
    assert not Path(copy_url.removeprefix("sqlite:///")).exists()


@pytest.mark.postgres
def test_a_copy_can_be_a_postgresql_database(
    db: Database, people: People, pending: str, empty_postgres_url: str
) -> None:
    # from either engine into a PostgreSQL database created for the copy
    made = sandbox_copy.make_copy(
        db, actor=people.qa, number=pending, target_url=empty_postgres_url
    )
    assert made.target == sandbox_copy.shown_url(empty_postgres_url)
    # a password in the URL is not kept in the register
    assert "secret" not in sandbox_copy.shown_url("postgresql+psycopg://app:secret@db/qms")
    copy = Database(empty_postgres_url)
    try:
        with unit_of_work(copy, write=False) as s:
            assert store.in_force(s, DUE).content == NEW_DAYS
    finally:
        copy.dispose()
    evidence = sandbox_evidence.collect_evidence(
        db, actor=people.qa, copy_id=made.id, copy_url=empty_postgres_url
    )
    assert evidence.trail_intact and evidence.actions == 0


@pytest.mark.postgres
def test_a_copy_into_a_database_that_does_not_exist_is_refused_and_nothing_changes(
    db: Database, people: People, pending: str
) -> None:
    before, copies = snapshot(db), _copies(db)
    missing = "postgresql+psycopg://postgres@127.0.0.1:5432/pqms_no_such_database"
    with pytest.raises(InvalidInput, match="pqms_no_such_database can't be reached"):
        sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=missing)
    assert (snapshot(db), _copies(db)) == (before, copies)


def test_a_copy_that_fails_half_way_is_kept_in_the_register_with_why(
    db: Database, people: People, pending: str, copy_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sandbox_copy, "_copy_into", disk_full)
    with pytest.raises(OSError, match="No space left"):
        sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    with unit_of_work(db, write=False) as s:
        [evidence] = s.scalars(select(SandboxEvidence)).all()
        assert evidence.findings == [
            f"sandbox copy #{evidence.copy_id} could not be made: "
            "[Errno 28] No space left on device"
        ]
        assert not evidence.trail_intact
        version = s.scalars(select(ConfigVersion).where(ConfigVersion.number == pending)).one()
        assert sandbox_evidence.evidence_lines(s, version) == evidence.findings


def test_the_configuration_overview_lists_every_copy_with_its_draft(
    db: Database, people: People, pending: str, copy_url: str
) -> None:
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    page = _client(db).get("/compliance/configuration").text
    register = page[page.index('data-testid="sandbox-copies"') :]
    row = register[register.index(f'data-copy="{made.id}"') :]
    assert f">{pending}</a> (quality.deviation_due_days v2)" in row[:600]
    assert "<td>qa</td>" in row[:800] and "not yet" in row[:1400]


def test_a_sandbox_copy_is_not_copied_again_nor_read_back_into(
    db: Database, people: People, pending: str, copy_url: str, tmp_path: Path
) -> None:
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    copy = Database(copy_url)
    try:
        before = snapshot(copy)
        with pytest.raises(Conflict, match=f"this database is sandbox copy #{made.id}"):
            sandbox_copy.make_copy(
                copy,
                actor=people.qa,
                number=pending,
                target_url=f"sqlite:///{tmp_path / 'copy-of-copy.db'}",
            )
        with pytest.raises(Conflict, match=f"this database is sandbox copy #{made.id}"):
            sandbox_evidence.collect_evidence(
                copy, actor=people.qa, copy_id=made.id, copy_url=db.url
            )
        assert snapshot(copy) == before
    finally:
        copy.dispose()


def test_a_copy_is_removed_with_its_key_and_the_register_says_so(
    db: Database,
    people: People,
    pending: str,
    copy_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moving_clock: clock.FrozenClock,
) -> None:
    # (where a SQLite copy's own key file would be, as without PHARMAQMS_KEY_FILE)
    live_key = sandbox_copy.key_file_path(db.url)
    copy_key = tmp_path / "sandbox.key"
    for module in (sandbox_copy, sandbox_removal):
        monkeypatch.setattr(
            module,
            "key_file_path",
            lambda url=None: copy_key if url and "sandbox.db" in url else live_key,
        )
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    assert copy_key.read_bytes() == live_key.read_bytes()
    assert oct(copy_key.stat().st_mode & 0o777) == "0o600"
    # kept over 30 days without being removed, the register flags it
    moving_clock.advance(days=31)
    page = _client(db).get("/compliance/configuration").text
    assert "kept 31 days: remove it" in page[page.index('data-testid="sandbox-copies"') :]

    removed = sandbox_removal.remove_copy(db, actor=people.qa, copy_id=made.id, copy_url=copy_url)
    assert removed.how.endswith("deleted, with the copy of the key file beside it")
    assert not (tmp_path / "sandbox.db").exists() and not copy_key.exists()
    assert live_key.exists()
    register = _client(db).get("/compliance/configuration").text
    row = register[register.index(f'data-copy="{made.id}"') :]
    assert "by qa" in row[: row.index("</tr>")] and "remove it" not in row[: row.index("</tr>")]
    # a removed copy is neither removed again nor read back
    before = snapshot(db)
    for verb in (sandbox_removal.remove_copy, sandbox_evidence.collect_evidence):
        with pytest.raises(Conflict, match=f"sandbox copy #{made.id} was removed"):
            verb(db, actor=people.qa, copy_id=made.id, copy_url=copy_url)
    assert snapshot(db) == before


def test_a_database_that_is_not_the_copy_is_not_removed(
    db: Database, people: People, pending: str, copy_url: str, tmp_path: Path
) -> None:
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    other = tmp_path / "other.db"
    other_db = Database(f"sqlite:///{other}")
    with other_db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE kept (id INTEGER)")
    other_db.dispose()
    before = snapshot(db)
    with pytest.raises(Conflict, match="is not a pharmaqms sandbox copy"):
        sandbox_removal.remove_copy(
            db, actor=people.qa, copy_id=made.id, copy_url=f"sqlite:///{other}"
        )
    with pytest.raises(PermissionDenied, match="may not remove sandbox copies"):
        sandbox_removal.remove_copy(db, actor=people.operator, copy_id=made.id, copy_url=copy_url)
    assert other.exists() and (tmp_path / "sandbox.db").exists()
    assert snapshot(db) == before


@pytest.mark.postgres
def test_a_postgresql_copy_is_dropped(
    db: Database, people: People, pending: str, empty_postgres_url: str
) -> None:
    from sqlalchemy import create_engine

    made = sandbox_copy.make_copy(
        db, actor=people.qa, number=pending, target_url=empty_postgres_url
    )
    removed = sandbox_removal.remove_copy(
        db, actor=people.qa, copy_id=made.id, copy_url=empty_postgres_url
    )
    name = empty_postgres_url.rsplit("/", 1)[1]
    assert removed.how == f"PostgreSQL database {name} on 127.0.0.1 dropped"
    server = create_engine(empty_postgres_url.rsplit("/", 1)[0] + "/postgres")
    try:
        with server.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
                ).scalar()
                == 0
            )
    finally:
        server.dispose()


@pytest.mark.postgres
def test_a_postgresql_copy_is_keyed_with_the_live_keys_wherever_its_own_would_be_looked_for(
    db: Database,
    people: People,
    pending: str,
    empty_postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SQLite installation keeps its key file beside its database file; a PostgreSQL copy's
    own key file would be looked for elsewhere (here: another installation's). The copy holds
    the live trail, so it is marked, read back and verified with the live keys."""
    from pharmaqms.kernel import keys

    elsewhere = tmp_path / "another-installation.key"
    keys.create_key_file(elsewhere)
    name = empty_postgres_url.rsplit("/", 1)[1]
    looked_up = keys.key_file_path
    monkeypatch.setattr(
        keys,
        "key_file_path",
        lambda url=None: elsewhere if url and url.endswith(f"/{name}") else looked_up(url),
    )
    keys.forget_loaded_keys()
    try:
        made = sandbox_copy.make_copy(
            db, actor=people.qa, number=pending, target_url=empty_postgres_url
        )
        keys.forget_loaded_keys()  # a new process reads it back
        evidence = sandbox_evidence.collect_evidence(
            db, actor=people.qa, copy_id=made.id, copy_url=empty_postgres_url
        )
        assert evidence.trail_intact, evidence.findings
    finally:
        keys.forget_loaded_keys()


@pytest.mark.postgres
def test_a_postgresql_database_that_is_not_the_copy_is_not_dropped(
    db: Database, people: People, pending: str, copy_url: str, empty_postgres_url: str
) -> None:
    """Removal drops a PostgreSQL database only once it has read that copy's mark there: a
    database given by mistake — here one holding another application's table — stays."""
    made = sandbox_copy.make_copy(db, actor=people.qa, number=pending, target_url=copy_url)
    other = Database(empty_postgres_url)
    try:
        with other.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE kept (id INTEGER)")
            conn.exec_driver_sql("INSERT INTO kept VALUES (1)")
    finally:
        other.dispose()
    before = snapshot(db)
    with pytest.raises(Conflict, match="is not a pharmaqms sandbox copy"):
        sandbox_removal.remove_copy(
            db, actor=people.qa, copy_id=made.id, copy_url=empty_postgres_url
        )
    assert snapshot(db) == before
    other = Database(empty_postgres_url)
    try:
        with other.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM kept")).scalar() == 1
    finally:
        other.dispose()


def test_a_process_started_on_a_copy_before_its_mark_shows_the_mark_within_a_minute(
    db: Database,
    people: People,
    pending: str,
    copy_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from pharmaqms.kernel import audit
    from pharmaqms.kernel.configuration.models import SandboxMark

    # the copy restored, not yet marked, and a process already reading it ...
    early = Database(copy_url)
    try:
        sandbox_copy.copy_sqlite(db, early)
        assert sandbox.mark_of_engine(early.engine) is None
        # ... while the copy's making writes its mark (as make_copy does last)
        with unit_of_work(early) as s, audit.changes(s, actor=people.qa, reason="marked"):
            s.add(
                SandboxMark(
                    copy_id=7, config_version_id=1, config_number=pending, key=DUE,
                    version_no=2, content=NEW_DAYS, content_sha256="0" * 64,
                    made_at=clock.now(), copied_last_seq=0,
                )
            )  # fmt: skip
        # the process keeps its answer for a while (the mark is asked on every request) ...
        assert sandbox.mark_of_engine(early.engine) is None
        # ... and reads again once a minute has passed
        later = time.monotonic() + sandbox.NO_MARK_READ_AGAIN_SECONDS + 1
        monkeypatch.setattr(sandbox.time, "monotonic", lambda: later)
        found = sandbox.mark_of_engine(early.engine)
        assert found is not None and found.copy_id == 7
    finally:
        early.dispose()
