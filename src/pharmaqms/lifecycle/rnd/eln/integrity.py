"""What an entry's signature covers, and the signing itself.

The hash of an entry is SHA-256 over the canonical JSON (kernel/canonical.py) of its
plaintext: the experiment and entry it is, the entry it amends, its content, template fields,
results and conclusions, and each raw data file's name, size and SHA-256 (the files' bytes
enter through their hashes). The installation's Ed25519 key (key file, purpose
``rnd_signing``) signs the statement ``pharmaqms-eln-entry/1 <hash>``.

Both the hash and the signature are stored in clear, so anyone holding the public key can
check that the hash is the one signed without the data key; whoever may decrypt recomputes the
hash from the plaintext and so proves the content is the one signed.

Why an installation key and not one key per scientist: the person is bound by the kernel's
electronic signature ("Authored", password re-entered, Part 11 §11.50/§11.200), which covers
the same hash; the Ed25519 signature proves that this system recorded exactly this content at
that moment, checkable offline by an inspector with one public key. Per-user key pairs would
need per-user key custody (a private key protected by each person's password, re-issued at
every password reset), for no gain over the e-signature that already names the person.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.kernel.keys import Key

STATEMENT = "pharmaqms-eln-entry/1"
ATTESTATION = "pharmaqms-eln-attestation/1"


@dataclass(frozen=True)
class FileFacts:
    name: str
    size: int
    sha256: str
    media_type: str


@dataclass(frozen=True)
class EntryPlaintext:
    """An entry as its author wrote it: what the hash is computed over."""

    experiment_number: str
    entry_number: str
    seq: int
    amends: str | None
    author: str
    written_at: datetime
    content: str
    fields: dict[str, str]
    results: str
    conclusions: str
    files: tuple[FileFacts, ...]

    def canonical(self) -> dict[str, Any]:
        return {
            "format": STATEMENT,
            "experiment": self.experiment_number,
            "entry": self.entry_number,
            "seq": self.seq,
            "amends": self.amends,
            "author": self.author,
            "written_at": self.written_at,
            "content": self.content,
            "fields": self.fields,
            "results": self.results,
            "conclusions": self.conclusions,
            "files": [
                {"name": f.name, "size": f.size, "sha256": f.sha256, "media_type": f.media_type}
                for f in sorted(self.files, key=lambda f: (f.sha256, f.name))
            ],
        }

    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.canonical()).encode("utf-8")).hexdigest()


def statement(entry_hash: str) -> bytes:
    return f"{STATEMENT} {entry_hash}".encode()


@cache
def _private(secret: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(secret)


def public_key_hex(key: Key) -> str:
    public = _private(key.secret).public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign_hash(key: Key, entry_hash: str) -> str:
    return _private(key.secret).sign(statement(entry_hash)).hex()


def signature_valid(public_key: str, entry_hash: str, signature: str) -> bool:
    """Whether ``signature`` is the Ed25519 signature of the entry hash under ``public_key``
    (all hex). Needs no secret: what an inspector runs."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), statement(entry_hash))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def attestation_statement(
    entry_hash: str, meaning: str, signer_username: str, signer_name: str, signed_at: Any
) -> bytes:
    """What the installation signs when a person signs an entry electronically: the entry's
    hash, the meaning, who and when (``signed_at`` a datetime, or its canonical string)."""
    return canonical_json(
        {
            "format": ATTESTATION,
            "entry_hash": entry_hash,
            "meaning": meaning,
            "signer": signer_username,
            "signer_name": signer_name,
            "signed_at": signed_at,
        }
    ).encode("utf-8")


def sign_bytes(key: Key, message: bytes) -> str:
    return _private(key.secret).sign(message).hex()


def bytes_signature_valid(public_key: str, message: bytes, signature: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
