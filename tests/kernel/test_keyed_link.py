"""The prepared keyed link of the append and verify loops gives the bytes of HMAC-SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import os

from pharmaqms.kernel.chain import keyed_linker


def test_prepared_link_is_hmac_sha256_for_every_length_and_call() -> None:
    for secret in (os.urandom(32), b"\x00" * 32, os.urandom(64)):
        keyed = keyed_linker(secret)
        for size in (0, 1, 55, 63, 64, 65, 750, 10_000):
            data = os.urandom(size)
            expected = hmac.digest(secret, data, "sha256").hex()
            # Twice: a call must not leave its bytes in the prepared state for the next.
            assert keyed(data) == expected
            assert keyed(data) == expected


def test_prepared_link_depends_on_the_key() -> None:
    data = "0" * 64 + '{"action":"create","seq":1}'
    first, second = keyed_linker(b"a" * 32), keyed_linker(b"b" * 32)
    assert first(data.encode()) != second(data.encode())
    assert first(data.encode()) != hashlib.sha256(data.encode()).hexdigest()
