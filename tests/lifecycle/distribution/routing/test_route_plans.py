"""Storing a plan: saved as a draft route plan keeping the request and the explained plan,
approved with an electronic signature; a wrong password changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.routing.demo import demo_request
from pharmaqms.lifecycle.distribution.routing.models import RoutePlan

BASE = "/api/v1/distribution/routes/plans"


def stored(db: Database) -> list[tuple[str, str, int]]:
    with unit_of_work(db, write=False) as s:
        return [(p.number, p.status, p.version) for p in s.scalars(select(RoutePlan))]


@pytest.mark.postgres
def test_a_plan_is_stored_as_a_draft_and_approved_with_a_signature(api: Any, db: Database) -> None:
    client = api("logistics")
    saved = client.post(BASE, json={"title": "Lyon east, Monday", "plan": demo_request("winter")})
    assert saved.status_code == 201, saved.text
    record = saved.json()
    assert record["status"] == "draft" and record["number"].startswith("RTE")
    assert record["stops_served"] + record["stops_dropped"] == len(demo_request()["stops"])
    assert record["result"]["plan"]["totals"]["over_budget"] == []
    before = stored(db)
    refused = client.post(f"{BASE}/{record['id']}/approve", json={"password": "wrong-password"})
    assert refused.status_code in (401, 403, 422), refused.text
    assert stored(db) == before
    approved = client.post(f"{BASE}/{record['id']}/approve", json={"password": PASSWORD})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["result"] == record["result"]  # what was shown is what is signed
    again = api("qa").get(f"{BASE}/{record['id']}")
    assert again.status_code == 200 and again.json()["status"] == "approved"


def test_a_plan_without_a_title_is_refused_and_nothing_is_stored(api: Any, db: Database) -> None:
    response = api("logistics").post(BASE, json={"title": " ", "plan": demo_request()})
    assert response.status_code == 422 and response.json()["field"] == "title"
    assert stored(db) == []


def test_a_plan_is_saved_and_signed_on_its_pages(app: Any, db: Database) -> None:
    client = UiClient(app)
    assert client.login("logistics").status_code == 303
    planned = client.post(
        "/distribution/routes", {"season": "summer"}, referer="/distribution/routes"
    )
    assert 'id="save-plan"' in planned.text
    saved = client.post(
        "/distribution/routes/plans",
        {"request_json": json.dumps(demo_request("summer")), "title": "Monday"},
        referer="/distribution/routes",
    )
    assert saved.status_code == 303, saved.text
    page = client.follow(saved)
    assert page.status_code == 200 and 'class="route-map"' in page.text
    url = saved.headers["location"]
    signed = client.post(f"{url}/approve", {"password": PASSWORD}, referer=url)
    assert signed.status_code == 303, signed.text
    assert [s for _, s, _ in stored(db)] == ["approved"]


def test_a_draft_is_cancelled_with_a_reason_and_not_without(db: Database, people: Any) -> None:
    from pharmaqms.kernel.errors import QMSError
    from pharmaqms.lifecycle.distribution.routing import service
    from pharmaqms.lifecycle.distribution.routing.schemas import PlanIn

    body = PlanIn.model_validate({**demo_request("summer"), "stops": demo_request()["stops"][:3]})
    with unit_of_work(db) as session:
        plan_id = service.save_plan(session, actor=people.logistics, body=body, title="Tue").id
    before = stored(db)
    with pytest.raises(QMSError), unit_of_work(db) as session:
        service.cancel_plan(session, actor=people.logistics, plan_id=plan_id, reason=" ")
    assert stored(db) == before
    with unit_of_work(db) as session:
        service.cancel_plan(session, actor=people.logistics, plan_id=plan_id, reason="rain")
    assert [s for _, s, _ in stored(db)] == ["cancelled"]
