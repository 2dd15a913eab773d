"""The demo company of the data platform: master data written through the master-data services,
and a year of production delivered through the connectors — MES batch records and LIMS
results month by month, adverse-event feeds quarter by quarter, a returns inspection's scans —
so every batch, reading and result arrives in a real, audited import run, with the rows a real
year quarantines (some fixed and replayed, one discarded, some still open).

For the colleagues who build on it (EPCIS supply chain, sensors):

* ``generate(session, actors=..., rng=..., scale=...)`` writes it and returns a ``DemoPlant``;
* ``demo_plant(session)`` reads the same ``DemoPlant`` back at any time (in another loader's
  transaction): the site, warehouse, distributors and customers (location codes and EPC URIs),
  the products with their GTINs, and every finished lot with its status and expiry —
  ``plant.released("VAXFLU")`` are the vaccine lots that may be shipped.

The locations use the codes and SGLNs of the EPCIS demo chain (company prefix 9506000), so
both demos describe one network. ``scale`` multiplies the number of batches (1 = a small
company's year: about 52 tablet and 24 vaccine batches); the same seed gives the same data
relative to the day it is loaded. Nothing is back-dated: every audit entry carries the real
time of loading, and the timeliness figures show how late the data arrived — a year at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform import demo_records as records
from pharmaqms.platform.data import sources as source_registry
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Location, Lot, LotKind, Product

COMPANY: Final = "9506000"  # the demo company's GS1 company prefix


def _gtin(item: str) -> str:
    payload = f"0{COMPANY}{item}"
    return payload + str(check_digit(payload))


def _gln(ref: int) -> str:
    payload = f"{COMPANY}{ref:05d}"
    return payload + str(check_digit(payload))


PRODUCTS: Final = (
    dict(
        code=records.VACCINE,
        gtin=_gtin("13435"),
        name="Fluvaxin quadrivalent influenza vaccine, 0.5 mL pre-filled syringe",
        dosage_form="suspension for injection in pre-filled syringe",
        strength="15 µg HA per strain / 0.5 mL",
        storage_min_c=2.0,
        storage_max_c=8.0,
        shelf_life_months=12,
        marketing_authorisation="EU/1/24/1842/001",
    ),
    dict(
        code=records.TABLET,
        gtin=_gtin("13436"),
        name="Paracetamol 500 mg tablets, 20",
        dosage_form="tablet",
        strength="500 mg",
        storage_min_c=15.0,
        storage_max_c=25.0,
        shelf_life_months=36,
        marketing_authorisation="RVG 12345",
    ),
)
SUPPLIERS: Final = (
    ("SUP-HFA", "Hyderabad Fine APIs Ltd", "IN"),
    ("SUP-ROS", "Rosenberg Cellulose GmbH", "DE"),
    ("SUP-DEL", "Delaware Polymers Inc", "US"),
    ("SUP-STE", "Stearates Europe BV", "NL"),
    ("SUP-BIO", "BioAntigen Sciences BV", "NL"),
    ("SUP-BUF", "Buffer Solutions SA", "BE"),
    ("SUP-SYR", "Syringa Medical SAS", "FR"),
)
MATERIALS: Final = (
    ("API-PARA", "Paracetamol (API)", "api", "kg"),
    ("EXC-MCC", "Microcrystalline cellulose PH-102", "excipient", "kg"),
    ("EXC-PVP", "Povidone K30", "excipient", "kg"),
    ("EXC-MGST", "Magnesium stearate", "excipient", "kg"),
    ("API-HA", "Haemagglutinin antigen (API)", "api", "L"),
    ("EXC-BUF", "Phosphate buffer (excipient)", "excipient", "L"),
    ("PKG-PFS", "Pre-filled syringe 1 mL, staked needle", "packaging", "pcs"),
)
# (code, name, kind, SGLN location reference, country, customer?)
LOCATIONS: Final = (
    ("SITE-LEIDEN", "Leiden manufacturing site", "site", 1, "NL", False),
    ("WH-LEIDEN", "Leiden finished-goods warehouse", "warehouse", 2, "NL", False),
    ("DIST-NORTH", "NorthPharma distribution centre", "distributor", 101, "NL", False),
    ("DIST-SOUTH", "SouthMed wholesale", "distributor", 102, "BE", False),
    ("PHARM-CENTRAL", "Central Pharmacy", "pharmacy", 201, "NL", True),
    ("PHARM-HARBOUR", "Harbour Pharmacy", "pharmacy", 202, "NL", True),
    ("PHARM-MARKET", "Market Square Pharmacy", "pharmacy", 203, "NL", True),
    ("HOSP-GENERAL", "General Hospital pharmacy", "hospital", 301, "NL", True),
    ("HOSP-CHILDREN", "Children's Hospital pharmacy", "hospital", 302, "NL", True),
)
# Where they are (WGS 84) and the region of their ambient profile: the Leiden warehouse is the
# depot of a delivery round to the pharmacies and hospitals of South Holland (route planning).
POSITIONS: Final[dict[str, tuple[float, float, str]]] = {
    "SITE-LEIDEN": (52.1668, 4.4781, "city"),
    "WH-LEIDEN": (52.1402, 4.5235, "city"),
    "DIST-NORTH": (52.3025, 4.6889, "city"),
    "DIST-SOUTH": (51.1950, 4.4240, "city"),
    "PHARM-CENTRAL": (52.1601, 4.4936, "city"),
    "PHARM-HARBOUR": (52.2032, 4.4012, "coast"),
    "PHARM-MARKET": (52.0116, 4.3593, "city"),
    "HOSP-GENERAL": (52.1573, 4.5290, "city"),
    "HOSP-CHILDREN": (52.0548, 4.2836, "coast"),
}
MES_SOURCE, LIMS_SOURCE = "mes-leiden", "lims-leiden-qc"
ANALYSTS: Final = ("chen", "mvandijk", "okafor")


@dataclass(frozen=True)
class DemoActors:
    admin: Actor  # master data and source registration
    qa: Actor  # lot decisions
    qc: Actor  # material receipt, LIMS deliveries
    production: Actor  # MES deliveries and their quarantine
    pv: Actor  # adverse-event feeds
    logistics: Actor  # scans at returns inspection

    @classmethod
    def from_people(cls, people: Mapping[str, Actor]) -> DemoActors:
        """From the demo accounts of ``pharmaqms demo``."""
        return cls(
            admin=people["amelia.admin"],
            qa=people["quinn.qa"],
            qc=people["chen.qc"],
            production=people["sofia.supervisor"],
            pv=people["vera.pv"],
            logistics=people["lena.logistics"],
        )


@dataclass(frozen=True)
class PlantLot:
    id: int
    product_code: str
    gtin: str
    lot_number: str
    status: str
    manufactured_on: date | None
    expires_on: date | None
    quantity: float | None
    unit: str | None


@dataclass(frozen=True)
class PlantLocation:
    code: str
    name: str
    kind: str
    gln: str | None
    epc_uri: str | None
    is_customer: bool


@dataclass(frozen=True)
class DemoPlant:
    products: dict[str, str]  # code → GTIN-14
    locations: tuple[PlantLocation, ...]
    lots: tuple[PlantLot, ...]  # finished lots, oldest first

    def where(self, kind: str) -> list[PlantLocation]:
        return [loc for loc in self.locations if loc.kind == kind]

    @property
    def customers(self) -> list[PlantLocation]:
        return [loc for loc in self.locations if loc.is_customer]

    def released(self, product_code: str | None = None) -> list[PlantLot]:
        return [
            lot
            for lot in self.lots
            if lot.status == "released" and product_code in (None, lot.product_code)
        ]


def demo_plant(session: Session) -> DemoPlant:
    """What the platform demo made, read back from the database."""
    products = {p.code: p.gtin for p in session.scalars(select(Product).order_by(Product.code))}
    locations = tuple(
        PlantLocation(loc.code, loc.name, loc.kind, loc.gln, loc.epc_uri, loc.is_customer)
        for loc in session.scalars(select(Location).order_by(Location.code))
    )
    lots = tuple(
        PlantLot(
            lot.id,
            lot.item_code,
            products.get(lot.item_code, ""),
            lot.lot_number,
            lot.status,
            lot.manufactured_on,
            lot.expires_on,
            lot.quantity,
            lot.unit,
        )
        for lot in session.scalars(
            select(Lot)
            .where(Lot.kind == LotKind.FINISHED)
            .order_by(Lot.manufactured_on, Lot.lot_number)
        )
    )
    return DemoPlant(products, locations, lots)


def _master_data(session: Session, admin: Actor) -> None:
    for product in PRODUCTS:
        masterdata.add_product(session, actor=admin, **product)  # type: ignore[arg-type]
    for code, name, country in SUPPLIERS:
        masterdata.add_supplier(session, actor=admin, code=code, name=name, country=country)
    for code, name, kind, unit in MATERIALS:
        masterdata.add_material(session, actor=admin, code=code, name=name, kind=kind, unit=unit)
    for code, name, kind, ref, country, customer in LOCATIONS:
        masterdata.add_location(
            session,
            actor=admin,
            code=code,
            name=name,
            kind=kind,
            gln=_gln(ref),
            epc_uri=f"urn:epc:id:sgln:{COMPANY}.{ref:05d}.0",
            country=country,
            is_customer=customer,
            latitude=POSITIONS[code][0],
            longitude=POSITIONS[code][1],
            region=POSITIONS[code][2],
        )
    source_registry.register(
        session,
        actor=admin,
        code=MES_SOURCE,
        name="Leiden MES (tablet and vaccine lines)",
        kind="mes",
        mapping=records.MES_MAPPING,
    )
    source_registry.register(
        session,
        actor=admin,
        code=LIMS_SOURCE,
        name="LabWare LIMS, Leiden QC laboratory",
        kind="lims",
        mapping=records.LIMS_MAPPING,
    )


def _receive(session: Session, actors: DemoActors, lots: list[records.MaterialLotPlan]) -> None:
    for plan in sorted(lots, key=lambda lot: lot.received):
        lot = masterdata.add_lot(
            session,
            actor=actors.qc,
            kind="material",
            item_code=plan.material_code,
            lot_number=plan.lot_number,
            supplier_code=plan.supplier_code,
            supplier_lot=plan.supplier_lot,
            quantity=plan.quantity,
            unit=plan.unit,
            manufactured_on=plan.received - timedelta(days=40),
        )
        if plan.released:
            masterdata.set_lot_status(
                session,
                lot,
                "released",
                actor=actors.qa,
                reason="identity and certificate of analysis checked; supplier approved",
            )


def _spoil(batches: list[records.BatchPlan]) -> None:
    """The mistakes a real year brings, placed deterministically."""
    tablets = [b for b in batches if b.product == records.TABLET]
    vaccines = [b for b in batches if b.product == records.VACCINE]
    if len(tablets) < 6 or len(vaccines) < 5:
        return
    # The hardness tester was left on kilopond: a unit nobody here knows.
    readings = tablets[len(tablets) // 6].readings
    index = next(i for i, r in enumerate(readings) if r.parameter == "tablet_hardness")
    kilopond = round(readings[index].value / 9.80665, 2)
    readings[index] = replace(readings[index], value=kilopond, unit="Kp")
    # A reading typed in by hand without its zone.
    hand = vaccines[2 * len(vaccines) // 3]
    hand.readings[0] = replace(hand.readings[0], local_only=True)
    # The letter O for a zero, in the LIMS.
    batch = tablets[3 * len(tablets) // 4]
    typed = batch.lot_number.replace("0", "O", 1)
    batch.results[-1] = replace(batch.results[-1], lot_as_typed=typed)


def _delivered_at(planned: list[records.BatchPlan], now: datetime) -> datetime:
    """When a month's files arrive: the morning after its last batch ended and its last result
    was recorded — the interfaces send what is complete — and never after the load itself."""
    last = max(
        [b.ended.astimezone(UTC) for b in planned]
        + [r.at.astimezone(UTC) for b in planned for r in b.results]
    )
    arrival = (last + timedelta(days=1)).replace(hour=6, minute=30, second=0, microsecond=0)
    return min(arrival, now - timedelta(hours=1))


def _deliver_year(
    session: Session, actors: DemoActors, batches: list[records.BatchPlan]
) -> dict[str, datetime]:
    """Each month's MES and LIMS files ingested at the time they arrived; returns that time per
    lot number, so the decisions come after it."""
    now = clock.now()
    arrived: dict[str, datetime] = {}
    by_month: dict[tuple[int, int], list[records.BatchPlan]] = defaultdict(list)
    for batch in batches:
        by_month[records.month_of(batch.started)].append(batch)
    for index, (month, planned) in enumerate(sorted(by_month.items())):
        with clock.frozen_at(_delivered_at(planned, now)) as at:
            _deliver_month(session, actors, index, month, planned)
            arrived.update({b.lot_number: at() for b in planned})
    _fix_and_discard(session, actors)
    return arrived


def _deliver_month(
    session: Session,
    actors: DemoActors,
    index: int,
    month: tuple[int, int],
    planned: list[records.BatchPlan],
) -> None:
    extra = []
    if index == 8:
        extra.append({"record_type": "heartbeat", "item_code": "MES-SRV-02"})
    name = f"{month[0]}-{month[1]:02d}"
    ingest.ingest(
        session,
        actor=actors.production,
        kind="mes",
        content=records.mes_file(planned, extra),
        filename=f"mes-leiden-batch-records-{name}.csv",
        source_code=MES_SOURCE,
    )
    lims = records.lims_file(planned, ANALYSTS)
    for _ in range(2 if index == 5 else 1):  # month 6 was sent twice by the interface
        ingest.ingest(
            session,
            actor=actors.qc,
            kind="lims",
            content=lims,
            filename=f"labware-results-{name}.csv",
            source_code=LIMS_SOURCE,
        )


def _fix_and_discard(session: Session, actors: DemoActors) -> None:
    """The supervisor's work in the quarantine: a unit corrected, a heartbeat discarded."""
    for row in session.scalars(
        select(QuarantinedRow).where(QuarantinedRow.status == "open").order_by(QuarantinedRow.id)
    ):
        raw = row.raw if isinstance(row.raw, dict) else {}
        if raw.get("unit") == "Kp":
            newton = round(float(raw["value"]) * 9.80665, 1)
            ingest.replay(
                session,
                actor=actors.production,
                row_id=row.id,
                corrected={**raw, "value": str(newton), "unit": "N"},
                reason="the tester was set to kilopond; converted to newton (× 9.80665) and "
                "checked against the printout",
            )
        elif row.entity == "heartbeat":
            ingest.discard(
                session,
                actor=actors.production,
                row_id=row.id,
                reason="the MES server's heartbeat record, not batch data",
            )


def _decide(
    session: Session,
    actors: DemoActors,
    batches: list[records.BatchPlan],
    arrived: dict[str, datetime],
) -> None:
    """QA decides each batch two to six working days after its records and results arrived
    (the review of the batch record, then the decision), so the decisions and the release
    cycle times spread over the year as they would; none after the load itself."""
    now = clock.now()
    reasons = {
        "released": "batch record reviewed; QC results within specification",
        "rejected": "assay 93.1 % below 95.0 %: confirmed out of specification",
        "on_hold": "potency 13.6 µg HA/dose close to the limit: held pending investigation",
    }
    for plan in batches:
        if plan.decision == "pending":
            continue
        lot = session.scalars(
            select(Lot).where(
                Lot.kind == LotKind.FINISHED,
                Lot.item_code == plan.product,
                Lot.lot_number == plan.lot_number,
            )
        ).one()
        # The lot number's digits spread the review time deterministically (same seed, same
        # demo).
        spread = sum(ord(c) for c in plan.lot_number) % 5
        decided = arrived[plan.lot_number] + timedelta(days=2 + spread, hours=3)
        with clock.frozen_at(min(decided, now - timedelta(minutes=30))):
            masterdata.set_lot_status(
                session, lot, plan.decision, actor=actors.qa, reason=reasons[plan.decision]
            )


def _adverse_events(
    session: Session,
    actors: DemoActors,
    rng: Random,
    batches: list[records.BatchPlan],
    scale: float,
    end: date,
) -> None:
    planned = records.plan_reports(rng, batches, scale, end)
    quarters: dict[tuple[int, int], list[dict[str, object]]] = defaultdict(list)
    for received, report in planned:
        quarters[(received.year, (received.month - 1) // 3 + 1)].append(report)
    for index, ((year, quarter), reports) in enumerate(sorted(quarters.items())):
        if index == 1:
            reports.append({**reports[0], "safetyreportid": "26199999", "receivedate": "20250230"})
        ingest.ingest(
            session,
            actor=actors.pv,
            kind="faers",
            content=records.faers_file(reports, end),
            filename=f"openfda-drug-event-{year}-Q{quarter}.json",
        )


def _returns_scans(session: Session, actors: DemoActors, plant: DemoPlant) -> None:
    tablets = plant.released(records.TABLET)[-3:]
    if not tablets:
        return
    gtin = plant.products[records.TABLET]
    lines = ["# Returns inspection, Leiden warehouse, scanner HS-07"]
    for number, lot in enumerate(tablets):
        expiry = lot.expires_on.strftime("%y%m%d") if lot.expires_on else "000000"
        lines.append(f"]d201{gtin}17{expiry}10{lot.lot_number}\x1d21RT{number:06d}")
        lines.append(f"(01){gtin}(17){expiry}(10){lot.lot_number}(21)RT{number + 10:06d}")
    bad = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    lines.append(f"(01){bad}(17)290131(10){tablets[0].lot_number}(21)RT999999")
    # The scanner dropped the separator after the lot: the lot swallows the serial.
    first = tablets[0]
    expiry = first.expires_on.strftime("%y%m%d") if first.expires_on else "000000"
    lines.append(f"]d201{gtin}17{expiry}10{first.lot_number}21RT888888")
    ingest.ingest(
        session,
        actor=actors.logistics,
        kind="gs1",
        content=("\n".join(lines) + "\n").encode(),
        filename="returns-hs07.txt",
    )


def generate(
    session: Session,
    *,
    actors: DemoActors,
    rng: Random,
    scale: float = 1.0,
    today: date | None = None,
) -> DemoPlant:
    """Write the demo company's year (see the module's documentation) and return its plant."""
    end = (today or clock.now().date()) - timedelta(days=2)
    start = end - timedelta(days=365)
    _master_data(session, actors.admin)
    materials = records.plan_material_lots(rng, start, end)
    _receive(session, actors, materials)
    batches = records.plan_year(rng, start, end, scale, materials)
    _spoil(batches)
    arrived = _deliver_year(session, actors, batches)
    _decide(session, actors, batches, arrived)
    _adverse_events(session, actors, rng, batches, scale, end)
    plant = demo_plant(session)
    _returns_scans(session, actors, plant)
    return plant


def load(session: Session, *, people: Mapping[str, Actor], rng: Random, scale: float) -> None:
    """The ``pharmaqms demo`` loader (registered by ``pharmaqms.cli.demo_platform``)."""
    generate(session, actors=DemoActors.from_people(people), rng=rng, scale=scale)
