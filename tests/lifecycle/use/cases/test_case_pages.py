"""The PV pages: the public side-effect form (GS1 Digital Link prefill, CSRF, honeypot, rate
limit, refusals readable by a screen reader that change nothing), staff intake, the register
with its due flags and the case page with its links."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import counts, released_lot
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import facts, public
from pharmaqms.lifecycle.use.cases.models import PVCase

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD = {
    "product": "Paracetamol 500 mg tablets",
    "lot": "L2403-117",
    "reporter": "patient",
    "country": "nl",
    "reaction": "itchy rash on both arms",
    "onset": "2026-02-28",
    "serious": ["hospitalisation"],
    "story": "Started the day after the first tablet.",
    "initials": "AB",
    "age": "34",
    "sex": "female",
}


@pytest.fixture(autouse=True)
def _fixed_time(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """Every test at one fixed time, on a database of its own (where the rate limit of the
    public form counts its attempts: nothing is left from another test)."""


@pytest.fixture
def visitor(app: Any) -> TestClient:
    return TestClient(app, follow_redirects=False)


def form_token(client: TestClient, url: str = "/report-side-effect") -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found is not None
    return found.group(1), page.text


def test_a_pack_s_digital_link_fills_in_the_product_and_the_lot(
    visitor: TestClient, db: Any, people: Any
) -> None:
    released_lot(db, people)

    _token, page = form_token(visitor, "/report-side-effect?01=05012345678900&10=L2403-117")

    assert 'id="product" name="product" value="Paracetamol 500 mg tablets"' in page
    assert 'id="lot" name="lot" value="L2403-117"' in page


@pytest.mark.postgres
def test_a_public_report_becomes_a_received_case(visitor: TestClient, db: Any, people: Any) -> None:
    lot_id = released_lot(db, people)
    token, _page = form_token(visitor)

    sent = visitor.post("/report-side-effect", data={**GOOD, "csrf_token": token})

    assert sent.status_code == 200, sent.text
    assert 'data-testid="case-number">PV-2026-0001<' in sent.text
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        assert (case.status, case.source, case.reporter_country) == (
            "received",
            "public_form",
            "NL",
        )
        [product] = facts.products_of(session, case)
        assert product.lot_id == lot_id
        [event] = facts.events_of(session, case)
        assert (event.verbatim, event.seriousness) == (
            "itchy rash on both arms",
            ["hospitalisation"],
        )


def test_a_script_is_refused_with_an_announced_error_and_nothing_changes(
    visitor: TestClient, db: Any
) -> None:
    token, _page = form_token(visitor)
    before = counts(db)

    refused = visitor.post(
        "/report-side-effect",
        data={**GOOD, "reaction": "<script>alert('x')</script>", "csrf_token": token},
    )

    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert 'href="#reaction">Event 1 as reported may not contain markup or scripts.' in refused.text
    assert 'id="reaction-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert "<script>alert" not in refused.text  # the value is shown escaped, never as markup
    assert counts(db) == before


def test_missing_answers_are_listed_and_nothing_changes(visitor: TestClient, db: Any) -> None:
    token, _page = form_token(visitor)
    before = counts(db)

    refused = visitor.post("/report-side-effect", data={"csrf_token": token, "story": "x" * 5001})

    assert refused.status_code == 422
    assert re.findall(r'<a href="#(\w+)">', refused.text) == [
        "product",
        "reporter",
        "reaction",
        "story",
    ]
    assert counts(db) == before


def test_oversize_text_is_refused_and_nothing_changes(visitor: TestClient, db: Any) -> None:
    token, _page = form_token(visitor)
    before = counts(db)

    too_long = visitor.post(
        "/report-side-effect", data={**GOOD, "story": "x" * 60_000, "csrf_token": token}
    )
    absurd = visitor.post(
        "/report-side-effect", data={**GOOD, "story": "x" * 200_000, "csrf_token": token}
    )

    assert too_long.status_code == 422
    assert '<a href="#story">Keep the description to 5000 characters.</a>' in too_long.text
    assert absurd.status_code in (303, 422)  # refused before the form is read
    assert counts(db) == before


def test_a_form_without_its_token_is_refused_and_nothing_changes(
    visitor: TestClient, db: Any
) -> None:
    form_token(visitor)
    before = counts(db)

    refused = visitor.post("/report-side-effect", data={**GOOD, "csrf_token": "forged"})

    assert refused.status_code == 400
    assert "The form has expired or did not come from this site" in refused.text
    assert counts(db) == before


def test_the_honeypot_thanks_a_robot_and_takes_nothing(visitor: TestClient, db: Any) -> None:
    token, _page = form_token(visitor)
    before = counts(db)

    sent = visitor.post(
        "/report-side-effect", data={**GOOD, "website": "http://spam.example", "csrf_token": token}
    )

    assert sent.status_code == 200
    assert "case-number" not in sent.text
    assert counts(db) == before


def test_the_sixth_report_in_ten_minutes_from_one_address_is_refused(
    visitor: TestClient, db: Any
) -> None:
    token, _page = form_token(visitor)
    for _ in range(public.RATE_LIMIT):
        assert (
            visitor.post("/report-side-effect", data={**GOOD, "csrf_token": token}).status_code
            == 200
        )
    before = counts(db)

    refused = visitor.post("/report-side-effect", data={**GOOD, "csrf_token": token})

    assert refused.status_code == 429
    assert "Too many reports from your connection" in refused.text
    assert counts(db) == before


def test_staff_take_a_report_in_and_see_it_in_the_register(app: Any, db: Any) -> None:
    pv = UiClient(app)
    pv.login("pv")
    pv.get("/pv/cases/new")

    taken = pv.post(
        "/pv/cases",
        {
            "received_at": "2026-03-01T10:00",
            "product": "Paracetamol 500 mg tablets",
            "lot_number": "L2403-117",
            "verbatim": "anaphylaxis",
            "seriousness": "life_threatening",
            "patient_initials": "JD",
            "patient_age": "-67",
            "reporter_type": "hcp",
            "reporter_country": "DE",
        },
        referer="/pv/cases/new",
    )

    page = pv.follow(taken).text
    assert "PV-2026-0001 · serious case" in page
    assert "patient_age: “-67” — an age of -67 years is not possible: not taken" in page
    register = pv.get("/pv/cases").text
    assert 'href="/pv/cases/1">PV-2026-0001<' in register
