"""The CBV 2.0 §8.9 event hash ID of a canonical event: ``ni:///sha-256;<hex>?ver=CBV2.0``.

The same event sent twice under different eventIDs (a re-sent document, two systems capturing
one observation) has one hash, however it was spelled (JSON or XML, EPC URI or Digital Link,
bare CBV word or URN, any time zone). The pre-hash string is built as CBV 2.0 §8.9 says:

* ``eventType=…`` first, then the fields in the standard's order (eventTime,
  eventTimeZoneOffset, certificationInfo, parentID, epcList, inputEPCList, childEPCs,
  quantityList, childQuantityList, inputQuantityList, outputEPCList, outputQuantityList,
  action, transformationID, bizStep, disposition, persistentDisposition, readPoint,
  bizLocation, bizTransactionList, sourceList, destinationList, sensorElementList, ilmd);
  ``eventID``, ``recordTime`` and ``errorDeclaration`` are left out;
* each value as ``name=value``, a list as its name followed by its elements sorted, with no
  separator anywhere;
* times in UTC at millisecond precision with ``Z``; identifiers as canonical GS1 Digital Links
  (id.gs1.org, the form :func:`pharmaqms.platform.trace.canonical` gives); CBV words as their
  web URIs (``https://ref.gs1.org/cbv/BizStep-shipping``); numbers without trailing zeros.

Known answers (tests/platform/test_epcis_event_hash.py) come from the GS1 community's reference
implementation (epcis-event-hash-generator 1.9.3). Limits, stated: the canonical event keeps no
user extensions, and keeps a sensor report with its element's metadata merged in, so for events
carrying extensions or sensor data the hash is stable inside pharmaqms (the same event always
hashes the same) but may differ from another repository's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from pharmaqms.platform.epcis.model import (
    AggregationEvent,
    AssociationEvent,
    EPCISEvent,
    Ilmd,
    ObjectEvent,
    QuantityElement,
    SensorMeasurement,
    TransactionEvent,
    TransformationEvent,
)

PREFIX: Final = "ni:///sha-256;"
SUFFIX: Final = "?ver=CBV2.0"
_CBV: Final = "https://ref.gs1.org/cbv/"
_URNS: Final = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-",
    "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-",
    "urn:epcglobal:cbv:er:": "ER-",
}

Canonical = Callable[[str], str]


def _time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    # To the millisecond; .9995 s may round up into the next second.
    utc += timedelta(microseconds=round(utc.microsecond, -3) - utc.microsecond)
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"


def _vocabulary(value: str, kind: str) -> str:
    """A bare CBV word as its web URI; a CBV URN likewise; anything else as written."""
    for urn, prefix in _URNS.items():
        if value.startswith(urn):
            return _CBV + prefix + value.removeprefix(urn)
    if ":" in value:
        return value
    return f"{_CBV}{kind}-{value}"


def _number(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _field(name: str, value: str | None) -> str:
    return f"{name}={value.strip()}" if value is not None and value.strip() else ""


def _list(name: str, items: Iterable[str]) -> str:
    parts = sorted(part for part in items if part)
    return name + "".join(parts) if parts else ""


def _quantities(name: str, quantities: tuple[QuantityElement, ...], ids: Canonical) -> str:
    return _list(
        name,
        (
            "quantityElement"
            + _field("epcClass", ids(q.epc_class))
            + (_field("quantity", _number(q.quantity)) if q.quantity is not None else "")
            + _field("uom", q.uom)
            for q in quantities
        ),
    )


def _sensor(report: SensorMeasurement, ids: Canonical) -> str:
    def num(value: Decimal | None) -> str | None:
        return _number(value) if value is not None else None

    def when(value: datetime | None) -> str | None:
        return _time(value) if value is not None else None

    metadata = (
        _field("time", when(report.time))
        + _field("startTime", when(report.start_time))
        + _field("endTime", when(report.end_time))
        + _field("deviceID", ids(report.device_id) if report.device_id else None)
    )
    body = (
        _field("type", _gs1(report.type))
        + _field("exception", report.exception)
        + _field("value", num(report.value))
        + _field("stringValue", report.string_value)
        + _field(
            "booleanValue", None if report.boolean_value is None else str(report.boolean_value)
        )
        + _field("uriValue", report.uri_value)
        + _field("minValue", num(report.min_value))
        + _field("maxValue", num(report.max_value))
        + _field("meanValue", num(report.mean_value))
        + _field("uom", report.uom)
    )
    return ("sensorMetadata" + metadata if metadata else "") + "sensorReport" + body


def _gs1(term: str) -> str:
    """A GS1 Web Vocabulary term (``Temperature``, ``gs1:Temperature``) as its URI."""
    if term.startswith("gs1:"):
        term = term.removeprefix("gs1:")
    return term if ":" in term else f"https://gs1.org/voc/{term}"


def _sensors(event: EPCISEvent, ids: Canonical) -> str:
    elements: dict[int, list[str]] = {}
    for report in event.sensor_measurements:
        elements.setdefault(report.element_index, []).append(_sensor(report, ids))
    return _list(
        "sensorElementList",
        ("sensorElement" + "".join(sorted(parts)) for parts in elements.values()),
    )


def _parties(name: str, kind: str, parties: Iterable[tuple[str, str]], ids: Canonical) -> str:
    return _list(
        name + "List",
        (_field("type", _vocabulary(t, "SDT")) + _field(kind, ids(v)) for t, v in parties),
    )


def pre_hash(event: EPCISEvent, ids: Canonical) -> str:
    """The pre-hash string of CBV 2.0 §8.9 (``ids`` spells identifiers canonically)."""
    epcs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    quantities: tuple[QuantityElement, ...] = ()
    child_q: tuple[QuantityElement, ...] = ()
    input_q: tuple[QuantityElement, ...] = ()
    output_q: tuple[QuantityElement, ...] = ()
    parent: str | None = None
    action: str | None = None
    transformation: str | None = None
    ilmd: Ilmd | None = None
    match event:
        case ObjectEvent():
            epcs, quantities, ilmd = event.epc_list, event.quantity_list, event.ilmd
            action = event.action.value
        case AggregationEvent() | AssociationEvent():
            parent, children, child_q = event.parent_id, event.child_epcs, event.child_quantity_list
            action = event.action.value
        case TransactionEvent():
            parent, epcs, quantities = event.parent_id, event.epc_list, event.quantity_list
            action = event.action.value
        case TransformationEvent():
            inputs, input_q = event.input_epcs, event.input_quantities
            outputs, output_q = event.output_epcs, event.output_quantities
            transformation, ilmd = event.transformation_id, event.ilmd
    persistent = event.persistent_disposition
    parts = [
        f"eventType={event.event_type.value}",
        _field("eventTime", _time(event.event_time)),
        _field("eventTimeZoneOffset", event.event_time_zone_offset),
        "".join(sorted(_field("certificationInfo", c) for c in event.certification_info)),
        _field("parentID", ids(parent) if parent else None),
        _list("epcList", (_field("epc", ids(e)) for e in epcs)),
        _list("inputEPCList", (_field("epc", ids(e)) for e in inputs)),
        _list("childEPCs", (_field("epc", ids(e)) for e in children)),
        _quantities("quantityList", quantities, ids),
        _quantities("childQuantityList", child_q, ids),
        _quantities("inputQuantityList", input_q, ids),
        _list("outputEPCList", (_field("epc", ids(e)) for e in outputs)),
        _quantities("outputQuantityList", output_q, ids),
        _field("action", action),
        _field("transformationID", transformation),
        _field("bizStep", _vocabulary(event.biz_step, "BizStep") if event.biz_step else None),
        _field(
            "disposition",
            _vocabulary(event.disposition, "Disp") if event.disposition else None,
        ),
        (
            "persistentDisposition"
            + "".join(sorted(_field("set", _vocabulary(s, "Disp")) for s in persistent.set))
            + "".join(sorted(_field("unset", _vocabulary(s, "Disp")) for s in persistent.unset))
            if persistent is not None and (persistent.set or persistent.unset)
            else ""
        ),
        "readPoint" + _field("id", ids(event.read_point)) if event.read_point else "",
        "bizLocation" + _field("id", ids(event.biz_location)) if event.biz_location else "",
        _list(
            "bizTransactionList",
            (
                (_field("type", _vocabulary(t.type, "BTT")) if t.type else "")
                + _field("bizTransaction", ids(t.value))
                for t in event.biz_transactions
            ),
        ),
        _parties("source", "source", ((s.type, s.value) for s in event.sources), ids),
        _parties(
            "destination", "destination", ((d.type, d.value) for d in event.destinations), ids
        ),
        _sensors(event, ids),
    ]
    if ilmd is not None:
        parts.append(
            _list(
                "ilmd",
                (
                    _field("cbvmda:lotNumber", ilmd.lot_number),
                    _field(
                        "cbvmda:itemExpirationDate",
                        ilmd.item_expiration_date.isoformat()
                        if ilmd.item_expiration_date
                        else None,
                    ),
                ),
            )
        )
    return "".join(parts)


def event_hash(event: EPCISEvent, ids: Canonical) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` of the event's pre-hash string."""
    digest = hashlib.sha256(pre_hash(event, ids).encode("utf-8")).hexdigest()
    return f"{PREFIX}{digest}{SUFFIX}"
