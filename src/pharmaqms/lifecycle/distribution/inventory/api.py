"""Inventory API of distribution: the stock register, FEFO proposals, the expiry register and
the reorder register. Thin: parse, read through the service, shape the answer."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.lifecycle.distribution.http import PREFIX
from pharmaqms.lifecycle.distribution.inventory import service
from pharmaqms.lifecycle.distribution.inventory.expiry import parse_horizons
from pharmaqms.lifecycle.distribution.inventory.schemas import (
    FindingOut,
    ProposalOut,
    ReminderOut,
    ReplenishmentOut,
    StockOut,
)
from pharmaqms.platform.inventory.matching import findings

router = APIRouter(prefix=f"{PREFIX}/inventory", tags=["distribution: inventory"])


@router.get("/stock", response_model=list[StockOut])
def stock(
    actor: ActorDep,
    request: Request,
    product: str | None = Query(default=None, max_length=40),
    status: str | None = Query(default=None, max_length=20),
    location: str | None = Query(default=None, max_length=60),
) -> list[StockOut]:
    """Stock on hand per location, lot and derived status."""
    actor.require("records.read", "read stock")
    with transaction(request, write=False) as session:
        lines = service.stock_register(
            session, product_code=product, status=status, location_code=location
        )
        return [StockOut.of(line) for line in lines]


@router.get("/fefo-proposal", response_model=ProposalOut)
def fefo_proposal(
    actor: ActorDep,
    request: Request,
    product: str = Query(min_length=1, max_length=40),
    quantity: int = Query(ge=1, le=service.MAX_QUANTITY, description="packs"),
    min_days: int | None = Query(
        default=None, ge=0, le=3660, description="minimum remaining shelf life at delivery"
    ),
    min_share_pct: float | None = Query(
        default=None, ge=0, le=100, description="minimum remaining share of the shelf life"
    ),
    delivery_on: date | None = Query(default=None, description="today when not given"),
) -> ProposalOut:
    """FEFO picks for an order line, with every lot not offered and why. A question, not a
    record: nothing is stored (the picks come back as movements from the WMS)."""
    actor.require("records.read", "read stock")
    line = service.order_line(
        product_code=product,
        quantity=quantity,
        min_days=min_days,
        min_share_pct=min_share_pct,
        delivery_on=delivery_on,
    )
    with transaction(request, write=False) as session:
        return ProposalOut.of(service.fefo_proposal(session, line))


@router.get("/expiry", response_model=list[ReminderOut])
def expiry(
    actor: ActorDep,
    request: Request,
    horizons: str | None = Query(default=None, max_length=60),
    product: str | None = Query(default=None, max_length=40),
) -> list[ReminderOut]:
    """Stock on hand flagged overdue or within each horizon (days; default 180,90,30)."""
    actor.require("records.read", "read stock")
    days = parse_horizons(horizons)
    with transaction(request, write=False) as session:
        found = service.expiry_register(session, days, product_code=product)
        return [ReminderOut.of(r) for r in found]


@router.get("/reorder", response_model=list[ReplenishmentOut])
def reorder(
    actor: ActorDep,
    request: Request,
    lead_days: float = Query(default=7.0, gt=0, le=365),
    service_level: float = Query(default=0.95, ge=0.5, lt=1.0),
    lead_sd_days: float = Query(default=0.0, ge=0, le=365),
    review_days: float = Query(default=7.0, ge=0, le=365),
    history_days: int = Query(default=90, ge=7, le=730),
) -> list[ReplenishmentOut]:
    """Reorder point per product from its demand history, and the replenishment proposed."""
    actor.require("records.read", "read stock")
    with transaction(request, write=False) as session:
        found = service.reorder_register(
            session,
            lead_days=lead_days,
            service_level=service_level,
            lead_sd_days=lead_sd_days,
            review_days=review_days,
            history_days=history_days,
        )
        return [ReplenishmentOut.of(r) for r in found]


@router.get("/reconciliation", response_model=list[FindingOut])
def reconciliation(actor: ActorDep, request: Request) -> list[FindingOut]:
    """Where the WMS/TMS and EPCIS disagree on stock movements: a movement both report with
    different quantities (the first recorded is counted), or one reported by one source only
    after the matching window. Each physical movement counts once in stock."""
    actor.require("records.read", "read stock")
    with transaction(request, write=False) as session:
        return [FindingOut.of(f) for f in findings(session)]
