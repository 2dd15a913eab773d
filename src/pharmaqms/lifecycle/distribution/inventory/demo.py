"""``pharmaqms demo``: the Leiden finished-goods warehouse's last quarter, as one WMS export
taken through the WMS/TMS connector — every finished lot of the year's last batches received
into WH-LEIDEN, a transfer to a distributor, weekly shipments to the pharmacies and hospitals
picked first-expiry-first-out from the released lots (the demand history the reorder points
are computed from), a return and a cycle-count adjustment. With the EPCIS supply chain's
movements, the stock register shows released, quarantined, held and short-dated stock."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.platform.genealogy.demo import DEMO_LOT_PREFIX
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.models import Location, Lot, LotKind, LotStatus, Product

WAREHOUSE = "WH-LEIDEN"
DISTRIBUTOR = "DIST-NORTH"
LOTS_PER_PRODUCT = 5
COLUMNS = (
    "movement_type",
    "product_code",
    "lot_number",
    "quantity",
    "unit",
    "from_location",
    "to_location",
    "moved_at",
    "reference",
    "order",
)


def _lots_in_stock(session: Session, product_id: int) -> list[Lot]:
    """The product's oldest released lot (the nearest expiry, for the expiry register), its
    latest released ones and its latest not released (quarantined, held) — not the EPCIS
    chain's lots, which move through their own events."""
    lots = list(
        session.scalars(
            select(Lot)
            .where(Lot.kind == LotKind.FINISHED.value, Lot.product_id == product_id)
            .where(Lot.lot_number.not_like(f"{DEMO_LOT_PREFIX}%"))  # the EPCIS chain
            .where(Lot.expires_on.is_not(None))
            .order_by(Lot.expires_on, Lot.lot_number)
        )
    )
    released = [x for x in lots if x.status == LotStatus.RELEASED.value]
    others = [x for x in lots if x.status != LotStatus.RELEASED.value]
    chosen = {x.id: x for x in [*released[:1], *released[-(LOTS_PER_PRODUCT - 1) :], *others[-2:]]}
    return list(chosen.values())


def warehouse_export(session: Session, rng: Random, weeks: int = 13) -> bytes | None:
    """The WMS CSV: receipts of each product's latest lots, then weekly FEFO shipments."""
    place = {loc.code: loc for loc in session.scalars(select(Location))}
    if WAREHOUSE not in place:
        return None
    customers = sorted(code for code, loc in place.items() if loc.is_customer)
    now = clock.now().replace(microsecond=0)
    start = now - timedelta(weeks=weeks, days=2)
    rows: list[dict[str, str]] = []

    def row(kind: str, lot: Lot, qty: int, src: str, dst: str, when: object, ref: str) -> None:
        rows.append(
            {
                "movement_type": kind,
                "product_code": lot.item_code,
                "lot_number": lot.lot_number,
                "quantity": str(qty),
                "unit": "ea",
                "from_location": src,
                "to_location": dst,
                "moved_at": when.isoformat(),  # type: ignore[attr-defined]
                "reference": ref,
                "order": "",
            }
        )

    on_hand: dict[int, int] = {}
    received: dict[int, datetime] = {}
    sellable: dict[str, list[Lot]] = {}
    for product in session.scalars(select(Product).order_by(Product.code)):
        lots = _lots_in_stock(session, product.id)
        for n, lot in enumerate(sorted(lots, key=lambda x: x.lot_number)):
            qty = rng.randrange(800, 2001, 50)
            made = lot.manufacturing_ended_at or start
            at = min(max(start, made + timedelta(days=2)), now - timedelta(days=1))
            received[lot.id] = at + timedelta(hours=n)
            row("receipt", lot, qty, "", WAREHOUSE, received[lot.id], f"GRN-{lot.id}")
            on_hand[lot.id] = qty
        sellable[product.code] = sorted(
            (x for x in lots if x.status == LotStatus.RELEASED.value and x.expires_on),
            key=lambda x: (x.expires_on, x.lot_number),
        )
    number = 0
    for week in range(1, weeks + 1):
        for code, lots in sellable.items():
            for customer in rng.sample(customers, k=min(2, len(customers))):
                wanted = rng.randrange(20, 121, 10)
                when = start + timedelta(weeks=week, days=rng.randrange(0, 5), hours=9)
                if when >= now - timedelta(hours=1):
                    continue
                for lot in lots:  # first expiry, first out
                    take = min(wanted, on_hand[lot.id] - 150)  # keep some of every lot
                    fresh = lot.expires_on and lot.expires_on > when.date() + timedelta(days=30)
                    if take <= 0 or received[lot.id] >= when or not fresh:
                        continue
                    number += 1
                    row("shipment", lot, take, WAREHOUSE, customer, when, f"DN-{number:05d}")
                    rows[-1]["order"] = f"SO-{code}-{week:02d}"
                    on_hand[lot.id] -= take
                    wanted -= take
                    if wanted <= 0:
                        break
    if DISTRIBUTOR in place:
        for lots in sellable.values():
            if lots:
                lot = lots[-1]
                row(
                    "move",
                    lot,
                    100,
                    WAREHOUSE,
                    DISTRIBUTOR,
                    received[lot.id] + timedelta(hours=4),  # before the week's shipments
                    f"TR-{lot.id}",
                )
                on_hand[lot.id] -= 100
    returned = next((r for r in rows if r["movement_type"] == "shipment"), None)
    if returned is not None:
        lot = session.scalars(
            select(Lot).where(
                Lot.lot_number == returned["lot_number"], Lot.item_code == returned["product_code"]
            )
        ).one()
        row(
            "return",
            lot,
            10,
            returned["to_location"],
            WAREHOUSE,
            now - timedelta(days=3),
            "RMA-001",
        )
        row("adjustment", lot, 2, WAREHOUSE, "", now - timedelta(days=1), "CC-001")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    # The export lists movements in time order, as a WMS does.
    writer.writerows(sorted(rows, key=lambda r: r["moved_at"]))
    return buffer.getvalue().encode()


def load(session: Session, ctx: DemoContext) -> None:
    content = warehouse_export(session, ctx.rng)
    if content is None:
        return
    ingest.ingest(
        session,
        actor=ctx.people["lena.logistics"],
        kind="wms",
        content=content,
        filename="wms-leiden-quarter.csv",
    )


register("inventory (WMS)", load)
