"""The stability budget of a product (allowed hours per temperature band outside its labelled
condition: entered per product, or put in force by R&D from its stability data under change
control through ``quality.stability_budget``) and what each lot has
consumed of it, summed over every excursion the lot was in — its journeys and its storage.

The arithmetic is the cold-chain package's (:func:`consume`, :func:`assess_budget`): time in a
band is sample-and-hold over the excursion's readings, and unknown time (gaps) counts against
every band."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.distribution.coldchain import (
    BudgetAssessment,
    BudgetBand,
    StabilityBudget,
    TemperatureRange,
    assess_budget,
    consume,
)
from pharmaqms.lifecycle.distribution.models import (
    AlarmProfile,
    Excursion,
    ExcursionLot,
    StabilityBand,
)
from pharmaqms.lifecycle.distribution.readings import sensor_series
from pharmaqms.platform.masterdata.models import Lot, Product
from pharmaqms.quality import stability_budget


def _label(product: Product) -> TemperatureRange:
    if product.storage_min_c is None and product.storage_max_c is None:
        raise InvalidInput(
            f"product {product.code} has no labelled storage condition", field="product_code"
        )
    return TemperatureRange(product.storage_min_c, product.storage_max_c)


def set_stability_budget(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    bands: list[tuple[str, float | None, float | None, float]],
    basis: str,
) -> list[StabilityBand]:
    """Replace the product's budget bands ``(name, low °C, high °C, allowed hours)``; they must
    cover every temperature outside the label exactly once (checked before anything changes).
    ``basis`` names the stability data (study, report)."""
    actor.require("coldchain.assess", "enter stability budgets")
    if not basis.strip():
        raise InvalidInput("name the stability data the budget comes from", field="basis")
    product = session.scalars(select(Product).where(Product.code == product_code)).first()
    if product is None:
        raise NotFound(f"no product {product_code}")
    StabilityBudget(_label(product), tuple(BudgetBand(*band) for band in bands))
    old = list(
        session.scalars(
            select(StabilityBand).where(
                StabilityBand.product_id == product.id, StabilityBand.active.is_(True)
            )
        )
    )
    now = clock.now()
    with audit.changes(session, actor=actor, reason=f"stability budget from {basis}"):
        for band in old:
            band.active = False
        rows = [
            StabilityBand(
                product_id=product.id,
                name=name,
                low_c=low,
                high_c=high,
                allowed_h=allowed,
                basis=basis.strip(),
                active=True,
                entered_at=now,
                entered_by_id=actor.user_id,
            )
            for name, low, high, allowed in bands
        ]
        session.add_all(rows)
    return rows


def budget_of(session: Session, product_id: int) -> StabilityBudget | None:
    product = session.get(Product, product_id)
    if product is None:
        return None
    bands = list(
        session.scalars(
            select(StabilityBand)
            .where(StabilityBand.product_id == product_id, StabilityBand.active.is_(True))
            .order_by(StabilityBand.id)
        )
    )
    if not bands:
        return None
    return StabilityBudget(
        _label(product), tuple(BudgetBand(b.name, b.low_c, b.high_c, b.allowed_h) for b in bands)
    )


@dataclass(frozen=True)
class LotBudget:
    lot_id: int
    lot_number: str
    excursions: tuple[str, ...]
    assessment: BudgetAssessment | None  # None: no budget entered for the product

    @property
    def exceeded(self) -> bool:
        return self.assessment is not None and bool(self.assessment.exhausted)

    def as_dict(self) -> dict[str, object]:
        bands = []
        if self.assessment is not None:
            bands = [
                {
                    "band": usage.band.name,
                    "allowed_h": usage.allowed_h,
                    "consumed_h": round(usage.consumed_h, 4),
                    "remaining_h": round(usage.remaining_h, 4),
                }
                for usage in self.assessment.bands
            ]
        return {
            "lot": self.lot_number,
            "excursions": list(self.excursions),
            "budget_entered": self.assessment is not None,
            "bands": bands,
            "unknown_h": round(self.assessment.unknown_h, 4) if self.assessment else None,
            "exceeded": self.exceeded,
        }


def lot_budget(session: Session, lot_id: int) -> LotBudget:
    """Consumed and remaining per band for the lot, over every excursion it was in."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id}")
    excursions = list(
        session.scalars(
            select(Excursion)
            .join(ExcursionLot, ExcursionLot.excursion_id == Excursion.id)
            .where(ExcursionLot.lot_id == lot_id)
            .order_by(Excursion.started_at)
        )
    )
    numbers = tuple(e.number for e in excursions)
    budget = budget_of(session, lot.product_id) if lot.product_id else None
    if budget is None:
        return LotBudget(lot.id, lot.lot_number, numbers, None)
    consumptions = []
    for excursion in excursions:
        profile = session.get(AlarmProfile, excursion.profile_id)
        assert profile is not None
        # The excursion's readings and the one back in range that ends it (holding nothing
        # against the budget): sample-and-hold gives each out-of-range reading its full hold.
        series = sensor_series(
            session,
            excursion.sensor_id,
            start=excursion.started_at,
            end=excursion.ended_at,
            interval=timedelta(minutes=profile.interval_min),
            shipment_id=excursion.shipment_id,
            location_id=excursion.location_id,
        )
        if series is not None:
            consumptions.append(consume(budget, series))
    return LotBudget(lot.id, lot.lot_number, numbers, assess_budget(budget, consumptions))


def _keep(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    bands: Sequence[stability_budget.BudgetBand],
    basis: str,
) -> None:
    set_stability_budget(
        session,
        actor=actor,
        product_code=product_code,
        bands=[(b.name, b.low_c, b.high_c, b.allowed_h) for b in bands],
        basis=basis,
    )


stability_budget.register_budget_keeper(_keep)
