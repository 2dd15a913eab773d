"""Tamper detection: rows changed, removed or inserted behind the application's back, in the
audit trail, in a record table or in the signature table, are each found by ``verify`` and by
``pharmaqms audit verify`` — which names the kind of tampering, the record and the entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.helpers import (
    drop_append_only_triggers,
    entries,
    head_seq,
    new_sop,
    raw,
    row,
    signatures,
    sop_in_state,
)

from pharmaqms.kernel.audit import chain_hash
from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import VerifyReport, verify
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import DocumentVersion

Finding = tuple[str, str | None, int | None, int | None]  # kind, record type, record id, seq


@dataclass(frozen=True)
class Trail:
    """A small history to tamper with.

    ``approved``: an SOP version approved with a signature.
    ``edited``: a draft created, then edited once (its latest entry is ``edit_seq``, and
    entries of ``latest`` follow it).
    ``latest``: a draft created last; its creation is the last entry of the chain.
    """

    approved: int
    signature: int
    edited: int
    edited_created_seq: int
    edit_seq: int
    latest: int
    latest_created_seq: int


@pytest.fixture
def trail(db: Database, people: People) -> Trail:
    approved = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")
    [signature] = signatures(db, approved)
    edited = new_sop(db, people.qc, "Gowning")
    with unit_of_work(db) as s:
        service.edit_draft(s, actor=people.qc, version_id=edited, expected_version=1, body="x" * 40)
    latest = new_sop(db, people.rd, "Weighing")
    [edited_created, edit] = entries(db, record_type="document_version", record_id=edited)
    [latest_created] = entries(db, record_type="document_version", record_id=latest)
    assert latest_created.seq == head_seq(db)
    assert edit.seq < latest_created.seq
    return Trail(
        approved,
        signature.id,
        edited,
        edited_created.seq,
        edit.seq,
        latest,
        latest_created.seq,
    )


def report_of(db: Database) -> VerifyReport:
    with unit_of_work(db, write=False) as s:
        return verify(s)


def findings(report: VerifyReport) -> list[Finding]:
    return [(f.kind, f.record_type, f.record_id, f.seq) for f in report.findings]


# --- the tampering, one function per way ---------------------------------------------------


def change_an_entry(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "audit_entries")
    raw(
        db,
        "UPDATE audit_entries SET reason = 'approved by QA (backdated)' WHERE seq = :seq",
        seq=t.edited_created_seq,
    )
    return [("entry_altered", "document_version", t.edited, t.edited_created_seq)]


def change_an_entry_and_its_hash(db: Database, t: Trail) -> list[Finding]:
    # A tamperer who recomputes the changed entry's own hash breaks the link to the next one.
    drop_append_only_triggers(db, "audit_entries")
    [entry] = [e for e in entries(db, after=t.edited_created_seq - 1)][:1]
    content = {name: getattr(entry, name) for name in AuditEntry.HASHED}
    content["reason"] = "nothing happened"
    raw(
        db,
        "UPDATE audit_entries SET reason = :reason, entry_hash = :hash WHERE seq = :seq",
        reason="nothing happened",
        hash=chain_hash(entry.prev_hash, content),
        seq=entry.seq,
    )
    [following] = entries(db, after=entry.seq)[:1]
    return [
        ("entry_inserted", following.record_type, following.record_id, following.seq),
    ]


def delete_an_entry_in_the_middle(db: Database, t: Trail) -> list[Finding]:
    # Hiding an edit: its entry goes, so the record no longer matches its last entry.
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "DELETE FROM audit_entries WHERE seq = :seq", seq=t.edit_seq)
    return [
        ("entry_missing", None, None, t.edit_seq),
        ("record_altered", "document_version", t.edited, t.edited_created_seq),
    ]


def delete_the_last_entry(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "DELETE FROM audit_entries WHERE seq = :seq", seq=t.latest_created_seq)
    return [
        ("chain_truncated", None, None, t.latest_created_seq),
        ("record_without_audit", "document_version", t.latest, None),
    ]


def insert_an_entry(db: Database, t: Trail) -> list[Finding]:
    # The cover-up: change a record, then append a well-formed entry that matches it.
    raw(db, "UPDATE document_versions SET body = :body WHERE id = :id", body="y" * 40, id=t.edited)
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, t.edited)
        assert version is not None
        state_hash, label = version.state_hash(), version.number
    last = entries(db, after=head_seq(db) - 1)[0]
    forged = {
        "seq": last.seq + 1,
        "occurred_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "actor_id": last.actor_id,
        "actor_username": last.actor_username,
        "actor_name": last.actor_name,
        "channel": "ui",
        "request_id": None,
        "action": "update",
        "record_type": "document_version",
        "record_id": t.edited,
        "record_label": label,
        "changes": canonical_json({"body": ["x" * 40, "y" * 40]}),
        "reason": None,
        "state_hash": state_hash,
        "prev_hash": last.entry_hash,
    }
    forged["entry_hash"] = chain_hash(last.entry_hash, forged)
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEntry.__table__), [forged])
    return [("chain_head_mismatch", "document_version", t.edited, last.seq + 1)]


def change_a_record_row(db: Database, t: Trail) -> list[Finding]:
    raw(
        db,
        "UPDATE document_versions SET body = :body WHERE id = :id",
        body="Step 4 removed.",
        id=t.edited,
    )
    return [("record_altered", "document_version", t.edited, t.edit_seq)]


def delete_a_record_row(db: Database, t: Trail) -> list[Finding]:
    raw(db, "DELETE FROM document_versions WHERE id = :id", id=t.latest)
    return [("record_missing", "document_version", t.latest, t.latest_created_seq)]


def insert_a_record_row(db: Database, t: Trail) -> list[Finding]:
    model = row(db, DocumentVersion, t.latest)
    model.update(id=t.latest + 100, number=model["number"] + " (copy)", major=9)
    with db.engine.begin() as conn:
        conn.execute(insert(DocumentVersion.__table__), [model])
    return [("record_without_audit", "document_version", t.latest + 100, None)]


def move_a_signature(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "electronic_signatures")
    raw(
        db,
        "UPDATE electronic_signatures SET record_id = :to WHERE id = :id",
        to=t.edited,
        id=t.signature,
    )
    return [("signature_altered", "document_version", t.edited, None)]


TAMPERING: dict[str, Callable[[Database, Trail], list[Finding]]] = {
    f.__name__: f
    for f in (
        change_an_entry,
        change_an_entry_and_its_hash,
        delete_an_entry_in_the_middle,
        delete_the_last_entry,
        insert_an_entry,
        change_a_record_row,
        delete_a_record_row,
        insert_a_record_row,
        move_a_signature,
    )
}


@pytest.mark.postgres
def test_an_untouched_database_verifies_intact(db: Database, trail: Trail) -> None:
    # when
    report = report_of(db)
    result = run_cli(db, "audit", "verify", "--json")

    # then
    assert report.intact
    assert report.findings == []
    assert report.entries == report.head_seq == head_seq(db)
    assert report.signatures == 1
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["intact"] is True
    assert listed["findings"] == []
    assert listed["entries"] == report.entries
    assert listed["records"] == report.records


@pytest.mark.postgres
@pytest.mark.parametrize("tamper", sorted(TAMPERING))
def test_tampering_is_found_by_verify(db: Database, trail: Trail, tamper: str) -> None:
    # given an intact trail (see test_an_untouched_database_verifies_intact)
    # when someone with access to the database tampers with it
    expected = TAMPERING[tamper](db, trail)

    # then verify names the kind, the record and the entry of each break
    report = report_of(db)
    assert findings(report) == expected
    assert not report.intact


@pytest.mark.parametrize("tamper", sorted(TAMPERING))
def test_the_cli_exits_1_and_lists_the_findings_as_json(
    db: Database, trail: Trail, tamper: str
) -> None:
    # given a tampered database
    expected = TAMPERING[tamper](db, trail)

    # when the operator runs the check
    result = run_cli(db, "audit", "verify", "--json")

    # then
    assert result.exit_code == 1, result.output
    listed = json.loads(result.stdout)
    assert listed["intact"] is False
    assert [
        (f["kind"], f["record_type"], f["record_id"], f["seq"]) for f in listed["findings"]
    ] == expected
    assert all(f["message"] for f in listed["findings"])


def test_the_cli_shows_findings_as_a_table_and_exits_1(db: Database, trail: Trail) -> None:
    change_a_record_row(db, trail)

    result = run_cli(db, "audit", "verify")

    assert result.exit_code == 1
    assert "1 finding(s): the audit trail is NOT intact" in result.stdout
    assert "record_altered" in result.stdout


def test_the_signature_view_flags_a_moved_signature(
    db: Database, people: People, trail: Trail
) -> None:
    from pharmaqms.kernel.signatures import signatures_of

    move_a_signature(db, trail)

    with unit_of_work(db, write=False) as s:
        edited = s.get(DocumentVersion, trail.edited)
        assert edited is not None
        [shown] = signatures_of(s, edited)
        moved = s.get(ElectronicSignature, trail.signature)
        assert moved is not None and moved.record_id == trail.edited
    assert shown.valid_for_current_content is False
    assert "NO LONGER VALID" in shown.manifestation


@pytest.mark.postgres
def test_verify_reads_one_moment_while_others_keep_writing(
    db: Database, people: People, trail: Trail
) -> None:
    # given a colleague who edits a draft just after verify has issued its first query
    issued: list[Connection] = []

    def edit_meanwhile(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if len(issued) > 1 or statement.lstrip().upper().startswith(("BEGIN", "SET", "SHOW")):
            return
        if not issued:
            issued.append(conn)  # verify's connection
        elif conn is issued[0]:
            issued.append(conn)
            with unit_of_work(db) as s:
                service.edit_draft(
                    s, actor=people.qc, version_id=trail.latest, expected_version=1, body="z" * 40
                )

    before = head_seq(db)
    event.listen(db.engine, "before_cursor_execute", edit_meanwhile)
    try:
        # when verify runs
        report = report_of(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", edit_meanwhile)

    # then it saw the database as it was when it started: no false alarm
    assert len(issued) == 2, "the concurrent edit did not happen during verify"
    assert head_seq(db) == before + 1
    assert findings(report) == []
    assert report.entries == before
    # and the next run sees the edit, intact
    assert report_of(db).entries == before + 1
    assert report_of(db).intact
