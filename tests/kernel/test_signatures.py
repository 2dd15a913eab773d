"""Electronic signatures (Part 11 §11.50, §11.70, §11.200): the password is re-entered at the
moment of signing; a wrong one is refused, counted toward lockout and audited; a signature
records who, when, what it means and what it covered, and stays bound to that content."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import (
    SOP_BODY,
    changes_of,
    entries,
    new_sop,
    row,
    signatures,
    snapshot,
    sop_in_state,
    transition,
)
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel import clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, SegregationOfDuties, SignatureRefused
from pharmaqms.kernel.models import ElectronicSignature, User
from pharmaqms.kernel.signatures import signature_hash, signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.models import DocumentVersion


def in_review(db: Database, people: People) -> int:
    return sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")


@pytest.mark.clause("part11:11.50", "part11:11.70", "annex11:14")
@pytest.mark.postgres
def test_a_signature_records_signer_time_meaning_and_the_content_it_covers(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given an SOP in review, and the hash of its content at that moment
    vid = in_review(db, people)
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        covered = content_hash(
            {
                "record_type": "document_version",
                "document_id": version.document_id,
                "major": 1,
                "minor": 0,
                "title": "Line clearance",
                "body": SOP_BODY,
                "change_summary": "",
            }
        )
        assert version.content_hash() == covered
    start = snapshot(db).head[0]
    frozen_clock.advance(hours=2)

    # when QA approves it with their password
    transition(db, people.qa, vid, "approve", password=PASSWORD)

    # then
    [signature] = signatures(db, vid)
    assert signature.signer_id == people.qa.user_id
    assert signature.signer_username == "qa"
    assert signature.signer_name == "Quentin Quality"
    assert signature.meaning == "Approved"
    assert signature.signed_at == frozen_clock.current
    assert signature.signed_at.tzinfo is not None
    assert signature.signed_at.utcoffset() == UTC.utcoffset(None)
    assert signature.content_hash == covered
    assert signature.record_version == 2  # the version it was signed at (submit made it 2)
    assert signature.transition == "approve"
    assert signature.signature_hash == signature_hash(signature)
    assert row(db, DocumentVersion, vid)["status"] == "approved"
    # and the signing is in the trail, just before the transition it authorised
    sign_entry, transition_entry = [
        e for e in entries(db, record_id=vid, after=start) if e.record_type == "document_version"
    ]
    assert sign_entry.action == "sign"
    assert changes_of(sign_entry)["meaning"] == "Approved"
    assert changes_of(sign_entry)["content_hash"] == covered
    assert changes_of(sign_entry)["signature_id"] == signature.id
    assert transition_entry.action == "transition:approve"
    assert changes_of(transition_entry) == {"status": ["in_review", "approved"]}
    # and the manifestation shows name, date and time, and meaning
    with unit_of_work(db, write=False) as s:
        version = s.get(DocumentVersion, vid)
        assert version is not None
        [shown] = signatures_of(s, version)
    assert shown.manifestation == (
        "Approved by Quentin Quality (qa) on 2026-03-02 11:00:00 UTC (+00:00)"
    )
    assert shown.valid_for_current_content


@pytest.mark.clause("part11:11.200")
def test_signing_without_the_password_is_refused_and_nothing_changes(
    db: Database, people: People
) -> None:
    vid = in_review(db, people)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    with pytest.raises(InvalidInput) as refused:
        transition(db, people.qa, vid, "approve")

    assert refused.value.field == "password"
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored


@pytest.mark.clause("part11:11.200", "part11:11.300")
@pytest.mark.postgres
def test_a_wrong_password_is_refused_counted_and_audited_and_the_transition_does_not_happen(
    db: Database, people: People
) -> None:
    # given
    vid = in_review(db, people)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when QA signs with a wrong password
    with pytest.raises(SignatureRefused) as refused:
        transition(db, people.qa, vid, "approve", password="not-my-password")

    # then the refusal says why, and the record did not move
    assert refused.value.status == 401
    assert "the password is wrong; the attempt is recorded" in refused.value.detail
    assert row(db, DocumentVersion, vid) == stored
    assert signatures(db, vid) == []
    # and the attempt counts toward lockout ...
    assert row(db, User, people.qa.user_id)["failed_login_count"] == 1
    # ... and is in the audit trail: the one entry written
    [failed] = entries(db, after=before.head[0])
    assert failed.action == "signature_failed"
    assert (failed.record_type, failed.record_id) == ("user", people.qa.user_id)
    assert failed.reason == "failed signature"
    assert changes_of(failed) == {"failed_login_count": [0, 1]}
    after = snapshot(db)
    assert replace(after, audit_entries=before.audit_entries, head=before.head) == before
    assert after.audit_entries == before.audit_entries + 1


def test_a_wrong_password_through_the_api_is_a_401_problem(
    api, db: Database, people: People
) -> None:  # type: ignore[no-untyped-def]
    vid = in_review(db, people)
    client = api("qa")
    before = snapshot(db)

    response = client.post(
        f"/api/v1/records/document_version/{vid}/transitions/approve",
        json={
            "password": "not-my-password",
            "expected_version": reviewed_version(client, "document_version", vid),
        },
    )

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "signature_refused"
    assert [e.action for e in entries(db, after=before.head[0])] == ["signature_failed"]
    assert row(db, DocumentVersion, vid)["status"] == "in_review"
    assert signatures(db, vid) == []


@pytest.mark.clause("part11:11.70", "annex11:14")
def test_a_change_after_signing_shows_the_signature_as_no_longer_valid(
    db: Database, people: People
) -> None:
    # given an approved SOP
    vid = sop_in_state(db, people.qc, people.qa, "approved", "Line clearance")

    def shown() -> tuple[bool, str]:
        with unit_of_work(db, write=False) as s:
            version = s.get(DocumentVersion, vid)
            assert version is not None
            [signature] = signatures_of(s, version)
            return signature.valid_for_current_content, signature.manifestation

    assert shown()[0] is True

    # when it goes back to draft, its status changes but not what was signed
    transition(db, people.qa, vid, "return_to_draft", reason="step 2.2 needs the IPA grade")
    assert shown()[0] is True

    # when its content changes
    with unit_of_work(db) as s:
        service.edit_draft(
            s, actor=people.qc, version_id=vid, expected_version=4, body=SOP_BODY + " (IPA 70 %)"
        )

    # then the signature no longer covers it, and says so wherever it is shown
    valid, manifestation = shown()
    assert valid is False
    assert manifestation.endswith("— NO LONGER VALID: the record changed after signing")


@pytest.mark.clause("part11:11.70", "annex11:14")
def test_a_signature_hash_breaks_when_the_signature_is_moved_to_another_record() -> None:
    # given a signature as it was made
    from datetime import datetime

    signature = ElectronicSignature(
        record_type="document_version",
        record_id=7,
        record_label="SOP-2026-0007 v1.0",
        signer_id=3,
        signer_username="qa",
        signer_name="Quentin Quality",
        meaning="Approved",
        signed_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        content_hash="ab" * 32,
        record_version=2,
        transition="approve",
        comment=None,
    )
    signature.signature_hash = signature_hash(signature)

    # when it is pointed at another record, or re-dated, or re-worded
    for field, value in (
        ("record_id", 8),
        ("record_type", "capa"),
        ("signed_at", datetime(2026, 3, 1, 11, 0, tzinfo=UTC)),
        ("meaning", "Reviewed"),
        ("signer_id", 4),
        ("content_hash", "cd" * 32),
    ):
        original = getattr(signature, field)
        setattr(signature, field, value)
        # then its hash no longer matches
        assert signature_hash(signature) != signature.signature_hash, field
        setattr(signature, field, original)
    assert signature_hash(signature) == signature.signature_hash


@pytest.mark.clause("part11:11.10(g)")
@pytest.mark.postgres
def test_the_author_cannot_approve_their_own_sop(db: Database, people: People) -> None:
    # given an SOP written by QA
    vid = sop_in_state(db, people.qa, people.qa, "in_review", "Line clearance")
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when its author approves it, with the right password
    with pytest.raises(SegregationOfDuties) as refused:
        transition(db, people.qa, vid, "approve", password=PASSWORD)

    # then
    assert refused.value.status == 403
    assert "the author of" in refused.value.detail
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored
    assert row(db, User, people.qa.user_id)["failed_login_count"] == 0
    # while another QA person may
    transition(db, people.qa2, vid, "approve", password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        signers = list(s.scalars(select(ElectronicSignature.signer_username)))
    assert signers == ["qa2"]


@pytest.mark.clause("part11:11.10(g)")
def test_a_draft_created_by_one_person_can_be_signed_only_by_its_approvers(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    before = snapshot(db)

    # a QC analyst is not an approver of SOPs
    from pharmaqms.kernel.errors import PermissionDenied

    with pytest.raises(PermissionDenied) as refused:
        transition(db, people.qc, vid, "approve", password=PASSWORD)

    assert "needs one of the roles qa, qualified_person" in refused.value.detail
    assert snapshot(db) == before
