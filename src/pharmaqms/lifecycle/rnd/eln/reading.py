"""Reading the notebook in clear (for those who may), and checking its integrity.

``check_entry`` answers two questions an inspector asks of a signed entry: is the stored hash
the one the installation signed (needs only the public key), and is the content the one that
was hashed (needs the data key: the plaintext, every file's bytes, recomputed)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import Conflict, NotFound
from pharmaqms.kernel.keys import RND_SIGNING, KeyFileError
from pharmaqms.kernel.models import User
from pharmaqms.kernel.signatures import SignatureView, signatures_of
from pharmaqms.lifecycle.rnd.eln import vault
from pharmaqms.lifecycle.rnd.eln.crypto import DecryptionRefused, decrypt_field
from pharmaqms.lifecycle.rnd.eln.integrity import (
    EntryPlaintext,
    FileFacts,
    attestation_statement,
    bytes_signature_valid,
    public_key_hex,
    signature_valid,
)
from pharmaqms.lifecycle.rnd.eln.models import (
    Experiment,
    ExperimentEntry,
    RawDataBlob,
    RawDataFile,
)
from pharmaqms.lifecycle.rnd.eln.service import (
    attestations_of,
    entries_of,
    files_of,
    get_experiment,
)


def _open(key: bytes, row: Experiment | ExperimentEntry | RawDataFile, column: str) -> str:
    stored: bytes = getattr(row, f"{column}_ct")
    plain = decrypt_field(key, stored, table=row.__tablename__, uid=row.uid, field=column)
    return plain.decode("utf-8")


@dataclass(frozen=True)
class ExperimentView:
    experiment: Experiment
    protocol: str
    materials: list[str]
    equipment: list[str]


def experiment_view(session: Session, experiment: Experiment) -> ExperimentView:
    key = vault.data_key(session, experiment.project_id)
    return ExperimentView(
        experiment,
        _open(key, experiment, "protocol"),
        json.loads(_open(key, experiment, "materials")),
        json.loads(_open(key, experiment, "equipment")),
    )


@dataclass(frozen=True)
class FileView:
    id: int
    name: str
    size: int
    sha256: str
    media_type: str


def _file_views(session: Session, key: bytes, entry: ExperimentEntry) -> list[FileView]:
    return [
        FileView(f.id, _open(key, f, "name"), f.size, f.sha256, f.media_type)
        for f in files_of(session, entry.id)
    ]


def _author(session: Session, entry: ExperimentEntry) -> str:
    user = session.get(User, entry.created_by_id)
    return user.username if user else f"user #{entry.created_by_id}"


def plaintext_of(session: Session, entry: ExperimentEntry) -> EntryPlaintext:
    """The entry as written, decrypted: what its hash is computed over."""
    experiment = get_experiment(session, entry.experiment_id)
    key = vault.data_key(session, experiment.project_id)
    amended = session.get(ExperimentEntry, entry.amends_id) if entry.amends_id else None
    return EntryPlaintext(
        experiment_number=experiment.number,
        entry_number=entry.number,
        seq=entry.seq,
        amends=amended.number if amended else None,
        author=_author(session, entry),
        written_at=entry.created_at,
        content=_open(key, entry, "content"),
        fields=json.loads(_open(key, entry, "fields")),
        results=_open(key, entry, "results"),
        conclusions=_open(key, entry, "conclusions"),
        files=tuple(
            FileFacts(f.name, f.size, f.sha256, f.media_type)
            for f in _file_views(session, key, entry)
        ),
    )


def file_content(session: Session, file_id: int) -> tuple[RawDataFile, str, bytes]:
    """A raw data file's name and exact bytes, checked against its recorded SHA-256."""
    row = session.get(RawDataFile, file_id)
    if row is None:
        raise NotFound(f"no raw data file #{file_id}")
    entry = session.get(ExperimentEntry, row.entry_id)
    blob = session.get(RawDataBlob, row.blob_id)
    if entry is None or blob is None or blob.file_uid != row.uid:
        raise Conflict(f"raw data file #{file_id} has lost its content")
    key = vault.data_key(session, get_experiment(session, entry.experiment_id).project_id)
    content = decrypt_field(
        key, blob.content_ct, table=RawDataBlob.__tablename__, uid=row.uid, field="content"
    )
    if hashlib.sha256(content).hexdigest() != row.sha256 or len(content) != row.size:
        raise Conflict(f"raw data file #{file_id} does not match its recorded SHA-256")
    return row, _open(key, row, "name"), content


@dataclass
class EntryCheck:
    """The integrity of one entry. ``signature_valid``: the stored hash is the one the
    installation signed; ``content_matches``: the plaintext and files hash to it."""

    signed: bool
    signature_valid: bool = False
    key_known: bool = False
    content_matches: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.signed and self.signature_valid and self.content_matches and not self.problems


def check_entry(session: Session, entry: ExperimentEntry) -> EntryCheck:
    if not entry.entry_hash or not entry.ed25519_signature or not entry.signing_public_key:
        return EntryCheck(signed=False, problems=["not signed yet"])
    check = EntryCheck(signed=True)
    check.signature_valid = signature_valid(
        entry.signing_public_key, entry.entry_hash, entry.ed25519_signature
    )
    if not check.signature_valid:
        check.problems.append("the Ed25519 signature does not match the stored hash")
    try:
        ours = vault.keyring_of(session).key(RND_SIGNING, entry.signing_key_id or "")
        check.key_known = public_key_hex(ours) == entry.signing_public_key
    except KeyFileError:
        check.key_known = False
    if not check.key_known:
        check.problems.append("the signing public key is not one of this installation's keys")
    for attestation in attestations_of(session, entry.id):
        statement = attestation_statement(
            entry.entry_hash,
            attestation.meaning,
            attestation.signer_username,
            attestation.signer_name,
            attestation.signed_at,
        )
        try:
            key = vault.keyring_of(session).key(RND_SIGNING, attestation.signing_key_id)
            valid = bytes_signature_valid(
                public_key_hex(key), statement, attestation.ed25519_signature
            )
        except KeyFileError:
            valid = False
        if not valid:
            check.problems.append(f"the {attestation.meaning} attestation does not verify")
    try:
        plain = plaintext_of(session, entry)
        for row in files_of(session, entry.id):
            file_content(session, row.id)
        check.content_matches = plain.sha256() == entry.entry_hash
        if not check.content_matches:
            check.problems.append("the decrypted content does not hash to the signed hash")
    except (DecryptionRefused, Conflict) as refusal:
        check.problems.append(refusal.detail)
    return check


@dataclass(frozen=True)
class EntryView:
    entry: ExperimentEntry
    author: str
    plaintext: EntryPlaintext | None
    files: list[FileView]
    signatures: list[SignatureView]
    check: EntryCheck
    amended_by: list[str]
    error: str | None = None

    @property
    def witnessed(self) -> bool:
        return any(
            s.meaning == "Read and understood" and s.valid_for_current_content
            for s in self.signatures
        )


def entry_views(session: Session, experiment: Experiment) -> list[EntryView]:
    rows = entries_of(session, experiment.id)
    key = vault.data_key(session, experiment.project_id)
    amended_by: dict[int, list[str]] = {}
    for row in rows:
        if row.amends_id:
            amended_by.setdefault(row.amends_id, []).append(row.number)
    views = []
    for row in rows:
        author = session.get(User, row.created_by_id)
        plain: EntryPlaintext | None = None
        files: list[FileView] = []
        error = None
        try:
            plain = plaintext_of(session, row)
            files = _file_views(session, key, row)
        except DecryptionRefused as refusal:
            error = refusal.detail
        views.append(
            EntryView(
                entry=row,
                author=author.full_name if author else "?",
                plaintext=plain,
                files=files,
                signatures=signatures_of(session, row),
                check=check_entry(session, row),
                amended_by=amended_by.get(row.id, []),
                error=error,
            )
        )
    return views


def check_notebook(session: Session) -> list[tuple[str, EntryCheck]]:
    """Every signed entry of the notebook checked (signature, key, plaintext and files against
    the signed hash): the periodic integrity sweep an installation runs beside audit verify."""
    from sqlalchemy import select

    rows = session.scalars(
        select(ExperimentEntry)
        .where(ExperimentEntry.entry_hash.is_not(None))
        .order_by(ExperimentEntry.id)
    )
    return [(row.number, check_entry(session, row)) for row in rows]
