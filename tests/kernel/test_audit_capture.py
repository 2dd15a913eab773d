"""The audit trail captures every create and change of a GxP record in the transaction that
makes it: who, when, what (field-level old and new), why and how; and it refuses what must
not happen (a delete, a change without a reason after draft, a change outside a context)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import (
    SOP_BODY,
    changes_of,
    entries,
    head_seq,
    new_sop,
    row,
    snapshot,
    transition,
)
from tests.support import PASSWORD

from pharmaqms.kernel import audit, auth, clock, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import ReasonRequired
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion


@pytest.mark.clause(
    "part11:11.10(e)", "annex11:9", "annex11:12", "alcoa:attributable", "alcoa:contemporaneous"
)
@pytest.mark.postgres
def test_creating_a_record_writes_who_when_what_why_and_how(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given
    author = people.actor("qc", Channel.UI)
    start = head_seq(db)

    # when
    with unit_of_work(db) as s:
        version = service.create_document(
            s, actor=author, doc_type="sop", title="Line clearance", body=SOP_BODY
        )
        vid, did = version.id, version.document_id
        number, state_hash = version.number, version.state_hash()

    # then
    [doc_entry, version_entry] = entries(db, after=start)
    assert (doc_entry.record_type, doc_entry.record_id) == ("document", did)
    assert (version_entry.record_type, version_entry.record_id) == ("document_version", vid)
    assert version_entry.record_label == number
    assert version_entry.action == "create"
    assert version_entry.actor_username == "qc"
    assert version_entry.actor_name == "Chloe Chemist"
    assert version_entry.actor_id == author.user_id
    assert version_entry.channel == "ui"
    assert version_entry.occurred_at == frozen_clock.current
    assert version_entry.reason == "first version"
    assert version_entry.state_hash == state_hash
    shown = changes_of(version_entry)
    assert shown["title"] == [None, "Line clearance"]
    assert shown["body"] == [None, SOP_BODY]
    assert shown["status"] == [None, "draft"]
    assert shown["number"] == [None, number]
    # bookkeeping (who/when/version) is in the entry's own columns, not repeated as changes
    assert not {"version", "created_at", "updated_at", "created_by_id"} & set(shown)


@pytest.mark.clause("part11:11.10(e)", "annex11:9", "alcoa:complete")
@pytest.mark.postgres
def test_a_change_is_written_field_by_field_with_old_and_new_values(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given a draft
    author = people.qc
    vid = new_sop(db, author)
    start = head_seq(db)
    frozen_clock.advance(minutes=5)

    # when the author edits its body (a draft needs no reason)
    with unit_of_work(db) as s:
        service.edit_draft(
            s, actor=author, version_id=vid, expected_version=1, body=SOP_BODY + " 2.4 Dry."
        )

    # then exactly one entry, naming exactly the one field that changed
    [entry] = entries(db, after=start)
    assert entry.action == "update"
    assert (entry.record_type, entry.record_id) == ("document_version", vid)
    assert changes_of(entry) == {"body": [SOP_BODY, SOP_BODY + " 2.4 Dry."]}
    assert entry.reason is None
    assert entry.occurred_at == frozen_clock.current
    assert entry.channel == "api"
    stored = row(db, DocumentVersion, vid)
    assert stored["version"] == 2
    assert stored["updated_at"] == frozen_clock.current


@pytest.mark.clause("part11:11.10(e)", "alcoa:complete", "alcoa:contemporaneous")
@pytest.mark.postgres
def test_a_record_and_its_audit_entries_commit_or_roll_back_together(
    db: Database, people: People
) -> None:
    # given
    before = snapshot(db)

    # when the transaction that created a document fails after the audit entries were written
    with pytest.raises(ZeroDivisionError), unit_of_work(db) as s:
        service.create_document(s, actor=people.qc, doc_type="sop", title="Gowning", body=SOP_BODY)
        s.flush()
        assert s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) == (
            before.head[0] + 2
        )
        _ = 1 / 0

    # then neither the record nor its entries exist
    assert snapshot(db) == before


@pytest.mark.clause("part11:11.10(e)", "annex11:9")
@pytest.mark.postgres
def test_a_change_after_draft_without_a_reason_is_refused_and_nothing_is_written(
    db: Database, people: People
) -> None:
    # given a version in review
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when its title is changed without a reason
    with pytest.raises(ReasonRequired) as refused, unit_of_work(db) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        with audit.changes(s, actor=people.qa):
            version.title = "Cleaning of the tablet press (rev.)"

    # then
    assert refused.value.field == "reason"
    assert "title" in refused.value.detail
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored

    # and with a reason the same change is accepted, and the reason is in the trail
    with unit_of_work(db) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        with audit.changes(s, actor=people.qa, reason="typo in the title"):
            version.title = "Cleaning of the tablet press (rev.)"
    [entry] = entries(db, after=before.head[0])
    assert entry.reason == "typo in the title"
    assert changes_of(entry) == {
        "title": ["Cleaning of the tablet press", "Cleaning of the tablet press (rev.)"]
    }


def test_a_blank_reason_counts_as_no_reason(db: Database, people: People) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    before = snapshot(db)

    with pytest.raises(ReasonRequired), unit_of_work(db) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        with audit.changes(s, actor=people.qa, reason="   "):
            version.body = SOP_BODY + " changed"

    assert snapshot(db) == before


@pytest.mark.clause("part11:11.10(c)", "alcoa:complete")
@pytest.mark.postgres
def test_deleting_an_audited_row_through_the_orm_is_refused(db: Database, people: People) -> None:
    # given
    vid = new_sop(db, people.qc)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when
    with pytest.raises(audit.RecordsAreNeverDeleted) as refused, unit_of_work(db) as s:
        version = s.get(DocumentVersion, vid)
        with audit.changes(s, actor=people.admin, reason="clean-up"):
            s.delete(version)

    # then
    assert refused.value.status == 409
    assert "are retired, not deleted" in refused.value.detail
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored


def test_deleting_a_user_is_refused_too(db: Database, people: People) -> None:
    before = snapshot(db)

    with pytest.raises(audit.RecordsAreNeverDeleted), unit_of_work(db) as s:
        user = auth.user_by_username(s, "operator")
        s.delete(user)
        s.flush()

    assert snapshot(db) == before


@pytest.mark.postgres
def test_a_change_outside_a_change_context_is_refused(db: Database, people: People) -> None:
    # given
    vid = new_sop(db, people.qc)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when the row is changed without saying who changes it
    with pytest.raises(RuntimeError, match="outside a change context"), unit_of_work(db) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        version.body = "rewritten by nobody"
        s.flush()

    # then
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored


def test_a_record_created_outside_a_change_context_is_refused(db: Database, people: People) -> None:
    before = snapshot(db)

    with pytest.raises(RuntimeError, match="outside a change context"), unit_of_work(db) as s:
        s.add(
            ControlledDocument(
                number="SOP-1999-0001",
                status="in_development",
                doc_type="sop",
                title="Unattributed",
                owner_id=people.qc.user_id,
            )
        )
        s.flush()

    assert snapshot(db) == before


@pytest.mark.postgres
def test_password_hashes_never_appear_in_clear_in_the_trail(db: Database, people: People) -> None:
    # given a user created, then given a new password by an administrator
    start = head_seq(db)
    with unit_of_work(db) as s:
        user = auth.add_user(
            s,
            actor=people.admin,
            username="hana",
            full_name="Hana Hash",
            roles=["auditor"],
            password=PASSWORD,
        )
        uid, first_hash = user.id, user.password_hash
    with unit_of_work(db) as s:
        temporary = password_resets.reset_password(
            s, actor=people.admin, user_id=uid, reason="lost"
        ).secret
    with unit_of_work(db) as s:
        user = s.get(User, uid)
        assert user is not None
        second_hash = user.password_hash
    assert first_hash and second_hash and first_hash != second_hash

    # then the trail says the hash changed, but never shows it
    [created, reset] = entries(db, record_type="user", record_id=uid, after=start)
    assert changes_of(created)["password_hash"] == [None, "***"]
    assert reset.action == "reset_password"
    assert changes_of(reset)["password_hash"] == ["***", "***"]
    with unit_of_work(db, write=False) as s:
        trail = " ".join(f"{e.changes} {e.reason}" for e in s.scalars(select(AuditEntry)))
    assert "$argon2" not in trail
    assert first_hash not in trail and second_hash not in trail
    assert PASSWORD not in trail and temporary not in trail


def test_api_token_hashes_are_masked_too(db: Database, people: People) -> None:
    start = head_seq(db)
    with unit_of_work(db) as s:
        qa = auth.user_by_username(s, "qa")
        assert qa is not None
        token, raw_token = auth.issue_login_token(
            s, user=qa, channel=Channel.API, name="lims", valid_days=1
        )
        token_hash = token.token_hash

    [entry] = entries(db, record_type="api_token", after=start)
    assert changes_of(entry)["token_hash"] == [None, "***"]
    assert token_hash not in entry.changes
    assert raw_token not in entry.changes
