"""The key file: the secrets the database does not hold (Part 11 §11.10(c),(e)).

Someone who can write the database can rewrite a plain hash chain from the edit onwards and
move its head. The audit chain is therefore keyed with a secret kept in a file outside the
database (``PHARMAQMS_KEY_FILE``; by default beside the SQLite file, ``var/pharmaqms.key`` for
the default database). Without the file nobody can append an entry, rewrite one or move the
head undetected; with it, the holder can — so its custody is a control of its own
(docs/security.md).

The file is JSON, readable by its owner only (mode 0600)::

    {"format": "pharmaqms-keys/1",
     "keys": {"audit": [{"id": "…", "secret": "<64 hex>", "created_at": "…"}], …}}

Each purpose holds a list so that a purpose whose data can be re-wrapped (the R&D master key)
can rotate; the audit chain is keyed by the first audit key for its whole life.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.engine import make_url

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.settings import get_settings

FORMAT = "pharmaqms-keys/1"
AUDIT = "audit"
# The R&D module's keys: the master key that wraps each project's data key (rotated by adding a
# newer one and re-wrapping), and the seed of the installation's Ed25519 key that signs each
# experiment entry's hash (lifecycle/rnd). Kept here so that one file, under one custody, holds
# every secret the database must not.
RND_MASTER = "rnd_master"
RND_SIGNING = "rnd_signing"
# What a new key file holds; ``ensure_purposes`` adds the missing ones to an older file.
PURPOSES = (AUDIT, RND_MASTER, RND_SIGNING)


class KeyFileError(QMSError):
    status = 503
    code = "key_file_unusable"
    title = "The key file is missing or unsafe"


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes
    created_at: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "secret": self.secret.hex(), "created_at": self.created_at}


def _new_key() -> Key:
    secret = secrets.token_bytes(32)
    # The id names a key without revealing it: a trail records which key keyed it.
    key_id = hashlib.sha256(b"pharmaqms key id" + secret).hexdigest()[:16]
    return Key(key_id, secret, clock.now().isoformat())


class Keyring:
    """The keys of one installation, as read from its key file."""

    def __init__(self, path: Path, keys: dict[str, list[Key]]) -> None:
        self.path = path
        self.keys = keys

    @property
    def audit(self) -> Key:
        return self.keys[AUDIT][0]

    def newest(self, purpose: str) -> Key:
        """The key of ``purpose`` new data is written with (the last one added)."""
        found = self.keys.get(purpose)
        if not found:
            raise KeyFileError(
                f"the key file {self.path} holds no {purpose} key: run pharmaqms init, which "
                "adds the keys a newer version needs to an existing key file"
            )
        return found[-1]

    def key(self, purpose: str, key_id: str) -> Key:
        """The key of ``purpose`` named ``key_id`` (data written under an older key)."""
        for candidate in self.keys.get(purpose, []):
            if candidate.id == key_id:
                return candidate
        raise KeyFileError(
            f"the key file {self.path} has no {purpose} key {key_id}: restore the key file "
            "that holds it from its custody copy"
        )

    def mac(self, text: str) -> str:
        """HMAC-SHA-256 of ``text`` under the audit key (hex)."""
        return hmac.digest(self.audit.secret, text.encode("utf-8"), "sha256").hex()

    @cached_property
    def _head_signing_key(self) -> Ed25519PrivateKey:
        # Derived, not stored: one secret to keep. A published head can then be checked with
        # the public key alone, by someone who must not be able to forge entries.
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"pharmaqms audit head"
        ).derive(self.audit.secret)
        return Ed25519PrivateKey.from_private_bytes(seed)

    @property
    def head_public_key(self) -> str:
        public = self._head_signing_key.public_key()
        return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign_head(self, text: str) -> str:
        return self._head_signing_key.sign(text.encode("utf-8")).hex()

    def head_signature_valid(self, text: str, signature: str, public_key: str) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
            key.verify(bytes.fromhex(signature), text.encode("utf-8"))
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


def key_file_path(database_url: str | None = None) -> Path:
    """Where the key file is: PHARMAQMS_KEY_FILE, else beside the SQLite database file
    (``var/pharmaqms.db`` → ``var/pharmaqms.key``), else ``var/pharmaqms.key``."""
    settings = get_settings()
    if settings.key_file is not None:
        return settings.key_file
    url = make_url(database_url or settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_suffix(".key")
    return settings.var_dir / "pharmaqms.key"


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} can be read or written by others (mode {mode:04o}): it must "
            f"be readable by its owner only (chmod 600 {path})"
        )


def _parse(path: Path, text: str) -> dict[str, list[Key]]:
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"format {document.get('format')!r}, expected {FORMAT}")
        keys = {
            purpose: [Key(k["id"], bytes.fromhex(k["secret"]), k["created_at"]) for k in entries]
            for purpose, entries in document["keys"].items()
        }
        if not keys.get(AUDIT) or len(keys[AUDIT][0].secret) != 32:
            raise ValueError("no 32-byte audit key")
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise KeyFileError(f"the key file {path} is not a pharmaqms key file: {err}") from None
    return keys


_LOADED: dict[Path, Keyring] = {}
_BY_URL: dict[str, Keyring] = {}


def load_keyring(path: Path | None = None) -> Keyring:
    """The installation's keys. Refuses a missing key file and one others may read."""
    path = (path or key_file_path()).resolve()
    cached = _LOADED.get(path)
    if cached is not None:
        return cached
    if not path.exists():
        raise KeyFileError(
            f"the key file {path} is missing: the audit trail can't be written or verified "
            "without it. Restore it from its custody copy, or run pharmaqms init for a new "
            "installation"
        )
    _check_mode(path)
    keyring = Keyring(path, _parse(path, path.read_text(encoding="utf-8")))
    _LOADED[path] = keyring
    return keyring


def keyring_for(database_url: str) -> Keyring:
    """The keys of the installation whose database this is (cached per URL: every audited
    write asks)."""
    found = _BY_URL.get(database_url)
    if found is None:
        found = _BY_URL[database_url] = load_keyring(key_file_path(database_url))
    return found


def use_keys_of(database_url: str, keyring: Keyring) -> None:
    """Answer ``keyring`` for ``database_url`` in this process, wherever that database's own
    key file would be looked for: a sandbox copy of the live database holds the live trail,
    keyed with the live installation's keys."""
    _BY_URL[database_url] = keyring


def create_key_file(path: Path | None = None) -> Keyring:
    """Write a new key file (mode 0600, never over an existing one)."""
    path = (path or key_file_path()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "format": FORMAT,
        "keys": {purpose: [_new_key().as_dict()] for purpose in PURPOSES},
    }
    # O_EXCL: two processes initialising at once must not each write a key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return load_keyring(path)


def _rewrite(path: Path, keys: dict[str, list[Key]]) -> None:
    """Replace the key file's content in one step (written beside it at mode 0600, renamed
    over it): a crash leaves the old file or the new one, never half of one."""
    document = {p: [k.as_dict() for k in entries] for p, entries in keys.items()}
    tmp = path.with_suffix(path.suffix + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"format": FORMAT, "keys": document}, handle, indent=2)
        handle.write("\n")
    tmp.replace(path)
    forget_loaded_keys()


def add_key(path: Path, purpose: str) -> Key:
    """Add a new key for ``purpose`` (a rotation, or a purpose's first key) to the key file."""
    path = path.resolve()
    keyring = load_keyring(path)
    key = _new_key()
    keys = {p: list(entries) for p, entries in keyring.keys.items()}
    keys.setdefault(purpose, []).append(key)
    _rewrite(path, keys)
    return key


def ensure_purposes(path: Path) -> list[str]:
    """Give a key file written by an older version the purposes it lacks (run by init, never
    by a request: two processes adding a key at once could each lose the other's)."""
    path = path.resolve()
    keyring = load_keyring(path)
    missing = [p for p in PURPOSES if not keyring.keys.get(p)]
    if missing:
        keys = {p: list(entries) for p, entries in keyring.keys.items()}
        for purpose in missing:
            keys[purpose] = [_new_key()]
        _rewrite(path, keys)
    return missing


def retire_key(path: Path, purpose: str, key_id: str) -> None:
    """Remove a key that no data needs any more (the master key a rotation replaced, once
    every data key is re-wrapped and the key file's custody copy renewed). The audit key and
    a purpose's newest key are never removed."""
    path = path.resolve()
    keyring = load_keyring(path)
    entries = keyring.keys.get(purpose, [])
    if purpose == AUDIT or not entries or entries[-1].id == key_id:
        raise KeyFileError(f"the {purpose} key {key_id} is in use and can't be retired")
    if all(k.id != key_id for k in entries):
        raise KeyFileError(f"the key file {path} has no {purpose} key {key_id}")
    keys = {p: list(v) for p, v in keyring.keys.items()}
    keys[purpose] = [k for k in entries if k.id != key_id]
    _rewrite(path, keys)


def forget_loaded_keys() -> None:
    """Read the key files again on next use (tests, and after a key was added)."""
    _LOADED.clear()
    _BY_URL.clear()
