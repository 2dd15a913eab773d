"""EPCIS ingest into the database: the official examples, idempotency, quarantine, packs and
error declarations (pharmaqms.platform.connectors.epcis_store)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support import conformance_dir

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.epcis_store import named_objects
from pharmaqms.platform.epcis import parse_epcis
from pharmaqms.platform.genealogy.models import EpcisErrorDeclaration
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.traceability.models import EpcisEvent, EpcisEventObject, SerialisedPack

CONFORMANCE = conformance_dir()
EXAMPLES = sorted(CONFORMANCE.glob("json/*.jsonld")) + sorted(CONFORMANCE.glob("xml/*.xml"))
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
GTIN = "09506000134352"
SGLN = "urn:epc:id:sgln:9506000.00001.0"


def _count(db: Any, model: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _document(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-02-01T10:00:00Z",
            "epcisBody": {"eventList": list(events)},
        }
    ).encode()


def _event(**fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-02-01T08:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        **fields,
    }


def test_the_official_examples_are_all_there() -> None:
    assert (len(EXAMPLES), len(list(CONFORMANCE.glob("xml/*.xml")))) == (52, 5)


@pytest.mark.postgres
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_official_example_is_stored_event_by_event(db, people, frozen_clock, path) -> None:  # type: ignore[no-untyped-def]
    content = path.read_bytes()
    parsed = parse_epcis(content)
    declarations = [e for e in parsed.events if e.error_declaration is not None]
    plain = [e for e in parsed.events if e.error_declaration is None]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
        outcome = (run.status, run.rows_total, run.rows_accepted, run.rows_quarantined)
    assert outcome == ("completed", len(parsed.events), len(parsed.events), 0)
    assert _count(db, EpcisEvent) == len(parsed.events)
    assert _count(db, EpcisErrorDeclaration) == len(declarations)
    assert _count(db, EpcisEventObject) == sum(len(named_objects(e)) for e in plain)


def test_re_ingesting_a_document_changes_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    content = (CONFORMANCE / "json" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
    counts = (_count(db, EpcisEvent), _count(db, EpcisEventObject))
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
        assert (again.rows_accepted, again.rows_duplicate) == (0, 2)
    assert (_count(db, EpcisEvent), _count(db, EpcisEventObject)) == counts == (2, 3)


def test_an_event_without_event_id_is_keyed_by_content_across_spellings(  # type: ignore[no-untyped-def]
    db, people, frozen_clock
) -> None:
    as_urn = _event(epcList=["urn:epc:id:sgtin:9506000.013435.S1"], bizStep="inspecting")
    as_link = _event(epcList=[f"https://id.gs1.org/01/{GTIN}/21/S1"], bizStep="inspecting")
    with unit_of_work(db) as s:
        first = ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(as_urn))
        second = ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(as_link))
        assert (first.rows_accepted, second.rows_accepted, second.rows_duplicate) == (1, 0, 1)
    with unit_of_work(db, write=False) as s:
        key = s.scalar(select(EpcisEvent.event_id))
        objects = [(o.role, o.epc) for o in s.scalars(select(EpcisEventObject))]
    assert key is not None and key.startswith("pharmaqms:event-hash:sha-256:")
    assert objects == [("epc", f"https://id.gs1.org/01/{GTIN}/21/S1")]


@pytest.mark.postgres
def test_rejected_events_are_quarantined_with_their_codes_and_the_rest_is_taken(  # type: ignore[no-untyped-def]
    db, people, frozen_clock
) -> None:
    good = _event(epcList=[f"https://id.gs1.org/01/{GTIN}/21/S1"], eventID="urn:uuid:good")
    bad_step = _event(epcList=[f"https://id.gs1.org/01/{GTIN}/21/S2"], bizStep="teleporting")
    bad_epc = _event(epcList=["urn:epc:id:sgtin:9506000.013435"], eventID="urn:uuid:bad")
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.logistics, kind="epcis", content=_document(good, bad_step, bad_epc)
        )
        outcome = (run.rows_total, run.rows_accepted, run.rows_quarantined)
    assert outcome == (3, 1, 2)
    with unit_of_work(db, write=False) as s:
        rows = {
            q.position: ([r["code"] for r in q.reasons], json.loads(q.raw["raw"])["epcList"])
            for q in s.scalars(select(QuarantinedRow))
        }
    assert rows == {
        "event 1": (["unknown_biz_step"], [f"https://id.gs1.org/01/{GTIN}/21/S2"]),
        "event 2": (["invalid_epc"], ["urn:epc:id:sgtin:9506000.013435"]),
    }
    assert _count(db, EpcisEvent) == 1


def test_a_quarantined_event_is_corrected_and_replayed(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    bad = _event(epcList=[f"https://id.gs1.org/01/{GTIN}/21/S2"], bizStep="teleporting")
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(bad))
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow)).one()
        row_id, raw = row.id, dict(row.raw)
    fixed = {**json.loads(raw["raw"]), "bizStep": "shipping"}
    with unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.logistics,
            row_id=row_id,
            corrected={**raw, "raw": json.dumps(fixed), "issues": ""},
            reason="sender's typo, confirmed by phone",
        )
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(EpcisEvent.biz_step)) == "shipping"
        assert s.get(QuarantinedRow, row_id).status == "replayed"  # type: ignore[union-attr]


def test_a_document_that_is_not_epcis_is_refused_whole(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="epcis", content=b'{"type": "x"}')
        outcome = (run.status, run.rows_total)
    assert outcome == ("refused", 0)
    assert (_count(db, EpcisEvent), _count(db, QuarantinedRow)) == (0, 0)


@pytest.mark.postgres
def test_commissioning_creates_packs_linked_to_our_lot(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        masterdata.add_product(s, actor=people.admin, gtin=GTIN, code="VAX", name="Vaccine")
        masterdata.add_lot(s, actor=people.qc, kind="finished", item_code="VAX", lot_number="B1")
    commissioning = _event(
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=["urn:epc:id:sgtin:9506000.013435.S1", f"https://id.gs1.org/01/{GTIN}/21/S2"],
        ilmd={"cbvmda:lotNumber": "B1", "cbvmda:itemExpirationDate": "2028-01-31"},
        bizLocation={"id": SGLN},
    )
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=_document(commissioning))
    with unit_of_work(db, write=False) as s:
        lot_id = masterdata.find_lot(s, "B1").id
        packs = [
            (p.epc, p.serial, p.lot_id, p.lot_number, p.expires_on)
            for p in s.scalars(select(SerialisedPack).order_by(SerialisedPack.serial))
        ]
        lot_rows = list(
            s.scalars(select(EpcisEventObject.epc).where(EpcisEventObject.role == "lot"))
        )
    assert packs == [
        (f"https://id.gs1.org/01/{GTIN}/21/S{n}", f"S{n}", lot_id, "B1", date(2028, 1, 31))
        for n in (1, 2)
    ]
    assert lot_rows == [f"https://id.gs1.org/01/{GTIN}/10/B1"]


def test_an_error_declaration_retracts_the_event_it_names(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    path = CONFORMANCE / "json" / "WithErrorDeclaration_ErrorDeclarationAndCorrectiveEvent.jsonld"
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.logistics, kind="epcis", content=path.read_bytes())
    with unit_of_work(db, write=False) as s:
        declaration = s.scalars(select(EpcisErrorDeclaration)).one()
        flagged = list(s.scalars(select(EpcisEvent.event_id).where(EpcisEvent.error_declared)))
        found = (
            declaration.declared_key,
            declaration.reason,
            declaration.corrective_event_ids,
            len(flagged),
        )
    assert found == (
        "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
        "incorrect_data",
        ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"],
        1,
    )
