"""The EPCIS 2.0 query interface (pharmaqms.platform.epcis_repository) against the official GS1
examples: capture them all, query them back through ``GET /api/v1/epcis/events``, and compare
with what the examples say, independently of the SQL."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select
from tests.support import conformance_dir

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis import EPCISEvent, parse_epcis
from pharmaqms.platform.epcis.schema import document_validator
from pharmaqms.platform.epcis_repository.models import EpcisNamedQuery
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.trace import canonical
from pharmaqms.platform.traceability.models import EpcisEvent

CONFORMANCE = conformance_dir()
EXAMPLES = sorted(
    p for p in (CONFORMANCE / "json").glob("*.jsonld") if p.name != "EPCISQueryDocument.jsonld"
)
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture
def captured(db, people, frozen_clock):  # type: ignore[no-untyped-def]
    """Every official JSON example captured; the examples' own events, parsed and as written."""
    parsed: list[EPCISEvent] = []
    written: set[str] = set()
    with unit_of_work(db) as s:
        for path in EXAMPLES:
            content = path.read_bytes()
            ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
            parsed.extend(parse_epcis(content).events)
            written |= {_dumps(e) for e in json.loads(content)["epcisBody"]["eventList"]}
    with unit_of_work(db, write=False) as s:
        stored = int(s.scalar(select(func.count()).select_from(EpcisEvent)) or 0)
    return parsed, written, stored


def _events(client: Any, **params: Any) -> tuple[list[dict[str, Any]], Any]:
    response = client.get("/api/v1/epcis/events", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(document_validator().iter_errors(body)) == []
    assert body["type"] == "EPCISQueryDocument"
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
    return body["epcisBody"]["queryResults"]["resultsBody"]["eventList"], response


def _key(event: EPCISEvent) -> tuple[str, str]:
    return (event.event_type.value, event.event_time.isoformat())


def _keys_of(returned: list[dict[str, Any]]) -> list[tuple[str, str]]:
    events = parse_epcis(
        json.dumps(
            {
                "@context": CONTEXT,
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-03-02T09:00:00Z",
                "epcisBody": {"eventList": returned},
            }
        )
    ).events
    return sorted(_key(e) for e in events)


def _distinct(events: list[EPCISEvent]) -> list[EPCISEvent]:
    """The examples' events as the repository keeps them: one per eventID (or content)."""
    seen: dict[tuple[str | None, bool], EPCISEvent] = {}
    for e in events:
        key = (e.event_id or repr(_key(e)) + str(e.raw), e.error_declaration is not None)
        seen.setdefault(key, e)
    return list(seen.values())


@pytest.mark.postgres
def test_the_official_examples_come_back_as_they_were_captured(captured, api) -> None:  # type: ignore[no-untyped-def]
    parsed, written, stored = captured
    client = api("auditor")
    returned, _ = _events(client, perPage=1000)
    assert len(returned) == stored == len(_distinct(parsed))
    for event in returned:
        record_time = event.pop("recordTime")
        assert _dumps(event) in written or _dumps({**event, "recordTime": record_time}) in written


@pytest.mark.postgres
def test_filters_select_what_the_examples_say(captured, api) -> None:  # type: ignore[no-untyped-def]
    parsed, _written, _stored = captured
    events = _distinct(parsed)
    client = api("auditor")

    def expect(keep: Any) -> list[tuple[str, str]]:
        return sorted(_key(e) for e in events if keep(e))

    aggregations, _ = _events(client, eventType="AggregationEvent", perPage=1000)
    assert _keys_of(aggregations) == expect(lambda e: e.event_type.value == "AggregationEvent")
    assert len(aggregations) >= 3
    shipping, _ = _events(client, EQ_bizStep="shipping", perPage=1000)
    as_urn, _ = _events(client, EQ_bizStep="urn:epcglobal:cbv:bizstep:shipping", perPage=1000)
    assert _keys_of(shipping) == _keys_of(as_urn) == expect(lambda e: e.biz_step == "shipping")
    assert shipping
    window, _ = _events(
        client,
        GE_eventTime="2013-06-01T00:00:00Z",
        LT_eventTime="2014-01-01T00:00:00+00:00",
        perPage=1000,
    )
    assert _keys_of(window) == expect(lambda e: e.event_time.year == 2013)
    assert window
    pack = "urn:epc:id:sgtin:0614141.107346.2018"

    def names(e: EPCISEvent, roles: tuple[str, ...]) -> bool:
        # An error declaration is kept as received but not indexed by what it names (the
        # traces leave it out): the MATCH_ parameters find the events, not their retractions.
        if e.error_declaration is not None:
            return False
        ids = [getattr(e, r, ()) for r in roles]
        return canonical(pack) in {canonical(i) for group in ids for i in group}

    roles = ("epc_list", "child_epcs", "input_epcs", "output_epcs")
    matched, _ = _events(client, MATCH_epc=pack, perPage=1000)
    as_link, _ = _events(client, MATCH_epc=canonical(pack), perPage=1000)
    assert _keys_of(matched) == _keys_of(as_link) == expect(lambda e: names(e, roles))
    assert len(matched) >= 3
    everything, _ = _events(client, MATCH_epc="urn:epc:idpat:sgtin:0614141.107346.*", perPage=1000)
    assert {_key(e) for e in events if names(e, roles)} <= set(_keys_of(everything))
    observed, _ = _events(client, EQ_action="OBSERVE", EQ_disposition="in_progress", perPage=1000)
    assert _keys_of(observed) == expect(
        lambda e: getattr(e, "action", None) == "OBSERVE" and e.disposition == "in_progress"
    )


@pytest.mark.postgres
def test_pages_follow_next_page_tokens_to_the_end(captured, api) -> None:  # type: ignore[no-untyped-def]
    _parsed, _written, stored = captured
    client = api("auditor")
    seen: list[str] = []
    params: dict[str, Any] = {"perPage": 7}
    pages = 0
    while True:
        events, response = _events(client, **params)
        pages += 1
        seen += [_dumps(e) for e in events]
        link = response.headers.get("Link")
        if link is None:
            break
        target = link.split(">")[0].lstrip("<")
        params = dict(parse_qsl(urlsplit(target).query))
        assert params["perPage"] == "7"
    assert (len(seen), len(set(seen)), pages) == (stored, stored, -(-stored // 7))


@pytest.mark.postgres
def test_bad_queries_are_refused_per_the_standard(captured, api) -> None:  # type: ignore[no-untyped-def]
    client = api("auditor")
    cases = {
        "EQ_colour": "red",
        "GE_eventTime": "2026-01-01T00:00:00",
        "eventType": "TeleportEvent",
        "perPage": "0",
        "nextPageToken": "forged",
        "EQ_action": "MOVE",
        "MATCH_epc": "urn:epc:idpat:sscc:*",
    }
    for name, value in cases.items():
        response = client.get("/api/v1/epcis/events", params={name: value})
        assert response.status_code == 400, (name, response.text)
        body = response.json()
        assert body["type"] == "epcisException:QueryParameterException"
        assert body["title"] == "QueryParameterException"
        assert body["field"] == name
    _first, response = _events(client, perPage=2)
    token = dict(parse_qsl(urlsplit(response.headers["Link"][1:].split(">")[0]).query))
    other = client.get(
        "/api/v1/epcis/events",
        params={"perPage": 2, "eventType": "ObjectEvent", "nextPageToken": token["nextPageToken"]},
    )
    assert other.status_code == 400


def _audit_count(db: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_named_queries_are_kept_listed_and_run_with_an_audit_trail(db, captured, api) -> None:  # type: ignore[no-untyped-def]
    logistics, auditor = api("logistics"), api("auditor")
    created = logistics.post(
        "/api/v1/epcis/queries",
        json={
            "name": "receipts-2013",
            "description": "What arrived in 2013",
            "query": {"EQ_bizStep": ["receiving"], "GE_eventTime": "2013-01-01T00:00:00Z"},
        },
    )
    assert created.status_code == 201, created.text
    listed = auditor.get("/api/v1/epcis/queries").json()
    assert [q["name"] for q in listed] == ["receipts-2013"]
    assert listed[0]["query"] == {
        "EQ_bizStep": ["receiving"],
        "GE_eventTime": ["2013-01-01T00:00:00Z"],
    }
    direct, _ = _events(auditor, EQ_bizStep="receiving", GE_eventTime="2013-01-01T00:00:00Z")
    before = _audit_count(db)
    ran = auditor.get("/api/v1/epcis/queries/receipts-2013/events")
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert list(document_validator().iter_errors(body)) == []
    assert body["epcisBody"]["queryResults"]["queryName"] == "receipts-2013"
    assert body["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == direct
    assert direct
    assert _audit_count(db) == before + 1
    # Refusals change nothing: a bad parameter, a taken name, a filter added at run time, and
    # a role without the permission.
    with unit_of_work(db, write=False) as s:
        kept = int(s.scalar(select(func.count()).select_from(EpcisNamedQuery)) or 0)
    audits = _audit_count(db)
    bad = logistics.post("/api/v1/epcis/queries", json={"name": "x", "query": {"EQ_colour": "red"}})
    taken = logistics.post(
        "/api/v1/epcis/queries", json={"name": "receipts-2013", "query": {"EQ_action": "ADD"}}
    )
    added = auditor.get("/api/v1/epcis/queries/receipts-2013/events", params={"EQ_action": "ADD"})
    denied = auditor.post("/api/v1/epcis/queries", json={"name": "mine", "query": {}})
    missing = auditor.get("/api/v1/epcis/queries/nothing/events")
    assert [r.status_code for r in (bad, taken, added, denied, missing)] == [
        400,
        409,
        400,
        403,
        404,
    ]
    with unit_of_work(db, write=False) as s:
        assert int(s.scalar(select(func.count()).select_from(EpcisNamedQuery)) or 0) == kept
    assert _audit_count(db) == audits


def test_a_lots_events_export_as_one_epcis_document(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    from tests.platform.test_containment import EVENTS, PACKS

    content = json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T16:00:00Z",
            "epcisBody": {"eventList": EVENTS},
        }
    ).encode()
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
    lot = canonical(PACKS[0]).replace("/21/P1", "/10/L1")
    logistics, auditor = api("logistics"), api("auditor")
    audits = _audit_count(db)
    response = logistics.get(f"/api/v1/epcis/export/lots/{lot}")
    assert response.status_code == 200, response.text
    document = response.json()
    assert list(document_validator().iter_errors(document)) == []
    assert document["type"] == "EPCISDocument"
    exported = document["epcisBody"]["eventList"]
    steps = [(e["type"], e.get("bizStep")) for e in exported]
    # Every event of the lot's packs and of the containers that carried them, in order.
    assert steps == [(e["type"], e["bizStep"]) for e in EVENTS]
    assert _audit_count(db) == audits + 1
    not_a_lot = logistics.get(f"/api/v1/epcis/export/lots/{canonical(PACKS[0])}")
    denied = auditor.get(f"/api/v1/epcis/export/lots/{lot}")
    assert (not_a_lot.status_code, denied.status_code) == (422, 403)
    assert _audit_count(db) == audits + 1


def test_events_received_as_xml_come_back_as_valid_json_ld(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    expected = 0
    with unit_of_work(db) as s:
        for path in sorted((CONFORMANCE / "xml").glob("*.xml")):
            run = ingest.ingest(s, actor=people.logistics, kind="epcis", content=path.read_bytes())
            expected += run.rows_accepted
    returned, _ = _events(api("auditor"), perPage=1000)
    assert len(returned) == expected > 0
    assert {e["type"] for e in returned} >= {"ObjectEvent", "TransactionEvent", "AssociationEvent"}
    assert all("recordTime" in e for e in returned)
