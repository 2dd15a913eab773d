"""The plan request: validated field by field, so a bad coordinate, a window that ends before it
starts or a negative demand is a 422 naming the field (``stops.3.window_end``)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from pharmaqms.kernel.schemas import Strict

Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:30"])]
Code = Annotated[str, Field(min_length=1, max_length=60)]
Region = Annotated[str, Field(min_length=1, max_length=40)]
Celsius = Annotated[float, Field(ge=-80, le=80)]


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


class PlaceIn(Strict):
    """A place by its master-data location (code, GLN or id: its coordinates and ambient
    region are read from the location) or, as before, by explicit coordinates and region."""

    location: str | None = Field(default=None, min_length=1, max_length=60)
    code: Code | None = None
    name: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    region: Region | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        given = [n for n in ("lat", "lon", "region") if getattr(self, n) is not None]
        if self.location is not None:
            if given:
                raise ValueError(
                    f"give the location or {', '.join(given)}, not both: a location's "
                    "coordinates and region are its master data"
                )
        elif len(given) < 3 or self.code is None:
            raise ValueError("give a location (code, GLN or id), or code, lat, lon and region")
        return self


class PackagingIn(Strict):
    name: str = Field(min_length=1, max_length=60)
    active: bool = False
    # (ambient °C, hours the load stays in range), ascending in ambient
    hold_h: list[tuple[Celsius, Annotated[float, Field(ge=0, le=10_000)]]] = Field(
        default_factory=list, max_length=20
    )


class VehicleIn(Strict):
    code: Code
    capacity: int = Field(ge=0, le=1_000_000)
    departure: Clock
    return_by: Clock = "23:59"
    packaging: Annotated[str, Field(min_length=1, max_length=60)] | PackagingIn = "cool tote"

    @field_validator("return_by")
    @classmethod
    def _after_departure(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("departure")
        if start is not None and minutes(value) <= minutes(start):
            raise ValueError("return_by must be after the departure")
        return value


class ShipmentIn(Strict):
    code: Code
    product: str = Field(default="", max_length=200)
    low_c: Celsius | None = None
    high_c: Celsius | None = None
    # Minutes outside the range still allowed; left out: taken from the shipment's lots'
    # stability budgets (§2) when the code names a registered shipment.
    budget_min: float | None = Field(default=None, ge=0, le=1_000_000)
    budget_degree_min: float | None = Field(default=None, ge=0, le=100_000_000)

    @field_validator("high_c")
    @classmethod
    def _range(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("low_c")
        if value is not None and low is not None and value < low:
            raise ValueError("high_c must not be below low_c")
        return value


class StopIn(PlaceIn):
    window_start: Clock = "00:00"
    window_end: Clock = "23:59"
    service_min: int = Field(default=10, ge=0, le=720)
    demand: int = Field(default=1, ge=0, le=1_000_000)
    shipments: list[ShipmentIn] = Field(default_factory=list, max_length=50)

    @field_validator("window_end")
    @classmethod
    def _window(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("window_start")
        if start is not None and minutes(value) < minutes(start):
            raise ValueError("window_end must not be before window_start")
        return value


class PlanIn(Strict):
    depot: PlaceIn
    vehicles: list[VehicleIn] = Field(min_length=1, max_length=50)
    stops: list[StopIn] = Field(min_length=1, max_length=300)
    season: Literal["summer", "winter"] = "summer"
    # Region → 24 hourly °C; adds to (or replaces regions of) the season's seed table.
    ambient: dict[Region, list[Celsius]] = Field(default_factory=dict, max_length=50)
    speed_kmh: float = Field(default=50.0, gt=0, le=150)
    thermal_weight_m_per_min: int = Field(default=2000, ge=0, le=1_000_000)
    time_limit_s: float = Field(default=2.0, gt=0, le=10)
    # Optional road-network matrices (depot first, then the stops in order): metres, minutes.
    distance_matrix_m: list[list[Annotated[int, Field(ge=0, le=10_000_000)]]] | None = Field(
        default=None, max_length=301
    )
    travel_matrix_min: list[list[Annotated[int, Field(ge=0, le=2880)]]] | None = Field(
        default=None, max_length=301
    )

    @field_validator("ambient")
    @classmethod
    def _hours(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for region, hourly in value.items():
            if len(hourly) != 24 or not all(math.isfinite(v) for v in hourly):
                raise ValueError(f"region {region}: give 24 hourly values")
        return value


class SavePlanIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    plan: PlanIn


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)


class RoutePlanOut(BaseModel):
    id: int
    number: str
    title: str
    status: str
    version: int
    km: float
    stops_served: int
    stops_dropped: int
    exposure_min: float
    result: dict[str, Any]
