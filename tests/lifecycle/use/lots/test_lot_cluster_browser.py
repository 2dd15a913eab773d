"""The lot-cluster scenario end to end in a real browser: reports cluster on one vaccine lot;
the PV officer takes in one more through the intake form, follows the case to its lot's safety
review, sees the lot flagged with its cold-chain excursion and its deviation, and raises a
signal; QA opens a CAPA from the same page; then the CAPA shows the lot, the cases and the
signal it came from, and the case and the signal each show the CAPA.

The browser is the session's one Chromium (the root conftest)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.distribution.alarms.setup import START, deliver, seed
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import excursions
from pharmaqms.lifecycle.distribution.models import Excursion
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.cases.intake import ProductReport
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.traceability import shipments
from pharmaqms.quality.deviations import service as deviations

pytestmark = pytest.mark.browser
VACCINE = "Influenza vaccine"  # VAX01 of the cold-chain set-up
LOTS = ("V-1", "V-2", "V-3", "V-4", "V-5")


@pytest.fixture
def server(db: Database) -> Iterator[str]:

    with served(app_for(db)) as base:
        yield base


def _vaccine_lots_with_a_cluster(db: Database, people: Any) -> dict[str, Any]:
    """Five released lots of 10 000 doses each, shipped; 11 reports on V-3, one on each other;
    V-3 was in cold room CR-1 during an excursion, and a deviation names it."""
    seed(db, people)
    ids: dict[str, int] = {}
    with unit_of_work(db) as s:
        for code in ("WH-1", "PH-1"):
            masterdata.add_location(s, actor=people.admin, code=code, name=code, kind="warehouse")
        for number in LOTS:
            lot = masterdata.add_lot(
                s,
                actor=people.admin,
                kind="finished",
                item_code="VAX01",
                lot_number=number,
                status="released",
            )
            s.flush()
            ids[number] = lot.id
            shipments.register_shipment(
                s,
                actor=people.logistics,
                code=f"SH-{number}",
                origin_code="WH-1",
                destination_code="PH-1",
                status="delivered",
            )
            shipments.load_lot(
                s,
                actor=people.logistics,
                shipment_code=f"SH-{number}",
                lot_id=lot.id,
                quantity=10_000,
                unit="dose",
                moved_at=datetime(2026, 2, 1, tzinfo=UTC),
                reference=f"DN-{number}",
            )
    with unit_of_work(db) as s:
        for number in LOTS:
            for i in range(11 if number == "V-3" else 1):
                cases.record_case(
                    s,
                    actor=people.pv,
                    report=staff_report(
                        patient_initials=f"P{i}",
                        products=(ProductReport(VACCINE, number),),
                    ),
                )
    deliver(db, people, [5.0, 5.0, *[9.0] * 8, 5.0], start=START)
    with unit_of_work(db) as s:
        excursion = s.scalars(select(Excursion)).one()
        excursions.name_affected_lot(
            s, actor=people.qa, excursion_id=excursion.id, lot_number="V-3", item_code="VAX01"
        )
        deviation = deviations.report_deviation(
            s,
            actor=people.operator,
            title="Vaccine lot V-3 left outside the cold room during picking",
            description="Pallet found at ambient temperature for 40 minutes.",
            area="Warehouse",
            occurred_at=START - timedelta(hours=5),
            discovered_at=START - timedelta(hours=4),
            product=VACCINE,
            batch_ids=["V-3"],
        )
        s.flush()
        return {"lots": ids, "excursion": excursion.number, "deviation": deviation.number}


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_lot_cluster_reaches_a_capa_and_every_record_shows_the_others(
    chromium: Any, server: str, db: Database, people: Any
) -> None:
    from playwright.sync_api import expect

    found = _vaccine_lots_with_a_cluster(db, people)
    v3 = found["lots"]["V-3"]
    context = chromium.new_context()
    page = context.new_page()

    # The PV officer takes in the twelfth report on V-3 through the intake form.
    _log_in(page, server, "pv")
    page.goto(f"{server}/pv/cases/new")
    form = page.get_by_test_id("case-intake")
    form.get_by_label("Received (UTC)").fill("2026-03-01T09:30")
    form.get_by_label("Product").fill(VACCINE)
    form.get_by_label("Lot").fill("V-3")
    form.get_by_label("As reported", exact=False).fill("fever and injection-site abscess")
    form.get_by_label("Weight (kg)").fill("64")
    form.get_by_label("Qualification").select_option("hcp")
    form.get_by_label("Country (ISO code)").fill("DE")
    form.get_by_role("button", name="Take in").click()
    expect(page.locator("h1")).to_contain_text("PV-2026-0016")
    case_url = page.url

    # From the case to its lot's safety review: flagged, with its excursion and deviation.
    page.get_by_test_id("lot-safety-link").click()
    page.wait_for_url(f"{server}/pv/lots/{v3}")
    body = page.locator("body")
    expect(body).to_contain_text(found["excursion"])
    expect(body).to_contain_text(found["deviation"])
    expect(page.get_by_test_id("lot-signal-form")).to_be_visible()  # shown only when flagged
    page.get_by_test_id("lot-signal-form").get_by_role("button").click()
    page.wait_for_url(re.compile(r".*/pv/signals/\d+$"))
    signal_url = page.url
    signal_number = page.locator("h1").inner_text().split()[0]
    assert signal_number.startswith("SIG-2026-")
    page.goto(case_url)
    expect(page.get_by_test_id("case-signals")).to_contain_text(signal_number)
    page.click("form[action='/logout'] button")

    # QA opens the CAPA from the lot page, the evidence as its problem statement.
    _log_in(page, server, "qa")
    page.goto(f"{server}/pv/lots/{v3}")
    capa_form = page.get_by_test_id("lot-capa-form")
    expect(capa_form.get_by_test_id("evidence")).to_contain_text(found["excursion"])
    capa_form.get_by_label("Owner").select_option(str(people.qa.user_id))
    capa_form.get_by_label("Due (UTC)").fill((clock.now() + timedelta(days=30)).date().isoformat())
    capa_form.get_by_role("button", name="Open CAPA").click()
    expect(page.locator("body")).to_contain_text("opened with the lot's evidence")
    flash = re.search(r"(CAPA-2026-\d+) opened", page.locator("body").inner_text())
    assert flash is not None
    capa_number = flash.group(1)
    page.locator(f"a:has-text('{capa_number}')").first.click()
    page.wait_for_url(re.compile(r".*/capas/\d+$"))
    capa_page = page.locator("body")
    expect(capa_page).to_contain_text("V-3")
    expect(capa_page).to_contain_text(signal_number)
    expect(capa_page).to_contain_text("PV-2026-0016")

    # And back: the case and the signal each show the CAPA they led to.
    for url in (case_url, signal_url):
        page.goto(url)
        link = page.locator(f"a:has-text('{capa_number}')")
        expect(link.first).to_be_visible()
    context.close()
