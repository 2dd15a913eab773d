"""EPCIS 2.0 JSON-LD and XML parsing (pharmaqms.platform.epcis)."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tests.support import conformance_dir

from pharmaqms.platform.epcis import (
    DEFAULT_MAX_BYTES,
    Action,
    AggregationEvent,
    BizTransaction,
    DocumentErrorReason,
    EPCISDocumentError,
    EventType,
    Ilmd,
    IssueCode,
    ObjectEvent,
    ParsedDocument,
    PersistentDisposition,
    QuantityElement,
    SourceDestination,
    SourceFormat,
    TransformationEvent,
    parse_epcis,
    parse_epcis_json,
    parse_epcis_xml,
    parse_timestamp,
)

CONFORMANCE = conformance_dir()
JSON_EXAMPLES = sorted((CONFORMANCE / "json").glob("*.jsonld"))
XML_EXAMPLES = sorted((CONFORMANCE / "xml").glob("*.xml"))

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
SGTIN = "urn:epc:id:sgtin:9506000.013435.SN0001"
SGTIN_2 = "urn:epc:id:sgtin:9506000.013435.SN0002"
SSCC = "urn:epc:id:sscc:0614141.1234567890"
LGTIN = "urn:epc:class:lgtin:9506000.013435.LOT42"
PLANT = "urn:epc:id:sgln:9506000.00001.0"
DOCK = "urn:epc:id:sgln:9506000.00001.7"


def event(kind: str = "ObjectEvent", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": kind,
        "eventTime": "2024-03-01T09:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": DOCK},
    }
    if kind == "ObjectEvent":
        base["epcList"] = [SGTIN]
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def document(*events: dict[str, Any], **fields: Any) -> bytes:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T08:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def xml_document(events: str, *, root_attrs: str = 'schemaVersion="2.0"') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" '
        'xmlns:cbvmda="urn:epcglobal:cbv:mda" '
        f'creationDate="2024-03-01T08:00:00Z" {root_attrs}>'
        f"<EPCISBody><EventList>{events}</EventList></EPCISBody></epcis:EPCISDocument>"
    ).encode()


def refused(data: bytes | str, reason: DocumentErrorReason, **kwargs: Any) -> EPCISDocumentError:
    with pytest.raises(EPCISDocumentError) as caught:
        parse_epcis(data, **kwargs)
    assert caught.value.reason is reason, caught.value.message
    return caught.value


def only_rejection_codes(parsed: ParsedDocument) -> tuple[IssueCode, ...]:
    assert parsed.events == ()
    assert len(parsed.rejected) == 1
    return parsed.rejected[0].codes


# --- every official example is taken --------------------------------------------------------


def _json_event_count(path: Path) -> int:
    doc = json.loads(path.read_text(encoding="utf-8"))
    body = doc["epcisBody"]
    if "queryResults" in body:
        return len(body["queryResults"]["resultsBody"]["eventList"])
    return len(body["eventList"])


def _xml_event_count(path: Path) -> int:
    root = etree.parse(str(path)).getroot()  # trusted local file, only to count
    names = {e.value for e in EventType}
    return sum(1 for el in root.iter() if isinstance(el.tag, str) and el.tag in names)


@pytest.mark.parametrize("path", JSON_EXAMPLES, ids=lambda p: p.name)
def test_every_official_json_example_is_accepted_whole(path: Path) -> None:
    parsed = parse_epcis(path.read_bytes())
    assert parsed.rejected == ()
    assert parsed.format is SourceFormat.JSON
    assert len(parsed.events) == _json_event_count(path)
    assert [e.index for e in parsed.events] == list(range(len(parsed.events)))


@pytest.mark.parametrize("path", XML_EXAMPLES, ids=lambda p: p.name)
def test_every_official_xml_example_is_accepted_whole(path: Path) -> None:
    parsed = parse_epcis(path.read_bytes())
    assert parsed.rejected == ()
    assert parsed.format is SourceFormat.XML
    assert len(parsed.events) == _xml_event_count(path)


def test_the_conformance_folder_holds_the_expected_examples() -> None:
    assert (len(JSON_EXAMPLES), len(XML_EXAMPLES)) == (47, 5)


@pytest.mark.parametrize(
    ("json_name", "xml_name"),
    [
        ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.1-ObjectEvent-2020_06_18a.xml"),
        (
            "Example-TransactionEvents-2020_07_03y.jsonld",
            "Example-TransactionEvent-2020_07_03y.xml",
        ),
    ],
)
def test_json_and_xml_of_the_same_events_give_the_same_canonical_events(
    json_name: str, xml_name: str
) -> None:
    from_json = parse_epcis((CONFORMANCE / "json" / json_name).read_bytes())
    from_xml = parse_epcis((CONFORMANCE / "xml" / xml_name).read_bytes())
    # the JSON copies carry event hashes the XML copies lack; raw text differs by nature
    strip = [replace(e, raw="", event_id=None) for e in from_json.events]
    assert strip == [replace(e, raw="", event_id=None) for e in from_xml.events]


# --- canonical content ----------------------------------------------------------------------


def test_object_event_fields_from_the_all_fields_example() -> None:
    path = (
        CONFORMANCE / "json" / "WithFullCombinationOfFields_object_event_all_possible_fields.jsonld"
    )
    parsed = parse_epcis(path.read_bytes())
    (e,) = parsed.events
    assert isinstance(e, ObjectEvent)
    assert e.event_type is EventType.OBJECT
    assert e.action is Action.ADD
    assert e.event_time == datetime(2005, 4, 5, 2, 33, 31, 116000, tzinfo=UTC)
    assert e.event_time_zone_offset == "-06:00"
    assert (e.biz_step, e.disposition) == ("receiving", "in_progress")
    assert (e.read_point, e.biz_location) == (
        "urn:epc:id:sgln:0012345.11111.400",
        "urn:epc:id:sgln:0012345.11111.0",
    )
    assert e.epc_list == ("urn:epc:id:sgtin:0614141.107346.2018",)
    assert e.quantity_list == (
        QuantityElement("urn:epc:class:lgtin:4012345.012345.998877", Decimal("200"), "KGM"),
    )
    assert e.biz_transactions == (
        BizTransaction("urn:epc:id:gdti:0614141.00001.1618034", "po"),
        BizTransaction("urn:epc:id:gsrn:0614141.0000010253", "pedigree"),
    )
    assert e.sources[1] == SourceDestination("possessing_party", "urn:epc:id:pgln:4012345.00225")
    assert e.destinations[0] == SourceDestination("location", "urn:epc:id:sgln:0614141.00777.0")
    assert e.ilmd == Ilmd(lot_number="ABC123", item_expiration_date=None)
    assert e.persistent_disposition == PersistentDisposition(
        set=("completeness_verified",), unset=("completeness_inferred",)
    )
    assert e.certification_info == (
        "https://accreditation-council.example.org/certificate/ABC12345",
    )
    assert e.error_declaration is not None
    assert e.error_declaration.reason == "incorrect_data"
    assert e.error_declaration.declaration_time == datetime(2006, 11, 7, 13, 0, tzinfo=UTC)
    (reading,) = e.sensor_measurements
    assert (reading.type, reading.value, reading.uom, reading.time) == (
        "Temperature",
        Decimal("26"),
        "CEL",
        datetime(2019, 7, 19, 13, 0, tzinfo=UTC),
    )
    assert (reading.min_value, reading.max_value, reading.device_id) == (
        Decimal("26"),
        Decimal("26.2"),
        "urn:epc:id:giai:4000001.111",
    )
    assert json.loads(e.raw)["eventID"] == "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"


def test_sensor_reports_take_their_time_from_the_metadata_when_silent() -> None:
    parsed = parse_epcis(
        (CONFORMANCE / "json" / "WithSensorData_SensorDataExample1.jsonld").read_bytes()
    )
    (e,) = parsed.events
    temperatures = [(m.time, m.value) for m in e.sensor_measurements if m.type == "Temperature"]
    assert temperatures == [
        (datetime(2019, 4, 2, 13, 5, tzinfo=UTC), Decimal("26.0")),
        (datetime(2019, 4, 2, 13, 35, tzinfo=UTC), Decimal("26.1")),
        (datetime(2019, 4, 2, 13, 55, tzinfo=UTC), Decimal("26.2")),
    ]
    assert [m.element_index for m in e.sensor_measurements] == [0] * 4 + [1] * 4 + [2] * 4


def test_commissioning_with_ilmd_lot_and_expiry() -> None:
    commissioning = event(
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        bizLocation={"id": PLANT},
        ilmd={"cbvmda:lotNumber": "LOT42", "cbvmda:itemExpirationDate": "2026-12-31"},
    )
    (e,) = parse_epcis(document(commissioning)).events
    assert isinstance(e, ObjectEvent)
    assert e.ilmd == Ilmd(lot_number="LOT42", item_expiration_date=date(2026, 12, 31))


def test_xml_cbv_urns_become_bare_words_and_ilmd_is_read() -> None:
    xml = xml_document(
        "<ObjectEvent><eventTime>2024-03-01T09:00:00+01:00</eventTime>"
        "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>"
        f"<epcList><epc>{SGTIN}</epc></epcList><action>ADD</action>"
        "<bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>"
        "<disposition>urn:epcglobal:cbv:disp:active</disposition>"
        f"<readPoint><id>{PLANT}</id></readPoint>"
        '<bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:prodorder">'
        "urn:epcglobal:cbv:bt:9506000000009:PO-7</bizTransaction></bizTransactionList>"
        "<ilmd><cbvmda:lotNumber>LOT42</cbvmda:lotNumber>"
        "<cbvmda:itemExpirationDate>2026-12-31</cbvmda:itemExpirationDate></ilmd>"
        "</ObjectEvent>"
    )
    (e,) = parse_epcis(xml).events
    assert isinstance(e, ObjectEvent)
    assert (e.biz_step, e.disposition) == ("commissioning", "active")
    assert e.biz_transactions == (
        BizTransaction("urn:epcglobal:cbv:bt:9506000000009:PO-7", "prodorder"),
    )
    assert e.ilmd == Ilmd(lot_number="LOT42", item_expiration_date=date(2026, 12, 31))
    assert e.event_time == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def test_cbv_web_uri_is_normalised_and_a_private_uri_is_kept() -> None:
    web = event(bizStep="https://ref.gs1.org/cbv/BizStep-receiving", disposition=None)
    private = event(bizStep="https://example.com/steps/labelling", disposition=None)
    first, second = parse_epcis(document(web, private)).events
    assert first.biz_step == "receiving"
    assert second.biz_step == "https://example.com/steps/labelling"


def test_xml_nil_quantity_and_query_document() -> None:
    parsed = parse_epcis(
        (CONFORMANCE / "xml" / "ErrorDeclarationAndCorrectiveEvent.xml").read_bytes()
    )
    first = parsed.events[0]
    assert isinstance(first, TransformationEvent)
    assert first.input_quantities == (
        QuantityElement("urn:epc:class:lgtin:4012345.022222.87545GHGH", None, None),
    )
    query = parse_epcis((CONFORMANCE / "json" / "EPCISQueryDocument.jsonld").read_bytes())
    assert (query.document_type, len(query.events)) == ("EPCISQueryDocument", 2)


def test_document_header_fields() -> None:
    path = CONFORMANCE / "json" / "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld"
    parsed = parse_epcis(path.read_bytes())
    assert (parsed.document_type, parsed.schema_version) == ("EPCISDocument", "2.0")
    assert parsed.creation_date == datetime(2005, 7, 11, 11, 30, 47, tzinfo=UTC)
    assert (parsed.sender, parsed.receiver, parsed.instance_identifier) == (
        "urn:epc:id:sgln:0353579.00001.0",
        "urn:epc:id:sgln:5012345.00001.0",
        "1234567890",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T09:00:00Z", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),
        ("2024-03-01T09:00:00.1234567+01:00", datetime(2024, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2024-03-01T00:30:00-14:00", datetime(2024, 3, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_become_utc(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text", ["2024-03-01T09:00:00", "2024-02-30T09:00:00Z", "2024-03-01 09:00:00Z", "+14:30"]
)
def test_timestamps_without_zone_or_impossible_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


# --- one bad event is rejected, the rest is taken -------------------------------------------


def test_a_bad_event_is_rejected_with_its_index_and_the_others_are_taken() -> None:
    # given: three events, the middle one with a made-up bizStep
    good = event()
    bad = event(bizStep="teleporting", epcList=[SGTIN_2])
    parsed = parse_epcis(document(good, bad, good))
    # then
    assert [e.index for e in parsed.events] == [0, 2]
    (rejected,) = parsed.rejected
    assert rejected.index == 1
    assert rejected.event_type == "ObjectEvent"
    assert rejected.codes == (IssueCode.UNKNOWN_BIZ_STEP,)
    assert rejected.issues[0].message == "'teleporting' is not a CBV 2.0 bizStep"
    assert rejected.issues[0].path == "/bizStep"
    assert json.loads(rejected.raw) == bad


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"bizStep": "teleporting"}, (IssueCode.UNKNOWN_BIZ_STEP,)),
        ({"disposition": "sparkling"}, (IssueCode.UNKNOWN_DISPOSITION,)),
        (
            {"bizStep": "urn:epcglobal:cbv:bizstep:shipping"},  # JSON must use the bare word
            (IssueCode.SCHEMA_VIOLATION,),
        ),
        (
            {"bizStep": "https://ref.gs1.org/cbv/BizStep-teleporting"},
            (IssueCode.UNKNOWN_BIZ_STEP,),
        ),
        (
            {"persistentDisposition": {"set": ["glowing"]}},
            (IssueCode.UNKNOWN_DISPOSITION,),
        ),
        (
            {"eventTime": None},
            (IssueCode.SCHEMA_VIOLATION, IssueCode.MISSING_FIELD),
        ),
        ({"eventTime": "2024-03-01T09:00:00"}, (IssueCode.INVALID_TIME,)),
        (
            {"eventTimeZoneOffset": "+15:00"},
            (IssueCode.SCHEMA_VIOLATION, IssueCode.INVALID_TIME_ZONE_OFFSET),
        ),
        ({"action": "MOVE"}, (IssueCode.SCHEMA_VIOLATION, IssueCode.INVALID_ACTION)),
        ({"epcList": ["urn:epc:id:sgtin:9506000.01343.1"]}, (IssueCode.INVALID_EPC,)),
        ({"epcList": ["https://id.gs1.org/01/09506000134353/21/1"]}, (IssueCode.INVALID_EPC,)),
        (
            {"quantityList": [{"epcClass": LGTIN, "quantity": -5}], "epcList": None},
            (IssueCode.INVALID_QUANTITY,),
        ),
        (
            {"action": "ADD", "ilmd": {"cbvmda:itemExpirationDate": "2026-02-30"}},
            (IssueCode.INVALID_ILMD,),
        ),
        (
            {"ilmd": {"cbvmda:lotNumber": "L1"}},  # ilmd only at ADD
            (IssueCode.SCHEMA_VIOLATION, IssueCode.NOT_ALLOWED),
        ),
        (
            {"bizTransactionList": [{"type": "invoice", "bizTransaction": "urn:x:1"}]},
            (IssueCode.UNKNOWN_BIZ_TRANSACTION_TYPE,),
        ),
        (
            {"sourceList": [{"type": "warehouse", "source": PLANT}]},
            (IssueCode.UNKNOWN_SOURCE_DEST_TYPE,),
        ),
        (
            {"errorDeclaration": {"declarationTime": "2024-03-02T00:00:00Z", "reason": "oops"}},
            (IssueCode.UNKNOWN_ERROR_REASON,),
        ),
        ({"readPoint": {"id": "dock 7"}}, (IssueCode.INVALID_VALUE,)),
    ],
    ids=lambda v: str(v)[:60],
)
def test_invalid_object_event_is_rejected_with_the_right_reasons(
    fields: dict[str, Any], codes: tuple[IssueCode, ...]
) -> None:
    bad = event(**fields)
    for key in [k for k, v in fields.items() if v is None]:
        bad.pop(key, None)
    assert only_rejection_codes(parse_epcis(document(bad))) == codes


@pytest.mark.parametrize("action", ["ADD", "DELETE"])
def test_aggregation_add_or_delete_without_parent_id_is_rejected(action: str) -> None:
    packing = event("AggregationEvent", action=action, bizStep="packing", childEPCs=[SGTIN])
    codes = only_rejection_codes(parse_epcis(document(packing)))
    assert codes == (IssueCode.MISSING_PARENT_ID,)


def test_aggregation_observe_without_parent_id_is_taken() -> None:
    seen = event("AggregationEvent", action="OBSERVE", bizStep="receiving", childEPCs=[SGTIN])
    (e,) = parse_epcis(document(seen)).events
    assert isinstance(e, AggregationEvent)
    assert (e.parent_id, e.child_epcs) == (None, (SGTIN,))


def test_aggregation_add_without_children_is_rejected() -> None:
    packing = event("AggregationEvent", action="ADD", bizStep="packing", parentID=SSCC)
    codes = only_rejection_codes(parse_epcis(document(packing)))
    assert codes == (IssueCode.SCHEMA_VIOLATION, IssueCode.MISSING_FIELD)


def test_transformation_event_with_only_a_transformation_id_is_rejected() -> None:
    bare = event(
        "TransformationEvent",
        action=None,
        bizStep="commissioning",
        transformationID="urn:epc:id:gdti:0614141.12345.400",
    )
    codes = only_rejection_codes(parse_epcis(document(bare)))
    assert codes == (IssueCode.SCHEMA_VIOLATION, IssueCode.MISSING_FIELD)


def test_transformation_event_with_an_action_is_rejected() -> None:
    making = event(
        "TransformationEvent",
        action="ADD",
        bizStep="commissioning",
        inputQuantityList=[{"epcClass": LGTIN, "quantity": 2}],
        outputEPCList=[SGTIN],
    )
    assert IssueCode.NOT_ALLOWED in only_rejection_codes(parse_epcis(document(making)))


def test_unknown_event_type_is_rejected() -> None:
    legacy = event("QuantityEvent")
    parsed = parse_epcis(document(legacy, event()))
    assert len(parsed.events) == 1
    assert parsed.rejected[0].codes == (IssueCode.UNKNOWN_EVENT_TYPE,)
    assert parsed.rejected[0].event_type == "QuantityEvent"


def test_xml_event_with_a_made_up_cbv_urn_or_unknown_element_is_rejected() -> None:
    body = (
        "<ObjectEvent><eventTime>2024-03-01T09:00:00Z</eventTime>"
        "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        f"<epcList><epc>{SGTIN}</epc></epcList><action>OBSERVE</action>"
        "<bizStep>urn:epcglobal:cbv:bizstep:teleporting</bizStep></ObjectEvent>"
        "<ObjectEvent><eventTime>2024-03-01T09:00:00Z</eventTime>"
        "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        f"<epcList><epc>{SGTIN}</epc></epcList><action>OBSERVE</action><colour>red</colour>"
        "</ObjectEvent>"
        "<AggregationEvent><eventTime>2024-03-01T09:00:00Z</eventTime>"
        "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        f"<childEPCs><epc>{SGTIN}</epc></childEPCs><action>ADD</action></AggregationEvent>"
    )
    parsed = parse_epcis(xml_document(body))
    assert parsed.events == ()
    assert [(r.index, r.codes) for r in parsed.rejected] == [
        (0, (IssueCode.UNKNOWN_BIZ_STEP,)),
        (1, (IssueCode.UNEXPECTED_ELEMENT,)),
        (2, (IssueCode.MISSING_PARENT_ID,)),
    ]
    assert parsed.rejected[0].raw.startswith("<ObjectEvent")


# --- whole documents that are refused -------------------------------------------------------

XXE_FILE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
    b'creationDate="2024-03-01T08:00:00Z"><EPCISBody><EventList><ObjectEvent>'
    b"<eventTime>2024-03-01T09:00:00Z</eventTime><eventTimeZoneOffset>+00:00"
    b"</eventTimeZoneOffset><epcList><epc>&xxe;</epc></epcList><action>OBSERVE</action>"
    b"</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"
)


def test_xxe_payload_is_refused_before_anything_is_read() -> None:
    error = refused(XXE_FILE, DocumentErrorReason.DOCTYPE_FORBIDDEN)
    assert "root:" not in error.message
    with pytest.raises(EPCISDocumentError) as caught:
        parse_epcis_xml(XXE_FILE)
    assert caught.value.reason is DocumentErrorReason.DOCTYPE_FORBIDDEN


def test_xxe_payload_in_utf16_is_refused_by_the_parsed_tree_check() -> None:
    # the byte scan can't see "<!DOCTYPE" in UTF-16; the parser's DTD record still shows it
    payload = XXE_FILE.decode().replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    refused(payload.encode("utf-16"), DocumentErrorReason.DOCTYPE_FORBIDDEN)


def test_billion_laughs_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    )
    refused(bomb, DocumentErrorReason.DOCTYPE_FORBIDDEN)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", DocumentErrorReason.EMPTY),
        (b"   \n", DocumentErrorReason.EMPTY),
        (b"hello", DocumentErrorReason.UNKNOWN_FORMAT),
        (b'{"type": "EPCISDocument", "x": "\xff"}', DocumentErrorReason.BAD_ENCODING),
        (b'{"type": "EPCISDocument", ', DocumentErrorReason.INVALID_JSON),
        (b'{"type": "EPCISDocument", "n": NaN}', DocumentErrorReason.INVALID_JSON),
        (b'{"a":' + b"[" * 100_000, DocumentErrorReason.TOO_DEEPLY_NESTED),
        (b'{"type": "Shipment"}', DocumentErrorReason.NOT_EPCIS),
        (b"<EPCISDocument><EPCISBody>", DocumentErrorReason.INVALID_XML),
        (b"<shipment/>", DocumentErrorReason.NOT_EPCIS),
        (
            b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2"'
            b' creationDate="2024-03-01T08:00:00Z"/>',
            DocumentErrorReason.UNSUPPORTED_VERSION,
        ),
        (
            xml_document("", root_attrs='schemaVersion="1.2"'),
            DocumentErrorReason.UNSUPPORTED_VERSION,
        ),
        (
            b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"'
            b' creationDate="yesterday"><EPCISBody/></epcis:EPCISDocument>',
            DocumentErrorReason.INVALID_CREATION_DATE,
        ),
        (
            b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"'
            b' creationDate="2024-03-01T08:00:00Z"/>',
            DocumentErrorReason.SCHEMA_VIOLATION,
        ),
        (document(event(), schemaVersion="1.2"), DocumentErrorReason.UNSUPPORTED_VERSION),
        (document(event(), **{"@context": None}), DocumentErrorReason.MISSING_CONTEXT),
        (
            document(event(), **{"@context": ["https://example.com/my-context.jsonld"]}),
            DocumentErrorReason.MISSING_CONTEXT,
        ),
        (
            document(event(), creationDate="2024-13-01T00:00:00Z"),
            DocumentErrorReason.INVALID_CREATION_DATE,
        ),
        (document(event(), creationDate=None), DocumentErrorReason.SCHEMA_VIOLATION),
        (document(event(), epcisBody={"events": []}), DocumentErrorReason.SCHEMA_VIOLATION),
        (document(event(), epcisBody={"eventList": {}}), DocumentErrorReason.SCHEMA_VIOLATION),
    ],
    ids=lambda v: v[:50].decode(errors="replace") if isinstance(v, bytes) else str(v),
)
def test_unreadable_documents_are_refused_with_a_specific_reason(
    data: bytes, reason: DocumentErrorReason
) -> None:
    refused(data, reason)


def test_document_size_is_bounded() -> None:
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    data = document(event())
    refused(data, DocumentErrorReason.TOO_LARGE, max_bytes=len(data) - 1)
    assert len(parse_epcis(data, max_bytes=len(data)).events) == 1
    with pytest.raises(EPCISDocumentError) as caught:
        parse_epcis_json(data.decode(), max_bytes=10)
    assert caught.value.reason is DocumentErrorReason.TOO_LARGE


def test_document_error_is_a_kernel_document_refusal() -> None:
    error = refused(b"hello", DocumentErrorReason.UNKNOWN_FORMAT)
    assert (error.status, error.code) == (422, "document_refused")
    assert error.problem()["reason"] == "unknown_format"


def test_parse_epcis_json_and_xml_entry_points_accept_text() -> None:
    assert len(parse_epcis_json(document(event()).decode()).events) == 1
    text = (CONFORMANCE / "xml" / "Example_9.6.1-ObjectEvent-2020_06_18a.xml").read_text()
    assert len(parse_epcis_xml(text.replace('encoding="UTF-8" ', "")).events) == 2


def test_xml_query_document_and_the_legacy_extension_wrapper() -> None:
    xml = (
        b'<epcisq:EPCISQueryDocument xmlns:epcisq="urn:epcglobal:epcis-query:xsd:2" '
        b'schemaVersion="2.0" creationDate="2024-03-01T08:00:00Z"><EPCISBody>'
        b"<epcisq:QueryResults><queryName>SimpleEventQuery</queryName><resultsBody><EventList>"
        b"<ObjectEvent><eventTime>2024-03-01T09:00:00Z</eventTime>"
        b"<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        b"<epcList><epc>urn:epc:id:sgtin:9506000.013435.SN0001</epc></epcList>"
        b"<action>OBSERVE</action></ObjectEvent>"
        b"<extension><TransformationEvent><eventTime>2024-03-01T10:00:00Z</eventTime>"
        b"<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        b"<inputEPCList><epc>urn:epc:id:sgtin:9506000.013435.SN0001</epc></inputEPCList>"
        b"<transformationID>urn:epc:id:gdti:0614141.12345.400</transformationID>"
        b"</TransformationEvent></extension>"
        b"</EventList></resultsBody></epcisq:QueryResults></EPCISBody></epcisq:EPCISQueryDocument>"
    )
    parsed = parse_epcis(xml)
    assert parsed.document_type == "EPCISQueryDocument"
    assert [(type(e).__name__, e.index) for e in parsed.events] == [
        ("ObjectEvent", 0),
        ("TransformationEvent", 1),
    ]
    assert parsed.rejected == ()
