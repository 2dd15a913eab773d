"""Notebook records through the services: encryption round trip, the binding of each
ciphertext to its row, signing and witnessing, amendments, and the refusals (each leaving
the database as it was)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.lifecycle.rnd.eln_steps import (
    MARKER,
    RAW,
    counts,
    notebook,
    sign,
    signed_entry,
    write,
)
from tests.support import PASSWORD

from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
    SegregationOfDuties,
)
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.lifecycle.rnd.eln import reading, service
from pharmaqms.lifecycle.rnd.eln.crypto import DecryptionRefused
from pharmaqms.lifecycle.rnd.eln.models import ExperimentEntry
from pharmaqms.lifecycle.rnd.eln.uploads import Upload

pytestmark = pytest.mark.postgres


def _row(db: Any, entry_id: int) -> dict[str, Any]:
    with db.engine.connect() as conn:
        found = (
            conn.execute(select(ExperimentEntry.__table__).where(ExperimentEntry.id == entry_id))
            .mappings()
            .one()
        )
        return dict(found)


def test_what_a_scientist_writes_is_stored_encrypted_and_reads_back_exactly(
    db: Any, people: Any
) -> None:
    book = notebook(db, people)

    entry_id = write(db, people, book)

    stored = _row(db, entry_id)
    assert MARKER.encode() not in stored["content_ct"]
    assert stored["content_ct"][:1] == b"\x01" and len(stored["content_ct"]) > len(MARKER)
    with unit_of_work(db, write=False) as s:
        entry = service.get_entry(s, entry_id)
        text = reading.plaintext_of(s, entry)
        assert (text.content, text.results, text.conclusions) == (
            MARKER,
            "Q30 = 87 %",
            "meets the target profile",
        )
        assert text.fields == {"medium": "pH 6.8 buffer", "rpm": "50"}
        (only,) = service.files_of(s, entry_id)
        row, name, content = reading.file_content(s, only.id)
        assert (name, content, row.media_type) == ("spectrum.bin", RAW, "application/octet-stream")
        view = reading.experiment_view(s, service.get_experiment(s, book.experiment_id))
        assert view.protocol == "Six vessels, 900 mL, 37 °C"
        assert view.materials == ["API-X lot 12", "lactose"]
        # and the audit trail shows the encrypted columns masked, never their bytes
        assert verify(s).intact


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(db: Any, people: Any) -> None:
    book = notebook(db, people)
    first = write(db, people, book, "first entry text", files=())
    second = write(db, people, book, "second entry text", files=())
    a, b = _row(db, first), _row(db, second)

    # the tamperer swaps the two entries' content ciphertexts behind the application's back
    with db.engine.begin() as conn:
        table = ExperimentEntry.__table__
        conn.execute(update(table).where(table.c.id == first).values(content_ct=b["content_ct"]))
        conn.execute(update(table).where(table.c.id == second).values(content_ct=a["content_ct"]))

    with unit_of_work(db, write=False) as s:
        for entry_id in (first, second):
            with pytest.raises(DecryptionRefused, match="moved from another record"):
                reading.plaintext_of(s, service.get_entry(s, entry_id))
    # and within one row, a ciphertext moved to another column is refused as well
    with db.engine.begin() as conn:
        table = ExperimentEntry.__table__
        conn.execute(update(table).where(table.c.id == first).values(results_ct=a["content_ct"]))
    with unit_of_work(db, write=False) as s, pytest.raises(DecryptionRefused):
        reading.plaintext_of(s, service.get_entry(s, first))


def test_signing_hashes_the_plaintext_signs_it_and_takes_the_authors_e_signature(
    db: Any, people: Any
) -> None:
    book = notebook(db, people)
    entry_id = write(db, people, book)

    sign(db, people, entry_id)

    with unit_of_work(db, write=False) as s:
        entry = service.get_entry(s, entry_id)
        check = reading.check_entry(s, entry)
        assert entry.status == "signed"
        assert entry.entry_hash == reading.plaintext_of(s, entry).sha256()
        assert check.intact, check.problems
        (signature,) = s.scalars(
            select(ElectronicSignature).where(ElectronicSignature.record_id == entry_id)
        )
        assert (signature.meaning, signature.signer_username) == ("Authored", "rd")
        assert signature.content_hash == entry.content_hash()


def test_a_flipped_byte_in_the_stored_content_fails_verification(db: Any, people: Any) -> None:
    book = notebook(db, people)
    entry_id = signed_entry(db, people, book)
    stored = bytearray(_row(db, entry_id)["content_ct"])
    stored[20] ^= 0x01

    with db.engine.begin() as conn:
        table = ExperimentEntry.__table__
        conn.execute(update(table).where(table.c.id == entry_id).values(content_ct=bytes(stored)))

    with unit_of_work(db, write=False) as s:
        check = reading.check_entry(s, service.get_entry(s, entry_id))
        assert check.signature_valid  # the signed hash itself is untouched
        assert not check.content_matches and not check.intact
        assert any("failed authentication" in p for p in check.problems)


def test_a_changed_hash_fails_the_signature_check_without_any_key(db: Any, people: Any) -> None:
    book = notebook(db, people)
    entry_id = signed_entry(db, people, book)
    forged = "0" * 64

    with db.engine.begin() as conn:
        table = ExperimentEntry.__table__
        conn.execute(update(table).where(table.c.id == entry_id).values(entry_hash=forged))

    with unit_of_work(db, write=False) as s:
        check = reading.check_entry(s, service.get_entry(s, entry_id))
        assert not check.signature_valid and not check.intact


def test_a_signed_entry_is_never_edited_and_the_refusal_changes_nothing(
    db: Any, people: Any
) -> None:
    book = notebook(db, people)
    entry_id = signed_entry(db, people, book)
    before, trail = _row(db, entry_id), counts(db)

    with unit_of_work(db) as s, pytest.raises(Conflict, match="write an amendment"):
        service.edit_entry(s, actor=people.rd, entry_id=entry_id, content="changed my mind")

    assert _row(db, entry_id) == before
    assert counts(db) == trail


def test_a_draft_is_edited_by_its_author_and_then_signed(db: Any, people: Any) -> None:
    book = notebook(db, people)
    entry_id = write(db, people, book, "first draft", files=())

    with unit_of_work(db) as s:
        service.edit_entry(
            s, actor=people.rd, entry_id=entry_id, content="second draft", results="ok"
        )
    sign(db, people, entry_id)

    with unit_of_work(db, write=False) as s:
        entry = service.get_entry(s, entry_id)
        assert reading.plaintext_of(s, entry).content == "second draft"
        assert reading.check_entry(s, entry).intact


def test_an_amendment_is_a_new_entry_pointing_at_the_one_it_amends(db: Any, people: Any) -> None:
    book = notebook(db, people)
    original = signed_entry(db, people, book)
    before = _row(db, original)

    amendment = signed_entry(
        db, people, book, content="Q30 recalculated: 86 %", files=(), amends_id=original
    )

    assert _row(db, original) == before
    with unit_of_work(db, write=False) as s:
        experiment = service.get_experiment(s, book.experiment_id)
        views = {v.entry.id: v for v in reading.entry_views(s, experiment)}
        assert views[amendment].entry.amends_id == original
        assert views[original].amended_by == [views[amendment].entry.number]
        assert views[amendment].plaintext is not None
        assert views[amendment].plaintext.amends == views[original].entry.number
        assert all(v.check.intact for v in views.values())


def test_a_draft_can_not_be_amended_and_an_entry_of_another_experiment_neither(
    db: Any, people: Any
) -> None:
    book = notebook(db, people)
    other = notebook(db, people, code="FORM-02")
    draft = write(db, people, book, files=())
    foreign = signed_entry(db, people, other, files=())
    trail = counts(db)

    with pytest.raises(Conflict, match="is a draft"):
        write(db, people, book, amends_id=draft)
    with pytest.raises(InvalidInput, match="is not an entry of"):
        write(db, people, book, amends_id=foreign)

    assert counts(db) == trail


def test_a_witness_co_signs_and_the_author_may_not_witness_their_own_entry(
    db: Any, people: Any
) -> None:
    book = notebook(db, people)
    entry_id = signed_entry(db, people, book)
    trail = counts(db)

    with unit_of_work(db) as s, pytest.raises(SegregationOfDuties):
        service.witness_entry(s, actor=people.rd, entry_id=entry_id, password=PASSWORD)
    assert counts(db) == trail

    with unit_of_work(db) as s:
        service.witness_entry(s, actor=people.qa, entry_id=entry_id, password=PASSWORD)

    with unit_of_work(db, write=False) as s:
        entry = service.get_entry(s, entry_id)
        (view,) = reading.entry_views(s, service.get_experiment(s, book.experiment_id))
        assert entry.status == "witnessed" and view.witnessed
        meanings = [
            (v.meaning, v.signer_username, v.valid_for_current_content) for v in view.signatures
        ]
        assert meanings == [("Authored", "rd", True), ("Read and understood", "qa", True)]
        assert view.check.intact


def test_only_the_author_signs_a_draft(db: Any, people: Any) -> None:
    book = notebook(db, people)
    entry_id = write(db, people, book, files=())
    trail = counts(db)
    with unit_of_work(db) as s, pytest.raises(PermissionDenied):
        service.sign_entry(s, actor=people.qa, entry_id=entry_id, password=PASSWORD)
    with unit_of_work(db) as s, pytest.raises(Conflict, match="only the author"):
        service.sign_entry(s, actor=people.admin, entry_id=entry_id, password=PASSWORD)
    assert _row(db, entry_id)["status"] == "draft"
    assert counts(db) == trail


def test_bad_input_is_refused_with_its_field_and_nothing_is_written(
    db: Any, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = notebook(db, people)
    trail = counts(db)
    from pharmaqms.kernel.settings import get_settings

    monkeypatch.setattr(get_settings(), "rnd_max_file_bytes", 2048)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": "  "}, "content"),
        ({"fields": {"rpm": "fast"}}, "fields"),
        ({"fields": {"colour": "red"}}, "fields"),
        ({"files": (Upload("big.raw", b"x" * 4096),)}, "files"),
        ({"files": (Upload("", b"x"),)}, "files"),
        ({"files": (Upload("empty.csv", b""),)}, "files"),
    ]
    for given, field in cases:
        arguments: dict[str, Any] = {"content": "text", **given}
        with unit_of_work(db) as s, pytest.raises(InvalidInput) as refused:
            service.write_entry(s, actor=people.rd, experiment_id=book.experiment_id, **arguments)
        assert refused.value.field == field, given
    assert counts(db) == trail


def test_the_project_code_is_unique_and_shaped(db: Any, people: Any) -> None:
    notebook(db, people)
    trail = counts(db)
    with unit_of_work(db) as s, pytest.raises(Conflict):
        service.create_project(s, actor=people.rd, code="form-01", title="again")
    with unit_of_work(db) as s, pytest.raises(InvalidInput):
        service.create_project(s, actor=people.rd, code="bad code!", title="x")
    assert counts(db) == trail


def test_experiment_details_are_json_lists(db: Any, people: Any) -> None:
    book = notebook(db, people)
    with unit_of_work(db, write=False) as s:
        view = reading.experiment_view(s, service.get_experiment(s, book.experiment_id))
        assert json.loads(json.dumps(view.equipment)) == ["Dissolution bath DB-2"]


def test_the_integrity_sweep_names_the_entry_changed_behind_the_applications_back(
    db: Any, people: Any
) -> None:
    from tests.kernel.cli import run_cli

    book = notebook(db, people)
    kept = signed_entry(db, people, book, files=())
    changed = signed_entry(db, people, book, content="to be tampered", files=())
    write(db, people, book, "a draft is not checked", files=())
    assert run_cli(db, "rnd", "check").exit_code == 0
    stored = bytearray(_row(db, changed)["results_ct"])
    stored[-1] ^= 0x80
    with db.engine.begin() as conn:
        table = ExperimentEntry.__table__
        conn.execute(update(table).where(table.c.id == changed).values(results_ct=bytes(stored)))

    result = run_cli(db, "rnd", "check", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    with unit_of_work(db, write=False) as s:
        number = service.get_entry(s, changed).number
        assert service.get_entry(s, kept).number not in result.stdout
    assert (report["checked"], report["intact"]) == (2, 1)
    assert [f["entry"] for f in report["failed"]] == [number]


def test_each_signature_is_attested_and_a_rewritten_attestation_is_found(
    db: Any, people: Any
) -> None:
    from pharmaqms.lifecycle.rnd.eln.models import EntryAttestation

    book = notebook(db, people)
    entry_id = signed_entry(db, people, book, files=())
    with unit_of_work(db) as s:
        service.witness_entry(s, actor=people.qa, entry_id=entry_id, password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        found = [(a.meaning, a.signer_username) for a in service.attestations_of(s, entry_id)]
        assert found == [("Authored", "rd"), ("Read and understood", "qa")]
        assert reading.check_entry(s, service.get_entry(s, entry_id)).intact

    # the witness's name rewritten behind the application's back
    with db.engine.begin() as conn:
        table = EntryAttestation.__table__
        conn.execute(
            update(table)
            .where(table.c.entry_id == entry_id, table.c.signer_username == "qa")
            .values(signer_username="qa2")
        )

    with unit_of_work(db, write=False) as s:
        check = reading.check_entry(s, service.get_entry(s, entry_id))
        assert not check.intact
        assert check.problems == ["the Read and understood attestation does not verify"]
