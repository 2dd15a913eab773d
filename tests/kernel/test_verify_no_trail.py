"""``audit verify`` on a database without an audit trail — no tables at all, the schema only (a
restore that failed half-way, an ``upgrade`` without ``init``), or a chain head row that is
gone — says "no audit trail" and is not intact: an empty trail proves nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.kernel.cli import run_cli_at
from tests.kernel.helpers import raw

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import Finding, VerifyReport, verify


def report_of(db: Database) -> VerifyReport:
    with unit_of_work(db, write=False) as s:
        return verify(s)


@pytest.fixture
def no_tables(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'nothing.db'}")
    yield database
    database.dispose()


@pytest.fixture
def schema_only(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def schema_only_postgres(empty_postgres_url: str) -> Iterator[Database]:
    database = Database(empty_postgres_url)
    upgrade(database.engine)
    yield database
    database.dispose()


NO_TABLES = Finding(
    "no_audit_trail",
    "no audit trail: the database has no audit tables (it is empty, or not a pharmaqms database)",
)
NO_ENTRIES = Finding(
    "no_audit_trail",
    "no audit trail: the database holds no audit entries (a schema without data: not "
    "initialised, or a restore that did not finish)",
)


def test_a_database_without_tables_has_no_audit_trail(no_tables: Database) -> None:
    report = report_of(no_tables)

    assert report.findings == [NO_TABLES]
    assert not report.intact
    assert (report.entries, report.records, report.signatures) == (0, 0, 0)


def test_a_database_with_only_the_schema_has_no_audit_trail(schema_only: Database) -> None:
    report = report_of(schema_only)

    assert report.findings == [NO_ENTRIES]
    assert not report.intact


def test_a_postgresql_database_with_only_the_schema_has_no_audit_trail(
    schema_only_postgres: Database,
) -> None:
    report = report_of(schema_only_postgres)

    assert report.findings == [NO_ENTRIES]


def test_a_postgresql_database_without_tables_has_no_audit_trail(
    empty_postgres_url: str,
) -> None:
    database = Database(empty_postgres_url)
    try:
        assert report_of(database).findings == [NO_TABLES]
    finally:
        database.dispose()


@pytest.mark.postgres
def test_a_trail_whose_chain_head_row_is_gone_is_not_intact(db: Database) -> None:
    # given an initialised database whose chain head row was deleted behind its back
    assert report_of(db).intact
    raw(db, "DELETE FROM audit_chain_head")

    # when it is verified
    report = report_of(db)

    # then the missing head is named, and the entries were still checked
    assert [f.kind for f in report.findings] == ["chain_head_missing"]
    assert "head is missing" in report.findings[0].message
    assert report.entries > 0


def test_a_freshly_initialised_database_is_intact(db: Database) -> None:
    # The system account and the roles are written with audit entries: not "no trail".
    report = report_of(db)

    assert report.intact and report.entries > 0


# --- the command ----------------------------------------------------------------------------


def test_the_command_on_a_database_without_tables_exits_1_saying_no_audit_trail(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'nothing.db'}"

    result = run_cli_at(url, "audit", "verify")

    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "no_audit_trail" in result.stdout
    assert "no audit trail" in result.stdout
    assert "intact:" not in result.stdout


def test_the_command_on_a_schema_only_database_exits_1_saying_no_audit_trail(
    schema_only: Database,
) -> None:
    result = run_cli_at(schema_only.url, "audit", "verify", "--json")

    assert result.exit_code == 1, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    assert body["intact"] is False
    assert [(f["kind"], f["message"]) for f in body["findings"]] == [
        (NO_ENTRIES.kind, NO_ENTRIES.message)
    ]
