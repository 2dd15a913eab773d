"""The notebook's tables. Columns ending in ``_ct`` hold AES-GCM ciphertext (``crypto``): the
audit trail shows them masked, the state hash still covers them. What stays in clear is what
a register, a search and an integrity check need without the key: numbers, titles, who and
when, statuses, sizes and the SHA-256 hashes and signatures."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, SealedData


def new_uid() -> str:
    """A row's identity fixed before it is written: the associated data of its ciphertexts
    names it, so a ciphertext moved to another row no longer decrypts."""
    return secrets.token_hex(16)


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class TemplateStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class ExperimentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EntryStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    WITNESSED = "witnessed"


class RndProject(GxPRecord, Base):
    """An R&D project: its code, title and lead. Its data key (``RndDataKey``) encrypts every
    experiment of the project."""

    __tablename__ = "rnd_projects"
    __audit_type__ = "rnd_project"
    __number_prefix__ = "RDP"
    __draft_states__ = frozenset({ProjectStatus.ACTIVE.value})

    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")


class RndDataKey(Audited, Base):
    """A project's data key, wrapped (AES-GCM) by the master key named by ``master_key_id``.
    Rotating the master key re-wraps this row and touches no encrypted data."""

    __tablename__ = "rnd_data_keys"
    __audit_type__ = "rnd_data_key"
    __audit_masked__ = frozenset({"wrapped"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), unique=True, nullable=False
    )
    master_key_id: Mapped[str] = mapped_column(String(40), nullable=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    wrapped_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"data key of R&D project #{self.project_id}"


class ExperimentTemplate(GxPRecord, Base):
    """The structure of an experiment type: ``sections`` is a list of
    ``{"title": ..., "fields": [{"name": ..., "label": ..., "kind": "text"|"number"}]}``,
    filled in by each entry. Not secret: a template is a method, not a result."""

    __tablename__ = "rnd_templates"
    __audit_type__ = "rnd_template"
    __number_prefix__ = "RDT"
    __draft_states__ = frozenset({TemplateStatus.ACTIVE.value})

    experiment_type: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)


class Experiment(GxPRecord, Base):
    """An experiment of a project: its title in clear; its protocol, the materials and the
    equipment used encrypted."""

    __tablename__ = "rnd_experiments"
    __audit_type__ = "rnd_experiment"
    __number_prefix__ = "EXP"
    __draft_states__ = frozenset({ExperimentStatus.OPEN.value})
    __audit_masked__ = frozenset({"protocol_ct", "materials_ct", "equipment_ct"})

    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), nullable=False, index=True
    )
    template_id: Mapped[int | None] = mapped_column(ForeignKey("rnd_templates.id"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    protocol_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    materials_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    equipment_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ExperimentEntry(GxPRecord, Base):
    """One entry of an experiment's notebook: content, the template's fields, results and
    conclusions (encrypted), its raw data files, and — once its author signed it — the SHA-256
    of its canonical plaintext and the installation's Ed25519 signature of that hash, both in
    clear so that integrity is provable without the key. ``amends_id``: the signed entry this
    one corrects (the amended entry itself never changes)."""

    __tablename__ = "rnd_entries"
    __audit_type__ = "rnd_entry"
    __number_prefix__ = "ENT"
    __draft_states__ = frozenset({EntryStatus.DRAFT.value})
    __audit_masked__ = frozenset({"content_ct", "fields_ct", "results_ct", "conclusions_ct"})
    # What the author's and the witness's electronic signatures cover: the ciphertexts and the
    # hash and signature of the plaintext (the witness signs what the author signed).
    __signed_fields__ = (
        "uid",
        "experiment_id",
        "amends_id",
        "content_ct",
        "fields_ct",
        "results_ct",
        "conclusions_ct",
        "entry_hash",
        "ed25519_signature",
        "signing_key_id",
    )
    __table_args__ = (UniqueConstraint("experiment_id", "seq"),)

    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_experiments.id"), nullable=False, index=True
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("rnd_entries.id"))
    content_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    fields_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    results_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    conclusions_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    ed25519_signature: Mapped[str | None] = mapped_column(String(128))
    signing_key_id: Mapped[str | None] = mapped_column(String(40))
    signing_public_key: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return self.number or f"entry {self.seq} of experiment #{self.experiment_id}"


class RawDataFile(Audited, Base):
    """A raw data file of an entry: its name (encrypted), its size and the SHA-256 of its exact
    bytes (in clear, part of the entry's hash); the bytes, encrypted, in ``RawDataBlob``."""

    __tablename__ = "rnd_files"
    __audit_type__ = "rnd_file"
    __audit_masked__ = frozenset({"name_ct"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    entry_id: Mapped[int] = mapped_column(ForeignKey("rnd_entries.id"), nullable=False, index=True)
    blob_id: Mapped[int] = mapped_column(ForeignKey("rnd_file_blobs.id"), nullable=False)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"raw data file #{self.id} of entry #{self.entry_id}"


class RawDataBlob(SealedData, Base):
    """The encrypted bytes of a raw data file. Never changed: append-only and sealed into the
    audit chain; its associated data names the file row it belongs to (``file_uid``)."""

    __tablename__ = "rnd_file_blobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)


class EntryAttestation(Audited, Base):
    """The installation's Ed25519 attestation of an electronic signature on an entry: that
    ``signer_username`` signed the entry whose hash is ``entry_hash`` with ``meaning`` at
    ``signed_at`` (``integrity.attestation_statement``). It lets a disclosure bundle prove the
    author's and the witness's signatures offline, which the password-based electronic
    signature alone can't."""

    __tablename__ = "rnd_attestations"
    __audit_type__ = "rnd_attestation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("rnd_entries.id"), nullable=False, index=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("electronic_signatures.id"), unique=True, nullable=False
    )
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    meaning: Mapped[str] = mapped_column(String(40), nullable=False)
    signer_username: Mapped[str] = mapped_column(String(64), nullable=False)
    signer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(nullable=False)
    ed25519_signature: Mapped[str] = mapped_column(String(128), nullable=False)
    signing_key_id: Mapped[str] = mapped_column(String(40), nullable=False)

    def audit_label(self) -> str:
        return f"{self.meaning} attestation of entry #{self.entry_id}"
