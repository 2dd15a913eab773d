"""Which stock may be offered for an order line: a table of rules, each with its regulatory
basis, over the facts of one stock line. Pure: the facts are read beforehand from the
platform's stock on hand, so every rule is tested without a database.

A line is offered only when every rule passes; a line that fails is listed with each reason,
so the person picking sees why a lot that is physically there is not proposed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pharmaqms.platform.inventory.stock import StockStatus


@dataclass(frozen=True, slots=True)
class CustomerTerms:
    """The customer's minimum remaining shelf life at delivery: in days, or as a share of the
    product's total shelf life (e.g. 1/3 → 33.3 %); both may be given, both must hold."""

    min_days: int | None = None
    min_share_pct: float | None = None


@dataclass(frozen=True, slots=True)
class StockFacts:
    """One stock line as the rules see it."""

    lot_number: str
    location_code: str
    status: StockStatus
    why: str
    expires_on: date | None
    shelf_life_months: int
    quantity: float
    delivery_on: date

    @property
    def remaining_days(self) -> int | None:
        if self.expires_on is None:
            return None
        return (self.expires_on - self.delivery_on).days

    @property
    def shelf_life_days(self) -> float:
        # A month of a labelled shelf life as its average length (365.25 / 12 days).
        return self.shelf_life_months * 365.25 / 12


Check = Callable[[StockFacts, CustomerTerms], str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    title: str
    basis: str
    check: Check  # the reason the line is not offered; None when it may be


def _released(facts: StockFacts, _terms: CustomerTerms) -> str | None:
    if facts.status is StockStatus.RELEASED:
        return None
    return f"{facts.status.value.replace('_', ' ')}: {facts.why}"


def _has_expiry(facts: StockFacts, _terms: CustomerTerms) -> str | None:
    return None if facts.expires_on is not None else "no expiry date is recorded for the lot"


def _not_expired_at_delivery(facts: StockFacts, _terms: CustomerTerms) -> str | None:
    days = facts.remaining_days
    if days is None or days >= 0:
        return None
    return f"expires on {facts.expires_on:%Y-%m-%d}, before the delivery on {facts.delivery_on}"


def _customer_days(facts: StockFacts, terms: CustomerTerms) -> str | None:
    days = facts.remaining_days
    if terms.min_days is None or days is None or days < 0 or days >= terms.min_days:
        return None
    return f"{days} days of shelf life left at delivery; the customer needs {terms.min_days}"


def _customer_share(facts: StockFacts, terms: CustomerTerms) -> str | None:
    days = facts.remaining_days
    if terms.min_share_pct is None or days is None or days < 0 or facts.shelf_life_days <= 0:
        return None
    share = 100.0 * days / facts.shelf_life_days
    if share >= terms.min_share_pct:
        return None
    return (
        f"{share:.1f} % of its {facts.shelf_life_months}-month shelf life left at delivery; "
        f"the customer needs {terms.min_share_pct:g} %"
    )


def _positive(facts: StockFacts, _terms: CustomerTerms) -> str | None:
    if facts.quantity > 0:
        return None
    return f"the book shows {facts.quantity:g} on hand (movements missing): count it first"


RULES: tuple[Rule, ...] = (
    Rule(
        "released",
        "Only released stock is supplied",
        "EU GDP 2013/C 343/01 §5.5 (segregation of unreleased, rejected, recalled, returned "
        "and falsified stock), §5.9; Annex 16 (QP certification before sale)",
        _released,
    ),
    Rule(
        "expiry_known",
        "The lot's expiry date is known",
        "EU GDP §5.9 (stock rotation by expiry needs the expiry date)",
        _has_expiry,
    ),
    Rule(
        "not_expired",
        "Not expired at delivery",
        "EU GDP §5.9 (products nearing or past expiry are withdrawn from saleable stock)",
        _not_expired_at_delivery,
    ),
    Rule(
        "customer_min_days",
        "The customer's minimum remaining shelf life in days",
        "EU GDP §5.9, and the quality agreement with the customer (GDP chapter 7)",
        _customer_days,
    ),
    Rule(
        "customer_min_share",
        "The customer's minimum remaining share of the shelf life",
        "EU GDP §5.9, and the quality agreement with the customer (GDP chapter 7)",
        _customer_share,
    ),
    Rule(
        "on_hand",
        "Stock is on hand in the book",
        "EU GDP §5.10 (irregularities of stock found in inventory checks are investigated)",
        _positive,
    ),
)


def exclusions(facts: StockFacts, terms: CustomerTerms) -> list[tuple[Rule, str]]:
    """Every rule the line fails, with its reason (empty: the line may be offered)."""
    found = []
    for rule in RULES:
        reason = rule.check(facts, terms)
        if reason is not None:
            found.append((rule, reason))
    return found
