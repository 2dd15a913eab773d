"""The reorder point on hand-computed cases: ROP = μ_d·L + z·σ_d·√L (fixed lead time), with
z = Φ⁻¹(service level); lead-time variability adds μ_d²·σ_L² under the root."""

from __future__ import annotations

import math

import pytest

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.inventory.reorder import (
    demand_stats,
    reorder_point,
    replenishment,
)


def test_rop_with_a_fixed_lead_time() -> None:
    # μ_d = 10/day, σ_d = 3, L = 4 days, 95 %: z = 1.644854, σ_LTD = 3·√4 = 6.
    point = reorder_point(10.0, 3.0, 4.0, 0.95)
    assert point.z == pytest.approx(1.644854, abs=1e-6)
    assert point.lead_time_demand == 40.0
    assert point.sigma_ltd == pytest.approx(6.0)
    assert point.rop == pytest.approx(40.0 + 1.644854 * 6.0, abs=1e-5)  # 49.869


def test_rop_with_a_variable_lead_time() -> None:
    # σ_LTD = √(4·9 + 100·1) = √136.
    point = reorder_point(10.0, 3.0, 4.0, 0.95, lead_sd_days=1.0)
    assert point.sigma_ltd == pytest.approx(math.sqrt(136.0))


def test_daily_demand_statistics_count_days_without_demand() -> None:
    stats = demand_stats([8.0, 12.0, 10.0, 10.0, 0.0])
    assert stats.mean == 8.0
    # sample variance: (0 + 16 + 4 + 4 + 64) / 4 = 22
    assert stats.sd == pytest.approx(math.sqrt(22.0))


def test_a_replenishment_is_proposed_at_or_below_the_rop_up_to_the_order_level() -> None:
    stats = demand_stats([10.0] * 10)  # σ_d = 0: ROP = 10 · 4 = 40
    point = reorder_point(stats.mean, stats.sd, 4.0, 0.95)
    due = replenishment("P", "Product", 40.0, stats, point, review_days=7.0)
    assert due.due and due.order_up_to == 110.0 and due.proposed == 70.0
    fine = replenishment("P", "Product", 41.0, stats, point, review_days=7.0)
    assert not fine.due and fine.proposed == 0.0


@pytest.mark.parametrize(("level", "lead"), [(0.4, 4.0), (1.0, 4.0), (0.95, 0.0)])
def test_nonsense_parameters_are_refused(level: float, lead: float) -> None:
    with pytest.raises(InvalidInput):
        reorder_point(1.0, 1.0, lead, level)
