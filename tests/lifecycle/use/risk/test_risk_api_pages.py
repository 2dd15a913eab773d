"""Risk factors over the database and HTTP: the product's cases as the periodic summary
selects them, the odds-ratio table with its evidence through the API, the page with the forest
plot and a sentence per factor; too few cases is a readable refusal, not a fit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.lifecycle.use.psur.psur_steps import PRODUCT
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.cases.intake import EventReport, ProductReport


def take_in(
    db: Database, people: Any, *, old: int, old_serious: int, young: int, young_serious: int
) -> None:
    plan = [("78", i < old_serious) for i in range(old)]
    plan += [("41", i < young_serious) for i in range(young)]
    with unit_of_work(db) as s:
        for i, (age, serious) in enumerate(plan):
            event = EventReport("syncope", seriousness=("hospitalisation",) if serious else ())
            cases.record_case(
                s,
                actor=people.pv,
                report=staff_report(
                    received_at=datetime(2026, 1, 1 + i % 28, 9, 0, tzinfo=UTC),
                    patient_initials=f"P{i}",
                    patient_age=age,
                    products=(ProductReport(PRODUCT, "L1"),),
                    events=(event,),
                ),
            )


@pytest.fixture(autouse=True)
def _clock(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """Cases are received in January; the tests run on 2 March 2026."""


def test_the_api_gives_the_odds_ratios_and_the_counts(api: Any, db: Any, people: Any) -> None:
    take_in(db, people, old=10, old_serious=6, young=20, young_serious=4)
    found = api("auditor").get("/api/v1/pv/risk-factors", params={"product": PRODUCT})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["cases"], body["events"]) == (30, 10)
    [odds] = body["odds_ratios"]
    assert odds["level"] == "aged ≥ 65"
    assert odds["odds_ratio"] == pytest.approx((6.5 / 4.5) / (4.5 / 16.5), rel=1e-6)
    assert odds["reading"].startswith("Patients aged ≥ 65 had ")
    assert {(e["level"], e["cases"], e["events"]) for e in body["evidence"]} == {
        ("aged 18–64", 20, 4),
        ("aged ≥ 65", 10, 6),
    }
    assert body["not_held"] == []
    assert "Firth" in body["method"]


def test_too_few_cases_is_refused_with_the_reason(api: Any, db: Any, people: Any) -> None:
    take_in(db, people, old=5, old_serious=3, young=10, young_serious=2)
    refused = api("auditor").get("/api/v1/pv/risk-factors", params={"product": PRODUCT})
    assert refused.status_code == 422
    assert "only 15 cases" in refused.json()["detail"]
    long = api("auditor").get("/api/v1/pv/risk-factors", params={"product": "x" * 201})
    assert long.status_code == 422


def test_the_page_shows_the_forest_plot_readings_and_evidence(
    app: Any, db: Any, people: Any
) -> None:
    take_in(db, people, old=10, old_serious=6, young=20, young_serious=4)
    reader = UiClient(app)
    reader.login("qa")
    page = reader.get("/pv/risk-factors", params={"product": PRODUCT})
    assert page.status_code == 200, page.text
    assert 'class="forest"' in page.text and 'data-value="1"' in page.text
    assert "Patients aged ≥ 65 had" in page.text
    assert 'data-testid="evidence"' in page.text
    assert "Weight: every case is of unknown weight" in page.text
    empty = reader.get("/pv/risk-factors", params={"product": "Nothing at all"})
    assert "only 0 cases" in empty.text
