"""The public product page (GS1 Digital Link): what a person holding a pack reads, that each
scan with a serial is recorded as a verification on the product page channel, that nothing
internal shows, and that malformed codes and floods are refused without a trace."""

from __future__ import annotations

import re

import pytest
from tests.lifecycle.distribution.productpage.page_steps import (
    GTIN,
    PRODUCT,
    SUPPLIER,
    counts,
    product_with_packs,
    verifications,
)

from pharmaqms.lifecycle.distribution.productpage import views

PAGE = f"/01/{GTIN}/10/L1/21/"


@pytest.fixture
def shop(db, people, frozen_clock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return product_with_packs(db, people)


def _answer(html: str) -> str | None:
    found = re.search(r'data-testid="authenticity" data-answer="([a-z_]+)"', html)
    return found.group(1) if found else None


@pytest.mark.postgres
def test_a_genuine_pack_shows_product_lot_expiry_storage_and_a_side_effect_link(
    shop, api, db
) -> None:  # type: ignore[no-untyped-def]
    page = api().get(PAGE + "S1", params={"17": "280131"})
    assert page.status_code == 200, page.text
    html = page.text
    assert _answer(html) == "genuine"
    assert PRODUCT in html and "0.5 mL" in html
    assert 'data-testid="lot">L1<' in html
    assert "31 January 2028" in html
    assert "Store between 2 °C and 8 °C." in html
    assert "No recall for this batch" in html
    assert f'href="/report-side-effect?01={GTIN}&amp;10=L1"' in html
    assert verifications(db) == [("S1", "genuine", "product_page")]


@pytest.mark.postgres
def test_unknown_recalled_and_dispensed_packs_say_so(shop, api, db) -> None:  # type: ignore[no-untyped-def]
    client = api()
    unknown = client.get(PAGE + "S999")
    assert _answer(unknown.text) == "unknown_serial"
    assert "never issued by us" in unknown.text
    recalled = client.get(PAGE + "S3")
    assert _answer(recalled.text) == "recalled"
    assert 'data-testid="recall"' in recalled.text
    assert 'data-testid="recall-status">Recalled<' in recalled.text
    dispensed = client.get(PAGE + "S2")
    assert _answer(dispensed.text) == "already_dispensed"
    assert "already handed out by a pharmacy" in dispensed.text
    assert verifications(db) == [
        ("S999", "unknown_serial", "product_page"),
        ("S3", "recalled", "product_page"),
        ("S2", "already_dispensed", "product_page"),
    ]


@pytest.mark.postgres
def test_a_lot_recalled_in_master_data_shows_recalled_without_a_serial(shop, api, db) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    page = api().get(f"/01/{GTIN}/10/L9")
    assert page.status_code == 200
    assert 'data-testid="recall-status">Recalled<' in page.text
    assert "31 May 2027" in page.text
    # No serial, no verification: the page says how to check instead.
    assert _answer(page.text) is None and "with its serial number" in page.text
    assert counts(db) == before


def test_a_lot_and_serial_with_a_percent_encoded_slash(db, people, frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    """AI 10 and 21 allow '/': the Digital Link carries it as %2F, and the page reads it back
    from the raw path instead of taking it for a segment."""
    from datetime import date

    from pharmaqms.lifecycle.distribution.productpage.labels import PackCode

    product_with_packs(db, people)
    declared = api("qa").post(
        "/api/v1/serials/ranges",
        json={
            "gtin": GTIN,
            "lot_number": "B/7",
            "expires_on": "2027-06-30",
            "prefix": "R/",
            "first": 1,
            "last": 9,
            "width": 3,
        },
    )
    assert declared.status_code == 201, declared.text
    link = PackCode(GTIN, date(2027, 6, 30), "B/7", "R/001").digital_link("")
    assert "B%2F7" in link and "R%2F001" in link
    page = api().get(link)
    assert page.status_code == 200, page.text
    assert _answer(page.text) == "genuine"
    assert 'data-testid="lot">B/7<' in page.text
    assert f'href="/report-side-effect?01={GTIN}&amp;10=B%2F7"' in page.text


def test_the_gtin_alone_and_a_printed_expiry_we_do_not_hold(shop, api) -> None:  # type: ignore[no-untyped-def]
    only = api().get(f"/01/{GTIN}")
    assert only.status_code == 200 and PRODUCT in only.text
    assert "Scan the batch to check for a recall" in only.text
    # A lot we hold no record of: the expiry shown is the one printed, said to be so.
    printed = api().get(f"/01/{GTIN}/10/X7", params={"17": "270600"})
    assert "30 June 2027 (as printed on the pack)" in printed.text


@pytest.mark.postgres
def test_nothing_internal_shows(shop, api, people) -> None:  # type: ignore[no-untyped-def]
    for url in (PAGE + "S1", PAGE + "S2", PAGE + "S3", PAGE + "S999", f"/01/{GTIN}/10/L1"):
        html = api().get(url).text
        assert SUPPLIER not in html and "SUP-4711" not in html
        assert "PRD-COLDIVAX-77" not in html  # the internal product code
        assert "urn:epc" not in html
        for name in ("system", "logistics", "admin", people.admin.full_name):
            assert f">{name}<" not in html
        for key, value in shop.items():
            assert f"{key}_id" not in html and f'/{value}"' not in html
        # The rule's internal detail and regulatory basis stay in the verification record.
        assert "Delegated Reg" not in html and "belongs to another lot" not in html


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/01/19506000343523/10/L1/21/S1", "check digit"),  # wrong check digit
        ("/01/12345/10/L1/21/S1", "GTIN"),
        (f"/01/{GTIN}/10/L1/21/" + "S" * 21, "serial"),
        (f"/01/{GTIN}/10/L%20 1/21/S1", "lot"),
        (f"/01/{GTIN}/10/L1/21/S1?17=281399", "exp"),
        (f"/01/{GTIN}/10/L1/21/S1?17=2801311", "exp"),
        (f"/01/{GTIN}?17=" + "9" * 5000, "exp"),
        (f"/01/{GTIN}/10/L1/22/S1", "not a pack"),  # 22 is no qualifier after 10
        (f"/01/{GTIN}/10/L1/21/S1/x", "not a pack"),
    ],
)
def test_a_malformed_code_gets_a_clear_422_page_and_records_nothing(
    shop, api, db, url, says
) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    page = api().get(url)
    assert page.status_code == 422, page.text
    assert "could not be read" in page.text and says in page.text
    assert counts(db) == before


def test_a_gtin_that_is_not_ours_gets_a_404_page(shop, api, db) -> None:  # type: ignore[no-untyped-def]
    before = counts(db)
    page = api().get("/01/04006381333931/10/L1/21/S1")
    assert page.status_code == 404 and "does not belong to one of our medicines" in page.text
    assert counts(db) == before


def test_one_address_is_limited_and_a_refused_scan_records_nothing(shop, api, db) -> None:  # type: ignore[no-untyped-def]
    client = api()
    for _ in range(views.LIMITER.limit):
        assert client.get(PAGE + "S1").status_code == 200
    before = counts(db)
    refused = client.get(PAGE + "S1")
    assert refused.status_code == 429 and "Too many" in refused.text
    assert client.get(f"/leaflets/{GTIN}").status_code == 429
    assert counts(db) == before
    assert len(verifications(db)) == views.LIMITER.limit


def test_a_patient_rescanning_a_dispensed_pack_raises_no_falsification_alert(shop, api, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.quality.deviations.models import Deviation

    for _ in range(3):
        assert _answer(api().get(PAGE + "S2").text) == "already_dispensed"
    with unit_of_work(db, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Deviation)) == 0
    assert verifications(db) == [("S2", "already_dispensed", "product_page")] * 3
    # The supply chain's own second check still raises the alert; page scans do not count.
    first = api("logistics").get(f"/api/v1/verify/01/{GTIN}/10/L1/21/S2")
    assert first.json()["suspected_falsification"] is None
    second = api("logistics").get(f"/api/v1/verify/01/{GTIN}/10/L1/21/S2")
    assert second.json()["suspected_falsification"] is not None
