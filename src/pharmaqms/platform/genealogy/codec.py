"""Canonical EPCIS events ↔ plain JSON, and the content hash of an event.

The store keeps each event's original text for the record and this plain form for the traces:
rebuilding an event from it is a dictionary walk, where re-reading the original would mean the
whole parser (schema validation, vocabulary checks) on every trace.

The content hash de-duplicates events that carry no eventID. It is *not* the CBV 2.0 event hash
(that algorithm fixes a pre-hash string of its own, with its own field order and value
normalisation); it is stated here instead: SHA-256 of the canonical JSON (sorted keys, no
whitespace, UTC timestamps) of the event's plain form with every identifier in canonical GS1
form and without ``eventID``, ``recordTime``, ``errorDeclaration`` and the source text. So the
same event sent as JSON or XML, with EPC URIs or Digital Links, hashes the same, and an error
declaration hashes like the event it retracts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from pharmaqms.kernel.canonical import canonical_json
from pharmaqms.platform.epcis.model import (
    AggregationEvent,
    AssociationEvent,
    EPCISEvent,
    ObjectEvent,
    TransactionEvent,
    TransformationEvent,
)

EVENT_CLASSES: Final[dict[str, type[Any]]] = {
    cls.event_type.value: cls
    for cls in (
        ObjectEvent,
        AggregationEvent,
        AssociationEvent,
        TransactionEvent,
        TransformationEvent,
    )
}
HASH_PREFIX: Final = "pharmaqms:event-hash:sha-256:"
_NOT_CONTENT: Final = frozenset({"index", "raw", "event_id", "record_time", "error_declaration"})


def _plain(value: Any, *, top: bool = False) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # An event leaves out its empty fields (they all have defaults); the small parts
        # inside it (quantities, sensor reports) keep every field, having none.
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not top or getattr(value, f.name) not in (None, (), "")
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def event_to_plain(event: EPCISEvent) -> dict[str, Any]:
    """The event as JSON-ready values, without its source text (kept separately)."""
    plain = _plain(dataclasses.replace(event, raw=""), top=True)
    plain["type"] = event.event_type.value
    return typing.cast(dict[str, Any], plain)


Decoder = typing.Callable[[Any], Any]
_DECODERS: dict[Any, Decoder] = {}
_FIELDS: dict[type[Any], dict[str, Decoder]] = {}


def _identity(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Decoder:
    """A function turning the plain value back into ``hint``; made once per type, because a
    trace rebuilds hundreds of events and inspecting types each time would dominate it."""
    if hint in _DECODERS:
        return _DECODERS[hint]
    origin = typing.get_origin(hint)
    decode: Decoder
    if origin in (typing.Union, types.UnionType):
        inner = _decoder(next(a for a in typing.get_args(hint) if a is not type(None)))
        decode = lambda v: None if v is None else inner(v)  # noqa: E731
    elif origin is tuple:
        item = _decoder(typing.get_args(hint)[0])
        decode = lambda v: tuple(item(x) for x in v)  # noqa: E731
    elif hint is datetime:
        decode = datetime.fromisoformat
    elif hint is date:
        decode = date.fromisoformat
    elif hint is Decimal:
        decode = Decimal
    elif isinstance(hint, type) and issubclass(hint, Enum):
        decode = {member.value: member for member in hint}.__getitem__  # no Enum() call per value
    elif dataclasses.is_dataclass(hint):
        cls = typing.cast(type[Any], hint)
        decode = lambda v: _build(cls, v)  # noqa: E731
    else:
        decode = _identity
    _DECODERS[hint] = decode
    return decode


def _build(cls: type[Any], values: dict[str, Any]) -> Any:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = {k: _decoder(h) for k, h in typing.get_type_hints(cls).items()}
        _FIELDS[cls] = fields
    return cls(**{k: fields[k](v) for k, v in values.items() if k in fields})


def event_from_plain(plain: dict[str, Any], *, raw: str = "") -> EPCISEvent:
    cls = EVENT_CLASSES[plain["type"]]
    event = _build(cls, {k: v for k, v in plain.items() if k != "type"})
    return typing.cast(EPCISEvent, dataclasses.replace(event, raw=raw) if raw else event)


def canonical_plain(event: EPCISEvent, canonical: typing.Callable[[str], str]) -> dict[str, Any]:
    """The plain form with every identifier (EPCs, classes, locations, parties) spelled
    canonically: what the traces read, so they never parse a sender's spelling again."""
    return typing.cast(dict[str, Any], _canonical_ids(event_to_plain(event), canonical))


def content_hash(event: EPCISEvent, canonical: typing.Callable[[str], str]) -> str:
    """The stated content hash (see the module doc); ``canonical`` spells identifiers."""
    plain = {k: v for k, v in canonical_plain(event, canonical).items() if k not in _NOT_CONTENT}
    return HASH_PREFIX + hashlib.sha256(canonical_json(plain).encode()).hexdigest()


_ID_FIELDS: Final = frozenset(
    {
        "epc_list",
        "child_epcs",
        "input_epcs",
        "output_epcs",
        "parent_id",
        "read_point",
        "biz_location",
        "epc_class",
        "value",
    }
)


def _canonical_ids(value: Any, canonical: typing.Callable[[str], str], key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _canonical_ids(v, canonical, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_ids(v, canonical, key) for v in value]
    if isinstance(value, str) and key in _ID_FIELDS:
        return canonical(value)
    return value
