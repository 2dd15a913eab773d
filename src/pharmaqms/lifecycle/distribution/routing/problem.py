"""The routing problem as plain, validated values (no database, no web).

Times are whole minutes after midnight of the planning day (a route may run past midnight up
to :data:`HORIZON_MIN`); distances are metres. The packaging belongs to the vehicle: a van's
passive shippers or an active reefer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pharmaqms.kernel.errors import InvalidInput

HORIZON_MIN = 2 * 24 * 60  # two days: a late route may end after midnight
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    lat: float
    lon: float
    region: str

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise InvalidInput(f"{self.code}: coordinates out of range", field="lat")


def haversine_m(a: Place, b: Place) -> float:
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlmb = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Packaging:
    """How long the packaging keeps its load inside the labelled range at a given ambient.

    ``hold_h`` lists (ambient °C, hours) points from the shipper's qualification, ascending in
    ambient; between points the hold time is interpolated linearly. Outside the qualified
    ambients the shipper is not relied upon at all (hold 0: the load is exposed at once) — the
    conservative reading of a qualification report. ``active`` is a reefer: it keeps the range
    whatever the ambient, so nothing it carries is exposed."""

    name: str
    active: bool = False
    hold_h: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.active and not self.hold_h:
            raise InvalidInput(f"packaging {self.name}: give its hold times", field="hold_h")
        ambients = [a for a, _ in self.hold_h]
        if ambients != sorted(ambients) or len(set(ambients)) != len(ambients):
            raise InvalidInput(
                f"packaging {self.name}: hold points must ascend in ambient", field="hold_h"
            )
        if any(not (h >= 0 and math.isfinite(h)) for _, h in self.hold_h):
            raise InvalidInput(f"packaging {self.name}: hold hours ≥ 0", field="hold_h")


@dataclass(frozen=True, slots=True)
class Vehicle:
    code: str
    capacity: int
    departure_min: int
    packaging: Packaging
    return_by_min: int = HORIZON_MIN

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise InvalidInput(f"vehicle {self.code}: capacity ≥ 0", field="capacity")
        if not 0 <= self.departure_min < self.return_by_min <= HORIZON_MIN:
            raise InvalidInput(
                f"vehicle {self.code}: departure before its return-by time", field="departure"
            )


@dataclass(frozen=True, slots=True)
class Shipment:
    """A shipment and what is left of its product's stability budget (§2): minutes outside the
    labelled range and, where the stability data give one, degree-minutes beyond it."""

    code: str
    product: str
    low_c: float | None
    high_c: float | None
    budget_min: float
    budget_degree_min: float | None = None

    def __post_init__(self) -> None:
        if self.low_c is not None and self.high_c is not None and self.low_c > self.high_c:
            raise InvalidInput(f"shipment {self.code}: range upside down", field="low_c")
        if not self.budget_min >= 0:
            raise InvalidInput(f"shipment {self.code}: budget ≥ 0", field="budget_min")
        if self.budget_degree_min is not None and not self.budget_degree_min >= 0:
            raise InvalidInput(f"shipment {self.code}: budget ≥ 0", field="budget_degree_min")


@dataclass(frozen=True, slots=True)
class Stop:
    place: Place
    window_start_min: int
    window_end_min: int
    service_min: int
    demand: int
    shipments: tuple[Shipment, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.window_start_min <= self.window_end_min <= HORIZON_MIN:
            raise InvalidInput(f"stop {self.place.code}: window end before start", field="window")
        if self.demand < 0 or self.service_min < 0:
            raise InvalidInput(f"stop {self.place.code}: demand and service ≥ 0", field="demand")


@dataclass(frozen=True, slots=True)
class AmbientTable:
    """Region × hour of day → ambient °C (24 values a region), repeated over the horizon."""

    name: str
    hourly_c: dict[str, tuple[float, ...]]

    def __post_init__(self) -> None:
        for region, values in self.hourly_c.items():
            if len(values) != 24 or not all(math.isfinite(v) for v in values):
                raise InvalidInput(f"ambient of {region}: 24 finite values", field="ambient")

    def at(self, region: str, minute: int) -> float:
        return self.hourly_c[region][(minute // 60) % 24]


@dataclass(frozen=True, slots=True)
class Problem:
    depot: Place
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    ambient: AmbientTable
    speed_kmh: float = 50.0
    # Cost of one shipment-minute outside its range, in metres of driving: how far the planner
    # would drive to save a minute of exposure (the trade-off the page shows).
    thermal_weight_m_per_min: int = 2000
    time_limit_s: float = 2.0
    # A road network's matrices (node 0 the depot, then the stops), instead of haversine and
    # the average speed: metres and minutes.
    distance_matrix_m: tuple[tuple[int, ...], ...] | None = None
    travel_matrix_min: tuple[tuple[int, ...], ...] | None = None
    regions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.vehicles:
            raise InvalidInput("at least one vehicle", field="vehicles")
        if not (self.speed_kmh > 0 and math.isfinite(self.speed_kmh)):
            raise InvalidInput("average speed > 0", field="speed_kmh")
        codes = [s.place.code for s in self.stops]
        if len(set(codes)) != len(codes):
            raise InvalidInput("stop codes must differ", field="stops")
        used = {self.depot.region, *(s.place.region for s in self.stops)}
        missing = sorted(used - set(self.ambient.hourly_c))
        if missing:
            raise InvalidInput(f"no ambient profile for region(s) {missing}", field="ambient")
        object.__setattr__(self, "regions", tuple(sorted(used)))
        size = len(self.stops) + 1
        for name in ("distance_matrix_m", "travel_matrix_min"):
            matrix = getattr(self, name)
            if matrix is not None and (
                len(matrix) != size
                or any(len(row) != size or any(v < 0 for v in row) for row in matrix)
            ):
                raise InvalidInput(
                    f"{name}: {size} rows of {size} values ≥ 0 (the depot, then each stop)",
                    field=name,
                )

    @property
    def places(self) -> tuple[Place, ...]:
        """Node 0 is the depot, node i the stop i − 1."""
        return (self.depot, *(s.place for s in self.stops))

    def distance_m(self) -> list[list[int]]:
        if self.distance_matrix_m is not None:
            return [list(row) for row in self.distance_matrix_m]
        places = self.places
        return [[round(haversine_m(a, b)) for b in places] for a in places]

    def travel_min(self, distances: list[list[int]]) -> list[list[int]]:
        if self.travel_matrix_min is not None:
            return [list(row) for row in self.travel_matrix_min]
        per_min = self.speed_kmh * 1000.0 / 60.0
        return [[math.ceil(d / per_min) for d in row] for row in distances]
