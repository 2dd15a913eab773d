"""The canonical form is what every stored hash was computed over: it must never change, byte
for byte, or every existing audit chain and signature would stop verifying."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from uuid import UUID

import pytest

from pharmaqms.kernel.audit import chain_hash
from pharmaqms.kernel.canonical import (
    canonical_json,
    content_hash,
    plain,
)
from pharmaqms.kernel.chain import GENESIS, entry_text
from pharmaqms.kernel.models import AuditEntry


class Status(StrEnum):
    DRAFT = "draft"


class Level(IntEnum):
    HIGH = 3


CET = timezone(timedelta(hours=1))

VALUE = {
    "title": "Assay of paracetamol – 500 mg, µg/mL ü",
    "when": datetime(2026, 3, 2, 10, 0, 0, 1500, tzinfo=CET),
    "day": date(2026, 3, 2),
    "amounts": [Decimal("1.50"), Decimal("100"), Decimal("1E+2"), 0.1, 2],
    "odd": [float("nan"), float("inf")],
    "flags": (True, False, None),
    "status": Status.DRAFT,
    "level": Level.HIGH,
    "lot": UUID("12345678-1234-5678-1234-567812345678"),
    "raw": b"\x00\xff",
    "tags": {"b", "a"},
    "nested": {2: {"z": 1, "a": [1, "x"]}},
    "quote": 'say "no"\n\ttab',
}

EXPECTED = (
    '{"amounts":["1.50","100","100",0.1,2],"day":"2026-03-02","flags":[true,false,null],'
    '"level":3,"lot":"12345678-1234-5678-1234-567812345678","nested":{"2":{"a":[1,"x"],"z":1}},'
    '"odd":["nan","inf"],"quote":"say \\"no\\"\\n\\ttab","raw":"00ff","status":"draft",'
    '"tags":["a","b"],"title":"Assay of paracetamol – 500 mg, µg/mL ü",'
    '"when":"2026-03-02T09:00:00.001500Z"}'
)


def test_the_canonical_form_is_fixed_byte_for_byte() -> None:
    assert canonical_json(VALUE) == EXPECTED


def test_hashes_are_sha256_of_the_canonical_utf8_bytes() -> None:
    assert content_hash(VALUE) == hashlib.sha256(EXPECTED.encode("utf-8")).hexdigest()


def test_the_chain_hash_covers_the_previous_hash_and_the_entry() -> None:
    entry = {"seq": 1, "action": "create", "occurred_at": datetime(2026, 3, 2, 9, tzinfo=UTC)}
    text = '{"action":"create","occurred_at":"2026-03-02T09:00:00.000000Z","seq":1}'

    assert chain_hash(GENESIS, entry) == hashlib.sha256((GENESIS + text).encode()).hexdigest()


def test_plain_values_are_what_the_canonical_form_writes() -> None:
    assert plain({"n": Decimal("2.50"), "s": Status.DRAFT, "t": ("a", 1)}) == {
        "n": "2.50",
        "s": "draft",
        "t": ["a", 1],
    }


def test_a_naive_timestamp_or_an_unknown_type_has_no_canonical_form() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        canonical_json({"at": datetime(2026, 3, 2, 9, 0)})
    with pytest.raises(TypeError, match="no canonical form for object"):
        canonical_json([object()])


def entry(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "seq": 7,
        "occurred_at": "2026-03-02T09:00:00.000000Z",
        "actor_id": 3,
        "actor_username": "qa",
        "actor_name": "Quentin Quality",
        "channel": "api",
        "request_id": None,
        "action": "update",
        "record_type": "document_version",
        "record_id": 12,
        "record_label": "SOP-2026-0001 v1.0",
        "changes": '{"body":["a","b"]}',
        "reason": None,
        "state_hash": "ab" * 32,
        "prev_hash": "cd" * 32,
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"reason": 'quote " backslash \\ newline \n tab \t bell \x07 nul \x00 del \x7f'},
        {"actor_name": "Zoë Øster – 田中 🧪", "record_label": "\u2028\u2029"},
        {"record_id": 2**70, "actor_id": -1, "seq": 0},
        {"occurred_at": datetime(2026, 3, 2, 9, tzinfo=UTC)},  # not yet written: general path
        {"record_id": True},  # a bool is not an int here: general path
        {"record_type": Status.DRAFT, "actor_id": Level.HIGH},  # subclasses: general path
        {"record_id": 1.5},
        {"record_label": 5, "changes": None},  # what a tamperer may leave in a text column
        {"seq": "7", "prev_hash": 'x"y'},
    ],
)
def test_an_entry_written_field_by_field_is_the_canonical_form(
    overrides: dict[str, object],
) -> None:
    content = entry(**overrides)

    assert entry_text([content[name] for name in AuditEntry.HASHED]) == canonical_json(content)
    assert (
        chain_hash(GENESIS, content)
        == hashlib.sha256((GENESIS + canonical_json(content)).encode()).hexdigest()
    )


def test_a_negative_zero_is_written_as_zero() -> None:
    # SQLite keeps no sign on a zero it stores (PostgreSQL does): a record hashed with -0.0
    # would read back as 0.0 and show as changed behind the application's back.
    assert canonical_json({"low": -0.0, "high": [0.0, -0.0]}) == '{"high":[0.0,0.0],"low":0.0}'
    assert plain(-0.0) == 0.0 and str(plain(-0.0)) == "0.0"
