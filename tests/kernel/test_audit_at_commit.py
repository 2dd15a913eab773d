"""The chain is linked when a transaction commits: entries drafted at each flush, timed then,
written in one append at the commit; a read of the trail inside the transaction still sees its
own entries; a savepoint rolled back takes its entries with it; and on PostgreSQL a writer no
longer waits for another transaction that is still open."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import People
from tests.kernel.helpers import SOP_BODY, entries, head_seq, new_sop

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.quality.documents import service

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _edit(s: Session, people: People, vid: int, expected: int, text: str) -> None:
    service.edit_draft(
        s,
        actor=people.qc,
        version_id=vid,
        expected_version=expected,
        body=SOP_BODY + text,
    )


def test_entries_of_one_transaction_are_written_at_its_commit_in_flush_order_with_flush_times(
    db: Database, people: People
) -> None:
    # given a draft SOP
    vid = new_sop(db, people.qc)
    before = head_seq(db)

    # when one transaction edits it twice, a minute apart, with a flush after each edit
    with unit_of_work(db) as s:
        with clock.frozen_at(T0):
            _edit(s, people, vid, 1, " First.")
        with clock.frozen_at(T0 + timedelta(minutes=1)):
            _edit(s, people, vid, 2, " Second.")
        # then nothing of it is in the chain before the commit (seen from another connection)
        assert head_seq(db) == before

    # then after the commit both entries are there, in order, each with its own flush time
    written = entries(db, record_type="document_version", record_id=vid, after=before)
    assert [e.action for e in written] == ["update", "update"]
    assert [e.seq for e in written] == [before + 1, before + 2]
    assert [e.occurred_at.astimezone(UTC) for e in written] == [T0, T0 + timedelta(minutes=1)]
    with unit_of_work(db, write=False) as s:
        assert verify(s).intact


def test_a_read_of_the_trail_inside_the_transaction_sees_its_own_entries(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    with unit_of_work(db) as s:
        _edit(s, people, vid, 1, " Edited.")
        seen = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.record_type == "document_version", AuditEntry.record_id == vid
            )
        ).all()
        assert list(seen) == ["create", "update"]
        # and a change after the read is written at the commit, after it
        _edit(s, people, vid, 2, " Edited again.")
    assert [e.action for e in entries(db, record_type="document_version", record_id=vid)] == [
        "create",
        "update",
        "update",
    ]
    with unit_of_work(db, write=False) as s:
        assert verify(s).intact


def test_a_savepoint_rolled_back_takes_its_entries_and_keeps_the_ones_before_it(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    before = head_seq(db)
    with unit_of_work(db) as s:
        _edit(s, people, vid, 1, " Kept.")
        savepoint = s.begin_nested()
        _edit(s, people, vid, 2, " Rolled back.")
        # a read inside the savepoint writes the entries queued so far, its own included
        s.scalars(select(AuditEntry.seq).where(AuditEntry.record_id == vid)).all()
        savepoint.rollback()
        s.expire_all()
        _edit(s, people, vid, 2, " Kept too.")

    written = entries(db, record_type="document_version", record_id=vid, after=before)
    assert [e.action for e in written] == ["update", "update"]
    assert "Kept." in written[0].changes and "Kept too." not in written[0].changes
    assert "Kept too." in written[1].changes
    assert "Rolled back." not in "".join(e.changes for e in written)
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.intact, report.findings


@pytest.mark.postgres
def test_a_writer_does_not_wait_for_another_transaction_that_is_still_open(
    db: Database, people: People
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    # given a transaction that edited an SOP and is still open (not committed)
    vid = new_sop(db, people.qc)
    edited = threading.Event()
    finish = threading.Event()
    failures: list[BaseException] = []

    def slow_editor() -> None:
        try:
            with unit_of_work(db) as s:
                _edit(s, people, vid, 1, " Slow edit.")
                edited.set()
                finish.wait(timeout=30)
        except BaseException as err:  # reported below
            failures.append(err)
            edited.set()

    slow = threading.Thread(target=slow_editor)
    slow.start()
    assert edited.wait(timeout=30)

    # when someone else creates a record meanwhile
    other: list[int] = []
    quick = threading.Thread(target=lambda: other.append(new_sop(db, people.rd, "Gowning")))
    quick.start()
    quick.join(timeout=15)

    # then it commits without waiting for the open transaction (it used to queue behind the
    # chain head that the first flush locked until the commit)
    waited = quick.is_alive()
    finish.set()
    quick.join(timeout=30)
    slow.join(timeout=30)
    assert not failures, failures
    assert not waited, "the second writer waited for the open transaction"
    # and the chain holds both, in commit order: the quick create before the slow edit
    quick_create = entries(db, record_id=other[0], record_type="document_version")[0]
    slow_edit = next(
        e
        for e in entries(db, record_type="document_version", record_id=vid)
        if e.action == "update"
    )
    assert quick_create.seq < slow_edit.seq
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.intact, report.findings
