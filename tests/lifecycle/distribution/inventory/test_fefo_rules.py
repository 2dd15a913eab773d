"""FEFO on hand-made stock with a known answer: earliest expiry first across locations, and
never a lot that is not released, is on hold, recalled, expired or too short-dated for the
customer — each exclusion listed with its reason and basis."""

from __future__ import annotations

from datetime import date

import pytest

from pharmaqms.lifecycle.distribution.inventory.fefo import propose
from pharmaqms.lifecycle.distribution.inventory.rules import RULES, CustomerTerms, StockFacts
from pharmaqms.platform.inventory.stock import StockStatus

DELIVERY = date(2026, 3, 2)


def line(lot: str, where: str, status: StockStatus, expires: date | None, qty: float) -> StockFacts:
    return StockFacts(lot, where, status, status.value, expires, 24, qty, DELIVERY)


STOCK = [
    line("L-LATE", "WH-A", StockStatus.RELEASED, date(2027, 12, 31), 100),
    line("L-EXP", "WH-A", StockStatus.EXPIRED, date(2026, 2, 1), 40),
    line("L-SOON", "WH-A", StockStatus.RELEASED, date(2026, 5, 1), 50),
    line("L-MID", "WH-B", StockStatus.RELEASED, date(2026, 9, 30), 30),
    line("L-MID", "WH-A", StockStatus.RELEASED, date(2026, 9, 30), 20),
    line("L-Q", "WH-A", StockStatus.QUARANTINE, date(2026, 8, 1), 100),
    line("L-HOLD", "WH-B", StockStatus.ON_HOLD, date(2026, 7, 1), 100),
    line("L-RECALL", "WH-B", StockStatus.RECALLED, date(2027, 1, 1), 100),
]
NEVER = {"L-EXP", "L-Q", "L-HOLD", "L-RECALL"}


def picks(proposal):  # type: ignore[no-untyped-def]
    return [(p.lot_number, p.location_code, p.quantity) for p in proposal.picks]


def test_earliest_expiry_first_across_locations_within_the_customers_minimum() -> None:
    proposal = propose(70, STOCK, CustomerTerms(min_days=90))
    # L-SOON has 60 days left: too short for 90; L-MID (212 days) goes first, both places.
    assert picks(proposal) == [("L-MID", "WH-A", 20), ("L-MID", "WH-B", 30), ("L-LATE", "WH-A", 20)]
    assert proposal.complete
    excluded = {e.lot_number: [code for code, _why, _basis in e.reasons] for e in proposal.excluded}
    assert excluded == {
        "L-EXP": ["released", "not_expired"],
        "L-SOON": ["customer_min_days"],
        "L-Q": ["released"],
        "L-HOLD": ["released"],
        "L-RECALL": ["released"],
    }
    soon = next(e for e in proposal.excluded if e.lot_number == "L-SOON")
    assert soon.reasons[0][1] == "60 days of shelf life left at delivery; the customer needs 90"
    assert "GDP" in soon.reasons[0][2]


def test_a_share_of_the_shelf_life_excludes_the_mid_dated_lot() -> None:
    # 212 days of a 24-month (730.5-day) shelf life is 29.0 %: below a third.
    proposal = propose(70, STOCK, CustomerTerms(min_share_pct=100 / 3))
    assert picks(proposal) == [("L-LATE", "WH-A", 70)]


def test_without_customer_terms_the_shortest_dated_released_lot_goes_first() -> None:
    proposal = propose(60, STOCK, CustomerTerms())
    assert picks(proposal) == [("L-SOON", "WH-A", 50), ("L-MID", "WH-A", 10)]


def test_not_enough_good_stock_is_a_shortfall_never_a_bad_lot() -> None:
    proposal = propose(500, STOCK, CustomerTerms(min_days=90))
    assert proposal.proposed == 150 and proposal.shortfall == 350 and not proposal.complete
    assert not {p.lot_number for p in proposal.picks} & (NEVER | {"L-SOON"})


@pytest.mark.parametrize("status", [s for s in StockStatus if s is not StockStatus.RELEASED])
def test_a_lot_that_is_not_released_is_never_offered(status: StockStatus) -> None:
    only = [line("L-X", "WH-A", status, date(2028, 1, 1), 1000)]
    proposal = propose(1, only, CustomerTerms())
    assert proposal.picks == [] and proposal.shortfall == 1


def test_every_rule_names_its_regulatory_basis() -> None:
    assert all(rule.basis.strip() for rule in RULES)
    assert len({rule.code for rule in RULES}) == len(RULES)
