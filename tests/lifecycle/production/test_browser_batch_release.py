"""End to end in a real browser: the operator executes the two steps of a batch on the shop-floor
page (dispensing with the lot, the balance, a parameter, the granulator, each step signed in the
signature dialog); after the production review and QC, the qualified person opens the release
checklist, sees every rule green and releases the batch with an e-signature.

The browser is the session's one Chromium (``tests/web/conftest.py``)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.production.ebr_setup import (
    BALANCE,
    GRANULATOR,
    Plant,
    build_plant,
    effective_master,
    pass_qc,
    plant_database,
    steps,
)
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def live_server(db: Database, frozen_clock: Any) -> Iterator[str]:

    with served(app_for(db)) as base:
        yield base


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def sign(page: Any, transition: str) -> None:
    page.click(f"button[data-open-dialog=dialog-{transition}]")
    dialog = page.locator(f"dialog#dialog-{transition}")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()


def test_the_operator_executes_two_steps_and_the_qp_releases_the_batch(
    chromium: Any,
    live_server: str,
    built: tuple[Path, Plant],
    db: Database,
    people: Any,
    api: Any,
    frozen_clock: Any,
) -> None:
    from playwright.sync_api import expect

    p = built[1].rebind(db, people, api)
    two = copy.deepcopy(steps(p.sop)[:2])
    two[0]["verification_required"] = False
    master_id = effective_master(db, people, two)
    with unit_of_work(db) as s:
        record = service.open_batch_record(
            s, actor=people.supervisor, master_id=master_id, lot_number="B8001"
        )
        s.flush()
        record_id, lot_id = record.id, record.lot_id
    base = live_server
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        # Given Otto (operator) at the batch record of B8001
        log_in(page, base, "operator")
        page.goto(f"{base}/production/batch-records/{record_id}")
        card = page.get_by_test_id("current-step")
        expect(card).to_contain_text("Step 1 of 2 · Weigh the paracetamol")
        expect(card).to_contain_text("50 kg ± 1 % (49.5 – 50.5)")

        # When he dispenses the API lot on the balance and signs step 1
        material = page.get_by_test_id("material-M-PARA-API")
        material.locator("input[name=lot_number]").fill(p.material_lot)
        material.locator("input[name=quantity]").fill("50.1")
        material.locator("button[type=submit]").click()
        expect(page.get_by_test_id("flash")).to_have_text("M-PARA-API = 50.1 kg recorded.")
        equipment = page.get_by_test_id("equipment-balance")
        equipment.locator("select[name=equipment_code]").select_option(BALANCE)
        equipment.locator("button[type=submit]").click()
        expect(page.get_by_test_id("flash")).to_have_text(f"{BALANCE} recorded.")
        sign(page, "perform")
        expect(page.get_by_test_id("flash")).to_contain_text("signed “Performed”")

        # And enters the granulation values (one at the edge of its limits) and signs step 2
        card = page.get_by_test_id("current-step")
        expect(card).to_contain_text("Step 2 of 2 · Granulate")
        for name, value in (("impeller_speed", "150"), ("granulation_time", "10")):
            row = page.get_by_test_id(f"value-{name}")
            row.locator("input[name=value]").fill(value)
            row.locator("button[type=submit]").click()
            expect(page.get_by_test_id("flash")).to_contain_text("recorded.")
        page.get_by_test_id("equipment-granulator").locator("select").select_option(GRANULATOR)
        page.get_by_test_id("equipment-granulator").locator("button[type=submit]").click()
        sign(page, "perform")
        expect(page.get_by_test_id("flash")).to_contain_text("signed “Performed”")
        expect(page.get_by_test_id("current-step")).to_have_count(0)
        expect(page.get_by_test_id("step-2")).to_contain_text("performed")
        expect(page.get_by_test_id("exceptions-link")).to_have_text("Exceptions (0 open)")

        # Then, the production review done and QC passed, Petra (QP) releases the batch
        with unit_of_work(db) as s:
            service.complete_batch_record(
                s, actor=people.supervisor, record_id=record_id, password=PASSWORD
            )
        pass_qc(p, lot_id)
        frozen_clock.advance(minutes=90)
        page.click("form[action='/logout'] button")
        log_in(page, base, "qp")
        page.goto(f"{base}/production/release")
        page.click("text=B8001")
        expect(page.get_by_test_id("verdict")).to_have_text("All 11 rules pass")
        expect(page.locator("[data-passed=no]")).to_have_count(0)
        page.get_by_test_id("release-button").click()
        dialog = page.locator("dialog#dialog-release")
        expect(dialog).to_contain_text("Signature meaning: Released")
        dialog.locator("input[name=password]").fill(PASSWORD)
        dialog.locator("textarea[name=comment]").fill("Batch certified")
        dialog.locator("button[type=submit]").click()

        expect(page.get_by_test_id("flash")).to_have_text(
            "REL-2026-0001: batch released, signed “Released”."
        )
        decision = page.get_by_test_id("decision")
        expect(decision).to_contain_text("REL-2026-0001 · released")
        expect(decision.get_by_test_id("signature").locator(".manifestation")).to_have_text(
            "Released by Petra Qualified (qp) on 2026-03-02 10:30:00 UTC (+00:00)"
        )
        expect(decision).to_contain_text("release cycle time 1.5 h from the end of manufacture")
    finally:
        context.close()
