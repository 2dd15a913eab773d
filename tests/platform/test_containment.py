"""Containment at a time (pharmaqms.platform.genealogy.containment) through the service, the
``trace`` command, the genealogy API and page: a pallet of two cases of two packs each, then a
pick, a decommissioning and an unpacking, asked about before and after each."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from tests.support import browser_login
from typer.testing import CliRunner

from pharmaqms.cli.main import app as cli
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.containment import containment
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.trace import canonical

runner = CliRunner()
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
PACKS = [f"urn:epc:id:sgtin:9506000.134352.P{n}" for n in range(1, 5)]
CASE_A, CASE_B = "urn:epc:id:sscc:9506000.1000000001", "urn:epc:id:sscc:9506000.1000000002"
PALLET = "urn:epc:id:sscc:9506000.2000000001"
P1, P2, P3, P4 = (canonical(p) for p in PACKS)
A, B, PAL = canonical(CASE_A), canonical(CASE_B), canonical(PALLET)


def _event(kind: str, hour: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": f"2026-03-01T{hour:02d}:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


def _aggregation(hour: int, action: str, parent: str, children: list[str], step: str) -> Any:
    return _event(
        "AggregationEvent", hour, action=action, parentID=parent, childEPCs=children, bizStep=step
    )


EVENTS = [
    _event(
        "ObjectEvent",
        8,
        action="ADD",
        epcList=PACKS,
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2028-01-31"},
    ),
    _aggregation(9, "ADD", CASE_A, PACKS[:2], "packing"),
    _aggregation(9, "ADD", CASE_B, PACKS[2:], "packing"),
    _aggregation(10, "ADD", PALLET, [CASE_A, CASE_B], "packing"),
    _aggregation(12, "DELETE", CASE_A, [PACKS[1]], "picking"),
    _event(
        "ObjectEvent",
        13,
        action="DELETE",
        epcList=[PACKS[2]],
        bizStep="decommissioning",
        disposition="inactive",
    ),
    _aggregation(15, "DELETE", PALLET, [], "unpacking"),
]


def _at(hour: int) -> datetime:
    return datetime.fromisoformat(f"2026-03-01T{hour:02d}:30:00+00:00")


@pytest.fixture
def packed(db, people, frozen_clock):  # type: ignore[no-untyped-def]
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
        run = ingest.ingest(s, actor=people.logistics, kind="epcis", content=content)
        assert run.rows_accepted == len(EVENTS)
    return db


def _tree(
    db: Any, subject: str, hour: int | None
) -> tuple[set[tuple[str, str, int]], tuple[str, ...]]:
    with unit_of_work(db, write=False) as s:
        found = containment(s, subject, _at(hour) if hour is not None else None)
    return {(h.epc, h.parent, h.depth) for h in found.contents}, found.containers


@pytest.mark.postgres
def test_a_pallet_holds_its_cases_and_their_packs_until_each_leaves(packed) -> None:  # type: ignore[no-untyped-def]
    full = {(A, PAL, 1), (B, PAL, 1), (P1, A, 2), (P2, A, 2), (P3, B, 2), (P4, B, 2)}
    assert _tree(packed, PAL, 8) == (set(), ())
    assert _tree(packed, PAL, 9) == (set(), ())
    assert _tree(packed, PAL, 10) == (full, ())
    assert _tree(packed, PAL, 12) == (full - {(P2, A, 2)}, ())  # picked
    assert _tree(packed, PAL, 13) == (full - {(P2, A, 2), (P3, B, 2)}, ())  # decommissioned
    assert _tree(packed, PAL, 15) == (set(), ())  # unpacked
    assert _tree(packed, PAL, None) == (set(), ())
    # The cases keep what is left in them after the pallet is broken down.
    assert _tree(packed, A, 15) == ({(P1, A, 1)}, ())
    assert _tree(packed, B, 15) == ({(P4, B, 1)}, ())


@pytest.mark.postgres
def test_a_pack_lists_the_containers_it_was_in_at_the_time(packed) -> None:  # type: ignore[no-untyped-def]
    assert _tree(packed, P1, 8)[1] == ()
    assert _tree(packed, P1, 9)[1] == (A,)
    assert _tree(packed, P1, 10)[1] == (A, PAL)
    assert _tree(packed, P2, 11)[1] == (A, PAL)
    assert _tree(packed, P2, 12)[1] == ()  # picked from its case
    assert _tree(packed, P3, 12)[1] == (B, PAL)
    assert _tree(packed, P3, 13)[1] == ()  # decommissioned
    assert _tree(packed, P1, 15)[1] == (A,)  # the pallet was unpacked, the case was not
    assert _tree(packed, A, 11)[1] == (PAL,)
    with unit_of_work(packed, write=False) as s:
        assert containment(s, P3, _at(13)).decommissioned
        assert not containment(s, P3, _at(12)).decommissioned


def test_trace_down_from_a_pallet_lists_what_it_held_then(packed) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["trace", PALLET, "-d", "down", "--at", "2026-03-01T12:30:00Z"])
    assert result.exit_code == 0, result.output
    assert "holds 5" in result.output
    for serial in ("P1", "P4", "P3"):
        assert f"serial {serial}" in result.output
    assert "serial P2" not in result.output.split("holds 5")[1].split("packs (")[0]
    as_json = runner.invoke(
        cli, ["trace", PALLET, "-d", "down", "--at", "2026-03-01T10:30:00Z", "--json"]
    )
    body = json.loads(as_json.output)
    assert {h["epc"] for h in body["containment"]["contents"]} == {A, B, P1, P2, P3, P4}
    kinds = {n["id"]: n["kind"] for n in body["nodes"]}
    assert (kinds[A], kinds[B], kinds[P1]) == ("case", "case", "pack")
    edges = {(e["source"], e["target"], e["relation"]) for e in body["edges"]}
    assert {(P1, A, "contained_in"), (A, PAL, "contained_in")} <= edges
    # The SSCC as printed on the pallet label (18 digits) is the same container.
    digits = PAL.rsplit("/", 1)[-1]
    bare = runner.invoke(cli, ["trace", digits, "-d", "down", "--at", "2026-03-01T10:30:00Z"])
    assert bare.exit_code == 0, bare.output
    assert "holds 6" in bare.output


def test_trace_up_the_containers_of_a_pack(packed) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["trace", PACKS[0], "-d", "down", "--at", "2026-03-01T10:30:00Z"])
    assert result.exit_code == 0, result.output
    assert f"in: SSCC {A.rsplit('/', 1)[-1]} → SSCC {PAL.rsplit('/', 1)[-1]}" in result.output


def test_the_api_and_the_page_answer_containment_at_a_time(packed, api) -> None:  # type: ignore[no-untyped-def]
    client = api("qa")
    body = client.get(
        f"/api/v1/data/genealogy/{PALLET}",
        params={"direction": "down", "at": "2026-03-01T13:30:00Z"},
    ).json()
    held = body["containment"]
    assert {h["epc"] for h in held["contents"]} == {A, B, P1, P4}
    browser = api()
    assert browser_login(browser.client, "qa").status_code == 303
    page = browser.client.get(
        "/data/genealogy", params={"id": PALLET, "direction": "down", "at": "2026-03-01T13:30:00Z"}
    )
    assert page.status_code == 200
    assert 'data-testid="containment"' in page.text
    assert "Holds 4 objects" in page.text


def test_a_shipment_code_traces_as_the_container_it_travels_under(packed, people) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.masterdata import service as masterdata
    from pharmaqms.platform.traceability.shipments import register_shipment

    sscc = PAL.rsplit("/", 1)[-1]
    with unit_of_work(packed) as s:
        for code in ("SITE", "DC"):
            masterdata.add_location(s, actor=people.qa, code=code, name=code, kind="warehouse")
        register_shipment(
            s,
            actor=people.logistics,
            code="SHP-0042",
            origin_code="SITE",
            destination_code="DC",
            sscc=sscc,
        )
    result = runner.invoke(
        cli, ["trace", "SHP-0042", "-d", "down", "--at", "2026-03-01T10:30:00Z", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["start"] == PAL
    assert {h["epc"] for h in body["containment"]["contents"]} == {A, B, P1, P2, P3, P4}
