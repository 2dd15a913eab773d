"""The production pages as a browser uses them (form posts with the session cookie and CSRF
token): entering an OOS result, phase I on the investigation page, the workflow button with its
signature, and every page rendering for a reader who may change nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select
from tests.lifecycle.production.setup import (
    MATERIAL,
    PRODUCT,
    SUPPLIER,
    add_batch,
    approved_specification,
    lot_status,
    qualify_supplier,
    seed_master_data,
    trail_counts,
)
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.qc.models import QcResult

VERSION = re.compile(r'name="expected_version" value="(\d+)"')


@pytest.fixture
def plant(api, app, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    spec = approved_specification(qc, qa, item_code=PRODUCT)
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31))
    batch = add_batch(db, people, "W26001")

    def browser(username: str) -> UiClient:
        client = UiClient(app)
        client.login(username)
        return client

    return {"spec": spec, "batch": batch, "browser": browser}


def test_an_oos_entered_on_the_lot_page_is_investigated_on_its_page(plant, db) -> None:  # type: ignore[no-untyped-def]
    qc = plant["browser"]("qc")
    lot_url = f"/production/qc/lots/{plant['batch']}"
    page = qc.get(lot_url)
    assert page.status_code == 200
    assert 'data-testid="enter-result"' in page.text
    entered = qc.post(
        f"{lot_url}/results",
        {
            "test_code": "ASSAY",
            "sample_id": "S-W1",
            "value": "93,0",
            "unit": "%",
            "tested_at": "2026-03-02T08:00",
        },
        referer=lot_url,
    )
    landed = qc.follow(entered)
    assert (
        "result ASSAY 93 % (sample S-W1) recorded: fail. Out of specification: OOS-2026-0001 "
        "opened, lot on hold." in landed.text
    )
    assert lot_status(db, plant["batch"]) == "on_hold"

    inv_url = "/production/qc/investigations/1"
    page = qc.get(inv_url)
    assert 'data-testid="phase-1"' in page.text
    version = VERSION.search(page.text).group(1)  # type: ignore[union-attr]
    form = {
        f"check_{key}": "ok"
        for key in (
            "sample_identity",
            "sample_preparation",
            "calculation",
            "instrument",
            "standards_reagents",
            "method",
            "analyst",
            "glassware_equipment",
        )
    }
    stale = qc.post(
        f"{inv_url}/phase-1",
        form | {"findings": "x", "assignable_cause": "no", "expected_version": "1"},
        referer=inv_url,
    )
    assert "OOS-2026-0001 is at version 2, not 1: reload it" in qc.follow(stale).text
    recorded = qc.post(
        f"{inv_url}/phase-1",
        form
        | {
            "findings": "Nothing wrong in the lab.",
            "assignable_cause": "no",
            "expected_version": version,
        },
        referer=inv_url,
    )
    assert "Phase I recorded." in qc.follow(recorded).text
    # The analyst who ran the test may not sign its review: another reviewer does.
    refused = qc.post(
        "/records/oos_investigation/1/transitions/escalate",
        {"password": PASSWORD, "expected_version": VERSION.search(qc.get(inv_url).text)[1]},  # type: ignore[index]
        referer=inv_url,
    )
    assert "ran or recorded the result under investigation" in qc.follow(refused).text
    reviewer = plant["browser"]("qa2")
    page = reviewer.get(inv_url)
    assert 'data-transition="escalate"' in page.text
    version = VERSION.search(page.text).group(1)  # type: ignore[union-attr]
    escalated = reviewer.post(
        "/records/oos_investigation/1/transitions/escalate",
        {"password": PASSWORD, "expected_version": version},
        referer=inv_url,
    )
    assert "status now phase II (full investigation)" in reviewer.follow(escalated).text
    assert 'data-testid="phase-2"' in qc.get(inv_url).text


def test_a_result_whose_comma_could_be_a_thousands_separator_is_refused_on_the_lot_page(  # type: ignore[no-untyped-def]
    plant, db
) -> None:
    qc = plant["browser"]("qc")
    lot_url = f"/production/qc/lots/{plant['batch']}"
    before = trail_counts(db)
    entered = qc.post(
        f"{lot_url}/results",
        {
            "test_code": "ASSAY",
            "sample_id": "S-W2",
            "value": "99,500",
            "unit": "%",
            "tested_at": "2026-03-02T08:00",
        },
        referer=lot_url,
    )
    assert "value: write 99500 or 99.5: &#39;99,500&#39; is ambiguous" in qc.follow(entered).text
    assert trail_counts(db) == before
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(QcResult)) == 0
    assert lot_status(db, plant["batch"]) == "quarantine"


def test_every_production_page_renders_for_a_reader_who_may_change_nothing(plant) -> None:  # type: ignore[no-untyped-def]
    auditor = plant["browser"]("auditor")
    pages = {
        "/production/scan": "Scan a container",
        "/production/materials": "Approved supplier list",
        "/production/qc": "QC testing and OOS",
        f"/production/qc/lots/{plant['batch']}": "QC · batch",
        f"/production/qc/specifications/{plant['spec']['id']}": plant["spec"]["number"],
        "/production/nonconformances": "Nonconforming product",
    }
    for url, heading in pages.items():
        page = auditor.get(url)
        assert page.status_code == 200, url
        assert heading in page.text, url
    lot_page = auditor.get(f"/production/qc/lots/{plant['batch']}")
    assert 'data-testid="enter-result"' not in lot_page.text
    menu = auditor.get("/production/qc").text
    for label in ("Scan a container", "Materials and suppliers", "QC testing and OOS"):
        assert label in menu
