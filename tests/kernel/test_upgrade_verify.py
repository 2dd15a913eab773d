"""A database that held records before later migrations added columns to their tables still
verifies after the upgrade, and tampering with those records is still found.

How the old state is made, and why it is the old state. The services of this code write the
columns the old schema lacks, so they can't write into a database migrated only to the old
revisions. They write at the head instead, with the audit capture hashing each row over the
columns the old code knew (the old code's state hash covered every column its model had:
today's columns less the ones added later). Then the schema is taken back to what the old
revisions built — the added columns and the tables those migrations created are removed, and
the result is compared, table for table and column for column, with a database migrated only
to the old revisions — and Alembic's version table names the old revisions. From there the
real migrations run, on rows as the old code left them, and ``audit verify`` runs in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.orm import Session
from tests.conftest import People, superuser_url
from tests.kernel.helpers import raw, sop_in_state
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.platform.company import set_up_company
from tests.quality.quality_steps import user_id

import pharmaqms.schema
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.migrate import MIGRATIONS, alembic_config, upgrade_in
from pharmaqms.kernel.partitions import partition_tables
from pharmaqms.kernel.records import AUDITED_TYPES, AddedLater, Audited, earlier_forms
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import Finding, verify
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.quality.capa import service as capa
from pharmaqms.quality.changes import service as changes

# The migrations that add columns to audited tables already holding rows → the revision they
# stand on in their branch (None: a root of its own).
ADDED_LATER: dict[str, str | None] = {
    "0140_quality_loops": None,
    "0217_platform_location_geo": "0216_platform_epcis_subs",
    "0411_distribution_product_page": "0410_distribution_serials",
    "0530_use_case_details": "0501_use",
}
# Migrations that add columns only to tables that are not audited records: the chain head and
# the notifications (not GxP), and sealed data tables, whose seal leaves out empty columns
# (kernel/sealing.py row_hash), so a nullable column added later leaves old seals as they were.
ADDS_ONLY_ELSEWHERE = frozenset(
    {
        "0002_kernel_keyed_chain",
        "0020_kernel_jobs",
        "0212_platform_harden",
        "0214_platform_epcis",
        "0215_platform_inventory",
    }
)


VERSION, CHANGE = "document_version", "change_request"
OLD_VERSIONS: dict[str, list[str]] = {}


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _stands_on_added(script: ScriptDirectory, revision: str) -> bool:
    """Whether a revision needs a column-adding one first, through its parents or the branches
    it depends on (the PostgreSQL partitions depend on every branch whose tables they split)."""
    pending, seen = [revision], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in ADDED_LATER:
            return True
        found = script.get_revision(current)
        assert found is not None
        for above in (found.down_revision, found.dependencies):
            if isinstance(above, str):
                pending.append(above)
            elif above:
                pending.extend(above)
    return False


def old_revisions() -> list[str]:
    script = _script()
    heads = set(script.get_heads())
    assert set(ADDED_LATER) <= heads, "a revision builds on a column-adding one: list it too"
    below = {r for r in ADDED_LATER.values() if r is not None}
    # A head that needs a column-adding revision comes after it: it runs in the upgrade.
    later = {h for h in heads - set(ADDED_LATER) if _stands_on_added(script, h)}
    return sorted((heads - set(ADDED_LATER) - later) | below)


def schema_of(engine: Engine) -> dict[str, set[str]]:
    """Tables and their columns. On PostgreSQL the monthly partitions are left out: the
    database the services write in is at the head, its big tables already partitioned, and
    the partitioning migration (which leaves a partitioned table as it is) runs again in the
    upgrade. Here the columns are what is compared; partitioning with rows in place is tested
    in ``test_partitions.py``."""
    found = inspect(engine)
    with engine.connect() as conn:
        parts = partition_tables(conn)
    return {
        t: {c["name"] for c in found.get_columns(t)}
        for t in found.get_table_names()
        if t != "alembic_version" and t not in parts
    }


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))


@contextmanager
def owner_engine(db: Database) -> Iterator[Engine]:
    """Who migrates: on PostgreSQL the superuser (the application's role can't alter tables);
    on SQLite a plain connection without foreign-key enforcement, as Alembic's batch mode
    rebuilds a table that others point at."""
    engine = create_engine(superuser_url(db))
    try:
        yield engine
    finally:
        engine.dispose()


def migrate_to(engine: Engine, targets: list[str]) -> None:
    with engine.begin() as conn:
        for target in targets:
            upgrade_in(conn, target)


@pytest.fixture
def old_schema(db: Database, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, set[str]]:
    """The schema of a database migrated only to the revisions before the column additions."""
    if db.dialect == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        engine = create_engine(request.getfixturevalue("empty_postgres_url"))
    try:
        migrate_to(engine, old_revisions())
        # Alembic's table names the heads of what was applied (a revision another depends on
        # is not among them): a database at the old revisions holds these.
        OLD_VERSIONS[db.dialect] = _versions(engine)
        return schema_of(engine)
    finally:
        engine.dispose()


def added_columns(old: dict[str, set[str]], new: dict[str, set[str]]) -> dict[str, set[str]]:
    return {t: new[t] - old[t] for t in old if new[t] - old[t]}


def audited_model(table: str) -> type[Audited] | None:
    for model in AUDITED_TYPES.values():
        if model.__table__.name == table:  # type: ignore[attr-defined]
            return model
    return None


@contextmanager
def hashed_as_before(added: dict[str, set[str]]) -> Iterator[None]:
    """The audit capture hashes each row over the columns the old code's models had."""
    saved: dict[type[Audited], frozenset[str] | None] = {}
    for table, columns in added.items():
        model = audited_model(table)
        if model is not None:
            saved[model] = model.__dict__.get("__audit_excluded__")
            model.__audit_excluded__ = model.__audit_excluded__ | columns
    try:
        yield
    finally:
        for model, excluded in saved.items():
            if excluded is None:
                del model.__audit_excluded__
            else:
                model.__audit_excluded__ = excluded


def record_in_every_affected_table(db: Database, people: People) -> dict[str, int]:
    """Records through the services, in the tables later migrations added columns to."""
    set_up_company(db, people)
    soon = datetime.now(UTC) + timedelta(days=30)
    ids: dict[str, int] = {}
    with unit_of_work(db) as s:
        ids["location"] = masterdata.add_location(
            s, actor=people.admin, code="WH-OLD", name="Old warehouse", kind="warehouse"
        ).id
    ids["document_version"] = sop_in_state(db, people.qc, people.qa, "effective", "Old SOP")
    with unit_of_work(db) as s:
        raised = capa.create_capa(
            s,
            actor=people.qa,
            title="Recurring label mix-ups",
            problem_statement="Two label mix-ups in a quarter.",
            owner_id=user_id(db, "qa"),
            due_at=soon,
        )
        s.flush()
        ids["capa_action"] = capa.add_action(
            s,
            actor=people.qa,
            capa_id=raised.id,
            kind="corrective",
            description="Segregate the label rolls by product.",
            owner_id=user_id(db, "qa"),
            due_at=soon,
        ).id
        ids["change_request"] = changes.request_change(
            s,
            actor=people.qa,
            title="New blister foil supplier",
            description="Qualify a second foil supplier.",
            justification="Single source.",
        ).id
        case = cases.record_case(s, actor=people.pv, report=staff_report())
        s.flush()
        ids["pv_case"] = case.id
    return ids


def back_to_old_schema(engine: Engine, old: dict[str, set[str]], versions: list[str]) -> None:
    """Remove what the later migrations added (their new tables must be empty: nothing the old
    code could not have written is thrown away), then name the old revisions as applied."""
    new = schema_of(engine)
    with engine.begin() as conn:
        ops = Operations(
            MigrationContext.configure(
                conn, opts={"render_as_batch": conn.dialect.name == "sqlite"}
            )
        )
        for table in sorted(set(new) - set(old)):
            rows = conn.scalar(select(func.count()).select_from(text(table)))
            assert rows == 0, f"{table} holds rows the old schema has no place for"
            ops.drop_table(table)
        for table, columns in sorted(added_columns(old, new).items()):
            with ops.batch_alter_table(table) as batch:
                for column in sorted(columns):
                    batch.drop_column(column)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = conn
        command.stamp(config, versions, purge=True)


def verified(engine: Engine) -> list[Finding]:
    with Session(engine) as session:
        return verify(session).findings


def test_every_migration_that_adds_columns_is_classified() -> None:
    # given every migration whose source adds a column
    adding = {
        revision.revision
        for revision in _script().walk_revisions()
        if revision.path
        and re.search(r"\badd_column\(", Path(revision.path).read_text(encoding="utf-8"))
    }
    # then each is one whose old rows are handled here, or one that adds no audited column
    assert adding == set(ADDED_LATER) | ADDS_ONLY_ELSEWHERE
    assert MIGRATIONS.is_dir()


@pytest.mark.postgres
def test_records_written_before_the_columns_were_added_verify_after_the_upgrade(
    db: Database, people: People, old_schema: dict[str, set[str]]
) -> None:
    # given the columns the later migrations add, each declared by its model with the value
    # the migration gives the rows it finds
    with owner_engine(db) as engine:
        added = added_columns(old_schema, schema_of(engine))
        head_versions = _versions(engine)
    audited = {t: c for t, c in added.items() if audited_model(t) is not None}
    assert set(audited) == {
        "capa_actions",
        "change_requests",
        "document_versions",
        "locations",
        "products",
        "pv_case_events",
        "pv_case_products",
        "pv_cases",
        "training_requirements",
    }
    for table, columns in audited.items():
        model = audited_model(table)
        assert model is not None
        declared = {c for later in model.__audit_added_later__ for c in later.filled}
        assert declared == columns, table
        revisions = {later.revision for later in model.__audit_added_later__}
        assert revisions <= set(ADDED_LATER), table

    # and records written and audited as the old code did, in a database at the old revisions
    with hashed_as_before(added):
        ids = record_in_every_affected_table(db, people)
    db.dispose()
    with owner_engine(db) as engine:
        back_to_old_schema(engine, old_schema, OLD_VERSIONS[db.dialect])
        assert schema_of(engine) == old_schema
        assert _versions(engine) == OLD_VERSIONS[db.dialect]

        # when the database is upgraded to the head
        with engine.begin() as conn:
            upgrade_in(conn)
        assert _versions(engine) == head_versions

        # then audit verify finds nothing
        assert verified(engine) == []

    # and it checked the old rows in their earlier form: hashed today, each differs from its
    # last audit entry
    with unit_of_work(db, write=False) as s:
        for audit_type, record_id in ids.items():
            row: Any = s.get(AUDITED_TYPES[audit_type], record_id)
            assert row is not None, audit_type
            assert row.state_hash() != _last_hashes(s, audit_type, record_id)[-1], audit_type

    # when someone sets an added column of an old record behind the application's back, or
    # changes a column it always had
    raw(db, "UPDATE locations SET region = 'temperate' WHERE id = :i", i=ids["location"])
    raw(
        db, "UPDATE document_versions SET title = 'Forged' WHERE id = :i", i=ids["document_version"]
    )
    raw(
        db,
        "UPDATE change_requests SET authority_reference = 'X-1' WHERE id = :i",
        i=ids["change_request"],
    )
    raw(db, "UPDATE pv_cases SET patient_weight_kg = 70 WHERE id = :i", i=ids["pv_case"])

    # then verify finds each of them, and only them
    with owner_engine(db) as engine:
        found = {(f.kind, f.record_type, f.record_id) for f in verified(engine)}
    assert found == {
        ("record_altered", "location", ids["location"]),
        ("record_altered", "document_version", ids["document_version"]),
        ("record_altered", "change_request", ids["change_request"]),
        ("record_altered", "pv_case", ids["pv_case"]),
    }


def _last_hashes(session: Session, audit_type: str, record_id: int) -> list[str]:
    from pharmaqms.kernel.models import AuditEntry

    return list(
        session.scalars(
            select(AuditEntry.state_hash)
            .where(AuditEntry.record_type == audit_type, AuditEntry.record_id == record_id)
            .where(AuditEntry.state_hash.is_not(None))
            .order_by(AuditEntry.seq)
        )
    )


assert pharmaqms.schema  # every module's tables are loaded: the schema compared is the whole one


def test_an_earlier_form_exists_only_while_the_added_columns_hold_what_the_migration_gave() -> None:
    # given a table two migrations added columns to, and a row as the application holds it
    added = (AddedLater("A", {"note": ""}), AddedLater("B", {"weight": None, "flags": []}))
    row = {"id": 1, "title": "T", "note": "", "weight": None, "flags": []}
    # then its earlier forms are the row before B, then before A as well
    assert earlier_forms(row, added) == [
        {"id": 1, "title": "T", "note": ""},
        {"id": 1, "title": "T"},
    ]
    # and a column set since B ends the list: that content never existed before B
    assert earlier_forms({**row, "weight": Decimal("70")}, added) == []
    # and one set since A leaves only the form between the two migrations
    assert earlier_forms({**row, "note": "x"}, added) == [{"id": 1, "title": "T", "note": "x"}]
    # and a value of another type (0 for an empty list, false for "") is not what was given
    assert earlier_forms({**row, "flags": 0}, added) == []


def test_a_signature_given_before_the_columns_were_added_still_covers_the_content() -> None:
    # given a PV case as signed before 0530 gave cases a patient weight
    from pharmaqms.kernel.canonical import content_hash
    from pharmaqms.lifecycle.use.cases.models import PVCase

    case = PVCase(number="PV-2026-0001", narrative="Rash.", patient_weight_kg=None)
    before = {k: v for k, v in case.signed_content().items() if k != "patient_weight_kg"}
    # then what that signature covers is an earlier form of the case's content
    assert content_hash(before) in case.earlier_content_hashes()
    assert content_hash(before) != case.content_hash()
    # and no longer once a weight is recorded
    case.patient_weight_kg = Decimal("70")
    assert content_hash(before) not in case.earlier_content_hashes()
