"""Where a location is: coordinates (both or neither, within −90..90 and −180..180) and the
region of its ambient profile, set through the master data service, API and page, audited with
the reason; every refusal names the field and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.web.conftest import UiClient

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata.models import Location

PLACE = {"code": "PH-ADLER", "name": "Adler Pharmacy", "kind": "pharmacy", "gln": "4012345000009"}
URL = "/api/v1/data/locations/{}/position"


def put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.client.put(url, headers=client.headers, json=body)


def state(db: Database) -> tuple[Any, ...]:
    with unit_of_work(db, write=False) as s:
        rows = s.execute(
            select(Location.code, Location.latitude, Location.longitude, Location.region,
                   Location.version).order_by(Location.code)
        ).all()  # fmt: skip
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
        return tuple(tuple(r) for r in rows), audits


def test_a_location_is_created_with_its_position_and_moved_with_a_reason(
    db: Database, api: Any
) -> None:
    qa = api("qa")
    made = qa.post(
        "/api/v1/data/locations",
        json={**PLACE, "latitude": 52.16, "longitude": 4.49, "region": " city "},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["latitude"], made.json()["longitude"]) == (52.16, 4.49)
    assert made.json()["region"] == "city"
    # By GLN, by code and by id: the same location.
    moved = put(
        qa,
        URL.format("4012345000009"),
        {"latitude": 52.2032, "longitude": 4.4012, "region": "coast", "reason": "moved"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] == 2 and moved.json()["region"] == "coast"
    cleared = put(qa, URL.format(str(made.json()["id"])), {"reason": "closed for works"})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["latitude"] is None and cleared.json()["region"] is None
    with unit_of_work(db, write=False) as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_type == "location", AuditEntry.action == "update")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.reason for e in entries] == ["moved", "closed for works"]
        assert "52.2032" in entries[0].changes and "coast" in entries[0].changes
    listed = qa.get("/api/v1/data/locations", params={"region": "coast"})
    assert listed.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 91.0, "longitude": 4.0, "region": "city", "reason": "r"}, "latitude"),
        ({"latitude": -90.5, "longitude": 4.0, "reason": "r"}, "latitude"),
        ({"latitude": 52.0, "longitude": 180.01, "reason": "r"}, "longitude"),
        ({"latitude": 52.0, "longitude": -181, "reason": "r"}, "longitude"),
        ({"latitude": 52.0, "reason": "r"}, "longitude"),  # both or neither
        ({"longitude": 4.0, "reason": "r"}, "latitude"),
        ({"latitude": 52.0, "longitude": 4.0, "reason": " "}, "reason"),
        ({"latitude": 52.0, "longitude": 4.0, "region": "x" * 41, "reason": "r"}, "region"),
    ],
)
def test_a_bad_position_is_refused_naming_the_field_and_nothing_changes(
    db: Database, api: Any, body: dict[str, Any], field: str
) -> None:
    qa = api("qa")
    assert qa.post("/api/v1/data/locations", json=PLACE).status_code == 201
    before = state(db)
    refused = put(qa, URL.format("PH-ADLER"), body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"].split(".")[-1] == field
    assert state(db) == before


def test_half_a_position_is_refused_at_creation_too(db: Database, api: Any) -> None:
    qa = api("qa")  # logging in is audited
    before = state(db)
    refused = qa.post("/api/v1/data/locations", json={**PLACE, "latitude": 52.0})
    assert refused.status_code == 422 and refused.json()["field"] == "longitude"
    assert state(db) == before


def test_only_master_data_owners_move_a_location_and_an_unknown_one_is_404(
    db: Database, api: Any
) -> None:
    qa, operator = api("qa"), api("operator")
    assert qa.post("/api/v1/data/locations", json=PLACE).status_code == 201
    before = state(db)
    body = {"latitude": 1.0, "longitude": 1.0, "reason": "r"}
    assert put(operator, URL.format("PH-ADLER"), body).status_code == 403
    assert put(qa, URL.format("NOWHERE"), body).status_code == 404
    assert state(db) == before


def test_the_location_page_shows_and_edits_the_position(db: Database, app: Any, api: Any) -> None:
    assert api("qa").post("/api/v1/data/locations", json=PLACE).status_code == 201
    client = UiClient(app)
    assert client.login("qa").status_code == 303
    page = client.get("/data/locations/PH-ADLER")
    assert page.status_code == 200 and "route planning can" in page.text
    saved = client.post(
        "/data/locations/PH-ADLER/position",
        {"latitude": "52,1601", "longitude": "4.4936", "region": "city", "reason": "surveyed"},
        referer="/data/locations/PH-ADLER",
    )
    assert saved.status_code == 303, saved.text
    page = client.get("/data/locations/PH-ADLER")
    assert "52.16010, 4.49360" in page.text and 'data-field="region">city' in page.text
    before = state(db)
    refused = client.post(
        "/data/locations/PH-ADLER/position",
        {"latitude": "north", "longitude": "4", "reason": "r"},
        referer="/data/locations/PH-ADLER",
    )
    assert refused.status_code in (303, 422)
    assert state(db) == before
