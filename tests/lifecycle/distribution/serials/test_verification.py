"""Serial numbers (pharmaqms.lifecycle.distribution.serials): commissioning ranges and the pack
verification API, over packs commissioned, moved, dispensed and decommissioned through EPCIS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.serials.models import SerialRange, SerialVerification
from pharmaqms.lifecycle.distribution.serials.rules import Answer, PackFacts, Request, decide
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.links import QualityLink

GTIN = "19506000343522"  # urn:epc:id:sgtin:9506000.134352.*
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
CASE = "urn:epc:id:sscc:9506000.1000000009"


def _pack(serial: str) -> str:
    return f"urn:epc:id:sgtin:9506000.134352.{serial}"


def _event(kind: str, day: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": f"2026-02-{day:02d}T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


def _commission(day: int, serials: list[str], lot: str, expiry: str) -> dict[str, Any]:
    return _event(
        "ObjectEvent",
        day,
        action="ADD",
        epcList=[_pack(s) for s in serials],
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry},
    )


EVENTS = [
    _commission(1, ["S1", "S2", "S3", "S4", "S5"], "L1", "2028-01-31"),
    _commission(1, ["E1"], "L0", "2026-01-31"),
    _event(
        "AggregationEvent",
        2,
        action="ADD",
        parentID=CASE,
        childEPCs=[_pack("S4"), _pack("S5")],
        bizStep="packing",
    ),
    _event(
        "ObjectEvent",
        3,
        action="DELETE",
        epcList=[_pack("S2")],
        bizStep="decommissioning",
        disposition="inactive",
    ),
    _event(
        "ObjectEvent",
        4,
        action="OBSERVE",
        epcList=[_pack("S3")],
        bizStep="dispensing",
        disposition="dispensed",
    ),
    # The case is recalled: what it holds is recalled with it.
    _event(
        "ObjectEvent",
        5,
        action="OBSERVE",
        epcList=[CASE],
        bizStep="holding",
        disposition="recalled",
    ),
    # S5 was picked from the case before the recall reached it.
    _event(
        "AggregationEvent",
        4,
        action="DELETE",
        parentID=CASE,
        childEPCs=[_pack("S5")],
        bizStep="picking",
    ),
]


@pytest.fixture
def packs(db, people, frozen_clock, api):  # type: ignore[no-untyped-def]
    content = json.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-02-06T00:00:00Z",
            "epcisBody": {"eventList": EVENTS},
        }
    ).encode()
    with unit_of_work(db) as s:
        assert ingest.ingest(s, actor=people.logistics, kind="epcis", content=content).rows_accepted
    declared = api("qa").post(
        "/api/v1/serials/ranges",
        json={
            "gtin": GTIN,
            "lot_number": "L2",
            "expires_on": "2027-06-30",
            "prefix": "R",
            "first": 1,
            "last": 100,
            "width": 5,
        },
    )
    assert declared.status_code == 201, declared.text
    assert declared.json()["count"] == 100
    return db


def _verify(
    client: Any, serial: str, lot: str = "L1", exp: str | None = None, gtin: str = GTIN
) -> Any:
    params = {"exp": exp} if exp is not None else {}
    return client.get(f"/api/v1/verify/01/{gtin}/10/{lot}/21/{serial}", params=params)


def _count(db: Any, model: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.postgres
def test_each_pack_gets_the_answer_its_history_gives(packs, api) -> None:  # type: ignore[no-untyped-def]
    client = api("logistics")
    cases = [
        (("S1", "L1", "280131"), Answer.GENUINE),
        (("S1", "L1", None), Answer.GENUINE),
        (("S1", "L9", None), Answer.WRONG_LOT_OR_EXPIRY),
        (("S1", "L1", "280130"), Answer.WRONG_LOT_OR_EXPIRY),
        (("S2", "L1", None), Answer.DECOMMISSIONED),
        (("S3", "L1", None), Answer.ALREADY_DISPENSED),
        (("S4", "L1", None), Answer.RECALLED),
        (("S5", "L1", None), Answer.GENUINE),
        (("E1", "L0", "260131"), Answer.EXPIRED),
        (("NOPE", "L1", None), Answer.UNKNOWN_SERIAL),
        (("R00042", "L2", "270630"), Answer.GENUINE),
        (("R00042", "L1", None), Answer.WRONG_LOT_OR_EXPIRY),
        (("R00101", "L2", None), Answer.UNKNOWN_SERIAL),
        (("R0042", "L2", None), Answer.UNKNOWN_SERIAL),
    ]
    for (serial, lot, exp), expected in cases:
        response = _verify(client, serial, lot, exp)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (serial, body["answer"]) == (serial, expected.value), body["detail"]
        assert body["suspected_falsification"] is None
    assert _count(packs, SerialVerification) == len(cases)
    with unit_of_work(packs, write=False) as s:
        last = s.scalars(select(SerialVerification).order_by(SerialVerification.id.desc())).first()
        assert last is not None
        assert (last.serial, last.answer, last.channel) == ("R0042", "unknown_serial", "api")


@pytest.mark.postgres
def test_a_dispensed_pack_verified_again_raises_a_suspected_falsification(packs, api) -> None:  # type: ignore[no-untyped-def]
    client = api("logistics")
    first = _verify(client, "S3").json()
    assert (first["answer"], first["suspected_falsification"]) == ("already_dispensed", None)
    assert _count(packs, Deviation) == 0
    second = _verify(client, "S3").json()
    assert second["answer"] == "already_dispensed"
    number = second["suspected_falsification"]
    assert number is not None and number.startswith("DEV-")
    with unit_of_work(packs, write=False) as s:
        deviation = s.scalars(select(Deviation)).one()
        assert deviation.number == number
        assert "S3" in deviation.title
        link = s.scalars(select(QualityLink)).one()
        assert (link.source_type, link.source_id) == (
            "serial_verification",
            second["verification_id"],
        )
        assert (link.target_type, link.target_id) == ("deviation", deviation.id)
    assert _count(packs, SerialVerification) == 2


def test_malformed_requests_are_refused_and_nothing_is_recorded(packs, api) -> None:  # type: ignore[no-untyped-def]
    client = api("logistics")
    refused = [
        _verify(client, "S1", gtin="19506000343523"),  # bad check digit
        _verify(client, "S1", gtin="1950600034352"),  # 13 digits, bad check digit
        _verify(client, "S1", gtin="12345"),
        _verify(client, "S1", exp="281332"),
        _verify(client, "S1", exp="2801"),
    ]
    assert [r.status_code for r in refused] == [422] * 5
    assert refused[0].json()["field"] == "gtin"
    assert "check digit" in refused[0].json()["detail"]
    assert refused[3].json()["field"] == "exp"
    denied = _verify(api("auditor"), "S1")
    assert denied.status_code == 403
    assert _count(packs, SerialVerification) == 0


def test_overlapping_or_impossible_ranges_are_refused(packs, api) -> None:  # type: ignore[no-untyped-def]
    client = api("qa")
    base = {"gtin": GTIN, "lot_number": "L3", "expires_on": "2027-06-30", "prefix": "R"}
    overlap = client.post(
        "/api/v1/serials/ranges", json={**base, "first": 100, "last": 200, "width": 5}
    )
    backwards = client.post(
        "/api/v1/serials/ranges", json={**base, "first": 300, "last": 200, "width": 5}
    )
    too_wide = client.post(
        "/api/v1/serials/ranges", json={**base, "first": 1, "last": 2, "width": 20}
    )
    bad_gtin = client.post(
        "/api/v1/serials/ranges",
        json={**base, "gtin": "19506000343523", "first": 1, "last": 2, "width": 5},
    )
    denied = api("auditor").post(
        "/api/v1/serials/ranges", json={**base, "first": 500, "last": 600, "width": 5}
    )
    assert [r.status_code for r in (overlap, backwards, too_wide, bad_gtin, denied)] == [
        409,
        422,
        422,
        422,
        403,
    ]
    assert _count(packs, SerialRange) == 1
    other_width = client.post(
        "/api/v1/serials/ranges", json={**base, "first": 100, "last": 200, "width": 6}
    )
    assert other_width.status_code == 201
    listed = client.get("/api/v1/serials/ranges", params={"gtin": GTIN}).json()
    assert [(r["lot_number"], r["width"]) for r in listed] == [("L2", 5), ("L3", 6)]


def test_the_rules_put_what_endangers_a_patient_first() -> None:
    from datetime import date

    asked = Request("L1", None, date(2026, 3, 2))
    everything = PackFacts(
        known=True,
        lot_number="L1",
        expires_on=date(2026, 1, 1),
        lot_status="recalled",
        disposition="dispensed",
        decommissioned=True,
    )
    assert decide(everything, asked).answer is Answer.RECALLED
    assert decide(PackFacts(known=False), asked).answer is Answer.UNKNOWN_SERIAL
    wrong = PackFacts(known=True, lot_number="L2", lot_status="recalled")
    assert decide(wrong, asked).answer is Answer.WRONG_LOT_OR_EXPIRY
    gone = PackFacts(known=True, lot_number="L1", disposition="dispensed", decommissioned=True)
    assert decide(gone, asked).answer is Answer.DECOMMISSIONED
    old = PackFacts(known=True, lot_number="L1", expires_on=date(2026, 3, 1))
    assert decide(old, asked).answer is Answer.EXPIRED
    assert decide(PackFacts(known=True, lot_number="L1"), asked).answer is Answer.GENUINE
