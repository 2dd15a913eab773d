"""Inventory pages: the stock register (filter by product, status and location; sort by any
column), the FEFO proposal form and its answer, the expiry register and the reorder page. Read
only: every form is a GET that the page answers, nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.settings import get_settings
from pharmaqms.lifecycle.distribution.inventory import service
from pharmaqms.lifecycle.distribution.inventory.expiry import DEFAULT_HORIZONS, parse_horizons
from pharmaqms.lifecycle.distribution.inventory.rules import RULES
from pharmaqms.platform.inventory.matching import findings
from pharmaqms.platform.inventory.stock import StockLine, StockStatus

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/distribution/inventory"

add(NavItem("Distribution", "Stock", BASE, "records.read", 40))
add(NavItem("Distribution", "FEFO picking", f"{BASE}/fefo", "records.read", 41))
add(NavItem("Distribution", "Expiry register", f"{BASE}/expiry", "records.read", 42))
add(NavItem("Distribution", "Reorder points", f"{BASE}/reorder", "records.read", 43))
add(NavItem("Distribution", "Stock reconciliation", f"{BASE}/reconciliation", "records.read", 44))

# Badge tones of the derived stock statuses (the shared vocabulary lacks some).
TONES = {
    "released": "positive",
    "quarantine": "info",
    "on_hold": "warning",
    "expired": "negative",
    "rejected": "negative",
    "recalled": "negative",
}
SORTS: dict[str, Any] = {
    "product": lambda x: (x.product_code, x.lot_number),
    "lot": lambda x: (x.lot_number, x.location_code),
    "location": lambda x: (x.location_code, x.product_code, x.lot_number),
    "expiry": lambda x: (x.expires_on or date.max, x.lot_number),
    "status": lambda x: (x.status.value, x.product_code),
    "quantity": lambda x: (x.quantity, x.lot_number),
}


@router.get(BASE, response_class=HTMLResponse)
def stock_page(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    location: Annotated[str, Query(max_length=60)] = "",
    sort: Annotated[str, Query(max_length=20)] = "expiry",
    desc: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    actor.require("records.read", "read stock")
    with transaction(request, write=False) as session:
        lines: list[StockLine] = service.stock_register(
            session, product_code=product, status=status, location_code=location
        )
        lines.sort(key=SORTS.get(sort, SORTS["expiry"]), reverse=desc)
        totals: dict[str, float] = {}
        for line in lines:
            totals[line.status.value] = totals.get(line.status.value, 0.0) + line.quantity
        return render(
            request,
            "distribution/stock.html",
            {
                "lines": lines,
                "products": service.products_with_stock(session),
                "statuses": [s.value for s in StockStatus],
                "tones": TONES,
                "totals": totals,
                "filters": {"product": product, "status": status, "location": location},
                "sort": sort,
                "desc": desc,
            },
        )


def _number(text: str, field: str, kind: type[int] | type[float]) -> float | None:
    """A form's number field: empty is None (a browser sends an empty input as ``x=``)."""
    if not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a number", field=field) from None


@router.get(f"{BASE}/fefo", response_class=HTMLResponse)
def fefo_page(
    request: Request,
    actor: ActorDep,
    product: Annotated[str, Query(max_length=40)] = "",
    quantity: Annotated[str, Query(max_length=12)] = "",
    min_days: Annotated[str, Query(max_length=12)] = "",
    min_share_pct: Annotated[str, Query(max_length=12)] = "",
    delivery_on: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    actor.require("records.read", "read stock")
    proposal, error = None, None
    form = {
        "product": product,
        "quantity": quantity,
        "min_days": min_days,
        "min_share_pct": min_share_pct,
        "delivery_on": delivery_on,
    }
    with transaction(request, write=False) as session:
        if product or quantity:
            try:
                days = _number(min_days, "min_days", int)
                wanted = _number(quantity, "quantity", int)
                try:
                    delivery = date.fromisoformat(delivery_on) if delivery_on.strip() else None
                except ValueError:
                    raise InvalidInput(
                        f"delivery_on: {delivery_on!r} is not a date", field="delivery_on"
                    ) from None
                line = service.order_line(
                    product_code=product,
                    quantity=wanted or 0,
                    min_days=None if days is None else int(days),
                    min_share_pct=_number(min_share_pct, "min_share_pct", float),
                    delivery_on=delivery,
                )
                proposal = service.fefo_proposal(session, line)
            except (InvalidInput, NotFound) as err:
                error = err.detail
        return render(
            request,
            "distribution/fefo.html",
            {
                "products": service.products_with_stock(session),
                "form": form,
                "proposal": proposal,
                "error": error,
                "rules": RULES,
            },
        )


@router.get(f"{BASE}/expiry", response_class=HTMLResponse)
def expiry_page(
    request: Request,
    actor: ActorDep,
    horizons: Annotated[str, Query(max_length=60)] = "",
    product: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    actor.require("records.read", "read stock")
    error = None
    try:
        days = parse_horizons(horizons)
    except InvalidInput as err:
        days, error = DEFAULT_HORIZONS, err.detail
    with transaction(request, write=False) as session:
        found = service.expiry_register(session, days, product_code=product)
        return render(
            request,
            "distribution/expiry.html",
            {
                "reminders": found,
                "horizons": ",".join(str(d) for d in days),
                "product": product,
                "products": service.products_with_stock(session),
                "tones": TONES,
                "error": error,
            },
        )


@router.get(f"{BASE}/reorder", response_class=HTMLResponse)
def reorder_page(
    request: Request,
    actor: ActorDep,
    lead_days: Annotated[float, Query(gt=0, le=365)] = 7.0,
    service_level: Annotated[float, Query(ge=0.5, lt=1.0)] = 0.95,
    lead_sd_days: Annotated[float, Query(ge=0, le=365)] = 0.0,
    review_days: Annotated[float, Query(ge=0, le=365)] = 7.0,
    history_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> HTMLResponse:
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
        return render(
            request,
            "distribution/reorder.html",
            {
                "rows": found,
                "params": {
                    "lead_days": lead_days,
                    "service_level": service_level,
                    "lead_sd_days": lead_sd_days,
                    "review_days": review_days,
                    "history_days": history_days,
                },
            },
        )


@router.get(f"{BASE}/reconciliation", response_class=HTMLResponse)
def reconciliation_page(request: Request, actor: ActorDep) -> HTMLResponse:
    """The WMS/TMS and EPCIS records of stock movements that do not agree."""
    actor.require("records.read", "read stock")
    with transaction(request, write=False) as session:
        found = findings(session)
        return render(
            request,
            "distribution/reconciliation.html",
            {"findings": found, "window_min": get_settings().inventory_match_window_minutes},
        )
