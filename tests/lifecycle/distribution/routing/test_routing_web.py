"""The plan API and page: a plan with its explanation and map, the 422 refusals naming the
field (and nothing written), the permission, a shipment's budget taken from its lots, and the
page with the map-like SVG."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.web.conftest import UiClient

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.routing.demo import demo_request

URL = "/api/v1/distribution/routes/plan"


def audit_count(db: Database) -> int:
    with unit_of_work(db, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def request_body(**changes: Any) -> dict[str, Any]:
    body = demo_request("summer")
    body["time_limit_s"] = 0.5
    body.update(changes)
    return body


def test_a_plan_comes_back_explained_with_its_map(api: Any, db: Database) -> None:
    client = api("logistics")  # logging in is audited; planning is not
    before = audit_count(db)
    response = client.post(URL, json=request_body())
    assert response.status_code == 200, response.text
    answer = response.json()
    plan = answer["plan"]
    assert plan["routes"] and plan["totals"]["over_budget"] == []
    served = {s["stop"] for r in plan["routes"] for s in r["stops"]}
    dropped = {d["stop"] for d in plan["dropped"]}
    assert served | dropped == {s["code"] for s in request_body()["stops"]}
    assert all(d["reasons"] for d in plan["dropped"])
    assert answer["shortest"]["thermal"] is False and "why" in answer["comparison"]
    assert answer["map_svg"].startswith("<svg") and "polyline" in answer["map_svg"]
    assert audit_count(db) == before  # planning writes nothing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["depot"].update(lat=95.0), "depot.lat"),
        (lambda b: b["stops"][1].update(lon=-181.0), "stops.1.lon"),
        (
            lambda b: b["stops"][0].update(window_start="14:00", window_end="09:00"),
            "stops.0.window_end",
        ),
        (lambda b: b["stops"][2].update(demand=-1), "stops.2.demand"),
        (lambda b: b["vehicles"][0].update(departure="25:00"), "vehicles.0.departure"),
        (
            lambda b: b["stops"][0]["shipments"][0].update(budget_min=-5),
            "stops.0.shipments.0.budget_min",
        ),
        (lambda b: b["vehicles"][0].update(packaging="ice cream van"), "vehicles.0.packaging"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    api: Any, db: Database, change: Any, field: str
) -> None:
    body = copy.deepcopy(request_body())
    change(body)
    client = api("logistics")
    before = audit_count(db)
    response = client.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert audit_count(db) == before


def test_a_shipment_without_a_budget_needs_a_registered_shipment(api: Any) -> None:
    body = request_body()
    del body["stops"][0]["shipments"][0]["budget_min"]
    response = api("qa").post(URL, json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "stops.0.shipments.0.budget_min"
    assert "not a registered shipment" in response.json()["detail"]


def test_planning_needs_the_routing_permission(api: Any) -> None:
    assert api("operator").post(URL, json=request_body()).status_code == 403


def test_the_page_plans_the_demo_and_draws_the_map(app: Any) -> None:
    client = UiClient(app)
    assert client.login("logistics").status_code == 303
    page = client.get("/distribution/routes")
    assert page.status_code == 200 and 'name="request_json"' in page.text
    planned = client.post(
        "/distribution/routes", {"season": "winter"}, referer="/distribution/routes"
    )
    assert planned.status_code == 200, planned.text
    text = planned.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="route-map"' in text
    assert text.count('class="depot"') == 1
    assert text.count("<polyline") == text.count('<h3 data-vehicle="')
    assert 'id="plan-why"' in text and 'data-plan="shortest"' in text
    refused = client.post(
        "/distribution/routes", {"request_json": '{"depot": {}}'}, referer="/distribution/routes"
    )
    assert refused.status_code == 422 and 'id="plan-errors"' in refused.text
