"""Stops named by their master-data location: the planner reads the location's coordinates and
ambient region (the plan keeps what it used); a location without coordinates, an unknown one or
a request giving both a location and coordinates is refused, naming it, and nothing is planned
or stored. The page's example is the demo round from master data once the demo's locations
have their positions."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.web.conftest import UiClient

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.routing.demo import ROUND, ROUND_DEPOT, round_request
from pharmaqms.lifecycle.distribution.routing.models import RoutePlan
from pharmaqms.platform.demo import POSITIONS

URL = "/api/v1/distribution/routes/plan"
SAVE = "/api/v1/distribution/routes/plans"


def written(db: Database) -> tuple[int, int]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(s.scalar(select(func.count()).select_from(RoutePlan)) or 0),
        )


def add_round(qa: Any, *, without: str = "") -> None:
    """The demo round's locations, with their demo positions (``without``: one left bare)."""
    for n, code in enumerate([ROUND_DEPOT, *(row[0] for row in ROUND)]):
        lat, lon, region = POSITIONS[code]
        body: dict[str, Any] = {"code": code, "name": f"Place {code}", "kind": "pharmacy"}
        if code != without:
            body |= {"latitude": lat, "longitude": lon, "region": region}
        body["gln"] = None if n else "4012345000009"  # the depot also by its GLN
        made = qa.post("/api/v1/data/locations", json=body)
        assert made.status_code == 201, made.text


def fast(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "time_limit_s": 0.5}


def test_stops_by_location_are_planned_at_their_master_data_coordinates(
    api: Any, db: Database
) -> None:
    add_round(api("qa"))
    body = fast(round_request("summer"))
    body["depot"] = {"location": "4012345000009"}  # by GLN
    answer = api("logistics").post(URL, json=body)
    assert answer.status_code == 200, answer.text
    places = {p["code"]: p for p in answer.json()["places"]}
    assert set(places) == {ROUND_DEPOT, *(row[0] for row in ROUND)}
    for code, place in places.items():
        assert (place["lat"], place["lon"], place["region"]) == POSITIONS[code]
    assert places[ROUND_DEPOT]["name"] == f"Place {ROUND_DEPOT}"
    plan = answer.json()["plan"]
    served = {s["stop"] for r in plan["routes"] for s in r["stops"]}
    assert served | {d["stop"] for d in plan["dropped"]} == {row[0] for row in ROUND}
    assert plan["totals"]["over_budget"] == []


def test_a_location_without_coordinates_is_refused_naming_it_and_nothing_is_planned(
    api: Any, db: Database
) -> None:
    add_round(api("qa"), without="PHARM-MARKET")
    logistics = api("logistics")
    before = written(db)
    body = fast(round_request())
    refused = logistics.post(URL, json=body)
    assert refused.status_code == 422, refused.text
    index = [s["location"] for s in body["stops"]].index("PHARM-MARKET")
    assert refused.json()["field"] == f"stops.{index}.location"
    assert "PHARM-MARKET" in refused.json()["detail"]
    assert "no coordinates" in refused.json()["detail"]
    not_saved = logistics.post(SAVE, json={"title": "Monday", "plan": body})
    assert not_saved.status_code == 422
    assert written(db) == before


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda b: b["stops"][1].update(location="NOWHERE"), "stops.1.location", "no location"),
        (lambda b: b["depot"].update(location="#99999"), "depot.location", "no location"),
    ],
)
def test_an_unknown_location_is_refused_and_nothing_changes(
    api: Any, db: Database, change: Any, field: str, words: str
) -> None:
    add_round(api("qa"))
    logistics = api("logistics")
    before = written(db)
    body = fast(round_request())
    change(body)
    refused = logistics.post(URL, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field and words in refused.json()["detail"]
    assert written(db) == before


def test_a_location_and_coordinates_together_are_refused(api: Any, db: Database) -> None:
    logistics = api("logistics")
    before = written(db)
    body = fast(round_request())
    body["stops"][0] |= {"lat": 52.0, "lon": 4.0}
    refused = logistics.post(URL, json=body)
    assert refused.status_code == 422, refused.text
    assert "not both" in refused.text
    body["stops"][0] = {"code": "X", "lat": 52.0}  # neither a location nor a whole place
    assert logistics.post(URL, json=body).status_code == 422
    assert written(db) == before


def test_the_page_plans_the_demo_round_from_master_data(api: Any, app: Any, db: Database) -> None:
    client = UiClient(app)
    assert client.login("logistics").status_code == 303
    # Without the demo's locations: the self-contained example with coordinates.
    assert '"lat": 45.7' in html.unescape(client.get("/distribution/routes").text)
    add_round(api("qa"))
    page = html.unescape(client.get("/distribution/routes").text)
    assert f'"location": "{ROUND_DEPOT}"' in page and '"lat"' not in page
    planned = client.post(
        "/distribution/routes", {"season": "winter"}, referer="/distribution/routes"
    )
    assert planned.status_code == 200, planned.text
    assert 'class="route-map"' in planned.text and "HOSP-CHILDREN" in planned.text


def test_the_demo_round_names_positioned_demo_locations() -> None:
    codes = [ROUND_DEPOT, *(row[0] for row in ROUND)]
    assert all(code in POSITIONS for code in codes)
    body = round_request()
    assert json.dumps(body).count('"location"') == len(codes)
