"""The audit trail and the e-signatures are append-only in the database itself: triggers
refuse an UPDATE or DELETE whoever sends it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DatabaseError
from tests.conftest import People
from tests.kernel.helpers import entries, raw, row, signatures, snapshot, sop_in_state

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import ElectronicSignature

pytestmark = pytest.mark.postgres

STATEMENTS = {
    "update audit entry": "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = :seq",
    "delete audit entry": "DELETE FROM audit_entries WHERE seq = :seq",
    "update signature": "UPDATE electronic_signatures SET meaning = 'Reviewed' WHERE id = :sid",
    "delete signature": "DELETE FROM electronic_signatures WHERE id = :sid",
}


@pytest.mark.clause("part11:11.10(c)", "part11:11.10(e)", "alcoa:enduring")
@pytest.mark.parametrize("what", sorted(STATEMENTS))
def test_the_database_refuses_to_change_or_remove_trail_and_signatures(
    db: Database, people: People, what: str
) -> None:
    # given an approved SOP: audit entries and one signature
    vid = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")
    [signature] = signatures(db, vid)
    [signature_entry] = [e for e in entries(db, record_id=vid) if e.action == "sign"]
    sid = signature.id
    before = snapshot(db)
    kept_entry = entries(db, after=signature_entry.seq - 1)[0]

    # when raw SQL tries to rewrite history
    with pytest.raises(DatabaseError) as refused:
        raw(db, STATEMENTS[what], seq=signature_entry.seq, sid=sid)

    # then the database itself said no, and nothing changed
    assert "append-only" in str(refused.value.orig)
    assert snapshot(db) == before
    assert entries(db, after=signature_entry.seq - 1)[0].entry_hash == kept_entry.entry_hash
    assert entries(db, after=signature_entry.seq - 1)[0].reason == kept_entry.reason
    assert row(db, ElectronicSignature, sid)["meaning"] == "Approved"


@pytest.mark.clause("part11:11.10(c)", "part11:11.10(e)", "alcoa:enduring")
def test_emptying_the_whole_trail_is_refused(db: Database, backend: str) -> None:
    # SQLite's way to empty a table is an unqualified DELETE; PostgreSQL's is TRUNCATE,
    # which row triggers do not see: it has a statement trigger of its own.
    before = snapshot(db)
    statement = "DELETE FROM audit_entries" if backend == "sqlite" else "TRUNCATE audit_entries"

    with pytest.raises(DatabaseError) as refused:
        raw(db, statement)

    assert "append-only" in str(refused.value.orig)
    assert snapshot(db) == before
