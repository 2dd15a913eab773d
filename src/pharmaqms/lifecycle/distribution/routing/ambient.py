"""Seed ambient profiles and packagings for planning, replaceable by the planner's own.

The profiles are a daily cycle (coolest at 05:00, warmest at 15:00) between a region's typical
low and high for a hot summer day and a cold winter day — enough to show the trade-off; a site
enters its own table (region × hour → °C) in the plan request."""

from __future__ import annotations

import math

from pharmaqms.lifecycle.distribution.routing.problem import AmbientTable, Packaging

# region: (summer low, summer high, winter low, winter high) in °C
REGIONS: dict[str, tuple[float, float, float, float]] = {
    "city": (22.0, 35.0, -1.0, 6.0),  # a heat island: warm nights in summer
    "valley": (19.0, 37.0, -4.0, 7.0),  # hot afternoons, frosty mornings
    "coast": (21.0, 29.0, 5.0, 12.0),  # the sea damps both
    "hills": (13.0, 27.0, -9.0, 1.0),  # cooler, freezing in winter
}


def diurnal(low: float, high: float) -> tuple[float, ...]:
    """24 hourly values: low at 05:00, high at 15:00, a cosine between them."""
    values = []
    for hour in range(24):
        # Warming over the 10 h from 05:00, cooling over the 14 h after 15:00.
        phase = (hour - 5) / 10.0 if 5 <= hour <= 15 else 1.0 - ((hour - 15) % 24) / 14.0
        values.append(round(low + (high - low) * (1 - math.cos(math.pi * phase)) / 2, 1))
    return tuple(values)


def seasonal(season: str) -> AmbientTable:
    """``summer`` or ``winter`` day for the seed regions."""
    offset = {"summer": 0, "winter": 2}[season]
    return AmbientTable(
        season,
        {r: diurnal(v[offset], v[offset + 1]) for r, v in REGIONS.items()},
    )


PACKAGINGS: dict[str, Packaging] = {
    # A last-mile insulated tote with cool packs: hours, not days.
    "cool tote": Packaging(
        "cool tote", hold_h=((-15.0, 1.5), (0.0, 4.0), (20.0, 10.0), (30.0, 2.5), (40.0, 1.0))
    ),
    # A qualified PUR shipper (48 h summer profile).
    "PUR shipper": Packaging(
        "PUR shipper",
        hold_h=((-20.0, 30.0), (0.0, 60.0), (22.0, 96.0), (30.0, 48.0), (43.0, 24.0)),
    ),
    "reefer": Packaging("reefer", active=True),
}
