"""The patient leaflet: a controlled document of type patient leaflet, named on the product's
master data, linked from the product page only while a version of it is in force."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lifecycle.distribution.productpage.page_steps import GTIN, counts, product_with_packs
from tests.quality.document_steps import name_job_role, take
from tests.support import PASSWORD

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.productpage import service

LEAFLET_BODY = "Package leaflet: information for the patient\n\n1. What Coldivax is\n..."


def _document(author: Any, approver: Any, doc_type: str, *, effective: bool) -> str:
    created = author.post(
        "/api/v1/documents",
        json={
            "doc_type": doc_type,
            "title": "Coldivax: information for the patient",
            "body": LEAFLET_BODY,
        },
    )
    assert created.status_code == 201, created.text
    version = created.json()
    if effective:
        take(author, "document_version", version["id"], "submit")
        take(approver, "document_version", version["id"], "approve", password=PASSWORD)
        if doc_type != "patient_leaflet":  # a leaflet needs no training (training_rules)
            name_job_role(approver, version["document_id"])
        take(approver, "document_version", version["id"], "make_effective")
    number: str = approver.get(f"/api/v1/documents/{version['document_id']}").json()["number"]
    return number


def _link(db: Any, people: Any, number: str | None) -> None:
    with unit_of_work(db) as s:
        service.link_patient_leaflet(
            s, actor=people.admin, gtin=GTIN, document_number=number, reason="leaflet named"
        )


def test_the_page_links_the_leaflet_in_force(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    product_with_packs(db, people)
    number = _document(api("qc"), api("qa"), "patient_leaflet", effective=True)
    assert number.startswith("PIL-")
    assert "Read the package leaflet in the pack" in api().get(f"/01/{GTIN}").text
    _link(db, people, number)
    page = api().get(f"/01/{GTIN}/10/L1")
    assert f'href="/leaflets/{GTIN}"' in page.text
    leaflet = api().get(f"/leaflets/{GTIN}")
    assert leaflet.status_code == 200
    assert "1. What Coldivax is" in leaflet.text and "version 1.0" in leaflet.text


def test_a_leaflet_not_in_force_is_not_linked(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    product_with_packs(db, people)
    draft = _document(api("qc"), api("qa"), "patient_leaflet", effective=False)
    _link(db, people, draft)
    assert 'data-testid="leaflet"' not in api().get(f"/01/{GTIN}").text
    assert api().get(f"/leaflets/{GTIN}").status_code == 404


def test_naming_a_document_that_is_no_leaflet_is_refused_and_changes_nothing(
    db, people, frozen_clock, api
) -> None:  # type: ignore[no-untyped-def]
    product_with_packs(db, people)
    sop = _document(api("qc"), api("qa"), "sop", effective=True)
    before = counts(db)
    for number, says in ((sop, "not a patient leaflet"), ("PIL-2026-9999", "no document")):
        with pytest.raises(InvalidInput, match=says):
            _link(db, people, number)
    assert counts(db) == before
    assert api().get(f"/leaflets/{GTIN}").status_code == 404


def _put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.client.put(url, headers=client.headers, json=body)


def test_master_data_staff_name_the_leaflet_through_the_api(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    product_with_packs(db, people)
    number = _document(api("qc"), api("qa"), "patient_leaflet", effective=True)
    url = f"/api/v1/product-pages/{GTIN}/leaflet"
    admin, qc = api("admin"), api("qc")  # signing in is audited: before counting
    before = counts(db)
    refused = _put(admin, url, {"document_number": "SOP-1", "reason": "x"})
    assert refused.status_code == 422
    assert _put(qc, url, {"document_number": number, "reason": "x"}).status_code == 403
    assert counts(db) == before
    done = _put(admin, url, {"document_number": number, "reason": "PIL approved"})
    assert done.status_code == 200, done.text
    assert done.json() == {"gtin": GTIN, "document_number": number, "in_force_version": "1.0"}
    assert f'href="/leaflets/{GTIN}"' in api().get(f"/01/{GTIN}").text
