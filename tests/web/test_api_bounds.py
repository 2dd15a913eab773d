"""Regressions of the API's server errors found by fuzzing (issue 9 §5): numbers past what a
database holds in paths, paging and bodies; a file name a header can't carry; and the OpenAPI
document that says how to authenticate and how each route refuses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.lifecycle.production.setup import PRODUCT, add_batch, seed_master_data

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.downloads import content_disposition
from pharmaqms.kernel.http.params import MAX_ID
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work

PROBLEM = "application/problem+json"


def audit_count(db: Database) -> int:
    with unit_of_work(db, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/production/batch-records/21095114262054441058304", "record_id"),
        (f"/api/v1/deviations/{MAX_ID + 1}", "deviation_id"),
        (f"/api/v1/deviations/{2**63}", "deviation_id"),
        ("/api/v1/deviations/0", "deviation_id"),
        ("/api/v1/data/lots?offset=876611160725553507324657664", "offset"),
        ("/api/v1/deviations?offset=-1", "offset"),
        (f"/api/v1/deviations?investigator_id={2**64}", "investigator_id"),
        (f"/api/v1/quality-links?record_type=deviation&record_id={2**70}", "record_id"),
    ],
)
def test_a_number_past_what_a_database_holds_is_a_422_naming_the_parameter(
    api: Any, url: str, field: str
) -> None:
    response = api("qa").get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == field


def test_one_value_parameter_given_twice_is_refused_not_silently_narrowed(api: Any) -> None:
    response = api("qa").get("/api/v1/production/nonconformances?status=open&status=closed")
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "status"
    assert api("qa").get("/api/v1/production/nonconformances?status=open").status_code == 200
    # A parameter that takes a list still takes it.
    listed = api("qa").get("/api/v1/periodic-reviews/schedule?state=due&state=overdue")
    assert listed.status_code == 200, listed.text


@pytest.mark.postgres
@pytest.mark.parametrize(
    "url",
    [
        # Times with no UTC instant a database column can hold: year 1 at +14:00 is in year 0.
        "/api/v1/audit?until=0001-01-01T00:00:00%2B14:00",
        "/api/v1/audit?since=9999-12-31T23:59:59-01:00",
        "/api/v1/data/test-results?tested_at_from=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_a_time_with_no_utc_instant_is_a_422_not_a_server_error(api: Any, url: str) -> None:
    response = api("admin").get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "out of range" in response.json()["detail"]


def test_a_query_parameter_the_route_does_not_take_is_refused_not_ignored(api: Any) -> None:
    # A misspelt filter would otherwise answer the whole register as if it were filtered.
    response = api("qa").get("/api/v1/deviations?stauts=open")
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "stauts"
    assert "status" in response.json()["detail"]  # what the route does take
    # The data platform's filters are read by its handler, and documented: still taken.
    assert api("qa").get("/api/v1/data/lots?lot_number=PB26-001").status_code == 200
    refused = api("qa").get("/api/v1/data/lots?lot_numbr=PB26-001")
    assert refused.status_code == 422, refused.text


@pytest.mark.postgres
def test_the_largest_id_a_database_holds_is_simply_not_found(api: Any) -> None:
    response = api("qa").get(f"/api/v1/deviations/{MAX_ID}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.postgres
def test_a_body_number_too_large_for_its_column_is_a_422_and_changes_nothing(
    db: Database, api: Any
) -> None:
    # A body field no schema bounds (the investigator named at classification): the database
    # refuses to look it up, and the unit of work answers 422 instead of a server error.
    qa = api("qa")
    created = qa.post(
        "/api/v1/deviations",
        json={
            "title": "Label roll jammed",
            "description": "Line 2 labeller stopped.",
            "area": "Packaging",
            "occurred_at": "2026-03-01T08:00:00Z",
            "discovered_at": "2026-03-01T08:05:00Z",
        },
    )
    assert created.status_code == 201, created.text
    deviation = created.json()
    before = audit_count(db)
    response = qa.post(
        f"/api/v1/deviations/{deviation['id']}/classification",
        json={
            "classification": "minor",
            "severity": 1,
            "probability": 1,
            "detectability": 1,
            "severity_basis": "no product contact",
            "probability_basis": "first time",
            "detectability_basis": "seen at once",
            "investigator_id": 2**70,
            "expected_version": deviation["version"],
        },
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "out of range" in response.json()["detail"]
    assert audit_count(db) == before
    assert qa.get(f"/api/v1/deviations/{deviation['id']}").json()["status"] == deviation["status"]


@pytest.mark.postgres
def test_the_unit_of_work_turns_a_database_overflow_into_invalid_input(db: Database) -> None:
    # SQLite refuses to bind an int past 2⁶³ (OverflowError); PostgreSQL refuses the cast
    # ("integer out of range", DataError). Either is the caller's bad input.
    with pytest.raises(InvalidInput, match="out of range"), unit_of_work(db) as session:
        session.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": 2**64})


# --- downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ascii_name", "encoded"),
    [
        ("PB26-001.pdf", "PB26-001.pdf", None),
        ("preview of PB26-Ω1.pdf", "preview of PB26-_1.pdf", "preview%20of%20PB26-%CE%A91.pdf"),
        ('Zürich "A".csv', "Zurich _A_.csv", "Z%C3%BCrich%20%22A%22.csv"),
        ("a\r\nb/c.pdf", "a__b_c.pdf", None),
    ],
)
def test_a_download_name_is_latin_1_safe_with_the_real_name_beside_it(
    name: str, ascii_name: str, encoded: str | None
) -> None:
    value = content_disposition(name, "inline")
    value.encode("latin-1")  # what a header can carry at all
    assert value.startswith(f'inline; filename="{ascii_name}"')
    if encoded is None:
        assert "filename*" not in value
    else:
        assert value.endswith(f"; filename*=UTF-8''{encoded}")


def test_a_release_certificate_of_a_lot_whose_number_breaks_a_header_downloads(
    db: Database, people: Any, api: Any
) -> None:
    # A lot number beyond Latin-1 (the PB26-Ω1) is now refused when the lot is made
    # (GS1 character set 82); the set still holds the quote, slash and semicolon that would
    # break a Content-Disposition header written naively.
    seed_master_data(db, people)
    lot_id = add_batch(db, people, 'PB26/"A";1')
    response = api("qp").get(f"/api/v1/production/batches/{lot_id}/release-certificate.pdf")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('inline; filename="')
    plain, encoded = disposition.split("; filename*=", 1)
    assert plain.count('"') == 2, "the quoted fallback name holds no quote of its own"
    assert "/" not in plain  # no path in a file name
    assert encoded.startswith("UTF-8''") and "PB26_%22A%22%3B1" in encoded  # the slash made safe
    assert PRODUCT  # the product the lot was made of (seeded above)


# --- the OpenAPI document ----------------------------------------------------------------------


@pytest.fixture
def document(app: Any) -> dict[str, Any]:
    return dict(app.openapi())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/")
    ]


def test_every_integer_parameter_of_the_api_is_bounded_for_the_database(
    document: dict[str, Any],
) -> None:
    unbounded = []
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            options = schema.get("anyOf", [schema])
            for option in options:
                if option.get("type") == "integer" and not (
                    "maximum" in option and option["maximum"] <= MAX_ID
                ):
                    unbounded.append(f"{method} {path} {parameter['name']}")
    assert unbounded == []


def test_the_document_declares_the_bearer_token_and_who_needs_it(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    secured = {(m, p): op["security"] for m, p, op in operations(document)}
    assert secured[("POST", "/api/v1/auth/token")] == []
    assert secured[("GET", "/api/v1/deviations/{deviation_id}")] == [{"bearer": []}]
    assert all(s == [{"bearer": []}] for (m, p), s in secured.items() if "/auth/" not in p)


def test_each_route_documents_its_refusals_as_problem_json(document: dict[str, Any]) -> None:
    paths = document["paths"]
    read = paths["/api/v1/deviations/{deviation_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= read.keys()
    assert "409" not in read
    write = paths["/api/v1/deviations/{deviation_id}"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "422"} <= write.keys()
    ingest = paths["/api/v1/data/ingest/{kind}"]["post"]["responses"]
    assert "413" in ingest
    for answer in (read["404"], write["409"], ingest["413"]):
        assert answer["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
