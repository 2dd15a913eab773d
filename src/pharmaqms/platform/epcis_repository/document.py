"""Stored events back out as EPCIS 2.0 JSON-LD: a query's ``EPCISQueryDocument`` and the
``EPCISDocument`` sent to a trading partner.

An event received as JSON-LD goes out as it came (its own text), with the ``recordTime`` the
repository gave it when the sender gave none (capture semantics). An event received as XML is
written from its canonical form (:func:`event_jsonld`), which keeps every standard field but no
user extension, with identifiers as canonical GS1 Digital Links.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from pharmaqms.platform.epcis import (
    AggregationEvent,
    AssociationEvent,
    EPCISEvent,
    ObjectEvent,
    QuantityElement,
    SensorMeasurement,
    TransactionEvent,
    TransformationEvent,
)
from pharmaqms.platform.genealogy.codec import event_from_plain

CONTEXT: Final = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(q: QuantityElement) -> dict[str, Any]:
    out: dict[str, Any] = {"epcClass": q.epc_class}
    if q.quantity is not None:
        out["quantity"] = _number(q.quantity)
    if q.uom:
        out["uom"] = q.uom
    return out


def _report(m: SensorMeasurement) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.type if ":" in m.type else f"gs1:{m.type}"}
    numbers = {"value": m.value, "minValue": m.min_value, "maxValue": m.max_value}
    numbers["meanValue"] = m.mean_value
    out.update({k: _number(v) for k, v in numbers.items() if v is not None})
    texts = {"uom": m.uom, "stringValue": m.string_value, "uriValue": m.uri_value}
    texts |= {"exception": m.exception, "deviceID": m.device_id}
    out.update({k: v for k, v in texts.items() if v})
    if m.boolean_value is not None:
        out["booleanValue"] = m.boolean_value
    if m.time is not None:
        out["time"] = _time(m.time)
    return out


def _sensors(event: EPCISEvent) -> list[dict[str, Any]]:
    elements: dict[int, list[dict[str, Any]]] = {}
    for m in event.sensor_measurements:
        elements.setdefault(m.element_index, []).append(_report(m))
    return [{"sensorReport": reports} for _, reports in sorted(elements.items())]


def _objects(event: EPCISEvent, out: dict[str, Any]) -> None:
    match event:
        case ObjectEvent():
            out["action"] = event.action.value
            out["epcList"] = list(event.epc_list)
            if event.quantity_list:
                out["quantityList"] = [_quantity(q) for q in event.quantity_list]
        case AggregationEvent() | AssociationEvent():
            if event.parent_id:
                out["parentID"] = event.parent_id
            out["childEPCs"] = list(event.child_epcs)
            if event.child_quantity_list:
                out["childQuantityList"] = [_quantity(q) for q in event.child_quantity_list]
            out["action"] = event.action.value
        case TransactionEvent():
            if event.parent_id:
                out["parentID"] = event.parent_id
            out["epcList"] = list(event.epc_list)
            if event.quantity_list:
                out["quantityList"] = [_quantity(q) for q in event.quantity_list]
            out["action"] = event.action.value
        case TransformationEvent():
            pairs = (
                ("inputEPCList", list(event.input_epcs)),
                ("inputQuantityList", [_quantity(q) for q in event.input_quantities]),
                ("outputEPCList", list(event.output_epcs)),
                ("outputQuantityList", [_quantity(q) for q in event.output_quantities]),
            )
            out.update({k: v for k, v in pairs if v})
            if event.transformation_id:
                out["transformationID"] = event.transformation_id


def event_jsonld(event: EPCISEvent) -> dict[str, Any]:
    """The canonical event as an EPCIS 2.0 JSON-LD event object."""
    out: dict[str, Any] = {"type": event.event_type.value}
    if event.event_id:
        out["eventID"] = event.event_id
    out["eventTime"] = _time(event.event_time)
    out["eventTimeZoneOffset"] = event.event_time_zone_offset
    if event.record_time is not None:
        out["recordTime"] = _time(event.record_time)
    if event.certification_info:
        out["certificationInfo"] = list(event.certification_info)
    _objects(event, out)
    simple = {"bizStep": event.biz_step, "disposition": event.disposition}
    out.update({k: v for k, v in simple.items() if v})
    if event.persistent_disposition is not None:
        pd = event.persistent_disposition
        out["persistentDisposition"] = {
            k: list(v) for k, v in (("set", pd.set), ("unset", pd.unset)) if v
        }
    if event.read_point:
        out["readPoint"] = {"id": event.read_point}
    if event.biz_location:
        out["bizLocation"] = {"id": event.biz_location}
    if event.biz_transactions:
        out["bizTransactionList"] = [
            {"bizTransaction": t.value} | ({"type": t.type} if t.type else {})
            for t in event.biz_transactions
        ]
    if event.sources:
        out["sourceList"] = [{"type": s.type, "source": s.value} for s in event.sources]
    if event.destinations:
        out["destinationList"] = [
            {"type": d.type, "destination": d.value} for d in event.destinations
        ]
    if event.sensor_measurements:
        out["sensorElementList"] = _sensors(event)
    ilmd = getattr(event, "ilmd", None)
    if ilmd is not None:
        fields = {"cbvmda:lotNumber": ilmd.lot_number}
        if ilmd.item_expiration_date is not None:
            fields["cbvmda:itemExpirationDate"] = ilmd.item_expiration_date.isoformat()
        out["ilmd"] = {k: v for k, v in fields.items() if v}
    if event.error_declaration is not None:
        declared = event.error_declaration
        out["errorDeclaration"] = {"declarationTime": _time(declared.declaration_time)}
        if declared.reason:
            out["errorDeclaration"]["reason"] = declared.reason
        if declared.corrective_event_ids:
            out["errorDeclaration"]["correctiveEventIDs"] = list(declared.corrective_event_ids)
    return out


def stored_event(document: dict[str, Any], record_time: datetime | None) -> dict[str, Any]:
    """A stored event (``epcis_events.document``) as it goes out."""
    if document.get("format") == "json":
        event: dict[str, Any] = json.loads(document["raw"])
    else:
        event = event_jsonld(event_from_plain(document["event"]))
    if "recordTime" not in event and record_time is not None:
        event["recordTime"] = _time(record_time)
    return event


def query_document(
    events: list[dict[str, Any]], created: datetime, query_name: str = "SimpleEventQuery"
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(created),
        "epcisBody": {
            "queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}
        },
    }


def capture_document(
    events: list[dict[str, Any]], created: datetime, sender: str | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(created),
        "epcisBody": {"eventList": events},
    }
    if sender:
        document["sender"] = sender
    return document
