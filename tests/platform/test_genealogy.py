"""Batch genealogy in the database, on a generated supply chain whose answer is known
(pharmaqms.platform.genealogy). The chain goes in through the EPCIS connector, as a real
delivery would."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis import AggregationEvent
from pharmaqms.platform.genealogy.demo import load_chain
from pharmaqms.platform.genealogy.generator import CUSTOMERS, SITE_EPC, event_json
from pharmaqms.platform.genealogy.identifiers import Subject, resolve
from pharmaqms.platform.genealogy.providers import (
    PROVIDERS,
    LinkedRecord,
    register_link_provider,
)
from pharmaqms.platform.genealogy.service import genealogy, recall_scope
from pharmaqms.platform.gs1 import GS1Error
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.trace import canonical


def _canonical(values: Sequence[str] | set[str]) -> set[str]:
    return {canonical(v) for v in values}


def test_the_forward_trace_of_every_lot_is_exactly_what_the_chain_did(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    with unit_of_work(database, write=False) as s:
        for lot_number, answer in generated.truth.items():
            scope = recall_scope(s, f"{answer.product}/{lot_number}")
            assert scope.start == answer.lot_class
            assert set(scope.items) == answer.packs, lot_number
            assert set(scope.containers) == answer.cases | answer.pallets, lot_number
            assert {loc.id for loc in scope.locations} == _canonical(answer.locations)
            assert {loc.id for loc in scope.customers} == _canonical(
                answer.locations & {c.epc_uri for c in CUSTOMERS}
            )
            assert scope.lots == (answer.lot_class,)
            assert all(loc.code is not None for loc in scope.locations)
            assert scope.shipments[0].objects == tuple(sorted(answer.pallets))


def test_a_material_lot_reaches_every_batch_made_from_it(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    material, lots = max(generated.material_lots.items(), key=lambda kv: len(kv[1]))
    assert len(lots) >= 2
    with unit_of_work(database, write=False) as s:
        scope = recall_scope(s, material)
    assert set(scope.lots) == {material} | {generated.truth[n].lot_class for n in lots}
    assert set(scope.items) == set().union(*(generated.truth[n].packs for n in lots))
    assert {loc.id for loc in scope.locations} == _canonical(
        set().union(*(generated.truth[n].locations for n in lots))
    )


def test_the_backward_trace_of_a_serial_gives_its_lot_and_material_lots(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    pack = sorted(answer.packs)[3]
    with unit_of_work(database, write=False) as s:
        graph = genealogy(s, pack, "up")
        lot_id = s.scalar(select(Lot.id).where(Lot.lot_number == answer.lot_number))
    kinds = {node.id: node.kind for node in graph.nodes.values()}
    assert kinds == {
        pack: "pack",
        answer.lot_class: "lot",
        **{material: "material" for material in answer.materials},
    }
    relations = {(e.source, e.target, e.relation) for e in graph.edges.values()}
    assert relations == {
        (answer.lot_class, pack, "of_lot"),
        *((material, answer.lot_class, "made_from") for material in answer.materials),
    }
    assert graph.nodes[answer.lot_class].label == f"batch {answer.product}/{answer.lot_number}"
    assert lot_id is not None


def test_time_travel_shows_the_lot_where_it_was_then(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    assert answer.shipped_at is not None and answer.received_at is not None
    distributor = (answer.locations - {SITE_EPC} - {c.epc_uri for c in CUSTOMERS}).pop()
    with unit_of_work(database, write=False) as s:
        before = recall_scope(s, answer.lot_class, at=answer.shipped_at - timedelta(seconds=1))
        in_transit = recall_scope(s, answer.lot_class, at=answer.shipped_at)
        arrived = recall_scope(s, answer.lot_class, at=answer.received_at)
    assert [(loc.id, loc.how) for loc in before.locations] == [(canonical(SITE_EPC), "bizLocation")]
    assert before.shipments == ()
    assert [(loc.id, loc.how) for loc in in_transit.locations] == [
        (canonical(SITE_EPC), "bizLocation"),
        (canonical(distributor), "destination"),
    ]
    assert [loc.how for loc in arrived.locations] == ["bizLocation", "destination"]
    assert len(arrived.shipments) == 1


@pytest.mark.parametrize(
    "spelling",
    ["sgtin_urn", "element_string", "hri", "digital_link", "serial_only"],
)
def test_a_pack_is_found_however_it_is_written(chain, spelling) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    pack = sorted(answer.packs)[0]
    gtin, serial = pack.split("/")[-3], pack.split("/")[-1]
    text = {
        "sgtin_urn": f"urn:epc:id:sgtin:9506000.{gtin[0]}{gtin[8:13]}.{serial}",
        "element_string": f"01{gtin}21{serial}",
        "hri": f"(01){gtin}(21){serial}",
        "digital_link": f"https://example.com/01/{gtin}/21/{serial}?17=280101",
        "serial_only": serial,
    }[spelling]
    with unit_of_work(database, write=False) as s:
        found = resolve(s, text)
    assert (found.subject, found.canonical) == (Subject.PACK, pack)


def test_an_sscc_and_a_lot_are_found_in_their_forms(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    pallet = next(iter(answer.pallets))
    sscc = pallet.rsplit("/", 1)[-1]
    with unit_of_work(database, write=False) as s:
        assert resolve(s, sscc).canonical == pallet
        assert resolve(s, f"(00){sscc}").canonical == pallet
        assert resolve(s, answer.lot_number).canonical == answer.lot_class
        lot = resolve(s, f"{answer.product}/{answer.lot_number}")
        assert (lot.subject, lot.lot_id is not None) == (Subject.LOT, True)


def test_malformed_and_unknown_identifiers_are_refused_with_the_rule(chain) -> None:  # type: ignore[no-untyped-def]
    database, _generated = chain
    with unit_of_work(database, write=False) as s:
        with pytest.raises(GS1Error) as bad:
            resolve(s, "urn:epc:id:sscc:9506000.0000000001x")
        assert bad.value.code == "invalid_epc"
        with pytest.raises(GS1Error) as check:
            resolve(s, "095060000000000016")
        assert check.value.code == "bad_check_digit"
        with pytest.raises(NotFound):
            resolve(s, "NO-SUCH-LOT")


def test_down_from_a_lot_draws_packs_cases_pallet_shipments_and_places(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    with unit_of_work(database, write=False) as s:
        graph = genealogy(s, answer.lot_class, "down")
    kinds: dict[str, set[str]] = {}
    for node in graph.nodes.values():
        kinds.setdefault(node.kind, set()).add(node.id)
    assert kinds["pack"] == answer.packs
    assert kinds["case"] == answer.cases
    assert kinds["pallet"] == answer.pallets
    assert kinds["location"] | kinds.get("customer", set()) == _canonical(answer.locations)
    assert kinds["lot"] == {answer.lot_class}
    pallet = next(iter(answer.pallets))
    shipped = {e.source for e in graph.edges.values() if e.relation == "shipped_in"}
    assert pallet in shipped
    packed = {(e.source, e.target) for e in graph.edges.values() if e.relation == "packed_into"}
    assert {(case, pallet) for case in answer.cases} <= packed
    assert graph.scope is not None and set(graph.scope.items) == answer.packs


def test_link_providers_add_their_records_to_the_lot(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))

    def deviations(session, lots, at):  # type: ignore[no-untyped-def]
        return [
            LinkedRecord(
                lot_id=lot,
                kind="deviation",
                key=f"deviation:{lot}",
                label="DEV-2026-0001",
                relation="deviation",
                url="/deviations/1",
            )
            for lot in lots
        ]

    register_link_provider("test.deviations", deviations)
    try:
        with unit_of_work(database, write=False) as s:
            graph = genealogy(s, f"{answer.product}/{answer.lot_number}", "up")
            lot_id = s.scalar(select(Lot.id).where(Lot.lot_number == answer.lot_number))
    finally:
        PROVIDERS.pop("test.deviations")
    node = graph.nodes[f"deviation:{lot_id}"]
    assert (node.kind, node.label, node.url, node.layer) == (
        "deviation",
        "DEV-2026-0001",
        "/deviations/1",
        "record",
    )
    edge = graph.edges[(answer.lot_class, f"deviation:{lot_id}", "deviation")]
    assert edge.time is None


def test_an_event_declared_in_error_leaves_the_trace(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = next(iter(generated.truth.values()))
    case = sorted(answer.cases)[0]
    packing = next(
        e for e in generated.events if isinstance(e, AggregationEvent) and e.parent_id == case
    )
    declared = {
        **event_json(packing),
        "errorDeclaration": {"declarationTime": "2026-03-01T10:00:00Z", "reason": "incorrect_data"},
    }
    document = json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T10:00:00Z",
            "epcisBody": {"eventList": [declared]},
        }
    ).encode()
    with unit_of_work(database) as s:
        logistics = auth.actor_for(s, auth.user_by_username(s, "logistics"))  # type: ignore[arg-type]
        run = ingest.ingest(s, actor=logistics, kind="epcis", content=document)
        assert (run.rows_accepted, run.rows_quarantined) == (1, 0)
    with unit_of_work(database, write=False) as s:
        scope = recall_scope(s, answer.lot_class)
    assert set(scope.containers) == (answer.cases - {case}) | answer.pallets
    assert set(scope.items) == answer.packs


@pytest.mark.postgres
def test_forward_and_backward_traces_on_each_database(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        generated = load_chain(s, admin=people.admin, logistics=people.logistics, lots=3, seed=5)
    with unit_of_work(db, write=False) as s:
        for answer in generated.truth.values():
            scope = recall_scope(s, f"{answer.product}/{answer.lot_number}")
            assert set(scope.items) == answer.packs
            assert set(scope.containers) == answer.cases | answer.pallets
            assert {loc.id for loc in scope.locations} == _canonical(answer.locations)
            assert answer.shipped_at is not None
            early = recall_scope(s, answer.lot_class, at=answer.shipped_at - timedelta(seconds=1))
            assert [loc.code for loc in early.locations] == ["SITE-LEIDEN"]
            pack = sorted(answer.packs)[0]
            up = genealogy(s, pack, "up")
            assert {n.id for n in up.nodes.values() if n.kind == "material"} == answer.materials
