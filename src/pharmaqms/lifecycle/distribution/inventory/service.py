"""Reading the platform's stock for distribution's questions: which lots to pick for an order
line (FEFO), which stock nears its expiry, and which products to replenish. Read-only: no verb
here writes, so none takes an actor; the pages and API check who may read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.lifecycle.distribution.inventory.expiry import Reminder, reminders
from pharmaqms.lifecycle.distribution.inventory.fefo import Proposal, propose
from pharmaqms.lifecycle.distribution.inventory.reorder import (
    Replenishment,
    demand_stats,
    reorder_point,
    replenishment,
)
from pharmaqms.lifecycle.distribution.inventory.rules import CustomerTerms, StockFacts
from pharmaqms.platform.inventory.match_models import counted
from pharmaqms.platform.inventory.movements import COUNT_UNIT
from pharmaqms.platform.inventory.stock import TO_MARKET, StockLine, StockStatus, stock_on_hand
from pharmaqms.platform.masterdata.models import Lot, Product
from pharmaqms.platform.traceability.models import InventoryMovement

MAX_QUANTITY = 10_000_000


def _product(session: Session, code: str) -> Product:
    product = session.scalars(select(Product).where(Product.code == code.strip())).first()
    if product is None:
        raise NotFound(f"no product {code!r}")
    return product


def stock_register(
    session: Session,
    *,
    product_code: str | None = None,
    status: str | None = None,
    location_code: str | None = None,
) -> list[StockLine]:
    if status and status not in {s.value for s in StockStatus}:
        raise InvalidInput(
            f"unknown stock status {status!r}; one of " + ", ".join(s.value for s in StockStatus),
            field="status",
        )
    return stock_on_hand(
        session,
        product_code=product_code or None,
        status=status or None,
        location_code=location_code or None,
    )


@dataclass(frozen=True)
class OrderLine:
    product_code: str
    quantity: float
    terms: CustomerTerms
    delivery_on: date


def order_line(
    *,
    product_code: str,
    quantity: float,
    min_days: int | None = None,
    min_share_pct: float | None = None,
    delivery_on: date | None = None,
) -> OrderLine:
    """An order line, checked: a quantity of whole packs, terms within sense."""
    if not product_code.strip():
        raise InvalidInput("name the product", field="product_code")
    if not 0 < quantity <= MAX_QUANTITY or quantity != int(quantity):
        raise InvalidInput(
            f"the quantity is a whole number of packs from 1 to {MAX_QUANTITY:,}",
            field="quantity",
        )
    if min_days is not None and not 0 <= min_days <= 3660:
        raise InvalidInput("the minimum shelf life is 0 to 3660 days", field="min_days")
    if min_share_pct is not None and not 0 <= min_share_pct <= 100:
        raise InvalidInput("the minimum share is 0 to 100 %", field="min_share_pct")
    today = clock.now().date()
    delivery = delivery_on or today
    if delivery < today:
        raise InvalidInput("the delivery date has passed", field="delivery_on")
    return OrderLine(
        product_code.strip(), quantity, CustomerTerms(min_days, min_share_pct), delivery
    )


def fefo_proposal(session: Session, line: OrderLine) -> Proposal:
    """FEFO picks for the order line across every location of ours that holds the product,
    with every line not offered and why."""
    _product(session, line.product_code)
    stock = [
        s for s in stock_on_hand(session, product_code=line.product_code) if s.unit == COUNT_UNIT
    ]
    facts = [
        StockFacts(
            lot_number=s.lot_number,
            location_code=s.location_code,
            status=s.status,
            why=s.why,
            expires_on=s.expires_on,
            shelf_life_months=s.shelf_life_months,
            quantity=s.quantity,
            delivery_on=line.delivery_on,
        )
        for s in stock
    ]
    return propose(line.quantity, facts, line.terms)


def expiry_register(
    session: Session, horizons: tuple[int, ...], *, product_code: str | None = None
) -> list[Reminder]:
    lines = stock_on_hand(session, product_code=product_code or None)
    return reminders(lines, clock.now().date(), horizons)


def daily_demand(session: Session, history_days: int) -> dict[int, list[float]]:
    """Per product id, the packs shipped on each of the last ``history_days`` days (oldest
    first; a day without a shipment is a day of zero demand, not a missing one)."""
    today = clock.now().date()
    start = today - timedelta(days=history_days)
    series: dict[int, list[float]] = defaultdict(lambda: [0.0] * history_days)
    rows = session.execute(
        select(Lot.product_id, InventoryMovement.moved_at, InventoryMovement.quantity)
        .join(Lot, Lot.id == InventoryMovement.lot_id)
        .where(
            TO_MARKET,
            counted("from"),
            InventoryMovement.unit == COUNT_UNIT,
            InventoryMovement.moved_at >= clock.now() - timedelta(days=history_days),
            Lot.product_id.is_not(None),
        )
    )
    for product_id, moved_at, quantity in rows:
        index = (moved_at.date() - start).days
        if product_id is not None and 0 <= index < history_days:
            series[product_id][index] += float(quantity)
    return dict(series)


def reorder_register(
    session: Session,
    *,
    lead_days: float,
    service_level: float,
    lead_sd_days: float = 0.0,
    review_days: float = 7.0,
    history_days: int = 90,
) -> list[Replenishment]:
    """Every product with stock or demand: its ROP from the demand of the last
    ``history_days`` days, and a replenishment proposal when released stock ≤ ROP."""
    if not 7 <= history_days <= 730:
        raise InvalidInput("the demand history is 7 to 730 days", field="history_days")
    if not 0 <= review_days <= 365:
        raise InvalidInput("the review period is 0 to 365 days", field="review_days")
    demand = daily_demand(session, history_days)
    released: dict[int, float] = defaultdict(float)
    products = {p.code: p for p in session.scalars(select(Product))}
    for line in stock_on_hand(session, status=StockStatus.RELEASED.value):
        if line.unit == COUNT_UNIT:
            released[products[line.product_code].id] += line.quantity
    found = []
    for product in sorted(products.values(), key=lambda p: p.code):
        if product.id not in demand and product.id not in released:
            continue
        stats = demand_stats(demand.get(product.id, [0.0] * history_days))
        point = reorder_point(stats.mean, stats.sd, lead_days, service_level, lead_sd_days)
        found.append(
            replenishment(
                product.code,
                product.name,
                released.get(product.id, 0.0),
                stats,
                point,
                review_days,
            )
        )
    found.sort(key=lambda r: (not r.due, r.product_code))
    return found


def products_with_stock(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the products the register can be filtered by."""
    return [
        (code, name)
        for code, name in session.execute(
            select(Product.code, Product.name)
            .where(
                Product.id.in_(
                    select(Lot.product_id)
                    .join(InventoryMovement, InventoryMovement.lot_id == Lot.id)
                    .group_by(Lot.product_id)
                    .having(func.count() > 0)
                )
            )
            .order_by(Product.code)
        )
    ]
