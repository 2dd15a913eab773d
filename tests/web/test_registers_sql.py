"""The register query builder and the search on both databases: sorting (empty values placed
alike), filters bound as values, paging, the export's audit entry, and the search by number and
by words, each as the SQL of SQLite and PostgreSQL runs it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select
from tests.web.support import make_sop

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.http.registers import (
    EXPORT_RECORD_TYPE,
    BadRegisterQuery,
    export_register,
    find_page,
    read_request,
)
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.search import search_records
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.views import REGISTER as DOCUMENTS
from pharmaqms.web.views.admin import USER_REGISTER
from pharmaqms.web.views.audit import AUDIT_REGISTER

pytestmark = pytest.mark.postgres


def test_users_sort_by_name_both_ways_and_page(db: Database, people: Any) -> None:
    admin = people.admin
    with unit_of_work(db) as session:
        names = sorted(session.scalars(select(User.full_name)))
        down = find_page(
            session, admin, USER_REGISTER, read_request(USER_REGISTER, {"sort": "-full_name"})
        )
        up = find_page(
            session,
            admin,
            USER_REGISTER,
            read_request(USER_REGISTER, {"sort": "full_name", "offset": "1"}, limit=2),
        )

    assert [u.full_name for u in down.rows] == sorted(names, reverse=True)
    assert [u.full_name for u in up.rows] == names[1:3] and up.total == len(names)


def test_a_role_filter_finds_its_holders_only(db: Database, people: Any) -> None:
    with unit_of_work(db) as session:
        holders = sorted(u.username for u in session.scalars(select(User)) if "qa" in u.roles)
        page = find_page(
            session, people.admin, USER_REGISTER, read_request(USER_REGISTER, {"role": "qa"})
        )
        quoted = find_page(
            session,
            people.admin,
            USER_REGISTER,
            read_request(USER_REGISTER, {"role": '%" OR 1=1 --'}),
        )

    assert sorted(u.username for u in page.rows) == holders != []
    assert quoted.total == 0


def test_the_audit_trail_sorts_by_record_and_filters_by_user(db: Database, people: Any) -> None:
    make_sop(db, people.qc, state="approved", approver=people.qa)
    with unit_of_work(db) as session:
        page = find_page(
            session,
            people.auditor,
            AUDIT_REGISTER,
            read_request(AUDIT_REGISTER, {"sort": "-record", "user": "QA"}),
        )
        expected = list(
            session.scalars(
                select(AuditEntry.seq)
                .where(AuditEntry.actor_username == "qa")
                .order_by(AuditEntry.record_label.desc(), AuditEntry.seq.desc())
            )
        )

    assert [e.seq for e in page.rows] == expected[:50] and expected


def test_an_export_is_every_row_and_an_audit_entry(db: Database, people: Any) -> None:
    for n in range(3):
        make_sop(db, people.qc, title=f"Line clearance {n}")
    make_sop(db, people.qc, title="Gowning")
    with unit_of_work(db) as session:
        q = read_request(DOCUMENTS, {"q": "clearance", "sort": "-title"})
        content, name, media = export_register(session, people.qa, DOCUMENTS, q, "csv")
    with unit_of_work(db) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.record_type == EXPORT_RECORD_TYPE)
        ).one()
        label, changes = entry.record_label, entry.changes

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == [f"Line clearance {n}" for n in (2, 1, 0)]
    assert name.startswith("documents-") and name.endswith(".csv") and "csv" in media
    assert label == "Controlled documents register"
    assert '"rows":3' in changes and '"q":"clearance"' in changes


def test_a_bad_sort_is_refused_before_any_sql(db: Database, people: Any) -> None:
    with pytest.raises(BadRegisterQuery, match="cannot be sorted by 'password_hash'"):
        read_request(USER_REGISTER, {"sort": "password_hash"})
    with pytest.raises(BadRegisterQuery, match="not a whole number"):
        read_request(USER_REGISTER, {"offset": "1e3"})


def test_the_search_finds_by_number_then_by_words(db: Database, people: Any) -> None:
    _, _, number = make_sop(db, people.qc, title="Cleaning of the granulator")
    make_sop(db, people.qc, title="Granulator set-up")
    with unit_of_work(db) as session:
        by_number = search_records(session, people.qa, number.lower())
        by_words = search_records(session, people.qa, "GRANULATOR cleaning")
        none = search_records(session, people.qa, "granulator %")

    assert by_number[0].exact_number and by_number[0].number == number
    assert {h.title for h in by_words} == {"Cleaning of the granulator"}
    assert none == []  # a typed % is a letter, not a wildcard
