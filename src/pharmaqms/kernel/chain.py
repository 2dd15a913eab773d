"""The keyed links of the audit chain and the MAC of its head.

``entry_hash = HMAC-SHA-256(audit key, prev_hash ‖ canonical entry)``. HMAC rather than
signed checkpoints: every entry is bound to the key at the moment it is written, so there is
no window between checkpoints in which a rewrite goes unnoticed, and an HMAC costs about what
a plain SHA-256 does (a signature costs 40 µs). The head — sequence, last hash, where keying
began, which key — carries its own HMAC, so a head moved back to cut the chain short, or
removed, is found without any outside copy; an outside copy of a *signed* head (``pharmaqms
audit head``) also finds a cut made by someone who kept an old head row (docs/security.md).

Entries written before a database was keyed (``seq < keyed_from``) keep their plain SHA-256
links: an append-only trail is never rewritten, not even to key it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from pharmaqms.kernel.canonical import canonical_json, json_string, plain
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.keys import Keyring, keyring_for
from pharmaqms.kernel.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


class AuditTrailAltered(QMSError):
    """Raised instead of writing: appending onto a head moved behind the application's back
    would bless the move with a fresh MAC."""

    status = 503
    code = "audit_trail_altered"
    title = "The audit trail was altered; writing is stopped"


class Head(NamedTuple):
    seq: int
    entry_hash: str
    keyed_from: int
    key_id: str | None
    mac: str | None


def head_text(seq: int, entry_hash: str, keyed_from: int, key_id: str | None) -> str:
    return canonical_json(
        {"entry_hash": entry_hash, "key_id": key_id, "keyed_from": keyed_from, "seq": seq}
    )


def head_mac(keyring: Keyring, seq: int, entry_hash: str, keyed_from: int) -> str:
    return keyring.mac(head_text(seq, entry_hash, keyed_from, keyring.audit.id))


def head_problem(head: Head | None, keyring: Keyring) -> str | None:
    """Why this head can't be trusted, or None."""
    if head is None:
        return "the audit chain head is missing"
    if head.key_id is None:
        return "the audit trail is not keyed yet: run pharmaqms init"
    if head.key_id != keyring.audit.id:
        return (
            f"the audit trail was keyed with key {head.key_id}, the key file "
            f"{keyring.path} holds key {keyring.audit.id}"
        )
    if head.mac != head_mac(keyring, head.seq, head.entry_hash, head.keyed_from):
        return (
            f"the audit chain head (entry {head.seq}) does not carry the MAC of this "
            "installation's key: it was moved or rewritten behind the application's back"
        )
    return None


def link(keyring: Keyring, prev_hash: str, text: str) -> str:
    return hmac.digest(keyring.audit.secret, (prev_hash + text).encode("utf-8"), "sha256").hex()


def keyed_linker(secret: bytes) -> Callable[[bytes], str]:
    """``HMAC-SHA-256(secret, data)`` in hex, the same bytes as ``link``, for the loops that
    key every entry (append, verify): the key's HMAC state is prepared once and copied per
    entry, which saves the key's set-up that ``hmac.digest`` repeats on every call (1.7 µs an
    entry against 1.2 µs on a 750-byte entry, docs/benchmarks.md)."""
    prepared = hmac.new(secret, digestmod=hashlib.sha256)
    copy = prepared.copy

    def keyed(data: bytes) -> str:
        state = copy()
        state.update(data)
        return state.hexdigest()

    return keyed


def plain_link(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


# Built once: a statement built for every append costs more Python than its round trip.
_HEAD = select(
    AuditChainHead.seq,
    AuditChainHead.entry_hash,
    AuditChainHead.keyed_from,
    AuditChainHead.key_id,
    AuditChainHead.mac,
).where(AuditChainHead.id == 1)
_LOCKED_HEAD = _HEAD.with_for_update()
_MOVE_HEAD = (
    update(AuditChainHead)
    .where(AuditChainHead.id == 1)
    .values(seq=bindparam("seq"), entry_hash=bindparam("entry_hash"), mac=bindparam("mac"))
)


def read_head(conn: Connection, *, for_update: bool = False) -> Head | None:
    row = conn.execute(_LOCKED_HEAD if for_update else _HEAD).one_or_none()
    return None if row is None else Head(*row)


def writable_head(conn: Connection) -> tuple[Head, Keyring]:
    """The locked head the next entries chain onto, checked against the key."""
    keyring = keyring_for(str(conn.engine.url))
    head = read_head(conn, for_update=True)
    problem = head_problem(head, keyring)
    if problem is not None:
        raise AuditTrailAltered(
            f"{problem}. Nothing is written until the trail is investigated "
            "(pharmaqms audit verify)"
        )
    assert head is not None
    return head, keyring


def move_head(conn: Connection, keyring: Keyring, head: Head, seq: int, entry_hash: str) -> None:
    conn.execute(
        _MOVE_HEAD,
        {
            "seq": seq,
            "entry_hash": entry_hash,
            "mac": head_mac(keyring, seq, entry_hash, head.keyed_from),
        },
    )


def entry_text(values: Sequence[Any]) -> str:
    """``canonical_json`` of an entry given as its ``AuditEntry.HASHED`` values, in that order,
    with ``occurred_at`` already in its canonical text.

    Written with one template for the entries the chain is made of (ints, strings, nulls): the
    general path costs three times as much, and ``audit verify`` writes every entry of the
    trail again. Anything else (a datetime not yet written, an enum, a value a tamperer left
    in a column of another type) takes the general path, which gives the same bytes."""
    (seq, at, actor_id, username, name, channel, request_id, action, record_type, record_id,
     label, changes, reason, state_hash, prev_hash) = values  # fmt: skip
    try:
        if (
            type(seq) is not int
            or type(at) is not str
            or (actor_id is not None and type(actor_id) is not int)
            or (record_id is not None and type(record_id) is not int)
        ):
            raise TypeError("not an entry's plain types")
        q = json_string  # raises TypeError for anything but a str
        return (
            f'{{"action":{q(action)},"actor_id":{_NULL if actor_id is None else actor_id},'
            f'"actor_name":{q(name)},"actor_username":{q(username)},"changes":{q(changes)},'
            f'"channel":{q(channel)},"occurred_at":{q(at)},"prev_hash":{q(prev_hash)},'
            f'"reason":{_NULL if reason is None else q(reason)},'
            f'"record_id":{_NULL if record_id is None else record_id},'
            f'"record_label":{q(label)},"record_type":{q(record_type)},'
            f'"request_id":{_NULL if request_id is None else q(request_id)},"seq":{seq},'
            f'"state_hash":{_NULL if state_hash is None else q(state_hash)}}}'
        )
    except TypeError:
        return canonical_json(dict(zip(AuditEntry.HASHED, values, strict=True)))


_NULL = "null"


def key_the_chain(conn: Connection, keyring: Keyring) -> bool:
    """Key a chain that is not keyed yet: entries from the next one on are HMAC-linked.
    Returns True when it keyed the chain now.

    Refused when the head merely *says* it is unkeyed while its last entry is linked with
    this key: someone cleared the head's key to have it re-keyed over a cut."""
    head = read_head(conn, for_update=True)
    if head is None:
        raise AuditTrailAltered("the audit chain head is missing: this trail can't be keyed")
    if head.key_id is not None:
        return False
    last = conn.execute(
        select(*(getattr(AuditEntry, name) for name in AuditEntry.HASHED)).where(
            AuditEntry.seq == head.seq
        )
    ).one_or_none()
    if last is not None:
        values = list(last)
        values[AuditEntry.HASHED.index("occurred_at")] = plain(last.occurred_at)
        if link(keyring, last.prev_hash, entry_text(values)) == head.entry_hash:
            raise AuditTrailAltered(
                "the audit chain head lost its key although its last entry is keyed: it was "
                "altered behind the application's back"
            )
    keyed_from = head.seq + 1
    conn.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(
            keyed_from=keyed_from,
            key_id=keyring.audit.id,
            mac=head_mac(keyring, head.seq, head.entry_hash, keyed_from),
        )
    )
    return True


# --- signed heads kept elsewhere ----------------------------------------------------------


def _signed_text(head: dict[str, Any]) -> str:
    return canonical_json({name: head[name] for name in ("at", "entry_hash", "key_id", "seq")})


def signed_head(conn: Connection, keyring: Keyring, at: str) -> dict[str, Any]:
    """The head as it stands, signed with the installation's head key (Ed25519): kept outside
    the database (a ticket, an e-mail, write-once storage), it lets ``audit verify
    --expect-head`` find a cut or a rewrite of everything up to it, even by someone who kept
    an old head row and its MAC."""
    head = read_head(conn)
    if head is None:
        raise AuditTrailAltered("the audit chain head is missing")
    document: dict[str, Any] = {
        "seq": head.seq,
        "entry_hash": head.entry_hash,
        "at": at,
        "key_id": keyring.audit.id,
    }
    document["public_key"] = keyring.head_public_key
    document["signature"] = keyring.sign_head(_signed_text(document))
    return document


class HeadFileRefused(QMSError):
    status = 422
    code = "head_file_refused"
    title = "Not a signed head of this installation"


def checked_head(document: Any, keyring: Keyring) -> tuple[int, str, str]:
    """A head file's (seq, entry_hash, at), once its signature is shown to be this
    installation's."""
    try:
        seq, entry_hash, at = document["seq"], document["entry_hash"], document["at"]
        if type(seq) is not int or not isinstance(entry_hash, str) or not isinstance(at, str):
            raise TypeError("seq, entry_hash and at must be an integer and two strings")
        text = _signed_text(document)
        signature, public_key = document["signature"], document["public_key"]
    except (KeyError, TypeError) as err:
        raise HeadFileRefused(f"not a signed audit head: {err}") from None
    if public_key != keyring.head_public_key:
        raise HeadFileRefused(
            "the head was signed by another installation's key (its public key differs)"
        )
    if not keyring.head_signature_valid(text, signature, public_key):
        raise HeadFileRefused("the head's signature does not verify: the file was altered")
    return seq, entry_hash, at


def head_still_contained(conn: Connection, seq: int, entry_hash: str) -> str | None:
    """'truncated' or 'rewritten' when the chain no longer holds entry ``seq`` as it was."""
    stored = conn.execute(
        select(AuditEntry.entry_hash).where(AuditEntry.seq == seq)
    ).scalar_one_or_none()
    if stored is None:
        return "truncated"
    if stored != entry_hash:
        return "rewritten"
    return None
