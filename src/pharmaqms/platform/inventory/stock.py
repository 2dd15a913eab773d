"""Stock on hand per location, lot and status, and units shipped per lot — read from the
inventory movements, for the distribution module (FEFO, expiry, reorder points), the recall
reach and the lot-level reporting rates of pharmacovigilance.

The status of stock is derived, never stored: a lot released in the book but on hold, past
its expiry date, recalled or rejected may not be picked, whatever the warehouse thinks. In
order of precedence (the first that applies is shown): recalled, rejected, expired (the lot's
status, or its expiry date before today), on hold (the lot's status or an open hold from a
quality record), quarantine (not released yet), released."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.platform.inventory.match_models import counted
from pharmaqms.platform.inventory.movements import MovementType
from pharmaqms.platform.masterdata.hold_models import LotHold
from pharmaqms.platform.masterdata.models import Location, Lot, LotStatus, Product
from pharmaqms.platform.traceability.models import InventoryMovement


class StockStatus(StrEnum):
    RELEASED = "released"
    QUARANTINE = "quarantine"
    ON_HOLD = "on_hold"
    EXPIRED = "expired"
    REJECTED = "rejected"
    RECALLED = "recalled"


@dataclass(frozen=True, slots=True)
class LotState:
    """What decides whether a lot's stock may be used: its recorded status, its open holds
    (the records holding it) and its expiry date."""

    status: str
    expires_on: date | None
    holders: tuple[str, ...] = ()


def stock_status(lot: LotState, today: date) -> tuple[StockStatus, str]:
    """The derived status of a lot's stock and why (for the badge's tooltip)."""
    recorded = lot.status
    if recorded == LotStatus.RECALLED:
        return StockStatus.RECALLED, "the lot is recalled"
    if recorded == LotStatus.REJECTED:
        return StockStatus.REJECTED, "the lot is rejected"
    if recorded == LotStatus.EXPIRED:
        return StockStatus.EXPIRED, "the lot is expired"
    if lot.expires_on is not None and lot.expires_on < today:
        return StockStatus.EXPIRED, f"expired on {lot.expires_on:%Y-%m-%d}"
    if recorded == LotStatus.ON_HOLD or lot.holders:
        by = ", ".join(h or "a person" for h in lot.holders) or "a quality decision"
        return StockStatus.ON_HOLD, f"on hold by {by}"
    if recorded == LotStatus.QUARANTINE:
        return StockStatus.QUARANTINE, "not released yet"
    return StockStatus.RELEASED, "released"


@dataclass(frozen=True, slots=True)
class StockLine:
    location_id: int
    location_code: str
    location_name: str
    lot_id: int
    product_code: str
    product_name: str
    gtin: str
    lot_number: str
    expires_on: date | None
    shelf_life_months: int
    lot_status: str
    status: StockStatus
    why: str
    quantity: float
    unit: str

    @property
    def days_to_expiry(self) -> int | None:
        if self.expires_on is None:
            return None
        return (self.expires_on - clock.now().date()).days


def _balances(session: Session, lot_ids: Sequence[int] | None) -> dict[tuple[int, int, str], float]:
    """(location, lot, unit) → in − out, over every movement recorded."""
    found: dict[tuple[int, int, str], float] = defaultdict(float)
    for column, sign, side in (
        (InventoryMovement.to_location_id, 1.0, "to"),
        (InventoryMovement.from_location_id, -1.0, "from"),
    ):
        query = (
            select(
                column,
                InventoryMovement.lot_id,
                InventoryMovement.unit,
                func.sum(InventoryMovement.quantity),
            )
            .where(column.is_not(None), counted(side))
            .group_by(column, InventoryMovement.lot_id, InventoryMovement.unit)
        )
        if lot_ids is not None:
            query = query.where(InventoryMovement.lot_id.in_(lot_ids))
        for location_id, lot_id, unit, total in session.execute(query):
            if location_id is not None:
                found[(location_id, lot_id, unit)] += sign * float(total or 0.0)
    return found


def open_holders(session: Session, lot_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Per lot, the records holding it (holds not lifted); '' for a person's hold."""
    ids = list(lot_ids)
    holders: dict[int, list[str]] = defaultdict(list)
    if ids:
        for lot_id, holder in session.execute(
            select(LotHold.lot_id, LotHold.holder)
            .where(LotHold.lot_id.in_(ids), LotHold.lifted_at.is_(None))
            .order_by(LotHold.placed_at, LotHold.id)
        ):
            holders[lot_id].append(holder)
    return {lot: tuple(found) for lot, found in holders.items()}


def stock_on_hand(
    session: Session,
    *,
    product_code: str | None = None,
    status: str | None = None,
    location_code: str | None = None,
    lot_ids: Sequence[int] | None = None,
    include_customers: bool = False,
    include_empty: bool = False,
) -> list[StockLine]:
    """Stock per location, lot and unit, with its derived status; our locations only unless
    ``include_customers``. A negative balance is shown (movements are missing: a person must
    look), an empty one only with ``include_empty``. Sorted by product, expiry, lot and
    location — the order FEFO reads it in."""
    session.flush()
    balances = _balances(session, lot_ids)
    if not balances:
        return []
    lot_set = {lot for _loc, lot, _u in balances}
    location_set = {loc for loc, _lot, _u in balances}
    lots = {
        lot.id: (lot, product)
        for lot, product in session.execute(
            select(Lot, Product)
            .join(Product, Product.id == Lot.product_id)
            .where(Lot.id.in_(lot_set))
        )
    }
    places = {
        place.id: place
        for place in session.scalars(select(Location).where(Location.id.in_(location_set)))
    }
    holders = open_holders(session, lot_set)
    today = clock.now().date()
    lines = []
    for (location_id, lot_id, unit), quantity in balances.items():
        if abs(quantity) < 1e-9 and not include_empty:
            continue
        place = places.get(location_id)
        if lot_id not in lots or place is None:
            continue  # a material lot: not stock of a product
        if place.is_customer and not include_customers:
            continue
        if location_code and place.code != location_code:
            continue
        lot, product = lots[lot_id]
        if product_code and product.code != product_code:
            continue
        derived, why = stock_status(
            LotState(lot.status, lot.expires_on, holders.get(lot_id, ())), today
        )
        if status and derived != status:
            continue
        lines.append(
            StockLine(
                location_id=place.id,
                location_code=place.code,
                location_name=place.name,
                lot_id=lot.id,
                product_code=product.code,
                product_name=product.name,
                gtin=product.gtin,
                lot_number=lot.lot_number,
                expires_on=lot.expires_on,
                shelf_life_months=product.shelf_life_months,
                lot_status=lot.status,
                status=derived,
                why=why,
                quantity=quantity,
                unit=unit,
            )
        )
    lines.sort(
        key=lambda x: (
            x.product_code,
            x.expires_on or date.max,
            x.lot_number,
            x.location_code,
            x.unit,
        )
    )
    return lines


@dataclass(frozen=True, slots=True)
class Shipped:
    """Units of a lot that left for customers, net of returns, in the unit they were moved in."""

    quantity: float
    unit: str


# Movements that carry goods to the market: shipments to a customer, to a destination not
# known, or on a registered shipment — not the transfer of one of our locations to another
# (site → distributor), which a later shipment to the customer would count again; and, before
# 0215, every movement on a shipment (``load_lot`` wrote those without a type).
_TO_CUSTOMERS = select(Location.id).where(Location.is_customer.is_(True))
TO_MARKET = or_(
    (InventoryMovement.movement_type == MovementType.SHIPMENT.value)
    & or_(
        InventoryMovement.to_location_id.is_(None),
        InventoryMovement.to_location_id.in_(_TO_CUSTOMERS),
        InventoryMovement.shipment_id.is_not(None),
    ),
    (InventoryMovement.movement_type.is_(None) & InventoryMovement.shipment_id.is_not(None)),
)


def units_shipped(session: Session, lot_ids: Sequence[int]) -> dict[int, Shipped]:
    """Per lot, the units shipped minus the units returned, from the inventory movements.

    A lot absent from the answer has no shipped quantity known (not zero). Movements in more
    than one unit are not added together: such a lot is left out too (unknown)."""
    if not lot_ids:
        return {}
    totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    shipped_units: dict[int, set[str]] = defaultdict(set)
    for condition, sign in (
        (TO_MARKET & counted("from"), 1.0),
        ((InventoryMovement.movement_type == MovementType.RETURN.value) & counted("to"), -1.0),
    ):
        rows = session.execute(
            select(
                InventoryMovement.lot_id,
                InventoryMovement.unit,
                func.sum(InventoryMovement.quantity),
            )
            .where(InventoryMovement.lot_id.in_(lot_ids), condition)
            .group_by(InventoryMovement.lot_id, InventoryMovement.unit)
        )
        for lot_id, unit, total in rows:
            totals[lot_id][unit] += sign * float(total or 0.0)
            if sign > 0:
                shipped_units[lot_id].add(unit)
    found = {}
    for lot_id, by_unit in totals.items():
        if len(by_unit) == 1 and shipped_units[lot_id]:
            ((unit, quantity),) = by_unit.items()
            found[lot_id] = Shipped(max(quantity, 0.0), unit)
    return found


def shipped_to(session: Session, lot_ids: Sequence[int]) -> dict[tuple[int, int], float]:
    """(lot, customer location) → units shipped to it net of returns from it: what a recall
    has to bring back from each customer, as far as the movements know."""
    found: dict[tuple[int, int], float] = defaultdict(float)
    if not lot_ids:
        return {}
    for column, condition, sign in (
        (InventoryMovement.to_location_id, TO_MARKET & counted("to"), 1.0),
        (
            InventoryMovement.from_location_id,
            (InventoryMovement.movement_type == MovementType.RETURN.value) & counted("from"),
            -1.0,
        ),
    ):
        for lot_id, location_id, total in session.execute(
            select(InventoryMovement.lot_id, column, func.sum(InventoryMovement.quantity))
            .where(InventoryMovement.lot_id.in_(lot_ids), column.is_not(None), condition)
            .group_by(InventoryMovement.lot_id, column)
        ):
            if location_id is not None:
                found[(lot_id, location_id)] += sign * float(total or 0.0)
    return dict(found)
