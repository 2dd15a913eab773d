"""EPCIS 2.0 XML documents (capture and query documents), read without trusting the sender.

XML external entities are the classic hole in XML parsers: the parser here loads no DTD,
resolves no entity, touches no network and refuses huge trees, and any DOCTYPE or ENTITY
declaration refuses the whole document before anything else is read. EPCIS XML has no use for
a DTD, so refusing one costs no legitimate document.

Each event is turned into the JSON shape of EPCIS 2.0 (CBV URNs become bare words, XML
attributes become keys) and then goes through the same JSON schema and the same event builder
as a JSON document, so both formats obey one set of rules. The XSD is not bundled; the JSON
schema is the structural check for both. Extension elements (any namespace) are not read, but
stay in the event's ``raw`` text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn

from lxml import etree

from pharmaqms.platform.epcis import vocab
from pharmaqms.platform.epcis.events import build_event, parse_timestamp
from pharmaqms.platform.epcis.model import (
    DocumentErrorReason,
    EPCISDocumentError,
    EPCISEvent,
    EventIssue,
    IssueCode,
    ParsedDocument,
    RejectedEvent,
    SourceFormat,
)
from pharmaqms.platform.epcis.schema import event_schema_issues

NS_EPCIS: Final = "urn:epcglobal:epcis:xsd:2"
NS_QUERY: Final = "urn:epcglobal:epcis-query:xsd:2"
_NS_EPCIS_1: Final = ("urn:epcglobal:epcis:xsd:1", "urn:epcglobal:epcis-query:xsd:1")
_NS_CBVMDA: Final = "urn:epcglobal:cbv:mda"
_XSI_NIL: Final = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_VERSION_2 = re.compile(r"2(\.\d+)*")
_FORBIDDEN_DECLARATIONS: Final = (b"<!DOCTYPE", b"<!ENTITY")
_SENSOR_NUMBERS: Final = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse(reason: DocumentErrorReason, message: str) -> NoReturn:
    raise EPCISDocumentError(reason, message)


def _split(tag: str) -> tuple[str | None, str]:
    qname = etree.QName(tag)
    return qname.namespace, qname.localname


def _text(element: Any) -> str:
    # anyURI and the other EPCIS simple types collapse surrounding whitespace.
    return (element.text or "").strip()


def _children(element: Any, name: str) -> Iterator[Any]:
    for child in element:
        if isinstance(child.tag, str) and child.tag == name:
            yield child


class _EventConverter:
    """One XML event → its EPCIS 2.0 JSON shape, noting what can't be carried over."""

    def __init__(self, path_prefix: str = "") -> None:
        self.issues: list[EventIssue] = []
        self.prefix = path_prefix

    def issue(self, code: IssueCode, message: str, path: str) -> None:
        self.issues.append(EventIssue(code, message, path))

    def convert(self, element: Any) -> dict[str, Any]:
        _, name = _split(element.tag)
        obj: dict[str, Any] = {"type": name}
        for child in element:
            namespace, field = _split(child.tag)
            if namespace is not None or field in ("extension", "baseExtension"):
                continue  # extensions: not interpreted, kept in raw
            handler = self._HANDLERS.get(field)
            if handler is None:
                self.issue(IssueCode.UNEXPECTED_ELEMENT, f"<{field}> is not an EPCIS field", "")
                continue
            value = handler(self, child)
            if field == "certificationInfo" and field in obj:
                previous = obj[field]
                obj[field] = [*(previous if isinstance(previous, list) else [previous]), value]
            elif field in obj:
                self.issue(IssueCode.UNEXPECTED_ELEMENT, f"<{field}> appears twice", f"/{field}")
            else:
                obj[field] = value
        return obj

    def text(self, element: Any) -> str:
        return _text(element)

    def biz_step(self, element: Any) -> str:
        return vocab.to_bare(vocab.BIZ_STEP, _text(element))

    def disposition(self, element: Any) -> str:
        return vocab.to_bare(vocab.DISPOSITION, _text(element))

    def epc_list(self, element: Any) -> list[str]:
        return [_text(epc) for epc in _children(element, "epc")]

    def quantity_list(self, element: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in _children(element, "quantityElement"):
            entry: dict[str, Any] = {}
            for part in item:
                _, name = _split(part.tag)
                if name == "epcClass":
                    entry["epcClass"] = _text(part)
                elif name == "quantity" and part.get(_XSI_NIL) not in ("true", "1"):
                    entry["quantity"] = self.number(_text(part), "quantity")
                elif name == "uom":
                    entry["uom"] = _text(part)
            result.append(entry)
        return result

    def place(self, element: Any) -> dict[str, Any]:
        ids = list(_children(element, "id"))
        return {"id": _text(ids[0])} if ids else {}

    def biz_transactions(self, element: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in _children(element, "bizTransaction"):
            entry: dict[str, Any] = {"bizTransaction": _text(item)}
            if item.get("type") is not None:
                entry["type"] = vocab.to_bare(vocab.BIZ_TRANSACTION_TYPE, item.get("type").strip())
            result.append(entry)
        return result

    def _source_dest(self, element: Any, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in _children(element, name):
            entry: dict[str, Any] = {name: _text(item)}
            if item.get("type") is not None:
                entry["type"] = vocab.to_bare(vocab.SOURCE_DEST_TYPE, item.get("type").strip())
            result.append(entry)
        return result

    def sources(self, element: Any) -> list[dict[str, Any]]:
        return self._source_dest(element, "source")

    def destinations(self, element: Any) -> list[dict[str, Any]]:
        return self._source_dest(element, "destination")

    def number(self, text: str, name: str) -> Decimal | str:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.issue(IssueCode.INVALID_VALUE, f"{name} {text!r} is not a number", f"/{name}")
            return text  # left as text so the schema also names it
        return number

    def _attributes(self, element: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        for key, value in element.attrib.items():
            namespace, name = _split(key)
            if namespace is not None:
                continue
            value = value.strip()
            if name in _SENSOR_NUMBERS:
                entry[name] = self.number(value, name)
            elif name == "booleanValue":
                entry[name] = {"true": True, "1": True, "false": False, "0": False}.get(
                    value, value
                )
            elif name in ("type", "exception"):
                entry[name] = vocab.gs1_web_term(value)
            else:
                entry[name] = value
        return entry

    def sensor_elements(self, element: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in _children(element, "sensorElement"):
            entry: dict[str, Any] = {"sensorReport": []}
            for part in item:
                namespace, name = _split(part.tag)
                if namespace is not None:
                    continue
                if name == "sensorMetadata":
                    entry["sensorMetadata"] = self._attributes(part)
                elif name == "sensorReport":
                    entry["sensorReport"].append(self._attributes(part))
            result.append(entry)
        return result

    def persistent_disposition(self, element: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        for key in ("set", "unset"):
            words = [vocab.to_bare(vocab.DISPOSITION, _text(e)) for e in _children(element, key)]
            if words:
                entry[key] = words
        return entry

    def error_declaration(self, element: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        for part in element:
            namespace, name = _split(part.tag)
            if namespace is not None:
                continue
            if name == "declarationTime":
                entry[name] = _text(part)
            elif name == "reason":
                entry[name] = vocab.to_bare(vocab.ERROR_REASON, _text(part))
            elif name == "correctiveEventIDs":
                entry[name] = [_text(e) for e in _children(part, "correctiveEventID")]
        return entry

    def ilmd(self, element: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        for part in element:
            namespace, name = _split(part.tag)
            if namespace == _NS_CBVMDA and len(part) == 0:
                entry[f"cbvmda:{name}"] = _text(part)
        return entry

    _HANDLERS: Final[dict[str, Callable[[_EventConverter, Any], Any]]] = {
        "eventTime": text,
        "recordTime": text,
        "eventTimeZoneOffset": text,
        "eventID": text,
        "certificationInfo": text,
        "parentID": text,
        "action": text,
        "transformationID": text,
        "bizStep": biz_step,
        "disposition": disposition,
        "epcList": epc_list,
        "childEPCs": epc_list,
        "inputEPCList": epc_list,
        "outputEPCList": epc_list,
        "quantityList": quantity_list,
        "childQuantityList": quantity_list,
        "inputQuantityList": quantity_list,
        "outputQuantityList": quantity_list,
        "readPoint": place,
        "bizLocation": place,
        "bizTransactionList": biz_transactions,
        "sourceList": sources,
        "destinationList": destinations,
        "sensorElementList": sensor_elements,
        "persistentDisposition": persistent_disposition,
        "errorDeclaration": error_declaration,
        "ilmd": ilmd,
    }


def _parse_tree(data: bytes) -> Any:
    if any(marker in data for marker in _FORBIDDEN_DECLARATIONS):
        _refuse(
            DocumentErrorReason.DOCTYPE_FORBIDDEN, "DOCTYPE and ENTITY declarations are refused"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        _refuse(DocumentErrorReason.INVALID_XML, str(exc))
    docinfo = root.getroottree().docinfo
    # The byte scan misses declarations in a UTF-16/UTF-32 document; the parsed tree does not.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        _refuse(
            DocumentErrorReason.DOCTYPE_FORBIDDEN, "DOCTYPE and ENTITY declarations are refused"
        )
    return root


def _event_elements(root: Any, query: bool) -> Iterator[Any]:
    body = next(_children(root, "EPCISBody"), None)
    if body is None:
        _refuse(DocumentErrorReason.SCHEMA_VIOLATION, "no EPCISBody element")
    container = body
    if query:
        results = next(_children(body, f"{{{NS_QUERY}}}QueryResults"), None)
        results_body = None if results is None else next(_children(results, "resultsBody"), None)
        if results_body is None:
            _refuse(DocumentErrorReason.SCHEMA_VIOLATION, "no QueryResults/resultsBody element")
        container = results_body
    event_list = next(_children(container, "EventList"), None)
    if event_list is None:
        return
    for child in event_list:
        if child.tag == "extension":
            # EPCIS 1.x wrapped newer event types this way; a 2.0 writer may still do so.
            yield from (grandchild for grandchild in child if isinstance(grandchild.tag, str))
        elif isinstance(child.tag, str):
            yield child


def parse_xml_document(data: bytes) -> ParsedDocument:
    """Parse XML bytes already checked for size (see :func:`parse_epcis`)."""
    root = _parse_tree(data)
    namespace, name = _split(root.tag)
    if namespace in _NS_EPCIS_1:
        _refuse(DocumentErrorReason.UNSUPPORTED_VERSION, f"EPCIS 1.x namespace {namespace}")
    query = (namespace, name) == (NS_QUERY, "EPCISQueryDocument")
    if not query and (namespace, name) != (NS_EPCIS, "EPCISDocument"):
        _refuse(
            DocumentErrorReason.NOT_EPCIS, f"root element {root.tag} is not an EPCIS 2.0 document"
        )
    version = root.get("schemaVersion")
    if version is None or not _VERSION_2.fullmatch(version.strip()):
        _refuse(DocumentErrorReason.UNSUPPORTED_VERSION, f"schemaVersion {version!r}, expected 2.x")
    creation_text = root.get("creationDate")
    creation_date = None
    if creation_text is None and not query:
        _refuse(DocumentErrorReason.INVALID_CREATION_DATE, "creationDate is required")
    if creation_text is not None:
        try:
            creation_date = parse_timestamp(creation_text.strip())
        except ValueError as exc:
            _refuse(DocumentErrorReason.INVALID_CREATION_DATE, str(exc))
    accepted: list[EPCISEvent] = []
    rejected: list[RejectedEvent] = []
    for index, element in enumerate(_event_elements(root, query)):
        raw = etree.tostring(element, encoding="unicode", with_tail=False)
        namespace, _ = _split(element.tag)
        if namespace is not None:
            issue = EventIssue(
                IssueCode.UNKNOWN_EVENT_TYPE, f"{element.tag} is not an EPCIS 2.0 event type", ""
            )
            rejected.append(RejectedEvent(index, element.tag, (issue,), raw))
            continue
        converter = _EventConverter()
        obj = converter.convert(element)
        outcome = build_event(index, obj, raw, converter.issues + event_schema_issues(obj))
        if isinstance(outcome, RejectedEvent):
            rejected.append(outcome)
        else:
            accepted.append(outcome)
    return ParsedDocument(
        format=SourceFormat.XML,
        document_type=name,
        schema_version=version.strip(),
        creation_date=creation_date,
        sender=None,
        receiver=None,
        instance_identifier=None,
        events=tuple(accepted),
        rejected=tuple(rejected),
    )
