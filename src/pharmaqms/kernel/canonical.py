"""Canonical JSON: the one byte form that every hash in the system is computed over.

Sorted keys, no whitespace, UTC ISO-8601 timestamps with microseconds, decimals as strings.
The audit entry's state hash and the e-signature's content hash use the same function, so
"signature still valid" is "content hash equals the hash of the current content".
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

# Types whose canonical form is the value itself, checked by exact type (subclasses such as
# enums take the general path below, unchanged). Most values hashed are of these types, and
# skipping a call per value is most of what hashing an audit entry costs.
_AS_IS = frozenset({str, int, bool, type(None)})
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {
            (k if type(k) is str else str(k)): (v if type(v) in _AS_IS else _plain(v))
            for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # repr round-trips exactly; JSON has no NaN, so spell those out.
        if value != value or value in (float("inf"), float("-inf")):
            return repr(value)
        # Zero without a sign: SQLite stores -0.0 as 0, so a record hashed with the sign
        # would read back as changed.
        return value if value else 0.0
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in canonical form")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_json(value: Any) -> str:
    # One encoder for every call: json.dumps with options builds a new one each time.
    return _ENCODER.encode(_plain(value))


# How the canonical encoder writes a string (C, non-ASCII kept): for hand-written entries.
json_string = json.encoder.encode_basestring


def plain(value: Any) -> Any:
    """The JSON-ready form of a value, as the canonical form would write it."""
    return _plain(value)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(value: Any) -> str:
    return sha256_hex(canonical_json(value))
