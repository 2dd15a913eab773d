"""Scanning a container: the answer for each case, through the API and on the scan page —
released and usable (in every barcode form), quarantine, expired by the date, supplier
qualification run out, wrong material, a label that contradicts the records, an unknown lot,
an unreadable barcode."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.lifecycle.production.setup import (
    ASSAY,
    LAPSED_SUPPLIER,
    MATERIAL,
    MATERIAL_GTIN,
    OTHER_MATERIAL,
    OTHER_MATERIAL_GTIN,
    SUPPLIER,
    approved_specification,
    barcode,
    qualify_supplier,
    receive_lot,
    release_material_lot,
    seed_master_data,
)
from tests.support import browser_login

EXPIRY = date(2028, 6, 30)


@pytest.fixture
def warehouse(api, db, people, frozen_clock):  # type: ignore[no-untyped-def]
    seed_master_data(db, people)
    qc, qa, supervisor = api("qc"), api("qa"), api("supervisor")
    qualify_supplier(qa, MATERIAL, SUPPLIER, audited_on=date(2026, 1, 15), until=date(2027, 12, 31))
    # Beta's qualification runs out at the end of March 2026.
    qualify_supplier(
        qa, MATERIAL, LAPSED_SUPPLIER, audited_on=date(2025, 3, 1), until=date(2026, 3, 31)
    )
    spec = approved_specification(
        qc, qa, item_code=MATERIAL, subject_kind="material", market="ALL", tests=[ASSAY]
    )
    released = receive_lot(supervisor, "L-OK", expires_on=EXPIRY).json()
    release_material_lot(qc, qa, released["id"], spec["id"])
    qc.post(
        f"/api/v1/production/material-lots/{released['id']}/certificates",
        json={
            "certificate_number": "ACME-COA-1",
            "values": [{"test": "Assay", "result": "99.9", "unit": "%"}],
        },
    )
    quarantined = receive_lot(supervisor, "L-QUAR", expires_on=EXPIRY).json()
    short = receive_lot(supervisor, "L-SHORT", expires_on=date(2026, 3, 10)).json()
    release_material_lot(qc, qa, short["id"], spec["id"])
    beta = receive_lot(supervisor, "L-BETA", supplier=LAPSED_SUPPLIER, expires_on=EXPIRY).json()
    release_material_lot(qc, qa, beta["id"], spec["id"])
    return {
        "qc": qc,
        "clock": frozen_clock,
        "lots": {"ok": released, "quarantine": quarantined, "short": short, "beta": beta},
    }


def scan(client: Any, code: str, expected: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code}
    if expected:
        body["expected_material"] = expected
    response = client.post("/api/v1/production/scan", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("form", ["raw", "hri", "digital_link"])
def test_a_released_lot_of_an_approved_supplier_is_usable(warehouse, form) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-OK", EXPIRY, form))
    assert (answer["verdict"], answer["tone"], answer["headline"]) == (
        "usable",
        "positive",
        "RELEASED — OK TO USE",
    )
    assert answer["reasons"] == []
    assert (answer["item_code"], answer["lot_number"], answer["effective_status"]) == (
        MATERIAL,
        "L-OK",
        "released",
    )
    assert (answer["supplier_code"], answer["supplier_approved"], answer["supplier_status"]) == (
        SUPPLIER,
        True,
        "qualified",
    )
    assert answer["certificate"]["certificate_number"] == "ACME-COA-1"
    assert answer["qc_verdict"] == "passed"


def test_a_lot_in_quarantine_is_not_usable(warehouse) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-QUAR", EXPIRY))
    assert (answer["verdict"], answer["tone"], answer["headline"]) == (
        "not_usable",
        "negative",
        "QUARANTINE — DO NOT USE",
    )
    assert answer["reasons"] == ["lot L-QUAR is in quarantine: not released by quality control"]
    assert answer["qc_verdict"] == "pending"


def test_a_released_lot_past_its_expiry_date_is_expired(warehouse, api) -> None:  # type: ignore[no-untyped-def]
    warehouse["clock"].advance(days=9)  # 2026-03-11, the day after expiry
    qc = api("qc")
    answer = scan(qc, barcode(MATERIAL_GTIN, "L-SHORT", date(2026, 3, 10)))
    assert (answer["headline"], answer["lot_status"], answer["effective_status"]) == (
        "EXPIRED — DO NOT USE",
        "released",
        "expired",
    )
    assert answer["reasons"] == ["lot L-SHORT expired on 2026-03-10"]


def test_a_supplier_whose_qualification_ran_out_is_not_approved(warehouse, api) -> None:  # type: ignore[no-untyped-def]
    assert scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-BETA", EXPIRY))["verdict"] == "usable"
    warehouse["clock"].advance(days=31)  # 2026-04-02
    answer = scan(api("qc"), barcode(MATERIAL_GTIN, "L-BETA", EXPIRY))
    assert answer["headline"] == "SUPPLIER QUALIFICATION EXPIRED — DO NOT USE"
    assert answer["reasons"] == [
        f"the qualification of {LAPSED_SUPPLIER} for {MATERIAL} expired (2026-03-31; ASL-2026-0002)"
    ]
    assert (answer["supplier_approved"], answer["supplier_qualified_until"]) == (
        False,
        "2026-03-31",
    )


def test_another_material_than_the_step_needs_is_the_wrong_material(warehouse) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-OK", EXPIRY), expected=OTHER_MATERIAL)
    assert answer["headline"] == "WRONG MATERIAL — DO NOT USE"
    assert answer["reasons"] == [
        f"wrong material: lot L-OK is {MATERIAL}, the step needs {OTHER_MATERIAL}"
    ]


def test_a_label_naming_another_material_than_the_lot_is(warehouse) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(OTHER_MATERIAL_GTIN, "L-OK", EXPIRY))
    assert (answer["verdict"], answer["headline"]) == ("unknown", "WRONG MATERIAL — DO NOT USE")
    assert answer["reasons"] == [
        f"lot L-OK is a lot of {MATERIAL}, but the label names {OTHER_MATERIAL} "
        "(Microcrystalline cellulose): label and records disagree"
    ]


def test_a_label_whose_expiry_differs_from_the_records_is_refused(warehouse) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-OK", date(2029, 6, 30)))
    assert answer["headline"] == "LABEL DOES NOT MATCH RECORDS — DO NOT USE"
    assert answer["reasons"] == [
        "the label's expiry 2029-06-30 differs from the recorded expiry 2028-06-30"
    ]


def test_an_unknown_lot_is_said_to_be_unknown(warehouse) -> None:  # type: ignore[no-untyped-def]
    answer = scan(warehouse["qc"], barcode(MATERIAL_GTIN, "L-NONE", EXPIRY))
    assert (answer["verdict"], answer["headline"], answer["reasons"]) == (
        "unknown",
        "UNKNOWN LOT — DO NOT USE",
        [f"no lot L-NONE of {MATERIAL} is recorded"],
    )


def test_an_unreadable_barcode_is_refused_with_the_gs1_rule(warehouse) -> None:  # type: ignore[no-untyped-def]
    wrong_digit = MATERIAL_GTIN[:-1] + str((int(MATERIAL_GTIN[-1]) + 1) % 10)
    response = warehouse["qc"].post(
        "/api/v1/production/scan", json={"code": barcode(wrong_digit, "L-OK", EXPIRY)}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "bad_check_digit"


def test_the_scan_page_answers_in_large_coloured_words(warehouse, api) -> None:  # type: ignore[no-untyped-def]
    browser = api()
    browser_login(browser.client, "qc")
    ok = browser.client.get(
        "/production/scan", params={"code": barcode(MATERIAL_GTIN, "L-OK", EXPIRY, "hri")}
    )
    assert ok.status_code == 200
    assert 'class="scan-answer scan-positive"' in ok.text
    assert 'data-verdict="usable"' in ok.text
    assert "RELEASED — OK TO USE" in ok.text
    refused = browser.client.get(
        "/production/scan", params={"code": barcode(MATERIAL_GTIN, "L-QUAR", EXPIRY)}
    )
    assert 'class="scan-answer scan-negative"' in refused.text
    assert "QUARANTINE — DO NOT USE" in refused.text
    unreadable = browser.client.get("/production/scan", params={"code": "(01)123"})
    assert unreadable.status_code == 200
    assert 'data-verdict="unreadable"' in unreadable.text
    assert "UNREADABLE BARCODE — DO NOT USE" in unreadable.text
