"""Envelope encryption of the notebook (AES-256-GCM, ``cryptography``).

Each project has its own random data key; the data key is stored only wrapped (encrypted) by
the installation's master key, which lives in the key file outside the database
(kernel/keys.py, purpose ``rnd_master``). Rotating the master key re-wraps the data keys and
leaves every encrypted field as it is: a few rows change, not the notebook.

Every ciphertext carries associated data naming its place — table, the row's ``uid`` and the
column — so a ciphertext copied into another row or column (where the same data key would
otherwise open it) fails authentication instead of showing one record's text in another. A
wrapped data key is bound the same way to its project and to the master key's id.

Stored form: ``version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext and tag``. The nonce is
random per encryption: 96-bit random nonces are safe far beyond the number of fields one key
will ever encrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.keys import Key

VERSION = b"\x01"
NONCE_BYTES = 12
DATA_KEY_BYTES = 32


class DecryptionRefused(QMSError):
    """A ciphertext that does not authenticate: changed, moved from another row, or under
    another key. Never shown as text."""

    status = 409
    code = "ciphertext_not_authentic"
    title = "Encrypted content failed its integrity check"


def field_aad(table: str, uid: str, field: str) -> bytes:
    return f"pharmaqms-rnd/1|{table}|{uid}|{field}".encode()


def _wrap_aad(project_id: int, master_key_id: str) -> bytes:
    return f"pharmaqms-rnd/1|data-key|project:{project_id}|master:{master_key_id}".encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, stored: bytes, aad: bytes, what: str) -> bytes:
    if len(stored) < 1 + NONCE_BYTES + 16 or stored[:1] != VERSION:
        raise DecryptionRefused(f"{what} is not a ciphertext this version wrote")
    nonce, body = stored[1 : 1 + NONCE_BYTES], stored[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionRefused(
            f"{what} failed authentication: it was altered, moved from another record, or "
            "encrypted under another key"
        ) from None


def encrypt_field(data_key: bytes, plaintext: bytes, *, table: str, uid: str, field: str) -> bytes:
    return _seal(data_key, plaintext, field_aad(table, uid, field))


def decrypt_field(data_key: bytes, stored: bytes, *, table: str, uid: str, field: str) -> bytes:
    return _open(data_key, stored, field_aad(table, uid, field), f"{table}.{field} of {uid}")


def wrap_data_key(master: Key, data_key: bytes, project_id: int) -> bytes:
    return _seal(master.secret, data_key, _wrap_aad(project_id, master.id))


def unwrap_data_key(master: Key, wrapped: bytes, project_id: int) -> bytes:
    return _open(
        master.secret,
        wrapped,
        _wrap_aad(project_id, master.id),
        f"the data key of R&D project #{project_id}",
    )
