"""A seeded generator of an internally consistent pharmaceutical supply chain, as EPCIS events.

Per finished lot, in time order: a transformation of material lots (API, excipient) into the
lot; commissioning of its serialised packs (ILMD lot and expiry); packing into cases and the
cases onto one pallet (SSCC); shipping the pallet from our site to a distributor, receiving and
unpacking it there; shipping some cases on to pharmacies and hospitals, receiving, unpacking,
and dispensing part of their packs. bizLocations are the SGLNs of ``CHAIN_LOCATIONS`` (the
demo creates Location rows with the same ``epc_uri``). Material lots are shared by several
finished lots, so a material lot's recall scope spans batches.

The generator knows the answer: ``Chain.truth`` says, per lot, which packs, cases, pallet and
locations it reached and which material lots went into it — what a correct trace must return.
``scale`` is the number of finished lots; about 48 events each with the defaults, so 21,000
lots make a million events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any, Final

from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    BizTransaction,
    EPCISEvent,
    Ilmd,
    ObjectEvent,
    QuantityElement,
    SourceDestination,
    TransformationEvent,
)
from pharmaqms.platform.gs1 import check_digit, digital_link_uri

COMPANY: Final = "9506000"  # our GS1 company prefix (7 digits)
SITE_EPC: Final = f"urn:epc:id:sgln:{COMPANY}.00001.0"


@dataclass(frozen=True, slots=True)
class ChainLocation:
    code: str
    name: str
    kind: str  # masterdata LocationKind
    epc_uri: str
    is_customer: bool


def _sgln(ref: int) -> str:
    return f"urn:epc:id:sgln:{COMPANY}.{ref:05d}.0"


def _gln(ref: int) -> str:
    payload = f"{COMPANY}{ref:05d}"
    return payload + str(check_digit(payload))


CHAIN_LOCATIONS: Final = (
    ChainLocation("SITE-LEIDEN", "Leiden manufacturing site", "site", SITE_EPC, False),
    ChainLocation(
        "DIST-NORTH", "NorthPharma distribution centre", "distributor", _sgln(101), False
    ),
    ChainLocation("DIST-SOUTH", "SouthMed wholesale", "distributor", _sgln(102), False),
    ChainLocation("PHARM-CENTRAL", "Central Pharmacy", "pharmacy", _sgln(201), True),
    ChainLocation("PHARM-HARBOUR", "Harbour Pharmacy", "pharmacy", _sgln(202), True),
    ChainLocation("PHARM-MARKET", "Market Square Pharmacy", "pharmacy", _sgln(203), True),
    ChainLocation("HOSP-GENERAL", "General Hospital pharmacy", "hospital", _sgln(301), True),
    ChainLocation("HOSP-CHILDREN", "Children's Hospital pharmacy", "hospital", _sgln(302), True),
)
DISTRIBUTORS: Final = tuple(loc for loc in CHAIN_LOCATIONS if loc.kind == "distributor")
CUSTOMERS: Final = tuple(loc for loc in CHAIN_LOCATIONS if loc.is_customer)


def _gtin(item_ref: str) -> str:
    payload = f"0{COMPANY}{item_ref}"
    return payload + str(check_digit(payload))


@dataclass(frozen=True, slots=True)
class ChainProduct:
    code: str
    name: str
    gtin: str


PRODUCTS: Final = (
    ChainProduct("VAXFLU", "Influenza vaccine, 0.5 ml prefilled syringe", _gtin("13435")),
    ChainProduct("PARA500", "Paracetamol 500 mg tablets, 20", _gtin("13436")),
)
MATERIALS: Final = (
    ChainProduct("API-HA", "Haemagglutinin antigen (API)", _gtin("99001")),
    ChainProduct("API-PARA", "Paracetamol (API)", _gtin("99002")),
    ChainProduct("EXC-BUF", "Phosphate buffer (excipient)", _gtin("99003")),
)
_MATERIALS_OF: Final = (("API-HA", "EXC-BUF"), ("API-PARA", "EXC-BUF"))


@dataclass
class LotTruth:
    """What a correct trace of one finished lot returns."""

    product: str
    lot_number: str
    lot_class: str
    packs: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    pallets: set[str] = field(default_factory=set)
    locations: set[str] = field(default_factory=set)
    """SGLN EPC URIs of every bizLocation and destination the lot's goods reached."""
    materials: set[str] = field(default_factory=set)
    """Lot classes (LGTIN, canonical) of the material lots that went into it."""
    shipped_at: datetime | None = None
    received_at: datetime | None = None


@dataclass
class Chain:
    events: list[EPCISEvent]
    truth: dict[str, LotTruth]
    """By lot number."""
    material_lots: dict[str, set[str]]
    """Material lot class → lot numbers of the finished lots made from it."""


class _Serials:
    def __init__(self) -> None:
        self.sscc = 0

    def next_sscc(self) -> str:
        self.sscc += 1
        payload = f"0{COMPANY}{self.sscc:09d}"
        return payload + str(check_digit(payload))


def _sgtin(gtin: str, serial: str) -> str:
    # Serials here are letters and digits: the canonical Digital Link needs no escaping, and
    # building it directly keeps a million-event chain quick to make.
    return f"https://id.gs1.org/01/{gtin}/21/{serial}"


def _sscc_dl(sscc: str) -> str:
    return f"https://id.gs1.org/00/{sscc}"


def generate(
    lots: int,
    *,
    seed: int = 7,
    products: tuple[ChainProduct, ...] = PRODUCTS,
    lot_prefix: str = "B",
    start: datetime | None = None,
    packs_per_case: int = 10,
    cases_per_lot: tuple[int, int] = (4, 8),
    dispensed_share: float = 0.5,
) -> Chain:
    """``lots`` finished lots, one every few hours from ``start``; deterministic per seed."""
    rng = Random(seed)  # noqa: S311 - test data, not security
    _IDS.seed(seed)
    begin = start or datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
    events: list[EPCISEvent] = []
    truth: dict[str, LotTruth] = {}
    material_lots: dict[str, set[str]] = {}
    serials = _Serials()
    current_material: dict[str, tuple[str, int]] = {}  # material → (lot class, uses left)
    for number in range(lots):
        product = products[number % len(products)]
        lot_number = f"{lot_prefix}{number + 1:06d}"
        made = begin + timedelta(hours=6 * number)
        lot_class = digital_link_uri(product.gtin, lot=lot_number)
        answer = LotTruth(product.code, lot_number, lot_class)
        truth[lot_number] = answer
        inputs: list[QuantityElement] = []
        for code in _MATERIALS_OF[number % len(products) % len(_MATERIALS_OF)]:
            material = next(m for m in MATERIALS if m.code == code)
            held = current_material.get(code)
            if held is None or held[1] == 0:  # a new material lot every 2–4 batches
                held = (
                    digital_link_uri(material.gtin, lot=f"M{code[-3:]}{number + 1:06d}"),
                    rng.randint(2, 4),
                )
            current_material[code] = (held[0], held[1] - 1)
            inputs.append(QuantityElement(held[0], Decimal(rng.randint(5, 50)), "KGM"))
            answer.materials.add(held[0])
            material_lots.setdefault(held[0], set()).add(lot_number)
        events.extend(
            _lot_events(
                rng,
                serials,
                product,
                answer,
                inputs,
                made,
                packs_per_case,
                rng.randint(*cases_per_lot),
                dispensed_share,
            )
        )
    return Chain(events, truth, material_lots)


_IDS = Random(0)  # noqa: S311 - reseeded per chain in generate(): eventIDs are test data


def _at(moment: datetime, **fields: Any) -> dict[str, Any]:
    event_id = f"urn:uuid:{uuid.UUID(int=_IDS.getrandbits(128), version=4)}"
    return {
        "event_time": moment,
        "event_time_zone_offset": "+01:00",
        "event_id": event_id,
        **fields,
    }


def _lot_events(
    rng: Random,
    serials: _Serials,
    product: ChainProduct,
    answer: LotTruth,
    inputs: list[QuantityElement],
    made: datetime,
    packs_per_case: int,
    cases: int,
    dispensed_share: float,
) -> Iterator[EPCISEvent]:
    lot = answer.lot_number
    site = SITE_EPC
    answer.locations.add(site)
    yield TransformationEvent(
        index=0,
        **_at(
            made, biz_step="commissioning", disposition="active", biz_location=site, read_point=site
        ),
        input_quantities=tuple(inputs),
        output_quantities=(
            QuantityElement(answer.lot_class, Decimal(cases * packs_per_case), "EA"),
        ),
        ilmd=Ilmd(lot, None),
    )
    packs = [_sgtin(product.gtin, f"{lot}{n:05d}") for n in range(cases * packs_per_case)]
    answer.packs.update(packs)
    expiry = date(made.year + 2, made.month, 1)
    yield ObjectEvent(
        index=0,
        **_at(
            made + timedelta(minutes=30),
            biz_step="commissioning",
            disposition="active",
            biz_location=site,
            read_point=site,
        ),
        action=Action.ADD,
        epc_list=tuple(packs),
        ilmd=Ilmd(lot, expiry),
    )
    case_ids = []
    for c in range(cases):
        case = _sscc_dl(serials.next_sscc())
        case_ids.append(case)
        yield AggregationEvent(
            index=0,
            **_at(
                made + timedelta(hours=1, minutes=c),
                biz_step="packing",
                disposition="in_progress",
                biz_location=site,
            ),
            action=Action.ADD,
            parent_id=case,
            child_epcs=tuple(packs[c * packs_per_case : (c + 1) * packs_per_case]),
        )
    answer.cases.update(case_ids)
    pallet = _sscc_dl(serials.next_sscc())
    answer.pallets.add(pallet)
    yield AggregationEvent(
        index=0,
        **_at(
            made + timedelta(hours=2),
            biz_step="packing",
            disposition="in_progress",
            biz_location=site,
        ),
        action=Action.ADD,
        parent_id=pallet,
        child_epcs=tuple(case_ids),
    )
    distributor = rng.choice(DISTRIBUTORS)
    answer.locations.add(distributor.epc_uri)
    shipped = made + timedelta(days=1)
    answer.shipped_at = shipped
    yield ObjectEvent(
        index=0,
        **_at(
            shipped,
            biz_step="shipping",
            disposition="in_transit",
            read_point=site,
            biz_transactions=(BizTransaction(f"urn:epcglobal:cbv:bt:{_gln(1)}:D{lot}", "desadv"),),
            sources=(SourceDestination("location", site),),
            destinations=(SourceDestination("location", distributor.epc_uri),),
        ),
        action=Action.OBSERVE,
        epc_list=(pallet,),
    )
    received = shipped + timedelta(hours=20)
    answer.received_at = received
    yield ObjectEvent(
        index=0,
        **_at(
            received,
            biz_step="receiving",
            disposition="in_progress",
            biz_location=distributor.epc_uri,
            read_point=distributor.epc_uri,
        ),
        action=Action.OBSERVE,
        epc_list=(pallet,),
    )
    yield AggregationEvent(
        index=0,
        **_at(
            received + timedelta(hours=2),
            biz_step="unpacking",
            disposition="in_progress",
            biz_location=distributor.epc_uri,
        ),
        action=Action.DELETE,
        parent_id=pallet,
    )
    for c, case in enumerate(case_ids):
        if rng.random() < 0.25:
            continue  # stays in the distributor's stock
        customer = rng.choice(CUSTOMERS)
        answer.locations.add(customer.epc_uri)
        out = received + timedelta(days=1 + c % 3, hours=c)
        yield ObjectEvent(
            index=0,
            **_at(
                out,
                biz_step="shipping",
                disposition="in_transit",
                read_point=distributor.epc_uri,
                destinations=(SourceDestination("location", customer.epc_uri),),
            ),
            action=Action.OBSERVE,
            epc_list=(case,),
        )
        arrived = out + timedelta(hours=6)
        yield ObjectEvent(
            index=0,
            **_at(
                arrived,
                biz_step="receiving",
                disposition="in_progress",
                biz_location=customer.epc_uri,
            ),
            action=Action.OBSERVE,
            epc_list=(case,),
        )
        yield AggregationEvent(
            index=0,
            **_at(
                arrived + timedelta(minutes=30),
                biz_step="unpacking",
                disposition="sellable_accessible",
                biz_location=customer.epc_uri,
            ),
            action=Action.DELETE,
            parent_id=case,
        )
        inside = packs[c * packs_per_case : (c + 1) * packs_per_case]
        for n, pack in enumerate(inside):
            if rng.random() < dispensed_share:
                yield ObjectEvent(
                    index=0,
                    **_at(
                        arrived + timedelta(days=2 + n),
                        biz_step="dispensing",
                        disposition="dispensed",
                        biz_location=customer.epc_uri,
                    ),
                    action=Action.OBSERVE,
                    epc_list=(pack,),
                )


# --- EPCIS 2.0 JSON-LD --------------------------------------------------------------------

_CONTEXT: Final = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _quantity(q: QuantityElement) -> dict[str, Any]:
    out: dict[str, Any] = {"epcClass": q.epc_class}
    if q.quantity is not None:
        out["quantity"] = float(q.quantity)
    if q.uom:
        out["uom"] = q.uom
    return out


def event_json(event: EPCISEvent) -> dict[str, Any]:
    """The event as an EPCIS 2.0 JSON-LD event object."""
    out: dict[str, Any] = {
        "type": event.event_type.value,
        "eventTime": event.event_time.isoformat().replace("+00:00", "Z"),
        "eventTimeZoneOffset": event.event_time_zone_offset,
    }
    if event.event_id:
        out["eventID"] = event.event_id
    if isinstance(event, ObjectEvent):
        out["action"] = event.action.value
        out["epcList"] = list(event.epc_list)
    elif isinstance(event, AggregationEvent):
        out["action"] = event.action.value
        out["parentID"] = event.parent_id
        out["childEPCs"] = list(event.child_epcs)
    elif isinstance(event, TransformationEvent):
        out["inputQuantityList"] = [_quantity(q) for q in event.input_quantities]
        out["outputQuantityList"] = [_quantity(q) for q in event.output_quantities]
    if event.biz_step:
        out["bizStep"] = event.biz_step
    if event.disposition:
        out["disposition"] = event.disposition
    if event.read_point:
        out["readPoint"] = {"id": event.read_point}
    if event.biz_location:
        out["bizLocation"] = {"id": event.biz_location}
    if event.biz_transactions:
        out["bizTransactionList"] = [
            {"type": t.type, "bizTransaction": t.value} for t in event.biz_transactions
        ]
    if event.sources:
        out["sourceList"] = [{"type": s.type, "source": s.value} for s in event.sources]
    if event.destinations:
        out["destinationList"] = [
            {"type": d.type, "destination": d.value} for d in event.destinations
        ]
    ilmd = getattr(event, "ilmd", None)
    if ilmd is not None:
        out["ilmd"] = {"cbvmda:lotNumber": ilmd.lot_number}
        if ilmd.item_expiration_date is not None:
            out["ilmd"]["cbvmda:itemExpirationDate"] = ilmd.item_expiration_date.isoformat()
    return out


def documents(events: list[EPCISEvent], per_document: int = 500) -> Iterator[bytes]:
    """The events as EPCIS 2.0 JSON-LD capture documents of ``per_document`` events each."""
    for start in range(0, len(events), per_document):
        body = [event_json(e) for e in events[start : start + per_document]]
        yield json.dumps(
            {
                "@context": _CONTEXT,
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-01-01T00:00:00Z",
                "epcisBody": {"eventList": body},
            }
        ).encode()
