"""EPCIS 2.0 event model and document readers: JSON-LD and XML documents → canonical events.

Below everything that handles EPCIS events (the connector that stores them, the repository
that serves them, genealogy and trace that replay them), and it imports none of them: they all
read this one model.

A document that can't be read at all raises :class:`EPCISDocumentError` with a specific reason.
An invalid event inside a readable document comes back in ``ParsedDocument.rejected`` with its
index and every reason, while the other events are taken; the caller quarantines the rejects.
"""

from __future__ import annotations

from pharmaqms.platform.epcis.events import parse_timestamp
from pharmaqms.platform.epcis.json_reader import parse_json_document
from pharmaqms.platform.epcis.model import (
    DEFAULT_MAX_BYTES,
    Action,
    AggregationEvent,
    AssociationEvent,
    BizTransaction,
    DocumentErrorReason,
    EPCISDocumentError,
    EPCISEvent,
    ErrorDeclaration,
    EventIssue,
    EventType,
    Ilmd,
    IssueCode,
    ObjectEvent,
    ParsedDocument,
    PersistentDisposition,
    QuantityElement,
    RejectedEvent,
    SensorMeasurement,
    SourceDestination,
    SourceFormat,
    TransactionEvent,
    TransformationEvent,
)
from pharmaqms.platform.epcis.xml_reader import parse_xml_document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Action",
    "AggregationEvent",
    "AssociationEvent",
    "BizTransaction",
    "DocumentErrorReason",
    "EPCISDocumentError",
    "EPCISEvent",
    "ErrorDeclaration",
    "EventIssue",
    "EventType",
    "Ilmd",
    "IssueCode",
    "ObjectEvent",
    "ParsedDocument",
    "PersistentDisposition",
    "QuantityElement",
    "RejectedEvent",
    "SensorMeasurement",
    "SourceDestination",
    "SourceFormat",
    "TransactionEvent",
    "TransformationEvent",
    "parse_epcis",
    "parse_epcis_json",
    "parse_epcis_xml",
    "parse_timestamp",
]

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _as_bytes(data: bytes | str, max_bytes: int) -> bytes:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise EPCISDocumentError(
            DocumentErrorReason.TOO_LARGE, f"{len(raw)} bytes, at most {max_bytes} accepted"
        )
    if not raw.strip():
        raise EPCISDocumentError(DocumentErrorReason.EMPTY, "the document is empty")
    return raw


def _json_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EPCISDocumentError(
            DocumentErrorReason.BAD_ENCODING, f"JSON must be UTF-8: {exc}"
        ) from None


def parse_epcis_json(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    return parse_json_document(_json_text(_as_bytes(data, max_bytes)))


def parse_epcis_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """XML given as ``str`` is encoded as UTF-8; pass bytes to keep a declared encoding."""
    return parse_xml_document(_as_bytes(data, max_bytes))


def parse_epcis(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """Parse an EPCIS 2.0 document, telling JSON from XML by its first character."""
    raw = _as_bytes(data, max_bytes)
    if raw.startswith(_UTF16_BOMS):
        return parse_xml_document(raw)  # JSON must be UTF-8 (RFC 8259), so this is XML or junk
    head = raw.removeprefix(_UTF8_BOM).lstrip()[:1]
    if head == b"{":
        return parse_json_document(_json_text(raw))
    if head == b"<":
        return parse_xml_document(raw)
    raise EPCISDocumentError(
        DocumentErrorReason.UNKNOWN_FORMAT, "neither a JSON object nor an XML document"
    )
