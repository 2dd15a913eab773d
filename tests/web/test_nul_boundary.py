"""Text with NUL (U+0000) is refused at the door, on every database: PostgreSQL can't store it
in a text column (it answered 500), SQLite can — so a record that holds it would not move from
one to the other. One check for the whole application: a JSON body, a query or path parameter,
a form field; 422 naming the field, and nothing written. Documents delivered to the data
platform are not refused here: ingest judges their rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.quality.quality_steps import REPORT, counts, days_ago, problem
from tests.web.support import flash_of

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import ImportRun

NUL = "\x00"


def report_body(**overrides: Any) -> dict[str, Any]:
    return {
        **REPORT,
        "occurred_at": days_ago(2),
        "discovered_at": days_ago(1),
        "batch_ids": ["L2403-117"],
        **overrides,
    }


def refused_naming(response: Any, field: str) -> dict[str, Any]:
    body = problem(response, 422, "invalid_input")
    assert body["field"] == field
    assert body["detail"] == f"{field}: text may not hold the NUL character (U+0000)"
    return body


@pytest.mark.postgres
def test_a_deviation_titled_with_nul_is_refused_naming_the_title_and_nothing_is_written(
    api: Any, db: Database
) -> None:
    operator = api("operator")
    before = counts(db)

    response = operator.post("/api/v1/deviations", json=report_body(title=f"a{NUL}b"))

    refused_naming(response, "title")
    assert counts(db) == before


@pytest.mark.postgres
def test_a_nul_deep_in_a_body_is_named_by_its_path(api: Any, db: Database) -> None:
    operator = api("operator")
    before = counts(db)

    response = operator.post(
        "/api/v1/deviations", json=report_body(batch_ids=["L2403-117", f"L2403{NUL}118"])
    )

    refused_naming(response, "batch_ids.1")
    assert counts(db) == before


def test_a_nul_in_a_key_of_the_body_is_refused(api: Any, db: Database) -> None:
    operator = api("operator")
    before = counts(db)

    response = operator.post("/api/v1/deviations", json={**report_body(), f"ti{NUL}tle": "x"})

    refused_naming(response, "ti\\u0000tle")
    assert counts(db) == before


def test_a_clean_body_beside_the_refused_one_still_goes_through(api: Any, db: Database) -> None:
    # The check looks at the decoded text: an escaped backslash followed by "u0000" is six
    # ordinary characters, not a NUL.
    operator = api("operator")

    response = operator.post("/api/v1/deviations", json=report_body(title="path C:\\u0000\\x"))

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "path C:\\u0000\\x"


@pytest.mark.postgres
def test_a_query_parameter_with_nul_is_refused_naming_it(api: Any, db: Database) -> None:
    response = api("qa").get("/api/v1/deviations", params={"status": f"open{NUL}"})

    refused_naming(response, "status")


@pytest.mark.postgres
def test_a_path_parameter_with_nul_is_refused_naming_it(api: Any, db: Database) -> None:
    response = api("qa").get("/api/v1/records/deviation%00x/1")

    refused_naming(response, "type_name")


@pytest.mark.postgres
def test_a_form_field_with_nul_goes_back_to_the_form_with_the_reason_and_writes_nothing(
    ui: Any, db: Database
) -> None:
    operator = ui("operator")
    operator.get("/deviations/new")
    before = counts(db)
    moment = (clock.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    refused = operator.post(
        "/deviations",
        {
            "title": f"Label{NUL}roll",
            "description": "A 250 mg label roll was loaded for a 500 mg batch.",
            "area": "Packaging",
            "occurred_at": moment,
            "discovered_at": moment,
        },
        referer="/deviations/new",
    )

    assert refused.status_code == 303
    assert refused.headers["location"] == "http://testserver/deviations/new"
    message = flash_of(operator.follow(refused).text)
    assert message == "title: text may not hold the NUL character (U+0000)"
    assert counts(db) == before


def _deliveries(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(ImportRun)) or 0)


def test_a_delivered_document_holding_nul_is_left_to_ingest(app: Any, db: Database) -> None:
    # given an integration that pushes a JSON document with a NUL inside one of its values
    with unit_of_work(db) as s:
        admin = auth.actor_for(s, auth.user_by_username(s, "admin"))  # type: ignore[arg-type]
        user = auth.add_user(
            s,
            actor=admin,
            username="pv-bridge",
            full_name="FAERS bridge",
            roles=["integration"],
            service_account=True,
        )
        _token, raw = auth.create_api_token(s, actor=admin, user_id=user.id, name="FAERS")
    client = TestClient(app, headers={"authorization": f"Bearer {raw}"})

    # when it is delivered
    response = client.post(
        "/api/v1/data/ingest/faers",
        content=b'{"results": [{"safetyreportid": "1\\u00002"}]}',
        headers={"content-type": "application/json"},
    )

    # then the boundary did not refuse it: the delivery is on record as an import run
    assert "NUL" not in response.text
    assert _deliveries(db) == 1


# Any text field of a report, a NUL anywhere in otherwise arbitrary text.
TEXT_FIELDS = ("title", "description", "area", "product", "immediate_actions")


@pytest.mark.postgres
@settings(
    max_examples=15,
    deadline=None,
    # One database for the examples on purpose: each is refused, so none writes to it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(TEXT_FIELDS),
    text=st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    at=st.integers(min_value=0, max_value=30),
)
def test_a_nul_anywhere_in_any_text_field_is_refused_naming_that_field(
    api: Any, db: Database, field: str, text: str, at: int
) -> None:
    operator = api("operator")
    before = counts(db)
    value = text[:at] + NUL + text[at:]

    response = operator.post("/api/v1/deviations", json=report_body(**{field: value}))

    refused_naming(response, field)
    assert counts(db) == before
