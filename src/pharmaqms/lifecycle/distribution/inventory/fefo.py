"""First-expiry-first-out picking proposals for an order line (EU GDP §5.9: "stock should be
rotated according to the first expiry first out principle"), across every location that holds
the product.

Of the stock lines the rules let through (``rules.py``), the proposal takes the earliest expiry
first — the lot that would otherwise age out first — and within one expiry the lot and
location in a fixed order, until the quantity is met. Every line not offered is listed with
every reason. Pure: the caller reads the stock lines; a line's own order is not trusted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pharmaqms.lifecycle.distribution.inventory.rules import (
    CustomerTerms,
    StockFacts,
    exclusions,
)


@dataclass(frozen=True, slots=True)
class Pick:
    lot_number: str
    location_code: str
    expires_on: date
    quantity: float
    remaining_days: int


@dataclass(frozen=True, slots=True)
class Excluded:
    lot_number: str
    location_code: str
    expires_on: date | None
    quantity: float
    reasons: tuple[tuple[str, str, str], ...]  # (rule code, reason, regulatory basis)


@dataclass
class Proposal:
    quantity: float
    picks: list[Pick] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)

    @property
    def proposed(self) -> float:
        return sum(p.quantity for p in self.picks)

    @property
    def shortfall(self) -> float:
        return max(self.quantity - self.proposed, 0.0)

    @property
    def complete(self) -> bool:
        return self.shortfall <= 1e-9


def propose(quantity: float, lines: Iterable[StockFacts], terms: CustomerTerms) -> Proposal:
    """Picks for ``quantity`` packs, earliest expiry first, never from an excluded line."""
    proposal = Proposal(quantity)
    offered: list[StockFacts] = []
    for facts in lines:
        failed = exclusions(facts, terms)
        if failed:
            proposal.excluded.append(
                Excluded(
                    facts.lot_number,
                    facts.location_code,
                    facts.expires_on,
                    facts.quantity,
                    tuple((rule.code, reason, rule.basis) for rule, reason in failed),
                )
            )
        else:
            offered.append(facts)
    # expires_on is set on every offered line (rule expiry_known).
    offered.sort(key=lambda f: (f.expires_on or date.max, f.lot_number, f.location_code))
    wanted = quantity
    for facts in offered:
        if wanted <= 1e-9:
            break
        take = min(facts.quantity, wanted)
        assert facts.expires_on is not None and facts.remaining_days is not None
        proposal.picks.append(
            Pick(
                facts.lot_number, facts.location_code, facts.expires_on, take, facts.remaining_days
            )
        )
        wanted -= take
    proposal.excluded.sort(key=lambda e: (e.expires_on or date.max, e.lot_number, e.location_code))
    return proposal
