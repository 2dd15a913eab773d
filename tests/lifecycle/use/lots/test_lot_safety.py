"""Batch-level signals end to end: cases concentrated on one lot flag that lot and no other,
the lot page lists its cases, and a CAPA opened from it links both ways. Refusals change
nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import counts
from tests.lifecycle.use.lots.lot_steps import concentrated
from tests.support import browser_login

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality import events
from pharmaqms.quality.capa.models import Capa

DUE = "2026-06-30T00:00:00Z"


def user_id(db: Database, username: str) -> int:
    with unit_of_work(db, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        return int(user.id)


@pytest.mark.postgres
def test_cases_concentrated_on_one_lot_flag_that_lot_and_no_other(
    db: Any, people: Any, api: Any, frozen_clock: Any
) -> None:
    concentrated(db, people)

    found = api("auditor").get("/api/v1/pv/lot-signals", params={"product": "PARA500"})

    assert found.status_code == 200, found.text
    rows = {r["lot_number"]: r for r in found.json()}
    assert [n for n, r in rows.items() if r["flagged"]] == ["L3"]
    hot = rows["L3"]
    assert (hot["cases"], hot["other_cases"], hot["units_distributed"], hot["unit"]) == (
        12,
        4,
        10_000,
        "tablet",
    )
    assert hot["expected"] == pytest.approx(3.2) and hot["rate_ratio"] == pytest.approx(12.0)
    assert hot["threshold"] == pytest.approx(0.01) and hot["p_value"] < 1e-5
    # L6 has five cases but no shipped quantity: no rate, no flag, and it says so.
    assert rows["L6"]["cases"] == 5 and rows["L6"]["units_distributed"] is None
    assert not rows["L6"]["flagged"] and "no quantity distributed" in rows["L6"]["reason"]


@pytest.mark.postgres
def test_a_capa_opened_from_the_lot_links_the_lot_and_every_case_both_ways(
    db: Any, people: Any, api: Any, frozen_clock: Any
) -> None:
    ids = concentrated(db, people)
    pv = api("pv")
    owner = user_id(db, "pv")

    opened = pv.post(
        f"/api/v1/pv/lots/{ids['L3']}/capa",
        json={"title": "Reports concentrated on lot L3", "owner_id": owner, "due_at": DUE},
    )

    assert opened.status_code == 201, opened.text
    capa = opened.json()
    assert len(capa["linked_cases"]) == 12
    with unit_of_work(db, write=False) as s:
        record = s.scalars(select(Capa)).one()
        assert record.number == capa["number"]
        # The evidence travels as the problem statement.
        assert "12 cases where 3.2 were expected" in record.problem_statement
        assert "Cases citing the lot: PV-" in record.problem_statement
    lot = pv.get(f"/api/v1/pv/lots/{ids['L3']}").json()
    assert [(link["record_type"], link["record_id"]) for link in lot["links"]["led_to"]] == [
        ("capa", capa["capa_id"])
    ]
    first_case = lot["cases"][0]
    case = pv.get(f"/api/v1/pv/cases/{first_case['id']}").json()
    assert ("capa", capa["capa_id"]) in [
        (link["record_type"], link["record_id"]) for link in case["links"]["led_to"]
    ]
    with unit_of_work(db, write=False) as s:
        sources = events.links_of(s, "capa", capa["capa_id"]).raised_from
        assert sorted({link.record_type for link in sources}) == ["lot", "pv_case"]
        assert len(sources) == 13  # the lot and its twelve cases


@pytest.mark.postgres
def test_refusals_leave_nothing_behind(db: Any, people: Any, api: Any, frozen_clock: Any) -> None:
    ids = concentrated(db, people)
    owner = user_id(db, "pv")
    pv, reader = api("pv"), api("auditor")  # logging in is audited: before the snapshot
    before = counts(db)

    auditor = reader.post(
        f"/api/v1/pv/lots/{ids['L3']}/capa",
        json={"title": "x", "owner_id": owner, "due_at": DUE},
    )
    blank = pv.post(
        f"/api/v1/pv/lots/{ids['L3']}/capa",
        json={"title": "   ", "owner_id": owner, "due_at": DUE},
    )
    missing = pv.post(
        "/api/v1/pv/lots/999999/capa", json={"title": "x", "owner_id": owner, "due_at": DUE}
    )
    unknown_product = pv.get("/api/v1/pv/lot-signals", params={"product": "NOPE"})
    no_product = pv.get("/api/v1/pv/lot-signals")

    assert auditor.status_code == 403, auditor.text
    assert blank.status_code == 422 and "title" in blank.text
    assert missing.status_code == 404
    assert unknown_product.status_code == 404 and "NOPE" in unknown_product.text
    assert no_product.status_code == 422
    assert counts(db) == before
    with unit_of_work(db, write=False) as s:
        assert s.scalars(select(Capa)).all() == []


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_lot_page_shows_the_rates_the_cases_and_opens_the_capa_from_its_form(
    app: Any, db: Any, people: Any, frozen_clock: Any
) -> None:
    ids = concentrated(db, people)
    browser = TestClient(app)
    assert browser_login(browser, "pv").status_code in (302, 303)

    page = browser.get(f"/pv/lots/{ids['L3']}")

    assert page.status_code == 200, page.text
    assert 'data-testid="flagged"' in page.text
    assert page.text.count('href="/pv/cases/') == 12
    assert 'data-testid="lot-capa-form"' in page.text
    assert "not known" in page.text  # L6's units, in the product's table
    sent = browser.post(
        f"/pv/lots/{ids['L3']}/capa",
        data={
            "csrf_token": _token(page.text),
            "title": "Reports concentrated on lot L3",
            "owner_id": str(user_id(db, "pv")),
            "due_at": "2026-06-30",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    after = browser.get(f"/pv/lots/{ids['L3']}")
    assert 'data-testid="led-to"' in after.text and "CAPA" in after.text
    case_id = re.search(r'href="/pv/cases/(\d+)"', after.text)
    assert case_id is not None
    case_page = browser.get(f"/pv/cases/{case_id.group(1)}")
    assert f'href="/pv/lots/{ids["L3"]}"' in case_page.text
    assert 'data-testid="led-to"' in case_page.text


@pytest.mark.postgres
def test_a_reader_sees_the_page_without_the_capa_form(
    app: Any, db: Any, people: Any, frozen_clock: Any
) -> None:
    ids = concentrated(db, people)
    browser = TestClient(app)
    assert browser_login(browser, "auditor").status_code in (302, 303)

    page = browser.get(f"/pv/lots/{ids['L1']}")

    assert page.status_code == 200
    assert 'data-testid="lot-capa-form"' not in page.text
    assert browser.get("/pv/lots/999999").status_code == 404
    # Beyond what an INTEGER key holds: refused before the database (pages send back, 303).
    beyond = browser.get("/pv/lots/3000000000", follow_redirects=False)
    assert beyond.status_code == 303 and "/pv/lots/" not in beyond.headers["location"]
    refused = browser.post(
        f"/pv/lots/{ids['L1']}/capa",
        data={
            "csrf_token": _token(page.text),
            "title": "x",
            "owner_id": "1",
            "due_at": "2026-06-30",
        },
        follow_redirects=False,
    )
    # Pages answer a refusal by sending the reader back with the reason; nothing is opened.
    assert refused.status_code in (303, 403)
    if refused.status_code == 303:
        shown = browser.get(refused.headers["location"])
        assert "raise CAPAs" in shown.text
    with unit_of_work(db, write=False) as s:
        assert s.scalars(select(Capa)).all() == []
