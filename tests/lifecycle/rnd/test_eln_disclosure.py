"""Selective disclosure: the bundle holds the chosen entries decrypted and nothing of the
others but their hash and signature; ``pharmaqms rnd verify`` checks it offline, and any
tampering with the bundle — content, a raw data file, a hash, a signature, a different key —
makes it fail."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.kernel.cli import run_cli
from tests.lifecycle.rnd.eln_steps import MARKER, RAW, counts, notebook, signed_entry, write
from tests.support import PASSWORD

from pharmaqms.kernel.errors import InvalidInput, PermissionDenied
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln import disclosure, service
from pharmaqms.lifecycle.rnd.eln.crypto import DecryptionRefused  # noqa: F401 - documents the failure kind

SECOND = "SECOND-ENTRY-SECRET-3390 withheld from the inspector"


def _book(db: Any, people: Any) -> tuple[Any, int, int]:
    book = notebook(db, people)
    first = signed_entry(db, people, book)
    second = signed_entry(db, people, book, content=SECOND, files=())
    with unit_of_work(db) as s:
        service.witness_entry(s, actor=people.qa, entry_id=first, password=PASSWORD)
    return book, first, second


def _export(db: Any, people: Any, book: Any, seqs: list[int]) -> disclosure.Bundle:
    with unit_of_work(db) as s:
        return disclosure.export_entries(
            s, actor=people.qa, experiment_id=book.experiment_id, entry_seqs=seqs
        )


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _rezip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_the_bundle_discloses_only_the_chosen_entries_and_verifies(db: Any, people: Any) -> None:
    book, _first, _second = _book(db, people)

    bundle = _export(db, people, book, [1])

    members = _members(bundle.content)
    everything = b"".join(members.values())
    assert MARKER.encode() in everything and SECOND.encode() not in everything
    (raw_name,) = [n for n in members if n.startswith("files/")]
    assert members[raw_name] == RAW
    manifest = json.loads(members["manifest.json"])
    (entry,) = manifest["entries"]
    assert [s["meaning"] for s in entry["signatures"]] == ["Authored", "Read and understood"]
    assert [w["seq"] for w in manifest["withheld"]] == [2]
    assert json.loads(members["report.json"])["valid"] is True
    assert "Result: VALID" in members["report.txt"].decode()
    assert members["report.pdf"].startswith(b"%PDF-")
    report = disclosure.verify_bundle(bundle.content)
    assert report.valid, report.as_dict()
    # the author's and the witness's signatures are attested by the installation's key
    signed_by = report.entries[0].signed_by
    assert [s.split(" by ")[0] for s in signed_by] == ["Authored", "Read and understood"]
    assert "(rd)" in signed_by[0] and "(qa)" in signed_by[1]
    # and the disclosure is in the audit trail: who, which entries, the bundle's digest
    with unit_of_work(db, write=False) as s:
        from sqlalchemy import select

        event = s.scalars(select(AuditEntry).where(AuditEntry.action == "disclose")).one()
        details = json.loads(event.changes)
        assert details["bundle_sha256"] == hashlib.sha256(bundle.content).hexdigest()
        assert details["entries"] == bundle.disclosed
        assert event.actor_username == "qa"


def _tamper_content(m: dict[str, bytes]) -> None:
    manifest = json.loads(m["manifest.json"])
    manifest["entries"][0]["plaintext"]["results"] = "Q30 = 97 %"
    m["manifest.json"] = json.dumps(manifest).encode()


def _tamper_file(m: dict[str, bytes]) -> None:
    (name,) = [n for n in m if n.startswith("files/")]
    m[name] = m[name][:-1] + bytes([m[name][-1] ^ 1])


def _tamper_hash_and_content(m: dict[str, bytes]) -> None:
    from pharmaqms.kernel.canonical import canonical_json

    manifest = json.loads(m["manifest.json"])
    entry = manifest["entries"][0]
    entry["plaintext"]["results"] = "Q30 = 97 %"
    entry["entry_hash"] = hashlib.sha256(canonical_json(entry["plaintext"]).encode()).hexdigest()
    m["manifest.json"] = json.dumps(manifest).encode()


def _tamper_signature(m: dict[str, bytes]) -> None:
    manifest = json.loads(m["manifest.json"])
    signature = manifest["entries"][0]["ed25519_signature"]
    manifest["entries"][0]["ed25519_signature"] = ("1" if signature[0] != "1" else "2") + signature[
        1:
    ]
    m["manifest.json"] = json.dumps(manifest).encode()


def _tamper_witness(m: dict[str, bytes]) -> None:
    manifest = json.loads(m["manifest.json"])
    manifest["entries"][0]["attestations"][1]["signer"] = "rd"  # the author as their own witness
    m["manifest.json"] = json.dumps(manifest).encode()


def _drop_file(m: dict[str, bytes]) -> None:
    (name,) = [n for n in m if n.startswith("files/")]
    del m[name]


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_content,
        _tamper_file,
        _tamper_hash_and_content,
        _tamper_signature,
        _tamper_witness,
        _drop_file,
    ],
)
def test_a_tampered_bundle_fails_verification(
    db: Any, people: Any, tamper: Callable[[dict[str, bytes]], None]
) -> None:
    book, _first, _second = _book(db, people)
    members = _members(_export(db, people, book, [1]).content)

    tamper(members)

    report = disclosure.verify_bundle(_rezip(members))
    assert not report.valid
    assert report.entries and not report.entries[0].ok


def test_a_bundle_re_signed_with_another_key_fails_against_the_published_key(
    db: Any, people: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from pharmaqms.kernel.canonical import canonical_json
    from pharmaqms.lifecycle.rnd.eln.integrity import attestation_statement, statement

    book, _first, _second = _book(db, people)
    members = _members(_export(db, people, book, [1]).content)
    manifest = json.loads(members["manifest.json"])
    published = next(iter(manifest["public_keys"].values()))
    forger = Ed25519PrivateKey.generate()
    entry = manifest["entries"][0]
    entry["plaintext"]["conclusions"] = "fails the target profile"
    entry["entry_hash"] = hashlib.sha256(canonical_json(entry["plaintext"]).encode()).hexdigest()
    entry["ed25519_signature"] = forger.sign(statement(entry["entry_hash"])).hex()
    for item in entry["attestations"]:  # the forger re-attests the signatures too
        item["ed25519_signature"] = forger.sign(
            attestation_statement(
                entry["entry_hash"],
                item["meaning"],
                item["signer"],
                item["signer_name"],
                item["signed_at"],
            )
        ).hex()
    forged_key = forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    manifest["public_keys"] = {entry["signing_key_id"]: forged_key}
    manifest["withheld"] = []
    members["manifest.json"] = json.dumps(manifest).encode()
    forged = _rezip(members)

    # consistent in itself, so only the company's published key tells it apart
    assert disclosure.verify_bundle(forged).entries[0].ok
    assert not disclosure.verify_bundle(forged, public_key=published).valid


def test_cli_export_then_verify_offline(db: Any, people: Any, tmp_path: Path) -> None:
    book, _first, _second = _book(db, people)
    with unit_of_work(db, write=False) as s:
        number = service.get_experiment(s, book.experiment_id).number
    out = tmp_path / "disclosure.zip"

    exported = run_cli(db, "rnd", "export", number, "--entries", "1", "--out", str(out))
    checked = run_cli(db, "rnd", "verify", str(out), "--json")
    keys = run_cli(db, "rnd", "public-key")

    assert exported.exit_code == 0, exported.output
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["valid"] is True
    public = keys.stdout.split()[1]
    assert run_cli(db, "rnd", "verify", str(out), "--public-key", public).exit_code == 0
    members = _members(out.read_bytes())
    _tamper_file(members)
    out.write_bytes(_rezip(members))
    failed = run_cli(db, "rnd", "verify", str(out))
    assert failed.exit_code == 1 and "NOT VALID" in failed.stdout


def test_disclosure_refusals_write_nothing(db: Any, people: Any, tmp_path: Path) -> None:
    book, _first, _second = _book(db, people)
    write(db, people, book, "a draft", files=())
    trail = counts(db)

    with unit_of_work(db) as s, pytest.raises(PermissionDenied):
        disclosure.export_entries(
            s, actor=people.rd, experiment_id=book.experiment_id, entry_seqs=[1]
        )
    for seqs, why in (([], "at least one"), ([9], "has no entry 9"), ([3], "is a draft")):
        with unit_of_work(db) as s, pytest.raises(InvalidInput, match=why):
            disclosure.export_entries(
                s, actor=people.qa, experiment_id=book.experiment_id, entry_seqs=seqs
            )
    out = tmp_path / "none.zip"
    refused = run_cli(db, "rnd", "export", "EXP-0000", "--entries", "1", "--out", str(out))
    assert refused.exit_code == 2 and not out.exists()
    assert counts(db) == trail


def test_a_truncated_or_foreign_file_is_not_a_valid_bundle() -> None:
    assert not disclosure.verify_bundle(b"not a zip").valid
    assert not disclosure.verify_bundle(_rezip({"manifest.json": b"{}"})).valid
    assert not disclosure.verify_bundle(_rezip({"other.txt": b"x"})).valid
