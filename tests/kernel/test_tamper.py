"""Tamper detection: rows changed, removed or inserted behind the application's back, in the
audit trail, in a record table or in the signature table, are each found by ``verify`` and by
``pharmaqms audit verify`` — which names the kind of tampering, the record and the entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

from pharmaqms.kernel import signatures as signatures_module
from pharmaqms.kernel.audit import chain_hash
from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.signatures import signature_hash, signing_details
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import VerifyReport, verify
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import DocumentVersion

Finding = tuple[str, str | None, int | None, int | None]  # kind, record type, record id, seq


@dataclass(frozen=True)
class Trail:
    """A small history to tamper with.

    ``approved``: an SOP version approved with a signature (its signing entry is
    ``signed_seq``).
    ``edited``: a draft created, then edited once (its latest entry is ``edit_seq``, and
    entries of ``latest`` follow it).
    ``latest``: a draft created last; its creation is the last entry of the chain.
    """

    approved: int
    signature: int
    signed_seq: int
    edited: int
    edited_created_seq: int
    edit_seq: int
    latest: int
    latest_created_seq: int


@pytest.fixture
def trail(db: Database, people: People) -> Trail:
    approved = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")
    [signature] = signatures(db, approved)
    [signed] = [e for e in entries(db, record_type="document_version") if e.action == "sign"]
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
        signed.seq,
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
    # A tamperer who recomputes the changed entry's own hash — without the key, as a plain
    # SHA-256 link — leaves an entry that does not carry the key's HMAC, and breaks the link to
    # the next one.
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
        ("entry_altered", entry.record_type, entry.record_id, entry.seq),
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
    forged["entry_hash"] = chain_hash(last.entry_hash, forged)  # without the key: plain
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEntry.__table__), [forged])
    return [
        ("entry_altered", "document_version", t.edited, last.seq + 1),
        ("chain_head_mismatch", "document_version", t.edited, last.seq + 1),
    ]


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
    return [
        ("signature_altered", "document_version", t.edited, None),
        ("signature_moved", "document_version", t.edited, t.signed_seq),
    ]


def signature_row(db: Database, signature_id: int, **changed: Any) -> dict[str, Any]:
    """A signature's row with some columns changed and its own hash recomputed to match, as
    someone who has read ``signature_hash`` would write it."""
    values = row(db, ElectronicSignature, signature_id) | changed
    values["signature_hash"] = signature_hash(
        ElectronicSignature(**{k: v for k, v in values.items() if k != "signature_hash"})
    )
    return values


def covering(db: Database, version_id: int) -> dict[str, Any]:
    """The columns a signature takes from the record it signs, for a draft never signed."""
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, version_id)
        assert version is not None
        return {
            "record_id": version.id,
            "record_label": version.audit_label(),
            "content_hash": version.content_hash(),
            "record_version": version.version,
        }


def forge_a_signature(db: Database, t: Trail) -> list[Finding]:
    # An approval for a draft nobody signed, copied from a real one, with a correct own hash.
    forged = signature_row(db, t.signature, id=t.signature + 100, **covering(db, t.latest))
    with db.engine.begin() as conn:
        conn.execute(insert(ElectronicSignature.__table__), [forged])
    return [("signature_without_audit", "document_version", t.latest, None)]


def move_a_signature_and_its_hash(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "electronic_signatures")
    moved = signature_row(db, t.signature, **covering(db, t.edited))
    raw(
        db,
        "UPDATE electronic_signatures SET record_id = :record_id, record_label = :record_label,"
        " content_hash = :content_hash, record_version = :record_version,"
        " signature_hash = :signature_hash WHERE id = :id",
        **moved,
    )
    return [("signature_moved", "document_version", t.edited, t.signed_seq)]


def redate_a_signature_and_its_hash(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "electronic_signatures")
    signed_at = row(db, ElectronicSignature, t.signature)["signed_at"]
    redated = signature_row(db, t.signature, signed_at=signed_at - timedelta(days=3))
    raw(
        db,
        "UPDATE electronic_signatures SET signed_at = :signed_at,"
        " signature_hash = :signature_hash WHERE id = :id",
        **redated,
    )
    return [("signature_altered", "document_version", t.approved, t.signed_seq)]


def delete_a_signature(db: Database, t: Trail) -> list[Finding]:
    drop_append_only_triggers(db, "electronic_signatures")
    raw(db, "DELETE FROM electronic_signatures WHERE id = :id", id=t.signature)
    return [("signature_missing", "document_version", t.approved, t.signed_seq)]


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
        forge_a_signature,
        move_a_signature_and_its_hash,
        redate_a_signature_and_its_hash,
        delete_a_signature,
    )
}


@pytest.mark.clause("part11:11.10(a)")
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


@pytest.mark.clause("part11:11.10(a)", "part11:11.10(e)")
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


def test_the_signing_entry_records_what_its_signature_is_matched_against(
    db: Database, people: People, trail: Trail
) -> None:
    [signature] = signatures(db, trail.approved)
    [signed] = entries(db, after=trail.signed_seq - 1)[:1]

    assert (signed.action, signed.record_type, signed.record_id) == (
        "sign",
        "document_version",
        trail.approved,
    )
    assert (signed.actor_id, signed.actor_username, signed.record_label, signed.reason) == (
        signature.signer_id,
        signature.signer_username,
        signature.record_label,
        signature.comment,
    )
    assert json.loads(signed.changes) == {
        "meaning": "Approved",
        "signer": "Quentin Quality (qa)",
        "content_hash": signature.content_hash,
        "signature_id": signature.id,
        "transition": "approve",
        "signed_at": canonical_json(signature.signed_at).strip('"'),
        "record_version": signature.record_version,
    }


def test_a_signature_whose_entry_predates_the_signing_time_in_the_details_still_matches(
    db: Database, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a signature given before the signing entry recorded the time and record version
    def as_written_before(signature: ElectronicSignature) -> dict[str, Any]:
        details = signing_details(signature)
        del details["signed_at"], details["record_version"]
        return details

    monkeypatch.setattr(signatures_module, "signing_details", as_written_before)
    approved = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")
    monkeypatch.undo()
    [signature] = signatures(db, approved)
    [signed] = [e for e in entries(db, record_id=approved) if e.action == "sign"]
    assert "signed_at" not in json.loads(signed.changes)

    # when it is verified, untouched, then re-dated by an hour with its own hash recomputed
    untouched = report_of(db)
    drop_append_only_triggers(db, "electronic_signatures")
    redated = signature_row(db, signature.id, signed_at=signature.signed_at - timedelta(hours=1))
    raw(
        db,
        "UPDATE electronic_signatures SET signed_at = :signed_at,"
        " signature_hash = :signature_hash WHERE id = :id",
        **redated,
    )

    # then the untouched one matches its entry's time, and the re-dated one does not
    assert findings(untouched) == []
    assert findings(report_of(db)) == [
        ("signature_altered", "document_version", approved, signed.seq)
    ]


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


@pytest.mark.clause("part11:11.70")
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
