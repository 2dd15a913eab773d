"""Reorder points from demand history, and replenishment proposals.

With daily demand of mean μ_d and standard deviation σ_d (from the shipments of the last
``history_days`` days, days without a shipment counted as zero demand), a replenishment lead
time of L days (standard deviation σ_L, 0 when it is reliable) and a cycle service level α
(the chance of not running out during a lead time), the reorder point is

    ROP = μ_d·L + z·σ_LTD,   σ_LTD = √(L·σ_d² + μ_d²·σ_L²),   z = Φ⁻¹(α)

which with a fixed lead time (σ_L = 0) is ROP = μ_d·L + z·σ_d·√L: the demand expected during
the lead time plus a safety stock of z standard deviations of that demand (95 % → z = 1.645).
Stock on hand at or below the ROP proposes a replenishment: up to the ROP plus one review
period of mean demand (an order-up-to level), so the proposal is not re-raised daily."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from pharmaqms.kernel.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class DemandStats:
    days: int
    total: float
    mean: float  # μ_d, packs per day
    sd: float  # σ_d, sample standard deviation of the daily demand


def demand_stats(daily: Sequence[float]) -> DemandStats:
    """μ_d and σ_d of a series of daily demands (every day of the window, zeros included)."""
    values = np.asarray(daily, dtype=float)
    if values.size == 0:
        return DemandStats(0, 0.0, 0.0, 0.0)
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return DemandStats(int(values.size), float(values.sum()), float(values.mean()), sd)


@dataclass(frozen=True, slots=True)
class ReorderPoint:
    z: float
    lead_time_demand: float  # μ_d·L
    sigma_ltd: float  # σ_LTD
    safety_stock: float  # z·σ_LTD
    rop: float


def reorder_point(
    mean: float, sd: float, lead_days: float, service_level: float, lead_sd_days: float = 0.0
) -> ReorderPoint:
    """ROP = μ_d·L + z·√(L·σ_d² + μ_d²·σ_L²); with σ_L = 0, μ_d·L + z·σ_d·√L."""
    if not 0.5 <= service_level < 1.0:
        raise InvalidInput(
            "the service level is a probability from 0.5 to below 1 (e.g. 0.95)",
            field="service_level",
        )
    if lead_days <= 0 or lead_sd_days < 0:
        raise InvalidInput("the lead time is more than 0 days", field="lead_days")
    z = float(norm.ppf(service_level))
    sigma = math.sqrt(lead_days * sd**2 + mean**2 * lead_sd_days**2)
    lead_time_demand = mean * lead_days
    return ReorderPoint(z, lead_time_demand, sigma, z * sigma, lead_time_demand + z * sigma)


@dataclass(frozen=True, slots=True)
class Replenishment:
    product_code: str
    product_name: str
    on_hand: float  # released stock: what can be sold
    demand: DemandStats
    point: ReorderPoint
    order_up_to: float
    proposed: float  # 0 when on hand is above the ROP

    @property
    def due(self) -> bool:
        return self.proposed > 0


def replenishment(
    product_code: str,
    product_name: str,
    on_hand: float,
    demand: DemandStats,
    point: ReorderPoint,
    review_days: float,
) -> Replenishment:
    order_up_to = point.rop + demand.mean * review_days
    due = demand.mean > 0 and on_hand <= point.rop
    proposed = math.ceil(max(order_up_to - on_hand, 0.0)) if due else 0
    return Replenishment(
        product_code, product_name, on_hand, demand, point, order_up_to, float(proposed)
    )
