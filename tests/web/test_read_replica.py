"""A read-only replica (``PHARMAQMS_DATABASE_REPLICA_URL``) serves the heavy reads: register
exports, the outcome dashboard, signal detection. Here the "replica" is a second engine on
the same PostgreSQL database whose every transaction is read-only
(``default_transaction_read_only=on``): the reads succeed through it, a write through it is
refused, and the audit entry of an export still lands on the primary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError
from tests.conftest import People, postgres_copy
from tests.web.conftest import UiClient

from pharmaqms.kernel import db as kernel_db
from pharmaqms.kernel.db import Database, replica_reads
from pharmaqms.kernel.http.registers import EXPORT_RECORD_TYPE
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.signals import detection

READ_ONLY = "?options=-c%20default_transaction_read_only%3Don"


@pytest.fixture
def primary(postgres_template: str) -> Iterator[Database]:
    yield from postgres_copy(postgres_template, "pqms_replica")


@pytest.fixture
def replica(primary: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Points the replica setting at a read-only second engine; yields the statements that
    went through it."""
    monkeypatch.setenv("PHARMAQMS_DATABASE_REPLICA_URL", primary.url + READ_ONLY)
    reset_settings_cache()
    found = kernel_db.replica_database()
    assert found is not None and found.engine is not primary.engine
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(found.engine, "before_cursor_execute", seen)
    yield statements
    found.dispose()
    monkeypatch.delenv("PHARMAQMS_DATABASE_REPLICA_URL")
    reset_settings_cache()
    assert kernel_db.replica_database() is None


def exports(database: Database) -> int:
    with unit_of_work(database, write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.record_type == EXPORT_RECORD_TYPE)
            )
            or 0
        )


def test_without_a_replica_the_reads_stay_on_the_primary(primary: Database) -> None:
    with unit_of_work(primary, write=False) as session, replica_reads(session) as reads:
        assert reads is session


def test_a_register_export_reads_the_replica_and_audits_on_the_primary(
    primary: Database, replica: list[str]
) -> None:
    from pharmaqms.web.app import create_app

    ui = UiClient(create_app(primary))
    assert ui.login("qa").status_code == 303
    before = exports(primary)

    response = ui.get("/deviations?export=csv")

    assert response.status_code == 200, response.text
    assert response.text.lstrip("\ufeff").startswith("Number,Title")
    assert any("FROM deviations" in s for s in replica), replica
    assert exports(primary) == before + 1  # the hand-out is recorded, on the primary


def test_the_outcome_dashboard_reads_the_replica(primary: Database, replica: list[str]) -> None:
    from pharmaqms.web.app import create_app

    ui = UiClient(create_app(primary))
    assert ui.login("qa").status_code == 303
    response = ui.get("/compliance/outcomes")
    assert response.status_code == 200, response.text
    assert any("FROM lots" in s or "FROM capas" in s for s in replica), replica


def test_signal_detection_scans_the_case_base_on_the_replica(
    primary: Database, replica: list[str]
) -> None:
    pv = People(primary).pv
    with unit_of_work(primary) as session:
        outcome = detection.run_detection(session, actor=pv)
    assert outcome.opened == []
    assert any("pv_case" in s for s in replica), replica


def test_a_write_through_the_replica_is_refused(primary: Database, replica: list[str]) -> None:
    found = kernel_db.replica_database()
    assert found is not None
    before = exports(primary)
    with (
        pytest.raises(DatabaseError, match="read-only transaction"),
        found.engine.begin() as conn,
    ):
        conn.execute(text("UPDATE users SET full_name = 'Someone Else'"))
    assert exports(primary) == before
    with unit_of_work(primary, write=False) as session:
        assert (
            session.scalar(text("SELECT count(*) FROM users WHERE full_name = 'Someone Else'")) == 0
        )
