"""A product's stability budget from its stability data, under change control: QA puts it in
force from an approved study when a change in implementation names the product and every band
that allows time out of the label is backed by in-specification results at a condition as far
from the label, for as long; the cold chain then judges with it. Every refusal names each
reason and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.rnd.stability_steps import PRODUCT, approved_study, assay_results, record
from tests.quality.quality_steps import days_ahead, problem, take, user_id
from tests.quality.test_changes_api import assessment, decide, requested_change

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.budget import budget_of
from pharmaqms.lifecycle.distribution.models import StabilityBand
from pharmaqms.lifecycle.rnd.stability import service
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Product

# Tablets labelled 15–25 °C: every temperature outside the label in exactly one band.
BANDS = [
    {"name": "below 15 °C", "low_c": None, "high_c": 15, "allowed_h": 0},
    {"name": "25–30 °C", "low_c": 25, "high_c": 30, "allowed_h": 2000},
    {"name": "30–40 °C", "low_c": 30, "high_c": 40, "allowed_h": 1000},
    {"name": "above 40 °C", "low_c": 40, "high_c": None, "allowed_h": 0},
]


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def labelled_product(db: Database, people: Any) -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin="09506000134352",
            code=PRODUCT,
            name="Paracetamol 500 mg",
            storage_min_c=15.0,
            storage_max_c=25.0,
        )


def studied(db: Database, people: Any) -> int:
    """An approved study with 24 months at 25/60 and 6 months at 40/75, all in specification."""
    labelled_product(db, people)
    study_id = approved_study(db, people)
    accelerated = [
        service.ResultIn(batch, "40C75RH", float(m), "ASSAY", 99.0 - m / 10, "%")
        for batch in ("S2601", "S2602", "S2603")
        for m in (0, 3, 6)
    ]
    record(db, people, study_id, assay_results() + accelerated)
    return study_id


def change_in_implementation(api: Any, db: Any, *, name_product: bool = True) -> str:
    rd, qa = api("rd"), api("qa")
    change = requested_change(rd, title="Stability budget of PARA-500-TAB from STB data")
    cid = change["id"]
    if name_product:
        named = rd.post(
            f"/api/v1/changes/{cid}/affected", json={"kind": "product", "reference": PRODUCT}
        )
        assert named.status_code == 201, named.text
    take(rd, "change_request", cid, "submit")
    qa.post(f"/api/v1/changes/{cid}/impact-assessment", json=assessment(["quality_assurance"]))
    qa.post(
        f"/api/v1/changes/{cid}/actions",
        json={
            "kind": "update_process",
            "description": "Put the budget in force for the cold chain",
            "owner_id": user_id(db, "qa"),
            "due_at": days_ahead(20),
        },
    )
    take(qa, "change_request", cid, "submit_for_approval")
    decided = decide(api("qa2"), cid, "quality_assurance")
    assert decided.json()["status"] == "implementation", decided.text
    return str(change["number"])


def bands_and_audit(db: Database) -> tuple[int, int]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(StabilityBand)) or 0),
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


def url(study_id: int) -> str:
    return f"/api/v1/rnd/stability/studies/{study_id}/stability-budget"


def test_qa_puts_the_budget_in_force_from_the_study_under_the_change(
    api: Any, db: Database, people: Any
) -> None:
    study_id = studied(db, people)
    number = change_in_implementation(api, db)

    response = api("qa").post(url(study_id), json={"change_number": number, "bands": BANDS})

    assert response.status_code == 200, response.text
    assert response.json()["change"] == number
    with unit_of_work(db, write=False) as s:
        product = s.scalars(select(Product).where(Product.code == PRODUCT)).one()
        budget = budget_of(s, product.id)
        assert budget is not None
        assert [(b.name, b.allowed_h) for b in budget.bands] == [
            (b["name"], b["allowed_h"]) for b in BANDS
        ]
        basis = s.scalars(select(StabilityBand.basis).where(StabilityBand.active)).first()
        assert basis is not None and number in basis and "40C75RH 6 months" in basis


def test_every_reason_is_named_and_nothing_changes(api: Any, db: Database, people: Any) -> None:
    study_id = studied(db, people)
    unnamed = change_in_implementation(api, db, name_product=False)
    greedy = [
        BANDS[0],
        BANDS[1],
        {"name": "30–40 °C", "low_c": 30, "high_c": 40, "allowed_h": 5000},
        {"name": "above 40 °C", "low_c": 40, "high_c": None, "allowed_h": 10},
    ]
    qa = api("qa")  # signed in before counting (a sign-in is audited)
    before = bands_and_audit(db)

    refused = qa.post(url(study_id), json={"change_number": unnamed, "bands": greedy})

    body = problem(refused, 409, "transition_not_allowed")
    reasons = body["reasons"]
    assert any(f"{unnamed} does not name the product {PRODUCT}" in r for r in reasons)
    assert any("'30–40 °C' allows 5000 h" in r and "4,383 h" in r for r in reasons)
    assert any("'above 40 °C' is open-ended" in r for r in reasons)
    assert len(reasons) == 3
    assert bands_and_audit(db) == before


def test_a_band_warmer_than_anything_studied_is_not_supported(
    api: Any, db: Database, people: Any
) -> None:
    study_id = studied(db, people)
    number = change_in_implementation(api, db)
    hot = [
        BANDS[0],
        BANDS[1],
        {"name": "30–50 °C", "low_c": 30, "high_c": 50, "allowed_h": 24},
        {"name": "above 50 °C", "low_c": 50, "high_c": None, "allowed_h": 0},
    ]
    qa = api("qa")
    before = bands_and_audit(db)
    refused = qa.post(url(study_id), json={"change_number": number, "bands": hot})
    [reason] = problem(refused, 409, "transition_not_allowed")["reasons"]
    assert "reaches 50 °C" in reason and "no data as warm as the band" in reason
    assert bands_and_audit(db) == before


def test_only_qa_puts_a_budget_in_force_and_an_unknown_change_is_named(
    api: Any, db: Database, people: Any
) -> None:
    study_id = studied(db, people)
    rd, qa = api("rd"), api("qa")
    before = bands_and_audit(db)
    denied = rd.post(url(study_id), json={"change_number": "CC-1", "bands": BANDS})
    assert denied.status_code == 403
    unknown = qa.post(url(study_id), json={"change_number": "CC-2099-9999", "bands": BANDS})
    assert "no change control 'CC-2099-9999'" in problem(unknown, 404, "not_found")["detail"]
    assert bands_and_audit(db) == before
