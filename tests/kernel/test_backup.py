"""Backup and restore (Annex 11 §7.2): a backup restored into an empty database — of the same
kind or the other — passes ``verify`` with the same entries, records and signatures; a restore
into a database holding data, or of a damaged backup, is refused before anything is written."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from tests.conftest import People
from tests.kernel.cli import run_cli, run_cli_at
from tests.kernel.helpers import SOP_BODY, signatures, sop_in_state, transition
from tests.support import PASSWORD

import pharmaqms.schema
from pharmaqms.kernel import auth, clock, password_resets, role_grants
from pharmaqms.kernel.backup import backup, restore
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, DocumentRefused
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import VerifyReport, verify
from pharmaqms.quality.deviations import service as deviations
from pharmaqms.quality.documents import service


def table_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in pharmaqms.schema.metadata.sorted_tables
        }


def report_of(db: Database) -> VerifyReport:
    with unit_of_work(db, write=False) as s:
        return verify(s)


def summary(report: VerifyReport) -> tuple[int, int, int, int, str]:
    return (report.entries, report.records, report.signatures, report.head_seq, report.head_hash)


@pytest.fixture
def content(db: Database, people: People) -> Database:
    """Demo-like content: SOPs in every state, signatures, a revision, users deactivated and
    locked out, API tokens."""
    sop_in_state(db, people.qc, people.qa, "draft", "Weighing of raw materials")
    sop_in_state(db, people.qc, people.qa, "in_review", "Batch record review")
    sop_in_state(db, people.rd, people.qp, "approved", "Stability protocol")
    effective = sop_in_state(db, people.supervisor, people.qa, "effective", "Line clearance")
    with unit_of_work(db) as s:
        document_id = service.get_version(s, effective).document_id
        revision = service.revise(
            s, actor=people.supervisor, document_id=document_id, major=False, change_summary="4.2"
        )
        revision_id = revision.id
    with unit_of_work(db) as s:
        service.edit_draft(
            s,
            actor=people.supervisor,
            version_id=revision_id,
            expected_version=1,
            body=SOP_BODY + " 4.2 Check the status labels twice.",
        )
    transition(db, people.supervisor, revision_id, "submit")
    transition(db, people.qa2, revision_id, "approve", password=PASSWORD)
    transition(db, people.qa, revision_id, "make_effective")
    assert len(signatures(db, effective)) == 1
    with unit_of_work(db) as s:
        auth.deactivate_user(s, actor=people.admin, user_id=people.logistics.user_id, reason="left")
        lims = auth.add_user(
            s,
            actor=people.admin,
            username="lims",
            full_name="LIMS interface",
            roles=["integration"],
            service_account=True,
        )
        auth.create_api_token(s, actor=people.admin, user_id=lims.id, name="lims")
        # the records of account administration travel with the rest
        role_grants.request_roles(
            s,
            actor=people.admin,
            user_id=people.rd.user_id,
            roles=["qa"],
            reason="covers QA review",
            password=PASSWORD,
        )
        password_resets.reset_password(
            s, actor=people.admin, user_id=people.qc.user_id, reason="forgotten"
        )
    for _ in range(5):
        with pytest.raises(auth.AuthenticationFailed), unit_of_work(db) as s:
            auth.authenticate(s, username="pv", password="wrong", channel=auth.Channel.UI)
    assert report_of(db).intact
    return db


@pytest.fixture(scope="module")
def empty_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def empty_sqlite(empty_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated database without a single row (but the chain head at its genesis)."""
    path = tmp_path / "restored.db"
    shutil.copyfile(empty_sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def empty_postgres(empty_postgres_url: str) -> Iterator[Database]:
    database = Database(empty_postgres_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def assert_restored(source: Database, target: Database, path: Path) -> None:
    # given what the source holds
    expected = report_of(source)
    counts = table_counts(source)
    assert expected.signatures >= 3 and expected.intact

    # when the backup is restored into the empty target
    manifest = restore(target.engine, path)

    # then the target verifies intact, with the same entries, records, signatures and head
    restored = report_of(target)
    assert restored.findings == []
    assert summary(restored) == summary(expected)
    assert table_counts(target) == counts
    assert {name: meta["rows"] for name, meta in manifest["tables"].items()} == counts

    # and it works: a new record continues the numbering and the chain, still intact
    with unit_of_work(target) as s:
        author = auth.actor_for(s, auth.user_by_username(s, "qc"))  # type: ignore[arg-type]
        version = service.create_document(
            s, actor=author, doc_type="sop", title="After the restore", body=SOP_BODY
        )
        number = version.number
    assert number.endswith("-0005 v1.0")
    after = report_of(target)
    assert after.intact, after.findings
    assert after.entries == expected.entries + 2


@pytest.mark.clause(
    "part11:11.10(c)", "annex11:7", "annex11:16", "annex11:17", "alcoa:enduring", "alcoa:available"
)
@pytest.mark.postgres
def test_a_backup_restores_into_an_empty_sqlite_database_and_verifies(
    content: Database, empty_sqlite: Database, tmp_path: Path
) -> None:
    path = tmp_path / "backup.zip"
    backup(content.engine, path)
    assert_restored(content, empty_sqlite, path)


@pytest.mark.clause("annex11:7", "annex11:16", "annex11:17")
def test_a_sqlite_backup_restores_into_an_empty_postgresql_database_and_verifies(
    content: Database, empty_postgres: Database, tmp_path: Path
) -> None:
    path = tmp_path / "backup.zip"
    backup(content.engine, path)
    assert_restored(content, empty_postgres, path)


@pytest.mark.clause("annex11:7")
def test_a_restore_into_a_database_holding_data_is_refused_and_changes_nothing(
    content: Database, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "backup.zip"
    backup(content.engine, path)
    before = table_counts(db)
    head = report_of(db).head_hash

    with pytest.raises(Conflict) as refused:
        restore(db.engine, path)

    assert refused.value.detail.startswith("restore needs an empty database; these tables hold")
    assert "audit_entries" in refused.value.detail
    assert table_counts(db) == before
    assert report_of(db).head_hash == head


def rewrite(path: Path, target: Path, edit: dict[str, str]) -> None:
    """Copy a backup, replacing the contents of some of its members."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, edit.get(item.filename, data.decode()))


@pytest.mark.clause("part11:11.10(c)", "annex11:7")
def test_a_corrupted_backup_is_refused_before_anything_is_written(
    content: Database, empty_sqlite: Database, tmp_path: Path
) -> None:
    # given a backup in which one user's name was changed after it was written
    path, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    backup(content.engine, path)
    with zipfile.ZipFile(path) as archive:
        users = archive.read("tables/users.jsonl").decode()
    assert "Chloe Chemist" in users
    rewrite(path, damaged, {"tables/users.jsonl": users.replace("Chloe Chemist", "C. Chemist")})
    empty = table_counts(empty_sqlite)

    # when it is restored
    with pytest.raises(DocumentRefused) as refused:
        restore(empty_sqlite.engine, damaged)

    # then the checksum gave it away, and the target is still empty
    assert refused.value.detail == "the backup's table users does not match its checksum"
    assert table_counts(empty_sqlite) == empty
    assert sum(empty.values()) == 1  # the chain head, at its genesis
    assert report_of(empty_sqlite).head_seq == 0


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        ("not a zip", "is not a zip file"),
        ("no manifest", "not a pharmaqms backup: manifest.json is missing"),
        ("other format", "unknown backup format 'other/9'; expected pharmaqms-backup/1"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(
    db: Database, empty_sqlite: Database, tmp_path: Path, damage: str, detail: str
) -> None:
    path, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    backup(db.engine, path)
    if damage == "not a zip":
        damaged.write_text("PK but not really")
    elif damage == "no manifest":
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
            for item in src.infolist():
                if item.filename != "manifest.json":
                    dst.writestr(item, src.read(item.filename))
    else:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        manifest["format"] = "other/9"
        rewrite(path, damaged, {"manifest.json": json.dumps(manifest)})
    empty = table_counts(empty_sqlite)

    with pytest.raises(DocumentRefused) as refused:
        restore(empty_sqlite.engine, damaged)

    assert detail in refused.value.detail
    assert table_counts(empty_sqlite) == empty


@pytest.mark.clause("annex11:17")
def test_a_backup_edited_with_fresh_checksums_restores_but_does_not_verify(
    content: Database, empty_sqlite: Database, tmp_path: Path
) -> None:
    # given a backup whose SOP text was changed and whose checksums were recomputed to match
    path, forged = tmp_path / "backup.zip", tmp_path / "forged.zip"
    backup(content.engine, path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        versions = archive.read("tables/document_versions.jsonl").decode()
    edited = versions.replace("2.2 Wipe with 70 % IPA.", "2.2 Wipe with water.", 1)
    assert edited != versions
    manifest["tables"]["document_versions"]["sha256"] = hashlib.sha256(edited.encode()).hexdigest()
    rewrite(
        path,
        forged,
        {"tables/document_versions.jsonl": edited, "manifest.json": json.dumps(manifest)},
    )

    # when it is restored
    restore(empty_sqlite.engine, forged)

    # then the audit chain exposes the edited record
    report = report_of(empty_sqlite)
    assert [(f.kind, f.record_type) for f in report.findings] == [
        ("record_altered", "document_version")
    ]


# --- text that holds Unicode line boundaries ------------------------------------------------

# Every character str.splitlines() breaks a line at, besides \n itself: a reader that splits
# the backup's lines that way cuts a record in two.
LINE_BOUNDARIES = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def everything_in(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as the application reads it, in primary-key order."""
    with db.engine.connect() as conn:
        return {
            table.name: [
                dict(row)
                for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in pharmaqms.schema.metadata.sorted_tables
        }


def tables_in(db: Database) -> list[str]:
    return sorted(inspect(db.engine).get_table_names())


def report_deviation_with_line_boundaries(db: Database, people: People) -> None:
    with unit_of_work(db) as s:
        deviations.report_deviation(
            s,
            actor=people.operator,
            title="Line\u0085break",
            description=" ".join(f"part {i}{c}end" for i, c in enumerate(LINE_BOUNDARIES)),
            area="Packaging\u2028hall\u2029B",
            occurred_at=clock.now() - timedelta(hours=3),
            discovered_at=clock.now() - timedelta(hours=2),
            immediate_actions="Stopped\x1cline\x1dand\x1equarantined",
        )


@pytest.fixture
def new_sqlite(tmp_path: Path) -> Iterator[Database]:
    """A database file that does not exist yet: the restore creates it and its schema."""
    database = Database(f"sqlite:///{tmp_path / 'new.db'}")
    yield database
    database.dispose()


@pytest.fixture
def new_postgres(empty_postgres_url: str) -> Iterator[Database]:
    """A PostgreSQL database without a schema: the restore creates it."""
    database = Database(empty_postgres_url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest) -> Database:
    fixture = "new_sqlite" if request.param == "sqlite" else "new_postgres"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def assert_same_content(source: Database, target: Database) -> None:
    restored = everything_in(target)
    assert restored == everything_in(source)
    report = report_of(target)
    assert report.findings == []
    assert summary(report) == summary(report_of(source))


@pytest.mark.postgres
def test_text_with_unicode_line_boundaries_restores_into_a_new_database(
    db: Database, people: People, new_database: Database, tmp_path: Path
) -> None:
    # given a deviation whose text holds every character that str.splitlines() breaks at
    report_deviation_with_line_boundaries(db, people)
    path = tmp_path / "backup.zip"
    backup(db.engine, path)

    # when it is restored into a database that has no schema yet
    restore(new_database.engine, path)

    # then every row came back as it was, and the trail verifies
    [deviation] = everything_in(new_database)["deviations"]
    assert deviation["title"] == "Line\u0085break"
    assert deviation["area"] == "Packaging\u2028hall\u2029B"
    assert_same_content(db, new_database)


# --- a restore that fails leaves nothing behind ---------------------------------------------


def with_fresh_checksum(path: Path, target: Path, member: str, edit: Any) -> None:
    """A backup whose ``member`` was edited and whose manifest was made to match again, as
    someone who knows the format would do (or a disk that lost a block, then a careless fix)."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        old = archive.read(member).decode()
    new = edit(old)
    assert new != old
    name = member.removeprefix("tables/").removesuffix(".jsonl")
    manifest["tables"][name]["sha256"] = hashlib.sha256(new.encode()).hexdigest()
    manifest["tables"][name]["rows"] = new.count("\n")
    rewrite(path, target, {member: new, "manifest.json": json.dumps(manifest)})


def _break_middle_line(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[len(lines) // 2] = '{"id": 7, "title": "cut off here\n'
    return "".join(lines)


def _duplicate_first_line(text: str) -> str:
    first = text.split("\n", 1)[0]
    return text + first + "\n"


def _tasks(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Task)) or 0)


def _wrong_row_count(path: Path, damaged: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["tables"]["tasks"]["rows"] = 1000
    rewrite(path, damaged, {"manifest.json": json.dumps(manifest)})


DAMAGES: dict[str, tuple[Any, Any]] = {
    "checksum": (
        lambda path, damaged: rewrite(path, damaged, {"tables/users.jsonl": "{}\n"}),
        "the backup's table users does not match its checksum",
    ),
    "corrupt table in the middle": (
        lambda path, damaged: with_fresh_checksum(
            path, damaged, "tables/document_versions.jsonl", _break_middle_line
        ),
        "the backup's table document_versions, line 3, is not a JSON record:",
    ),
    "row count": (
        _wrong_row_count,
        lambda db: f"the backup's table tasks has {_tasks(db)} rows; its manifest says 1000",
    ),
    "constraint violation": (
        lambda path, damaged: with_fresh_checksum(
            path, damaged, "tables/electronic_signatures.jsonl", _duplicate_first_line
        ),
        "the backup's table electronic_signatures can't be written:",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_restore_that_fails_leaves_no_schema_and_no_rows(
    content: Database, new_database: Database, tmp_path: Path, damage: str
) -> None:
    # given a backup damaged in one of the ways a restore must notice
    path, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    backup(content.engine, path)
    make, detail = DAMAGES[damage]
    make(path, damaged)
    assert tables_in(new_database) == []

    # when it is restored into a new database
    with pytest.raises(DocumentRefused) as refused:
        restore(new_database.engine, damaged)

    # then it is refused, and the database holds no table (so no row) at all
    expected = detail(content) if callable(detail) else detail
    assert refused.value.detail.startswith(expected), refused.value.detail
    assert tables_in(new_database) == []


def test_a_restore_refused_for_a_database_holding_data_leaves_its_schema(
    content: Database, db: Database, tmp_path: Path
) -> None:
    # A database that had its schema before keeps it: only what the restore created goes.
    path = tmp_path / "backup.zip"
    backup(content.engine, path)
    tables = tables_in(db)

    with pytest.raises(Conflict):
        restore(db.engine, path)

    assert tables_in(db) == tables


# --- the commands ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_commands_round_trip_text_with_line_boundaries(
    db: Database, people: People, tmp_path: Path
) -> None:
    # given a database holding text with Unicode line boundaries, backed up by the command
    report_deviation_with_line_boundaries(db, people)
    path = tmp_path / "backup.zip"
    written = run_cli(db, "backup", str(path))
    assert written.exit_code == 0, written.stderr

    # when the command restores it into a database file that does not exist yet
    target = tmp_path / "restored.db"
    url = f"sqlite:///{target}"
    restored = run_cli_at(url, "restore", str(path))

    # then it says so, every row is the same, and the trail verifies (compared first: the
    # verify command records its run, in a table of its own, for the metrics)
    assert restored.exit_code == 0, restored.stderr
    said = "".join(restored.stdout.splitlines()).strip()  # as one line: rich wraps it
    assert said.startswith("Restored ")
    assert said.endswith(f" rows from {path}. Run `pharmaqms audit verify` to check.")
    database = Database(url)
    try:
        assert_same_content(db, database)
    finally:
        database.dispose()
    verified = run_cli_at(url, "audit", "verify")
    assert verified.exit_code == 0, verified.stdout
    assert verified.stdout.strip().startswith("intact: ")


def test_a_restore_command_that_fails_leaves_a_database_without_tables(
    content: Database, tmp_path: Path
) -> None:
    # given a backup with a record cut in the middle of a table (its checksum made to match)
    path, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    backup(content.engine, path)
    with_fresh_checksum(path, damaged, "tables/document_versions.jsonl", _break_middle_line)
    url = f"sqlite:///{tmp_path / 'restored.db'}"

    # when the command restores it
    result = run_cli_at(url, "restore", str(damaged))

    # then it fails with one line, the database has no table, and verify says there is no trail
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "error: the backup's table document_versions, line 3, is not a JSON record:"
    )
    database = Database(url)
    try:
        assert tables_in(database) == []
    finally:
        database.dispose()
    verified = run_cli_at(url, "audit", "verify", "--json")
    assert verified.exit_code == 1
    assert [f["kind"] for f in json.loads(verified.stdout)["findings"]] == ["no_audit_trail"]


def test_text_with_nul_written_before_the_door_refused_it_does_not_half_restore_into_postgresql(
    db: Database, people: People, new_postgres: Database, tmp_path: Path
) -> None:
    # given a SQLite database holding a NUL (the services don't refuse it; the HTTP door does)
    with unit_of_work(db) as s:
        deviations.report_deviation(
            s,
            actor=people.operator,
            title="Label\x00roll",
            description="Written before NUL was refused at the door.",
            area="Packaging",
            occurred_at=clock.now() - timedelta(hours=3),
            discovered_at=clock.now() - timedelta(hours=2),
        )
    path = tmp_path / "backup.zip"
    backup(db.engine, path)

    # when it is restored into PostgreSQL, which can't store NUL in text
    with pytest.raises(DocumentRefused) as refused:
        restore(new_postgres.engine, path)

    # then the first table holding it (the audit trail quotes the title) and the reason are
    # named, and the database is left without tables
    assert refused.value.detail.startswith("the backup's table audit_entries can't be written: ")
    assert "NUL" in refused.value.detail
    assert tables_in(new_postgres) == []


@pytest.mark.parametrize("target", ["empty_sqlite", "empty_postgres"])
def test_a_row_pointing_at_a_later_row_of_its_own_table_restores(
    db: Database, people: People, tmp_path: Path, target: str, request: pytest.FixtureRequest
) -> None:
    # given a regulation superseded by its newer edition: the older row points at a later one
    from tests.compliance.steps import register_file, regulation

    from pharmaqms.compliance import fileformat
    from pharmaqms.compliance import service as register
    from pharmaqms.compliance.models import Regulation

    for edition in ("2020", "2024"):
        entries = fileformat.parse_register(register_file(regulation(edition=edition)))
        with unit_of_work(db) as s:
            register.import_register(s, actor=people.qa, entries=entries, source="test.json")
    with unit_of_work(db, write=False) as s:
        pointers = sorted(s.execute(select(Regulation.id, Regulation.superseded_by_id)).all())
    assert [(a < b) for a, b in pointers if b is not None] == [True]
    path = tmp_path / "backup.zip"
    backup(db.engine, path)

    # when it is restored into an empty database (foreign keys are checked row by row there)
    restored: Database = request.getfixturevalue(target)
    restore(restored.engine, path)

    # then every row is back with its pointer, and the trail verifies
    with unit_of_work(restored, write=False) as s:
        assert sorted(s.execute(select(Regulation.id, Regulation.superseded_by_id)).all()) == (
            pointers
        )
    assert report_of(restored).intact
