"""Build one canonical event from its JSON-shaped form, checking what the schema can't.

Both readers hand events here in the shape of EPCIS 2.0 JSON (the XML reader converts first),
so the rules live in one place. Each problem found becomes an :class:`EventIssue`; an event with
any issue comes back as a :class:`RejectedEvent` carrying all of them, never half-built.
The getters are defensive because they also run on events the schema has already refused,
so that the rejection lists every reason at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from pharmaqms.platform.epcis import vocab
from pharmaqms.platform.epcis.model import (
    Action,
    AggregationEvent,
    AssociationEvent,
    BizTransaction,
    EPCISEvent,
    ErrorDeclaration,
    EventIssue,
    EventType,
    Ilmd,
    IssueCode,
    ObjectEvent,
    PersistentDisposition,
    QuantityElement,
    RejectedEvent,
    SensorMeasurement,
    SourceDestination,
    TransactionEvent,
    TransformationEvent,
)
from pharmaqms.platform.governance.times import to_utc
from pharmaqms.platform.gs1 import GS1Error, parse_identifier

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)
_OFFSET = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")
_LOT_KEYS: Final = ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber")
_EXPIRY_KEYS: Final = ("cbvmda:itemExpirationDate", "urn:epcglobal:cbv:mda:itemExpirationDate")


def parse_timestamp(text: str) -> datetime:
    """An xsd:dateTime that must carry a zone (``Z`` or ``±hh:mm``), as an aware UTC datetime.

    Fractions beyond microseconds are cut, not rounded: EPCIS event times are never finer in
    meaning than the clock that took them, and cutting keeps the order of two close events.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date-time with a time zone")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone == "Z":
        tz = UTC
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ValueError(f"time zone offset {zone} out of range")
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
    )
    # A TimeProblem is a ValueError: the event is rejected with the reason, not the document.
    return to_utc(moment)


class _Reader:
    """Reads fields of one JSON-shaped event, collecting issues instead of raising."""

    def __init__(self, obj: dict[str, Any], issues: list[EventIssue]) -> None:
        self.obj = obj
        self.issues = issues

    def issue(self, code: IssueCode, message: str, path: str) -> None:
        self.issues.append(EventIssue(code, message, path))

    def text(self, key: str, *, uri: bool = False) -> str | None:
        value = self.obj.get(key)
        return _as_text(value, f"/{key}", self, uri=uri)

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.text(key)
        if value is None:
            if required and key not in self.obj:
                self.issue(IssueCode.MISSING_FIELD, f"{key} is required", f"/{key}")
            return None
        return _as_time(value, f"/{key}", self)

    def uri_list(self, key: str) -> tuple[str, ...]:
        return _uri_list(self.obj.get(key), f"/{key}", self)

    def quantities(self, key: str) -> tuple[QuantityElement, ...]:
        value = self.obj.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.issue(IssueCode.INVALID_VALUE, f"{key} must be a list", f"/{key}")
            return ()
        return tuple(
            q
            for i, item in enumerate(value)
            if (q := _quantity(item, f"/{key}/{i}", self)) is not None
        )

    def vocabulary(self, key: str, words: vocab.Vocabulary, code: IssueCode) -> str | None:
        value = self.text(key)
        return None if value is None else _vocab(value, words, code, f"/{key}", self)

    def place(self, key: str) -> str | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or "id" not in value:
            self.issue(IssueCode.INVALID_VALUE, f"{key} must be an object with an id", f"/{key}")
            return None
        return _as_text(value["id"], f"/{key}/id", self, uri=True)


def _as_text(value: object, path: str, r: _Reader, *, uri: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        r.issue(IssueCode.INVALID_VALUE, f"expected a string, got {type(value).__name__}", path)
        return None
    if uri and not _ABSOLUTE_URI.fullmatch(value):
        r.issue(IssueCode.INVALID_VALUE, f"{value!r} is not an absolute URI", path)
        return None
    return value


def _as_time(value: str, path: str, r: _Reader) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        r.issue(IssueCode.INVALID_TIME, str(exc), path)
        return None


def _check_identifier(value: str, path: str, r: _Reader) -> bool:
    if not _ABSOLUTE_URI.fullmatch(value):
        r.issue(IssueCode.INVALID_EPC, f"{value!r} is not an absolute URI", path)
        return False
    try:
        parse_identifier(value)
    except GS1Error as exc:
        r.issue(IssueCode.INVALID_EPC, f"{value}: {exc.message}", path)
        return False
    return True


def _uri_list(value: object, path: str, r: _Reader) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.issue(IssueCode.INVALID_VALUE, "expected a list", path)
        return ()
    result: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            r.issue(IssueCode.INVALID_VALUE, "expected a string", f"{path}/{i}")
        elif _check_identifier(item, f"{path}/{i}", r):
            result.append(item)
    return tuple(result)


def _decimal(value: object, path: str, r: _Reader) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        r.issue(IssueCode.INVALID_VALUE, f"expected a number, got {value!r}", path)
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        r.issue(IssueCode.INVALID_VALUE, f"{value!r} is not a finite number", path)
        return None
    return number


def _quantity(item: object, path: str, r: _Reader) -> QuantityElement | None:
    if not isinstance(item, dict) or not isinstance(item.get("epcClass"), str):
        r.issue(IssueCode.INVALID_QUANTITY, "a quantity element needs an epcClass", path)
        return None
    epc_class: str = item["epcClass"]
    if not _check_identifier(epc_class, f"{path}/epcClass", r):
        return None
    quantity = _decimal(item.get("quantity"), f"{path}/quantity", r)
    if quantity is not None and quantity < 0:
        r.issue(IssueCode.INVALID_QUANTITY, f"negative quantity {quantity}", f"{path}/quantity")
        return None
    uom = _as_text(item.get("uom"), f"{path}/uom", r)
    return QuantityElement(epc_class=epc_class, quantity=quantity, uom=uom)


def _vocab(
    value: str, words: vocab.Vocabulary, code: IssueCode, path: str, r: _Reader
) -> str | None:
    try:
        return vocab.normalise(words, value)
    except vocab.VocabularyError as exc:
        r.issue(code, str(exc), path)
        return None


def _biz_transactions(r: _Reader) -> tuple[BizTransaction, ...]:
    value = r.obj.get("bizTransactionList")
    if not isinstance(value, list):
        return ()
    result: list[BizTransaction] = []
    for i, item in enumerate(value):
        path = f"/bizTransactionList/{i}"
        if not isinstance(item, dict):
            r.issue(IssueCode.INVALID_VALUE, "expected an object", path)
            continue
        ident = _as_text(item.get("bizTransaction"), f"{path}/bizTransaction", r, uri=True)
        raw_type = _as_text(item.get("type"), f"{path}/type", r)
        kind = None
        if raw_type is not None:
            kind = _vocab(
                raw_type,
                vocab.BIZ_TRANSACTION_TYPE,
                IssueCode.UNKNOWN_BIZ_TRANSACTION_TYPE,
                f"{path}/type",
                r,
            )
        if ident is not None and (raw_type is None or kind is not None):
            result.append(BizTransaction(value=ident, type=kind))
    return tuple(result)


def _sources_or_destinations(r: _Reader, key: str, field: str) -> tuple[SourceDestination, ...]:
    value = r.obj.get(key)
    if not isinstance(value, list):
        return ()
    result: list[SourceDestination] = []
    for i, item in enumerate(value):
        path = f"/{key}/{i}"
        if not isinstance(item, dict):
            r.issue(IssueCode.INVALID_VALUE, "expected an object", path)
            continue
        ident = _as_text(item.get(field), f"{path}/{field}", r, uri=True)
        raw_type = _as_text(item.get("type"), f"{path}/type", r)
        if raw_type is None:
            r.issue(IssueCode.MISSING_FIELD, "a source or destination needs a type", path)
            continue
        kind = _vocab(
            raw_type, vocab.SOURCE_DEST_TYPE, IssueCode.UNKNOWN_SOURCE_DEST_TYPE, f"{path}/type", r
        )
        if ident is not None and kind is not None:
            result.append(SourceDestination(type=kind, value=ident))
    return tuple(result)


def _sensor_measurements(r: _Reader) -> tuple[SensorMeasurement, ...]:
    elements = r.obj.get("sensorElementList")
    if not isinstance(elements, list):
        return ()
    result: list[SensorMeasurement] = []
    for e, element in enumerate(elements):
        if not isinstance(element, dict):
            continue
        meta = element.get("sensorMetadata")
        meta = meta if isinstance(meta, dict) else {}
        base = f"/sensorElementList/{e}"

        def meta_time(key: str, base: str = base, meta: dict[str, Any] = meta) -> datetime | None:
            value = _as_text(meta.get(key), f"{base}/sensorMetadata/{key}", r)
            return None if value is None else _as_time(value, f"{base}/sensorMetadata/{key}", r)

        start, end, meta_at = meta_time("startTime"), meta_time("endTime"), meta_time("time")
        meta_device = _as_text(meta.get("deviceID"), f"{base}/sensorMetadata/deviceID", r)
        reports = element.get("sensorReport")
        for k, report in enumerate(reports if isinstance(reports, list) else []):
            path = f"{base}/sensorReport/{k}"
            if not isinstance(report, dict):
                continue

            def num(key: str, report: dict[str, Any] = report, path: str = path) -> Decimal | None:
                return _decimal(report.get(key), f"{path}/{key}", r)

            def txt(key: str, report: dict[str, Any] = report, path: str = path) -> str | None:
                return _as_text(report.get(key), f"{path}/{key}", r)

            kind = txt("type")
            report_time = txt("time")
            at = meta_at if report_time is None else _as_time(report_time, f"{path}/time", r)
            boolean = report.get("booleanValue")
            if boolean is not None and not isinstance(boolean, bool):
                r.issue(IssueCode.INVALID_VALUE, "booleanValue must be true or false", path)
                boolean = None
            exception = txt("exception")
            result.append(
                SensorMeasurement(
                    type=vocab.gs1_web_term(kind) if kind else "",
                    value=num("value"),
                    uom=txt("uom"),
                    time=at,
                    start_time=start,
                    end_time=end,
                    min_value=num("minValue"),
                    max_value=num("maxValue"),
                    mean_value=num("meanValue"),
                    string_value=txt("stringValue"),
                    boolean_value=boolean,
                    uri_value=txt("uriValue"),
                    exception=vocab.gs1_web_term(exception) if exception else None,
                    device_id=txt("deviceID") or meta_device,
                    element_index=e,
                )
            )
    return tuple(result)


def _error_declaration(r: _Reader) -> ErrorDeclaration | None:
    value = r.obj.get("errorDeclaration")
    if value is None:
        return None
    if not isinstance(value, dict):
        r.issue(IssueCode.INVALID_VALUE, "errorDeclaration must be an object", "/errorDeclaration")
        return None
    inner = _Reader(value, r.issues)
    declared = inner.time("declarationTime", required=True)
    reason = inner.text("reason")
    if reason is not None:
        reason = _vocab(
            reason,
            vocab.ERROR_REASON,
            IssueCode.UNKNOWN_ERROR_REASON,
            "/errorDeclaration/reason",
            r,
        )
    corrective = value.get("correctiveEventIDs") or []
    ids = tuple(item for item in corrective if isinstance(item, str))
    if declared is None:
        return None
    return ErrorDeclaration(declaration_time=declared, reason=reason, corrective_event_ids=ids)


def _persistent_disposition(r: _Reader) -> PersistentDisposition | None:
    value = r.obj.get("persistentDisposition")
    if not isinstance(value, dict):
        return None

    def words(key: str) -> tuple[str, ...]:
        items = value.get(key) or []
        result: list[str] = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            path = f"/persistentDisposition/{key}/{i}"
            text = _as_text(item, path, r)
            word = None
            if text is not None:
                word = _vocab(text, vocab.DISPOSITION, IssueCode.UNKNOWN_DISPOSITION, path, r)
            if word is not None:
                result.append(word)
        return tuple(result)

    return PersistentDisposition(set=words("set"), unset=words("unset"))


def _ilmd(r: _Reader) -> Ilmd | None:
    value = r.obj.get("ilmd")
    if value is None:
        return None
    if not isinstance(value, dict):
        r.issue(IssueCode.INVALID_ILMD, "ilmd must be an object", "/ilmd")
        return None
    lot = next((value[k] for k in _LOT_KEYS if k in value), None)
    if lot is not None and (not isinstance(lot, str) or not lot.strip()):
        r.issue(IssueCode.INVALID_ILMD, "lotNumber must be a non-empty string", "/ilmd/lotNumber")
        lot = None
    expiry_text = next((value[k] for k in _EXPIRY_KEYS if k in value), None)
    expiry: date | None = None
    if expiry_text is not None:
        try:
            if not isinstance(expiry_text, str) or not _ISO_DATE.fullmatch(expiry_text):
                raise ValueError(expiry_text)
            expiry = date.fromisoformat(expiry_text)
        except ValueError:
            r.issue(
                IssueCode.INVALID_ILMD,
                f"itemExpirationDate {expiry_text!r} is not a date YYYY-MM-DD",
                "/ilmd/itemExpirationDate",
            )
    return Ilmd(lot_number=lot, item_expiration_date=expiry)


def _certification_info(r: _Reader) -> tuple[str, ...]:
    value = r.obj.get("certificationInfo")
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(
        text
        for i, item in enumerate(items)
        if (text := _as_text(item, f"/certificationInfo/{i}", r, uri=True)) is not None
    )


def _action(r: _Reader) -> Action | None:
    value = r.obj.get("action")
    if value is None:
        r.issue(IssueCode.MISSING_FIELD, "action is required", "/action")
        return None
    try:
        return Action(value)
    except ValueError:
        r.issue(IssueCode.INVALID_ACTION, f"{value!r} is not ADD, OBSERVE or DELETE", "/action")
        return None


def _common(r: _Reader, index: int, raw: str) -> dict[str, Any]:
    offset = r.text("eventTimeZoneOffset")
    if offset is None and "eventTimeZoneOffset" not in r.obj:
        r.issue(IssueCode.MISSING_FIELD, "eventTimeZoneOffset is required", "/eventTimeZoneOffset")
    elif offset is not None and not _OFFSET.fullmatch(offset):
        r.issue(
            IssueCode.INVALID_TIME_ZONE_OFFSET,
            f"{offset!r} is not an offset from -14:00 to +14:00",
            "/eventTimeZoneOffset",
        )
    return {
        "index": index,
        "event_time": r.time("eventTime", required=True),
        "event_time_zone_offset": offset,
        "record_time": r.time("recordTime"),
        "event_id": r.text("eventID", uri=True),
        "biz_step": r.vocabulary("bizStep", vocab.BIZ_STEP, IssueCode.UNKNOWN_BIZ_STEP),
        "disposition": r.vocabulary(
            "disposition", vocab.DISPOSITION, IssueCode.UNKNOWN_DISPOSITION
        ),
        "read_point": r.place("readPoint"),
        "biz_location": r.place("bizLocation"),
        "biz_transactions": _biz_transactions(r),
        "sources": _sources_or_destinations(r, "sourceList", "source"),
        "destinations": _sources_or_destinations(r, "destinationList", "destination"),
        "sensor_measurements": _sensor_measurements(r),
        "error_declaration": _error_declaration(r),
        "persistent_disposition": _persistent_disposition(r),
        "certification_info": _certification_info(r),
        "raw": raw,
    }


def _object_event(r: _Reader, common: dict[str, Any]) -> Callable[[], EPCISEvent] | None:
    action = _action(r)
    epcs, quantities = r.uri_list("epcList"), r.quantities("quantityList")
    has_sensor_reading = bool(r.obj.get("sensorElementList")) and "readPoint" in r.obj
    if not ("epcList" in r.obj or "quantityList" in r.obj or has_sensor_reading):
        r.issue(
            IssueCode.MISSING_FIELD,
            "an ObjectEvent needs epcList, quantityList, or sensorElementList with readPoint",
            "",
        )
    ilmd = _ilmd(r)
    if ilmd is not None and action is not Action.ADD:
        r.issue(IssueCode.NOT_ALLOWED, "ilmd is only allowed when action is ADD", "/ilmd")
    if action is None:
        return None
    return lambda: ObjectEvent(
        **common, action=action, epc_list=epcs, quantity_list=quantities, ilmd=ilmd
    )


def _parent_and_children(
    r: _Reader, action: Action | None, *, parent_always: bool
) -> tuple[str | None, tuple[str, ...], tuple[QuantityElement, ...]]:
    parent = r.text("parentID", uri=True)
    if parent is not None and not _check_identifier(parent, "/parentID", r):
        parent = None
    if "parentID" not in r.obj and (parent_always or action in (Action.ADD, Action.DELETE)):
        r.issue(
            IssueCode.MISSING_PARENT_ID,
            "parentID is required" + ("" if parent_always else f" when action is {action}"),
            "/parentID",
        )
    children, quantities = r.uri_list("childEPCs"), r.quantities("childQuantityList")
    if action is not None and action is not Action.DELETE and not (children or quantities):
        r.issue(
            IssueCode.MISSING_FIELD,
            f"action {action} needs childEPCs or childQuantityList",
            "/childEPCs",
        )
    return parent, children, quantities


def _aggregation_event(r: _Reader, common: dict[str, Any]) -> Callable[[], EPCISEvent] | None:
    action = _action(r)
    parent, children, quantities = _parent_and_children(r, action, parent_always=False)
    if action is None:
        return None
    return lambda: AggregationEvent(
        **common,
        action=action,
        parent_id=parent,
        child_epcs=children,
        child_quantity_list=quantities,
    )


def _association_event(r: _Reader, common: dict[str, Any]) -> Callable[[], EPCISEvent] | None:
    action = _action(r)
    parent, children, quantities = _parent_and_children(r, action, parent_always=True)
    if action is None or parent is None:
        return None
    return lambda: AssociationEvent(
        **common,
        action=action,
        parent_id=parent,
        child_epcs=children,
        child_quantity_list=quantities,
    )


def _transaction_event(r: _Reader, common: dict[str, Any]) -> Callable[[], EPCISEvent] | None:
    action = _action(r)
    if not r.obj.get("bizTransactionList"):
        r.issue(
            IssueCode.MISSING_FIELD,
            "a TransactionEvent needs at least one bizTransaction",
            "/bizTransactionList",
        )
    parent = r.text("parentID", uri=True)
    if parent is not None and not _check_identifier(parent, "/parentID", r):
        parent = None
    epcs, quantities = r.uri_list("epcList"), r.quantities("quantityList")
    if action is None:
        return None
    return lambda: TransactionEvent(
        **common, action=action, parent_id=parent, epc_list=epcs, quantity_list=quantities
    )


def _transformation_event(r: _Reader, common: dict[str, Any]) -> Callable[[], EPCISEvent] | None:
    if "action" in r.obj:
        r.issue(IssueCode.NOT_ALLOWED, "a TransformationEvent has no action", "/action")
    inputs, input_q = r.uri_list("inputEPCList"), r.quantities("inputQuantityList")
    outputs, output_q = r.uri_list("outputEPCList"), r.quantities("outputQuantityList")
    transformation_id = r.text("transformationID", uri=True)
    has_inputs, has_outputs = bool(inputs or input_q), bool(outputs or output_q)
    # EPCIS 2.0 §7.4.6: inputs and outputs, or a transformationID with at least one of them.
    if not (has_inputs and has_outputs) and not (
        transformation_id is not None and (has_inputs or has_outputs)
    ):
        r.issue(
            IssueCode.MISSING_FIELD,
            "a TransformationEvent needs inputs and outputs, or a transformationID with "
            "inputs or outputs",
            "",
        )
    ilmd = _ilmd(r)
    return lambda: TransformationEvent(
        **common,
        input_epcs=inputs,
        input_quantities=input_q,
        output_epcs=outputs,
        output_quantities=output_q,
        transformation_id=transformation_id,
        ilmd=ilmd,
    )


_BUILDERS: Final[
    dict[EventType, Callable[[_Reader, dict[str, Any]], Callable[[], EPCISEvent] | None]]
] = {
    EventType.OBJECT: _object_event,
    EventType.AGGREGATION: _aggregation_event,
    EventType.ASSOCIATION: _association_event,
    EventType.TRANSACTION: _transaction_event,
    EventType.TRANSFORMATION: _transformation_event,
}


def build_event(
    index: int, obj: object, raw: str, issues: list[EventIssue]
) -> EPCISEvent | RejectedEvent:
    """The canonical event, or the rejection with every reason (``issues`` may arrive non-empty,
    e.g. with the schema's findings)."""
    if not isinstance(obj, dict):
        issues.append(EventIssue(IssueCode.SCHEMA_VIOLATION, "an event must be an object"))
        return RejectedEvent(index=index, event_type=None, issues=tuple(issues), raw=raw)
    type_name = obj.get("type")
    type_text = type_name if isinstance(type_name, str) else None
    event_type = next((kind for kind in EventType if kind.value == type_text), None)
    if event_type is None:
        issues.append(
            EventIssue(
                IssueCode.UNKNOWN_EVENT_TYPE,
                f"{type_name!r} is not an EPCIS 2.0 event type",
                "/type",
            )
        )
        return RejectedEvent(index=index, event_type=type_text, issues=tuple(issues), raw=raw)
    reader = _Reader(obj, issues)
    common = _common(reader, index, raw)
    make = _BUILDERS[event_type](reader, common)
    if issues or make is None:
        return RejectedEvent(index=index, event_type=type_text, issues=tuple(issues), raw=raw)
    return make()
