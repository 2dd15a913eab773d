"""EPCIS traceability over a small hand-built supply chain (pharmaqms.platform.trace).

The chain, by day (UTC, 08:00 unless said):

    d0  raw lot R1 → API lot A1            d0 09h  raw lot R2 → API lot A2
    d1  A1 + excipient E1 → product lot F1 d1 09h  A2 + E1 → product lot F2
    d2  S1 S2 S3 commissioned, lot F1      d2 09h  S4 commissioned, lot F2
    d3  case C1 ← S1 S2; 09h C2 ← S3 S4; 10h pallet P1 ← C1 C2          (plant)
    d4  P1 shipped to wholesaler W1 (in transit, no bizLocation)
    d5  P1 received at W1; 12h an erroneous packing of S4 into C1, later declared in error
    d6  P1 unpacked (empty childEPCs: everything); 09h S3 picked out of C2
    d7  C2 (now only S4) shipped to pharmacy W2; 09h S3 shipped to hospital H
    d8  C2 received at W2; 09h S3 received at H
    d9  S2 decommissioned at W1
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypedDict, Unpack

import pytest

from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    EPCISEvent,
    ErrorDeclaration,
    Ilmd,
    ObjectEvent,
    QuantityElement,
    SourceDestination,
    TransformationEvent,
)
from pharmaqms.platform.trace import (
    ancestors,
    backward_trace,
    canonical,
    contents,
    forward_trace,
    replay,
    state_of,
)

DL = "https://id.gs1.org"
PRODUCT, API, EXCIPIENT, RAW = (
    "09506000134352",
    "09506000990019",
    "09506000990026",
    "09506000990033",
)
R1, R2 = f"{DL}/01/{RAW}/10/R1", f"{DL}/01/{RAW}/10/R2"
A1, A2 = f"{DL}/01/{API}/10/A1", f"{DL}/01/{API}/10/A2"
E1 = f"{DL}/01/{EXCIPIENT}/10/E1"
F1, F2 = f"{DL}/01/{PRODUCT}/10/F1", f"{DL}/01/{PRODUCT}/10/F2"
S1, S2, S3, S4 = (f"{DL}/01/{PRODUCT}/21/S{n}" for n in range(1, 5))
C1, C2, P1 = (
    f"{DL}/00/095060000000000015",
    f"{DL}/00/095060000000000022",
    f"{DL}/00/095060000000000039",
)
PLANT, W1, W2, HOSPITAL = (
    f"{DL}/414/{gln}"
    for gln in ("9506000000107", "9506000000206", "9506000000305", "9506000000404")
)
DOCK_URN = "urn:epc:id:sgln:9506000.00010.7"  # the plant's dock door 7
DOCK = f"{DL}/414/9506000000107/254/7"


def t(day: int, hour: int = 8) -> datetime:
    return datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=hour)


class Fields(TypedDict, total=False):
    biz_step: str
    disposition: str
    biz_location: str
    read_point: str
    destinations: tuple[SourceDestination, ...]
    event_id: str
    error_declaration: ErrorDeclaration


def make(day: int, hour: int, inputs: list[str], output: str) -> TransformationEvent:
    return TransformationEvent(
        index=0,
        event_time=t(day, hour),
        event_time_zone_offset="+00:00",
        biz_step="commissioning",
        biz_location=PLANT,
        input_quantities=tuple(QuantityElement(i, Decimal("5"), "KGM") for i in inputs),
        output_quantities=(QuantityElement(output, Decimal("1000"), None),),
    )


def observe(day: int, hour: int, epcs: list[str], **fields: Unpack[Fields]) -> ObjectEvent:
    return ObjectEvent(
        index=0,
        event_time=t(day, hour),
        event_time_zone_offset="+00:00",
        action=Action.OBSERVE,
        epc_list=tuple(epcs),
        **fields,
    )


def aggregate(
    day: int, hour: int, action: Action, parent: str, children: list[str], **fields: Unpack[Fields]
) -> AggregationEvent:
    return AggregationEvent(
        index=0,
        event_time=t(day, hour),
        event_time_zone_offset="+00:00",
        action=action,
        parent_id=parent,
        child_epcs=tuple(children),
        **fields,
    )


def commission(day: int, hour: int, epcs: list[str], lot: str) -> ObjectEvent:
    return ObjectEvent(
        index=0,
        event_time=t(day, hour),
        event_time_zone_offset="+00:00",
        biz_step="commissioning",
        disposition="active",
        biz_location=PLANT,
        action=Action.ADD,
        epc_list=tuple(epcs),
        ilmd=Ilmd(lot_number=lot, item_expiration_date=date(2027, 1, 31)),
    )


SHIP_P1 = observe(
    4,
    8,
    [P1],
    biz_step="shipping",
    disposition="in_transit",
    read_point=DOCK_URN,
    destinations=(SourceDestination("location", W1),),
)
ERRONEOUS = aggregate(
    5, 12, Action.ADD, C1, [S4], biz_step="packing", biz_location=W1, event_id="urn:uuid:e-1"
)
DECLARATION = aggregate(
    5,
    12,
    Action.ADD,
    C1,
    [S4],
    biz_step="packing",
    biz_location=W1,
    event_id="urn:uuid:e-1",
    error_declaration=ErrorDeclaration(t(6), "incorrect_data", ()),
)
DECOMMISSION_S2 = ObjectEvent(
    index=0,
    event_time=t(9),
    event_time_zone_offset="+00:00",
    biz_step="decommissioning",
    disposition="inactive",
    biz_location=W1,
    action=Action.DELETE,
    epc_list=(S2,),
)

CHAIN: list[EPCISEvent] = [
    make(0, 8, [R1], A1),
    make(0, 9, [R2], A2),
    make(1, 8, [A1, E1], F1),
    make(1, 9, [A2, E1], F2),
    # the serials are commissioned with their EPC URN spelling; everything else uses Digital Link
    commission(2, 8, [f"urn:epc:id:sgtin:9506000.013435.S{n}" for n in (1, 2, 3)], "F1"),
    commission(2, 9, [S4], "F2"),
    aggregate(3, 8, Action.ADD, C1, [S1, S2], biz_step="packing", biz_location=PLANT),
    aggregate(3, 9, Action.ADD, C2, [S3, S4], biz_step="packing", biz_location=PLANT),
    aggregate(3, 10, Action.ADD, P1, [C1, C2], biz_step="packing", biz_location=PLANT),
    SHIP_P1,
    observe(5, 8, [P1], biz_step="receiving", disposition="in_progress", biz_location=W1),
    ERRONEOUS,
    DECLARATION,
    aggregate(6, 8, Action.DELETE, P1, [], biz_step="unpacking", biz_location=W1),
    aggregate(6, 9, Action.DELETE, C2, [S3], biz_step="picking", biz_location=W1),
    observe(
        7,
        8,
        [C2],
        biz_step="shipping",
        disposition="in_transit",
        destinations=(SourceDestination("location", W2),),
    ),
    observe(
        7,
        9,
        [S3],
        biz_step="shipping",
        disposition="in_transit",
        destinations=(SourceDestination("location", HOSPITAL),),
    ),
    observe(8, 8, [C2], biz_step="receiving", disposition="in_progress", biz_location=W2),
    observe(8, 9, [S3], biz_step="receiving", disposition="in_progress", biz_location=HOSPITAL),
    DECOMMISSION_S2,
]
# Out of order on purpose: the trace must order by eventTime, not by arrival.
EVENTS = list(reversed(CHAIN))


# --- containment and time travel --------------------------------------------------------------


def test_pallet_contents_follow_packing_and_unpacking() -> None:
    assert contents(EVENTS, P1, at=t(3, 9)) == frozenset()
    assert contents(EVENTS, P1, at=t(3, 10)) == {C1, C2, S1, S2, S3, S4}
    assert contents(EVENTS, P1, at=t(5, 23)) == {C1, C2, S1, S2, S3, S4}
    assert contents(EVENTS, P1, at=t(6)) == frozenset()  # an empty DELETE takes everything out
    assert contents(EVENTS, C1, at=t(6)) == {S1, S2}


def test_picking_removes_only_the_named_child() -> None:
    assert contents(EVENTS, C2, at=t(6, 8)) == {S3, S4}
    assert contents(EVENTS, C2, at=t(6, 9)) == {S4}


def test_decommissioning_takes_the_pack_out_of_its_case() -> None:
    assert contents(EVENTS, C1, at=t(8)) == {S1, S2}
    assert contents(EVENTS, C1, at=t(9)) == {S1}
    assert contents(EVENTS, C1) == {S1}


def test_ancestors_nearest_first() -> None:
    assert ancestors(EVENTS, S3, at=t(4)) == (C2, P1)
    assert ancestors(EVENTS, S3, at=t(6, 8)) == (C2,)
    assert ancestors(EVENTS, S3, at=t(6, 9)) == ()


def test_an_event_declared_in_error_and_its_declaration_are_left_out() -> None:
    # the erroneous packing of S4 into C1 never happened
    assert ancestors(EVENTS, S4, at=t(5, 13)) == (C2, P1)
    assert contents(EVENTS, C1, at=t(5, 13)) == {S1, S2}
    # without the declaration it would have counted
    without_declaration = [e for e in EVENTS if e is not DECLARATION]
    assert ancestors(without_declaration, S4, at=t(5, 13)) == (C1, P1)


# --- where things are ---------------------------------------------------------------------


def test_a_pack_inherits_the_location_of_its_pallet_in_transit() -> None:
    state = state_of(EVENTS, S1, at=t(4))
    assert state is not None
    assert (state.location, state.read_point, state.disposition, state.biz_step) == (
        None,
        DOCK,
        "in_transit",
        "shipping",
    )
    assert (state.parent, state.decommissioned, state.last_event) == (C1, False, SHIP_P1)


def test_location_and_disposition_over_time() -> None:
    def where(epc: str, at: datetime) -> tuple[str | None, str | None]:
        state = state_of(EVENTS, epc, at=at)
        assert state is not None
        return state.location, state.disposition

    assert state_of(EVENTS, S1, at=t(1)) is None  # not commissioned yet
    assert where(S1, t(2)) == (PLANT, "active")
    assert where(S1, t(3, 8)) == (PLANT, "active")  # packing carries no disposition: kept
    assert where(S1, t(5)) == (W1, "in_progress")
    assert where(S4, t(7)) == (None, "in_transit")
    assert where(S4, t(8)) == (W2, "in_progress")  # inside C2, received at the pharmacy
    assert where(S3, t(7, 9)) == (None, "in_transit")
    assert where(S3, t(8, 9)) == (HOSPITAL, "in_progress")


def test_decommissioned_state_and_time_travel_before_it() -> None:
    before = state_of(EVENTS, S2, at=t(8))
    after = state_of(EVENTS, S2, at=t(9))
    assert before is not None and after is not None
    assert (before.decommissioned, before.parent, before.location) == (False, C1, W1)
    assert (after.decommissioned, after.parent, after.disposition, after.biz_step) == (
        True,
        None,
        "inactive",
        "decommissioning",
    )


def test_urn_and_digital_link_spellings_name_the_same_pack() -> None:
    urn = "urn:epc:id:sgtin:9506000.013435.S1"
    assert canonical(urn) == S1
    assert state_of(EVENTS, urn, at=t(5)) == state_of(EVENTS, S1, at=t(5))
    assert replay(EVENTS, at=t(5)).ancestors(urn) == (C1, P1)


def test_snapshot_answers_several_questions_from_one_replay() -> None:
    snapshot = replay(EVENTS, at=t(3, 10))
    assert snapshot.at == t(3, 10)
    assert snapshot.parents == {S1: C1, S2: C1, S3: C2, S4: C2, C1: P1, C2: P1}
    assert snapshot.contents(C2) == {S3, S4}
    assert snapshot.state(C1) is not None


def test_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        contents(EVENTS, P1, at=datetime(2024, 3, 5))


def test_a_cycle_in_bad_data_is_ignored_not_looped_on() -> None:
    events: list[EPCISEvent] = [
        aggregate(0, 8, Action.ADD, C1, [C2]),
        aggregate(0, 9, Action.ADD, C2, [C1]),
    ]
    assert ancestors(events, C1) == ()
    assert contents(events, C1) == {C2}


# --- genealogy ----------------------------------------------------------------------------


def test_backward_trace_from_a_serial_to_its_raw_materials() -> None:
    trace = backward_trace(EVENTS, "urn:epc:id:sgtin:9506000.013435.S3")
    assert trace.start == S3
    assert trace.lots == {F1}
    assert trace.upstream == {F1, A1, E1, R1}
    assert [(link.item, link.made_from, link.via) for link in trace.links] == [
        (S3, F1, "lot"),
        (F1, A1, "transformation"),
        (F1, E1, "transformation"),
        (A1, R1, "transformation"),
    ]
    assert trace.links[0].event is CHAIN[4]


def test_backward_trace_of_the_other_lot() -> None:
    trace = backward_trace(EVENTS, S4)
    assert trace.lots == {F2}
    assert trace.upstream == {F2, A2, E1, R2}


def test_backward_trace_as_of_a_time_before_the_product_was_made() -> None:
    trace = backward_trace(EVENTS, S3, at=t(1, 12))
    assert (trace.lots, trace.upstream, trace.links) == (frozenset(), frozenset(), ())


def test_forward_trace_of_an_api_lot_gives_the_recall_scope() -> None:
    scope = forward_trace(EVENTS, A1)
    assert scope.classes == {A1, F1}
    assert scope.items == {S1, S2, S3}
    assert scope.containers == {C1, C2, P1}
    # W2 is out: C2 went there only after S3 had been picked out of it
    assert scope.locations == {PLANT, W1, HOSPITAL}
    assert scope.destinations == {
        SourceDestination("location", W1),
        SourceDestination("location", HOSPITAL),
    }
    assert [e.event_time for e in scope.events] == sorted(e.event_time for e in scope.events)


def test_forward_trace_is_recursive_from_the_raw_material() -> None:
    scope = forward_trace(EVENTS, R1)
    assert scope.classes == {R1, A1, F1}
    assert scope.items == {S1, S2, S3}


def test_forward_trace_of_the_other_api_lot_reaches_the_pharmacy() -> None:
    scope = forward_trace(EVENTS, A2)
    assert scope.classes == {A2, F2}
    assert scope.items == {S4}
    assert scope.containers == {C2, P1}
    assert scope.locations == {PLANT, W1, W2}
    assert scope.destinations == {
        SourceDestination("location", W1),
        SourceDestination("location", W2),
    }


def test_forward_trace_as_of_an_earlier_time() -> None:
    scope = forward_trace(EVENTS, A1, at=t(5))
    assert scope.locations == {PLANT, W1}
    assert scope.destinations == {SourceDestination("location", W1)}


def test_forward_trace_through_class_level_packing() -> None:
    # given: a tote filled with a quantity of lot F1 (no serials), shipped, then emptied
    tote = f"{DL}/00/095060000000000039"
    events: list[EPCISEvent] = [
        AggregationEvent(
            index=0,
            event_time=t(0),
            event_time_zone_offset="+00:00",
            biz_location=PLANT,
            action=Action.ADD,
            parent_id=tote,
            child_quantity_list=(QuantityElement(F1, Decimal("10"), None),),
        ),
        observe(1, 8, [tote], biz_location=W1),
        aggregate(2, 8, Action.DELETE, tote, [], biz_location=W1),
        observe(3, 8, [tote], biz_location=W2),
    ]
    scope = forward_trace(events, F1)
    assert scope.containers == {tote}
    assert scope.locations == {PLANT, W1}
