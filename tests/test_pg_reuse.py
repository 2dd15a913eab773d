"""The PostgreSQL test databases used again (tests/pg_reuse.py): one given back is taken
again exactly as the template left it — rows, audit chain and sequences — and one whose
schema a test changed is dropped, not used again."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tests.conftest import postgres_copy, superuser_conninfo
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify


def _name(database: Database) -> str:
    return str(make_url(database.url).database)


def _state(database: Database) -> tuple[Any, ...]:
    with unit_of_work(database, write=False) as s:
        users = s.scalar(select(func.count()).select_from(User))
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
        last = s.scalar(select(func.max(AuditEntry.id)))
    with psycopg.connect(superuser_conninfo(_name(database))) as conn:
        sequences = conn.execute(
            "select sequencename, last_value from pg_sequences order by 1"
        ).fetchall()
    return users, entries, last, sequences


def _add_someone(database: Database) -> None:
    with unit_of_work(database) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username="reuse.probe",
            full_name="Reuse Probe",
            roles=["qa"],
            password=PASSWORD,
            must_change_password=False,
        )


def test_a_database_given_back_is_taken_again_as_the_template_left_it(
    postgres_template: str,
) -> None:
    first = postgres_copy(postgres_template, "pqms_reuse")
    database = next(first)
    name, fresh = _name(database), _state(database)
    _add_someone(database)
    assert _state(database) != fresh
    first.close()

    again = postgres_copy(postgres_template, "pqms_reuse")
    database = next(again)
    try:
        assert _name(database) == name  # the same database, not a new one
        assert _state(database) == fresh
        with unit_of_work(database, write=False) as s:
            report = verify(s)
        assert report.intact, report.findings
        _add_someone(database)  # the same username again: nothing of the last test is left
    finally:
        again.close()


def test_a_database_whose_schema_a_test_changed_is_not_used_again(
    postgres_template: str,
) -> None:
    first = postgres_copy(postgres_template, "pqms_reuse_schema")
    database = next(first)
    name = _name(database)
    with psycopg.connect(superuser_conninfo(name), autocommit=True) as conn:
        conn.execute("alter table users disable trigger all")
    first.close()

    again = postgres_copy(postgres_template, "pqms_reuse_schema")
    database = next(again)
    try:
        assert _name(database) != name
        with psycopg.connect(superuser_conninfo("test"), autocommit=True) as conn:
            left = conn.execute("select 1 from pg_database where datname = %s", (name,))
            assert left.fetchone() is None
    finally:
        again.close()
