"""Canonical EPCIS 2.0 events, the same whether they came as JSON-LD or XML.

Times are aware UTC datetimes; the event's own ``eventTimeZoneOffset`` is kept as written.
Vocabulary values are bare CBV words (``shipping``, ``in_transit``) or private URIs as written.
Identifiers (EPCs, classes, locations) are kept exactly as the sender wrote them, because they
are the original record; :func:`pharmaqms.platform.gs1.canonical_id` gives the one canonical
spelling when identifiers from different senders must be compared.
Every event keeps ``index``, its position in the document's event list, and ``raw``, its own
text from the document, for lineage and quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Final

from pharmaqms.kernel.errors import DocumentRefused

DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024


class EventType(StrEnum):
    OBJECT = "ObjectEvent"
    AGGREGATION = "AggregationEvent"
    TRANSFORMATION = "TransformationEvent"
    TRANSACTION = "TransactionEvent"
    ASSOCIATION = "AssociationEvent"


class Action(StrEnum):
    ADD = "ADD"
    OBSERVE = "OBSERVE"
    DELETE = "DELETE"


class SourceFormat(StrEnum):
    JSON = "json"
    XML = "xml"


@dataclass(frozen=True, slots=True)
class QuantityElement:
    epc_class: str
    quantity: Decimal | None
    uom: str | None


@dataclass(frozen=True, slots=True)
class BizTransaction:
    value: str
    type: str | None


@dataclass(frozen=True, slots=True)
class SourceDestination:
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class SensorMeasurement:
    """One sensorReport, with what its sensorMetadata says filled in where the report is silent."""

    type: str
    value: Decimal | None
    uom: str | None
    time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    min_value: Decimal | None
    max_value: Decimal | None
    mean_value: Decimal | None
    string_value: str | None
    boolean_value: bool | None
    uri_value: str | None
    exception: str | None
    device_id: str | None
    element_index: int
    """Which sensorElement of the event it came from."""


@dataclass(frozen=True, slots=True)
class ErrorDeclaration:
    declaration_time: datetime
    reason: str | None
    corrective_event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersistentDisposition:
    set: tuple[str, ...]
    unset: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ilmd:
    """Instance/lot master data given at commissioning (``cbvmda:`` fields)."""

    lot_number: str | None
    item_expiration_date: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBase:
    index: int
    event_time: datetime
    event_time_zone_offset: str
    record_time: datetime | None = None
    event_id: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    biz_transactions: tuple[BizTransaction, ...] = ()
    sources: tuple[SourceDestination, ...] = ()
    destinations: tuple[SourceDestination, ...] = ()
    sensor_measurements: tuple[SensorMeasurement, ...] = ()
    error_declaration: ErrorDeclaration | None = None
    persistent_disposition: PersistentDisposition | None = None
    certification_info: tuple[str, ...] = ()
    raw: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectEvent(EventBase):
    event_type: ClassVar[EventType] = EventType.OBJECT
    action: Action
    epc_list: tuple[str, ...] = ()
    quantity_list: tuple[QuantityElement, ...] = ()
    ilmd: Ilmd | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregationEvent(EventBase):
    event_type: ClassVar[EventType] = EventType.AGGREGATION
    action: Action
    parent_id: str | None = None
    child_epcs: tuple[str, ...] = ()
    child_quantity_list: tuple[QuantityElement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociationEvent(EventBase):
    event_type: ClassVar[EventType] = EventType.ASSOCIATION
    action: Action
    parent_id: str
    child_epcs: tuple[str, ...] = ()
    child_quantity_list: tuple[QuantityElement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionEvent(EventBase):
    event_type: ClassVar[EventType] = EventType.TRANSACTION
    action: Action
    parent_id: str | None = None
    epc_list: tuple[str, ...] = ()
    quantity_list: tuple[QuantityElement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformationEvent(EventBase):
    event_type: ClassVar[EventType] = EventType.TRANSFORMATION
    input_epcs: tuple[str, ...] = ()
    input_quantities: tuple[QuantityElement, ...] = ()
    output_epcs: tuple[str, ...] = ()
    output_quantities: tuple[QuantityElement, ...] = ()
    transformation_id: str | None = None
    ilmd: Ilmd | None = None


EPCISEvent = (
    ObjectEvent | AggregationEvent | AssociationEvent | TransactionEvent | TransformationEvent
)


class IssueCode(StrEnum):
    """Why one event of a document was not taken."""

    SCHEMA_VIOLATION = "schema_violation"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    MISSING_FIELD = "missing_field"
    NOT_ALLOWED = "not_allowed"
    INVALID_TIME = "invalid_time"
    INVALID_TIME_ZONE_OFFSET = "invalid_time_zone_offset"
    INVALID_ACTION = "invalid_action"
    UNKNOWN_BIZ_STEP = "unknown_biz_step"
    UNKNOWN_DISPOSITION = "unknown_disposition"
    UNKNOWN_BIZ_TRANSACTION_TYPE = "unknown_biz_transaction_type"
    UNKNOWN_SOURCE_DEST_TYPE = "unknown_source_dest_type"
    UNKNOWN_ERROR_REASON = "unknown_error_reason"
    MISSING_PARENT_ID = "missing_parent_id"
    INVALID_EPC = "invalid_epc"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ILMD = "invalid_ilmd"
    INVALID_VALUE = "invalid_value"
    UNEXPECTED_ELEMENT = "unexpected_element"


@dataclass(frozen=True, slots=True)
class EventIssue:
    code: IssueCode
    message: str
    path: str = ""
    """Where in the event, JSON-pointer style (``/childEPCs/2``); empty for the whole event."""


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    """An invalid event inside an otherwise valid document: the caller quarantines it."""

    index: int
    event_type: str | None
    issues: tuple[EventIssue, ...]
    raw: str

    @property
    def codes(self) -> tuple[IssueCode, ...]:
        """The distinct reasons, in the order they were found."""
        return tuple(dict.fromkeys(issue.code for issue in self.issues))


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    format: SourceFormat
    document_type: str
    """``EPCISDocument`` or ``EPCISQueryDocument``."""
    schema_version: str
    creation_date: datetime | None
    """Required in a capture document; a query document may leave it out."""
    sender: str | None
    receiver: str | None
    instance_identifier: str | None
    events: tuple[EPCISEvent, ...]
    rejected: tuple[RejectedEvent, ...]


class DocumentErrorReason(StrEnum):
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    UNKNOWN_FORMAT = "unknown_format"
    BAD_ENCODING = "bad_encoding"
    INVALID_JSON = "invalid_json"
    TOO_DEEPLY_NESTED = "too_deeply_nested"
    INVALID_XML = "invalid_xml"
    DOCTYPE_FORBIDDEN = "doctype_forbidden"
    NOT_EPCIS = "not_epcis"
    UNSUPPORTED_VERSION = "unsupported_version"
    MISSING_CONTEXT = "missing_context"
    INVALID_CREATION_DATE = "invalid_creation_date"
    SCHEMA_VIOLATION = "schema_violation"


class EPCISDocumentError(DocumentRefused):
    """A whole EPCIS document that cannot be taken at all (HTTP 422, ``document_refused``)."""

    def __init__(self, reason: DocumentErrorReason, message: str) -> None:
        super().__init__(message, extra={"reason": reason.value})
        self.reason = reason
        self.message = message
