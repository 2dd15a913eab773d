"""Every table is covered by the audit trail or says why not: a record table is audited row by
row, a data table is append-only and sealed, the trail is the trail, and anything else is
declared not GxP with its reason. A new table that is none of these fails here."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import pharmaqms.schema  # noqa: F401 - every module's tables
from pharmaqms.kernel.db import Base, Database
from pharmaqms.kernel.records import AUDITED_TYPES, NOT_GXP, SEALED_MODELS

TRAIL = {"audit_entries", "audit_chain_head", "electronic_signatures"}
# The trail's own tables that are append-only (the head moves with every append).
APPEND_ONLY_TRAIL = {"audit_entries", "electronic_signatures"}


def _audited() -> set[str]:
    return {model.__table__.name for model in AUDITED_TYPES.values()}  # type: ignore[attr-defined]


def test_every_table_is_audited_sealed_the_trail_or_declared_not_gxp_with_a_reason() -> None:
    audited, sealed = _audited(), set(SEALED_MODELS)
    uncovered = [
        table.name
        for table in Base.metadata.sorted_tables
        if table.name not in audited | sealed | TRAIL | set(NOT_GXP)
    ]
    assert uncovered == []
    assert audited & sealed == set()
    assert (audited | sealed) & set(NOT_GXP) == set()
    assert all(len(reason) > 20 for reason in NOT_GXP.values())


def test_the_measured_data_tables_named_by_the_trust_review_are_sealed() -> None:
    assert {
        "test_results",
        "sensor_readings",
        "process_readings",
        "adverse_event_reports",
        "epcis_events",
        "epcis_event_objects",
        "serialised_packs",
        "gs1_scans",
    } <= set(SEALED_MODELS)


def _triggered_tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = conn.execute(
                text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            update = {t for t, name in rows if name == f"{t}_no_update"}
            delete = {t for t, name in rows if name == f"{t}_no_delete"}
            return update & delete
        return set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = c.relname || '_append_only'"
                )
            ).scalars()
        )


@pytest.mark.postgres
def test_every_sealed_table_and_the_trail_are_append_only_in_the_database(db: Database) -> None:
    assert set(SEALED_MODELS) | APPEND_ONLY_TRAIL <= _triggered_tables(db)
