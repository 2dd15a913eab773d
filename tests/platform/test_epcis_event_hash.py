"""CBV 2.0 §8.9 event hash IDs (pharmaqms.platform.epcis.event_hash) and the
duplicate finding when one event arrives twice under different eventIDs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support import conformance_dir

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis import parse_epcis
from pharmaqms.platform.epcis.event_hash import event_hash, pre_hash
from pharmaqms.platform.epcis_repository.models import EpcisDuplicate
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.trace import canonical
from pharmaqms.platform.traceability.models import EpcisEvent

JSON = conformance_dir() / "json"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

# Computed by the GS1 community's reference implementation (epcis-event-hash-generator 1.9.3)
# from the official examples, event by event.
REFERENCE = {
    ("Example_9.6.1-ObjectEvent.jsonld", 0): "df6523665bc5e5803d6c7b84f5a04e10"
    "3694d8220f2abc4f2c74310e89f31bc6",
    ("AssociationEvent_AssociationEvent-a.jsonld", 0): "39141606ab0b3f7839735303d670b16a"
    "cdd6faf573d27564ebb3f76ad23e4ff7",
    ("WithErrorDeclaration_ErrorDeclarationAndCorrectiveEvent.jsonld", 0): "db50dd61ad0309f0"
    "f727d7b1f9335728d77c07b2ba13f82fe58a87f42e943a2a",
    ("WithErrorDeclaration_ErrorDeclarationAndCorrectiveEvent.jsonld", 1): "e74d8397fb06e337"
    "c3a9ffdf00effff305de5fc8ec6f0fbae28b036f4320cfda",
    ("WithSensorData_SensorDataExample16.jsonld", 0): "e1c13af8c5c9ca254ba231326fa81b27"
    "066cd55b190a64ec6450481baa2e3be6",
}


def _document(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T16:00:00Z",
            "epcisBody": {"eventList": list(events)},
        }
    ).encode()


def _commissioning(event_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventID": event_id,
        "eventTime": "2026-03-01T08:00:00.1234Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "DELETE",
        "parentID": "urn:epc:id:sscc:9506000.1000000001",
        "childEPCs": [],
        "persistentDisposition": {
            "set": ["completeness_verified"],
            "unset": ["completeness_inferred"],
        },
        "certificationInfo": "https://cert.example.com/1",
        "bizLocation": {"id": "urn:epc:id:sgln:9506000.00001.7"},
        **overrides,
    }


@pytest.mark.parametrize(("name", "index"), sorted(REFERENCE))
def test_the_hash_of_official_examples_is_the_reference_implementations(
    name: str, index: int
) -> None:
    event = parse_epcis((JSON / name).read_bytes()).events[index]
    assert event_hash(event, canonical) == f"ni:///sha-256;{REFERENCE[name, index]}?ver=CBV2.0"


def test_the_pre_hash_string_follows_the_standards_order_and_spelling() -> None:
    event = parse_epcis(_document(_commissioning("urn:uuid:1"))).events[0]
    assert pre_hash(event, canonical) == (
        "eventType=AggregationEvent"
        "eventTime=2026-03-01T08:00:00.123Z"
        "eventTimeZoneOffset=+00:00"
        "certificationInfo=https://cert.example.com/1"
        "parentID=https://id.gs1.org/00/195060000000000012"
        "action=DELETE"
        "persistentDispositionset=https://ref.gs1.org/cbv/Disp-completeness_verified"
        "unset=https://ref.gs1.org/cbv/Disp-completeness_inferred"
        "bizLocationid=https://id.gs1.org/414/9506000000015/254/7"
    )
    # The reference implementation gives this event the same hash.
    assert event_hash(event, canonical) == (
        "ni:///sha-256;3b3cd72ac6d62465c9fe3149bd265b2ad04fa550d56177fb2b77a4fee092b78a?ver=CBV2.0"
    )


def test_spelling_does_not_change_the_hash_and_content_does() -> None:
    base = parse_epcis(_document(_commissioning("urn:uuid:1"))).events[0]
    respelt = parse_epcis(
        _document(
            _commissioning(
                "urn:uuid:2",
                eventTime="2026-03-01T09:00:00.123+01:00",
                eventTimeZoneOffset="+00:00",
                parentID="https://id.gs1.org/00/195060000000000012",
                bizLocation={"id": "https://id.gs1.org/414/9506000000015/254/7"},
                persistentDisposition={
                    "set": ["https://ref.gs1.org/cbv/Disp-completeness_verified"],
                    "unset": ["completeness_inferred"],
                },
            )
        )
    ).events[0]
    moved = parse_epcis(
        _document(
            _commissioning("urn:uuid:3", bizLocation={"id": "urn:epc:id:sgln:9506000.00001.8"})
        )
    ).events[0]
    assert event_hash(respelt, canonical) == event_hash(base, canonical)
    assert event_hash(moved, canonical) != event_hash(base, canonical)


def _counts(db: Any) -> tuple[int, int]:
    with unit_of_work(db, write=False) as s:
        events = s.scalar(select(func.count()).select_from(EpcisEvent)) or 0
        findings = s.scalar(select(func.count()).select_from(EpcisDuplicate)) or 0
    return int(events), int(findings)


@pytest.mark.postgres
def test_one_event_under_two_event_ids_is_kept_twice_and_found(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        ingest.ingest(
            s, actor=people.logistics, kind="epcis", content=_document(_commissioning("urn:uuid:a"))
        )
    assert _counts(db) == (1, 0)
    copy = _commissioning("urn:uuid:b", parentID="https://id.gs1.org/00/195060000000000012")
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(copy))
        assert (run.rows_accepted, run.rows_duplicate) == (1, 0)
    assert _counts(db) == (2, 1)
    with unit_of_work(db, write=False) as s:
        finding = s.scalars(select(EpcisDuplicate)).one()
        first, second = s.scalars(select(EpcisEvent).order_by(EpcisEvent.id)).all()
        assert (finding.original_event_id, finding.event_id) == (first.id, second.id)
        assert first.event_hash == second.event_hash == finding.event_hash
        assert finding.event_hash.startswith("ni:///sha-256;")
    # The same eventID again is the same event re-sent: nothing new, no new finding.
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(copy))
        assert (again.rows_accepted, again.rows_duplicate) == (0, 1)
    assert _counts(db) == (2, 1)
