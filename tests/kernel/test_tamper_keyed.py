"""The tamper moves of the trust review (issue 9 §3), each by someone with full access to the
database but not to the key file: refused by the database, or found by ``audit verify``
(with ``--expect-head`` where only a head kept elsewhere can tell). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.gxp_data import deliver_every_kind
from tests.kernel.helpers import (
    drop_append_only_triggers,
    entries,
    head_seq,
    new_sop,
    raw,
    row,
    signatures,
    sop_in_state,
    tamperer,
)

from pharmaqms.kernel.audit import chain_hash
from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.kernel.chain import AuditTrailAltered
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditChainHead, AuditEntry, ElectronicSignature
from pharmaqms.kernel.signatures import SIGN_ACTION, signature_hash, signing_details
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import VerifyReport, verify
from pharmaqms.quality.documents.models import DocumentVersion

pytestmark = pytest.mark.postgres


def report_of(db: Database, expected_heads: list[Any] | None = None) -> VerifyReport:
    with unit_of_work(db, write=False) as s:
        return verify(s, expected_heads=expected_heads or [])


def kinds(report: VerifyReport) -> list[str]:
    return [f.kind for f in report.findings]


def head_row(db: Database) -> dict[str, Any]:
    return row(db, AuditChainHead, 1)


def signed_head_file(db: Database, tmp_path: Path) -> Path:
    result = run_cli(db, "audit", "head", "--json")
    assert result.exit_code == 0, result.output
    path = tmp_path / "head.json"
    path.write_text(result.stdout)
    return path


def writing_is_refused(db: Database, people: People) -> bool:
    try:
        new_sop(db, people.qc, "Written after the tampering")
    except AuditTrailAltered:
        return True
    return False


# --- T22: a signature forged with inserts only ---------------------------------------------


@pytest.mark.clause("part11:11.10(a)", "part11:11.70")
def test_a_signature_forged_with_inserts_and_a_matching_entry_on_the_head_is_found(
    db: Database, people: People
) -> None:
    # given an approved SOP and a draft nobody signed
    approved = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")
    draft = new_sop(db, people.rd, "Weighing")
    [real] = signatures(db, approved)

    # when the tamperer copies the signature onto the draft as "Released", with its own hash
    # recomputed, appends the matching sign entry onto the chain head and moves the head — all
    # with INSERT and one UPDATE of the head, which the application's own role may do
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, draft)
        assert version is not None
        covering = {
            "record_id": version.id,
            "record_label": version.audit_label(),
            "content_hash": version.content_hash(),
            "record_version": version.version,
        }
    forged = row(db, ElectronicSignature, real.id) | covering | {"id": real.id + 50}
    forged["meaning"] = "Released"
    forged_signature = ElectronicSignature(**{k: v for k, v in forged.items()})
    forged["signature_hash"] = signature_hash(forged_signature)
    last = entries(db, after=head_seq(db) - 1)[0]
    entry = {
        "seq": last.seq + 1,
        "occurred_at": forged["signed_at"],
        "actor_id": forged["signer_id"],
        "actor_username": forged["signer_username"],
        "actor_name": forged["signer_name"],
        "channel": "ui",
        "request_id": None,
        "action": SIGN_ACTION,
        "record_type": "document_version",
        "record_id": draft,
        "record_label": covering["record_label"],
        "changes": canonical_json(signing_details(forged_signature)),
        "reason": forged["comment"],
        "state_hash": None,
        "prev_hash": last.entry_hash,
    }
    entry["entry_hash"] = chain_hash(last.entry_hash, entry)  # the best one can do without the key
    with db.engine.begin() as conn:
        conn.execute(insert(ElectronicSignature.__table__), [forged])
        conn.execute(insert(AuditEntry.__table__), [entry])
        conn.execute(
            text("UPDATE audit_chain_head SET seq = :seq, entry_hash = :hash WHERE id = 1"),
            {"seq": entry["seq"], "hash": entry["entry_hash"]},
        )

    # then verify finds the head without its MAC and the entry without the key's link, and
    # the application stops writing onto that head
    report = report_of(db)
    assert kinds(report) == ["chain_head_altered", "entry_altered"]
    assert report.findings[1].seq == entry["seq"]
    assert writing_is_refused(db, people)


# --- T13: the tail cut off consistently ---------------------------------------------------


def _cut_after(db: Database, seq: int, head: dict[str, Any]) -> None:
    """Delete the entries after ``seq`` and every row they created, newest first, and put
    ``head`` in the head row."""
    from pharmaqms.kernel.records import AUDITED_TYPES

    created = [e for e in entries(db, after=seq) if e.action == "create"]
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "DELETE FROM audit_entries WHERE seq > :seq", seq=seq)
    for entry in reversed(created):
        table = AUDITED_TYPES[entry.record_type].__table__.name  # type: ignore[attr-defined]
        raw(db, f"DELETE FROM {table} WHERE id = :id", id=entry.record_id)
    raw(
        db,
        "UPDATE audit_chain_head SET seq = :seq, entry_hash = :entry_hash, mac = :mac, "
        "keyed_from = :keyed_from, key_id = :key_id WHERE id = 1",
        **head,
    )


@pytest.mark.clause("part11:11.10(a)")
def test_a_tail_cut_off_with_the_head_moved_back_is_found_by_the_head_mac(
    db: Database, people: People
) -> None:
    # given entries up to N, then a draft created after them
    cut_at = head_seq(db)
    [last_kept] = entries(db, after=cut_at - 1)
    later = new_sop(db, people.qc, "Written after N")

    # when the tamperer deletes the later entries and the rows they created and sets the head
    # to entry N (keeping the MAC the head has now: they can't compute one for N)
    stale = head_row(db)
    assert later
    _cut_after(db, cut_at, {**stale, "seq": cut_at, "entry_hash": last_kept.entry_hash})

    # then the head's MAC gives it away
    assert kinds(report_of(db)) == ["chain_head_altered"]
    assert writing_is_refused(db, people)


def test_a_tail_cut_off_with_an_old_head_row_put_back_is_found_by_a_signed_head_kept_elsewhere(
    db: Database, people: People, tmp_path: Path
) -> None:
    # given the head row at N, kept by the tamperer, and a signed head published after more
    # work was done
    cut_at = head_seq(db)
    old_head = head_row(db)
    later = new_sop(db, people.qc, "Written after N")
    published = signed_head_file(db, tmp_path)
    assert later

    # when everything after N goes and the old head row is put back, MAC and all
    _cut_after(db, cut_at, old_head)

    # then the database alone looks consistent, but the published head is no longer there
    assert report_of(db).intact
    result = run_cli(db, "audit", "verify", "--json", "--expect-head", str(published))
    assert result.exit_code == 1, result.output
    assert [f["kind"] for f in json.loads(result.stdout)["findings"]] == ["truncated"]


def test_a_rewrite_after_a_published_head_is_found_as_rewritten(
    db: Database, people: People, tmp_path: Path
) -> None:
    # given a published head, then the tail cut and new work appended over it
    cut_at = head_seq(db)
    old_head = head_row(db)
    later = new_sop(db, people.qc, "Written after N")
    published = signed_head_file(db, tmp_path)
    assert later
    _cut_after(db, cut_at, old_head)
    new_sop(db, people.qc, "Written over the cut")
    new_sop(db, people.qc, "And more")

    # when verified against the published head
    result = run_cli(db, "audit", "verify", "--json", "--expect-head", str(published))

    # then the entry the head recorded is another one now
    assert result.exit_code == 1, result.output
    assert [f["kind"] for f in json.loads(result.stdout)["findings"]] == ["rewritten"]


def test_a_signed_head_that_was_edited_is_refused_as_input(
    db: Database, people: People, tmp_path: Path
) -> None:
    published = signed_head_file(db, tmp_path)
    document = json.loads(published.read_text())
    document["seq"] -= 1
    published.write_text(json.dumps(document))

    result = run_cli(db, "audit", "verify", "--expect-head", str(published))

    assert result.exit_code == 2
    assert "signature does not verify" in result.stderr


# --- T14: the head removed ----------------------------------------------------------------


def test_removing_the_chain_head_is_always_a_finding_and_stops_writing(
    db: Database, people: People
) -> None:
    raw(db, "DELETE FROM audit_chain_head")

    assert kinds(report_of(db)) == ["chain_head_missing"]
    assert writing_is_refused(db, people)
    assert run_cli(db, "audit", "verify").exit_code == 1


# --- T15: a record edited and the chain recomputed from there -----------------------------


@pytest.mark.clause("part11:11.10(a)")
def test_an_edit_with_the_state_hash_and_every_later_link_recomputed_is_found(
    db: Database, people: People
) -> None:
    # given a draft and work after it
    draft = new_sop(db, people.qc, "Gowning")
    [created] = entries(db, record_type="document_version", record_id=draft)
    new_sop(db, people.qc, "Weighing")

    # when the tamperer edits the draft, writes its new state hash into its entry and
    # recomputes every later link (without the key: plain SHA-256) and the head
    raw(db, "UPDATE document_versions SET body = :b WHERE id = :id", b="y" * 40, id=draft)
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, draft)
        assert version is not None
        state_hash = version.state_hash()
    drop_append_only_triggers(db, "audit_entries")
    prev = created.prev_hash
    for entry in entries(db, after=created.seq - 1):
        content = {name: getattr(entry, name) for name in AuditEntry.HASHED}
        content["prev_hash"] = prev
        if entry.seq == created.seq:
            content["state_hash"] = state_hash
        prev = chain_hash(prev, content)
        raw(
            db,
            "UPDATE audit_entries SET state_hash = :state, prev_hash = :prev, entry_hash = :hash "
            "WHERE seq = :seq",
            state=content["state_hash"],
            prev=content["prev_hash"],
            hash=prev,
            seq=entry.seq,
        )
    raw(db, "UPDATE audit_chain_head SET entry_hash = :h WHERE id = 1", h=prev)

    # then the head and every rewritten entry show it, starting with the edited one
    report = report_of(db)
    assert kinds(report)[0] == "chain_head_altered"
    altered = [f.seq for f in report.findings if f.kind == "entry_altered"]
    assert altered[0] == created.seq
    assert altered == list(range(created.seq, head_seq(db) + 1))


# --- T25–T30: measured data changed with the triggers off ---------------------------------


@pytest.fixture
def delivered(db: Database, people: People, frozen_clock: Any) -> Database:
    deliver_every_kind(db, people)
    return db


SEALED_CHANGES = {
    "test_results": "UPDATE test_results SET value = value + 10 WHERE id = :id",
    "sensor_readings": "UPDATE sensor_readings SET temperature_c = 5.0 WHERE id = :id",
    "process_readings": "UPDATE process_readings SET value = value - 1 WHERE id = :id",
    "adverse_event_reports": "UPDATE adverse_event_reports SET country = 'ZZ' WHERE id = :id",
    "serialised_packs": "UPDATE serialised_packs SET lot_number = 'X-1' WHERE id = :id",
    "gs1_scans": "UPDATE gs1_scans SET lot_number = 'X-1' WHERE id = :id",
}


def _first_id(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        found = conn.execute(text(f"SELECT MIN(id) FROM {table}")).scalar()
    assert found is not None, f"no rows in {table}: the delivery should have filled it"
    return int(found)


def test_every_delivered_table_holds_rows_and_verifies_intact(delivered: Database) -> None:
    report = report_of(delivered)
    assert report.intact, report.findings
    for table in SEALED_CHANGES:
        _first_id(delivered, table)
    assert report.data_rows > 0


@pytest.mark.clause("part11:11.10(c)", "alcoa:original", "alcoa:enduring")
@pytest.mark.parametrize("table", sorted(SEALED_CHANGES))
def test_the_application_role_can_not_change_measured_data(delivered: Database, table: str) -> None:
    with pytest.raises(DBAPIError), delivered.engine.begin() as conn:
        conn.execute(text(SEALED_CHANGES[table]), {"id": _first_id(delivered, table)})
    assert report_of(delivered).intact


@pytest.mark.clause("part11:11.10(a)", "alcoa:original")
@pytest.mark.parametrize("table", sorted(SEALED_CHANGES))
def test_measured_data_changed_with_the_triggers_dropped_is_found(
    delivered: Database, table: str
) -> None:
    row_id = _first_id(delivered, table)
    drop_append_only_triggers(delivered, table)
    raw(delivered, SEALED_CHANGES[table], id=row_id)

    report = report_of(delivered)

    assert [(f.kind, f.record_type) for f in report.findings] == [("data_altered", table)]


def test_measured_data_removed_or_slipped_in_is_found(delivered: Database) -> None:
    # scans: no other row points at one, so the database lets a superuser delete it
    row_id = _first_id(delivered, "gs1_scans")
    drop_append_only_triggers(delivered, "gs1_scans")
    copied = row(delivered, _model("gs1_scans"), row_id)
    raw(delivered, "DELETE FROM gs1_scans WHERE id = :id", id=row_id)
    copied |= {"id": row_id + 1000, "hri": copied["hri"] + "(21)FAKE"}
    engine = tamperer(delivered)
    with engine.begin() as conn:
        conn.execute(insert(_model("gs1_scans").__table__), [copied])
    if engine is not delivered.engine:
        engine.dispose()

    report = report_of(delivered)

    assert [(f.kind, f.record_type, f.record_id) for f in report.findings] == [
        ("data_missing", "gs1_scans", row_id),
        ("data_without_audit", "gs1_scans", row_id + 1000),
    ]


def _model(table: str) -> Any:
    from pharmaqms.kernel.records import SEALED_MODELS

    return SEALED_MODELS[table]


def test_replica_mode_is_refused_to_the_application_and_found_when_a_superuser_uses_it(
    delivered: Database,
) -> None:
    if delivered.dialect != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")
    row_id = _first_id(delivered, "test_results")
    # the application's own connection can't switch the triggers off
    with pytest.raises(DBAPIError, match="permission denied"), delivered.engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica"))
    # a superuser can, without any DDL
    engine = tamperer(delivered)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(SEALED_CHANGES["test_results"]), {"id": row_id})
    engine.dispose()

    assert [f.kind for f in report_of(delivered).findings] == ["data_altered"]


def test_the_application_role_owns_nothing_and_can_not_drop_triggers(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with db.engine.connect() as conn:
        me = conn.execute(
            text("SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        ).scalar_one()
    assert (tuple(me), owned) == ((False, False), 0)
    for statement in (
        "DROP TRIGGER audit_entries_append_only ON audit_entries",
        "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
        "TRUNCATE audit_entries",
        "DELETE FROM deviations",
    ):
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text(statement))


# --- T11: a time rewritten in another offset ----------------------------------------------


def test_an_entry_time_rewritten_in_another_offset_is_found_on_sqlite(
    db: Database, people: People
) -> None:
    draft = new_sop(db, people.qc, "Gowning")
    [created] = entries(db, record_type="document_version", record_id=draft)
    local = created.occurred_at.astimezone(timezone_plus(5))
    drop_append_only_triggers(db, "audit_entries")
    if db.dialect == "sqlite":
        # the same instant, written as text in +05:00: it sorts after later entries now
        engine = tamperer(db)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE audit_entries SET occurred_at = :at WHERE seq = :seq"),
                {"at": local.isoformat(), "seq": created.seq},
            )
        report = report_of(db)
        assert [(f.kind, f.record_type, f.seq) for f in report.findings] == [
            ("timestamp_not_canonical", "audit_entries", created.seq)
        ]
    else:
        # timestamptz stores the instant: the rewrite changes nothing, and time queries hold
        raw(
            db,
            "UPDATE audit_entries SET occurred_at = :at WHERE seq = :seq",
            at=local,
            seq=created.seq,
        )
        with db.engine.connect() as conn:
            found = conn.execute(
                select(AuditEntry.seq).where(
                    AuditEntry.occurred_at >= created.occurred_at - timedelta(seconds=1),
                    AuditEntry.occurred_at <= created.occurred_at + timedelta(seconds=1),
                )
            ).scalars()
            assert created.seq in list(found)
        assert report_of(db).intact


def timezone_plus(hours: int) -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def test_the_application_role_can_not_use_a_superuser_connection(db: Database) -> None:
    # a guard on the test set-up itself: the tamper tests above prove something only if the
    # application's engine is not the superuser's
    if db.dialect != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    assert db.engine.url.username == "pharmaqms_app"
    other = create_engine(str(tamperer(db).url))
    assert other.url.username != "pharmaqms_app"
    other.dispose()
