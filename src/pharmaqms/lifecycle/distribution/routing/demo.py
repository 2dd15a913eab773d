"""A demo planning scenario: a depot, twelve pharmacies and clinics in four regions, two vans
with cool totes and a small reefer, shipments with budgets from plenty to almost spent."""

from __future__ import annotations

from typing import Any

from pharmaqms.lifecycle.distribution.routing.problem import Problem
from pharmaqms.lifecycle.distribution.routing.schemas import PlanIn

H = 60

# code, name, lat, lon, region, window (h), service min, demand, budget min outside range
SITES = (
    ("PH-01", "Pharmacie du Parc", 45.770, 4.850, "city", (8, 12), 10, 4, 120.0),
    ("PH-02", "Pharmacie Centrale", 45.748, 4.826, "city", (8, 18), 10, 3, 240.0),
    ("CL-03", "Clinique Saint-Jean", 45.790, 4.880, "city", (9, 13), 15, 6, 15.0),
    ("PH-04", "Pharmacie des Quais", 45.700, 4.800, "valley", (8, 17), 10, 2, 60.0),
    ("PH-05", "Pharmacie du Rhône", 45.520, 4.870, "valley", (9, 16), 10, 3, 30.0),
    ("HO-06", "Centre hospitalier Vienne", 45.525, 4.880, "valley", (8, 14), 20, 8, 0.0),
    ("PH-07", "Pharmacie des Monts", 45.600, 4.600, "hills", (8, 18), 10, 2, 180.0),
    ("PH-08", "Pharmacie du Col", 45.660, 4.520, "hills", (10, 18), 10, 2, 90.0),
    ("CL-09", "Clinique du Lac", 45.880, 5.050, "coast", (8, 16), 15, 5, 45.0),
    ("PH-10", "Pharmacie de la Plage", 45.900, 5.120, "coast", (9, 17), 10, 3, 240.0),
    ("PH-11", "Pharmacie du Port", 45.850, 5.000, "coast", (13, 18), 10, 2, 20.0),
    ("PH-12", "Pharmacie de la Gare", 45.760, 4.860, "city", (14, 18), 10, 3, 10.0),
)


def demo_request(season: str = "summer") -> dict[str, Any]:
    return {
        "depot": {
            "code": "DEPOT",
            "name": "Distribution centre Lyon-Est",
            "lat": 45.735,
            "lon": 4.950,
            "region": "city",
        },
        "vehicles": [
            {
                "code": "VAN-1",
                "capacity": 20,
                "departure": "07:00",
                "return_by": "20:00",
                "packaging": "cool tote",
            },
            {
                "code": "VAN-2",
                "capacity": 20,
                "departure": "07:00",
                "return_by": "20:00",
                "packaging": "cool tote",
            },
            {
                "code": "REEFER-1",
                "capacity": 10,
                "departure": "08:00",
                "return_by": "20:00",
                "packaging": "reefer",
            },
        ],
        "stops": [
            {
                "code": code,
                "name": name,
                "lat": lat,
                "lon": lon,
                "region": region,
                "window_start": f"{start:02d}:00",
                "window_end": f"{end:02d}:00",
                "service_min": service,
                "demand": demand,
                "shipments": [
                    {
                        "code": f"SH-{code}",
                        "product": "vaccine 2–8 °C",
                        "low_c": 2.0,
                        "high_c": 8.0,
                        "budget_min": budget,
                    }
                ],
            }
            for code, name, lat, lon, region, (start, end), service, demand, budget in SITES
        ],
        "season": season,
        "speed_kmh": 45.0,
        "time_limit_s": 2.0,
    }


def scenario(season: str = "summer", *, time_limit_s: float = 2.0) -> Problem:
    from pharmaqms.lifecycle.distribution.routing.service import problem_of

    body = PlanIn.model_validate({**demo_request(season), "time_limit_s": time_limit_s})
    return problem_of(body)


# The demo's delivery round from master data: the Leiden warehouse and the pharmacies and
# hospitals of the platform demo, named by location code (coordinates and ambient regions are
# their master data). code, window (h), service min, demand, budget min outside range
ROUND_DEPOT = "WH-LEIDEN"
ROUND = (
    ("PHARM-CENTRAL", (8, 12), 10, 4, 120.0),
    ("PHARM-HARBOUR", (9, 16), 10, 3, 45.0),
    ("PHARM-MARKET", (8, 17), 10, 3, 240.0),
    ("HOSP-GENERAL", (8, 13), 20, 8, 30.0),
    ("HOSP-CHILDREN", (9, 14), 15, 6, 15.0),
)


def round_request(season: str = "summer") -> dict[str, Any]:
    """A plan request naming master-data locations instead of coordinates."""
    return {
        "depot": {"location": ROUND_DEPOT},
        "vehicles": [
            {
                "code": "VAN-1",
                "capacity": 20,
                "departure": "07:30",
                "return_by": "18:00",
                "packaging": "cool tote",
            },
            {
                "code": "REEFER-1",
                "capacity": 10,
                "departure": "08:00",
                "return_by": "18:00",
                "packaging": "reefer",
            },
        ],
        "stops": [
            {
                "location": code,
                "window_start": f"{start:02d}:00",
                "window_end": f"{end:02d}:00",
                "service_min": service,
                "demand": demand,
                "shipments": [
                    {
                        "code": f"SH-{code}",
                        "product": "vaccine 2–8 °C",
                        "low_c": 2.0,
                        "high_c": 8.0,
                        "budget_min": budget,
                    }
                ],
            }
            for code, (start, end), service, demand, budget in ROUND
        ],
        "season": season,
        "speed_kmh": 40.0,
        "time_limit_s": 2.0,
    }
