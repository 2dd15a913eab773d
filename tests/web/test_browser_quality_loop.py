"""End to end in a real browser: the analyst investigating a deviation raises a CAPA from it;
the owner plans it; QA approves the plan with a signature; the owner does the action; QA
records the passed effectiveness check and closes the CAPA, both signed; the deviation is
approved and closed — and each page shows the loop closed on both sides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.live_server import served
from tests.support import PASSWORD, app_for

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations import impact, service

pytestmark = pytest.mark.browser


@pytest.fixture
def quality_server(db: Database) -> Iterator[str]:
    """The application served by uvicorn in a thread, against this test's database."""

    with served(app_for(db)) as base:
        yield base


def _deviation_under_investigation(db: Database, people: Any) -> int:
    now = clock.now()
    with unit_of_work(db) as session:
        deviation = service.report_deviation(
            session,
            actor=people.operator,
            title="Upper punch broken during compression",
            description="The upper punch of station 12 broke.",
            area="Production",
            occurred_at=now - timedelta(hours=5),
            discovered_at=now - timedelta(hours=4),
            product="Paracetamol 500 mg tablets",
            batch_ids=["PA-2603-117"],
            immediate_actions="Press stopped, batch quarantined.",
        )
        session.flush()
        did = deviation.id
        service.classify_deviation(
            session,
            actor=people.qa,
            deviation_id=did,
            classification="major",
            severity=4,
            probability=2,
            detectability=3,
            severity_basis="Fragments could reach patients.",
            probability_basis="First failure in two years.",
            detectability_basis="Metal detector catches large fragments only.",
            investigator_id=people.qc.user_id,
        )
        service.record_investigation(
            session,
            actor=people.qc,
            deviation_id=did,
            root_cause="Punch used beyond its qualified life.",
            root_cause_category="machine",
            why_chain=["The punch broke.", "It was fatigued.", "Strokes are not counted."],
            fishbone={"machine": ["punch fatigue"]},
        )
        [batch] = service.get_deviation(session, did).batches
        impact.assess_batch(
            session,
            actor=people.qc,
            deviation_id=did,
            batch_ref_id=batch.id,
            impact_assessment="Every tablet passed the metal detector.",
        )
    return did


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _log_out(page: Any, base: str) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{base}/login")


def _sign(page: Any, transition: str, comment: str = "") -> None:
    """Open the signature dialog of a workflow button and sign with the password."""
    page.click(f"button[data-open-dialog='dialog-{transition}']")
    dialog = page.locator(f"#dialog-{transition}")
    dialog.locator("input[name=password]").fill(PASSWORD)
    if comment:
        dialog.locator("textarea[name=comment]").fill(comment)
    dialog.locator("button[type=submit]").click()


def test_deviation_capa_effectiveness_and_closure_in_the_browser(
    chromium: Any, quality_server: str, db: Database, people: Any
) -> None:
    from playwright.sync_api import expect

    base = quality_server
    did = _deviation_under_investigation(db, people)
    in_60_days = (clock.now() + timedelta(days=60)).strftime("%Y-%m-%d")
    in_30_days = (clock.now() + timedelta(days=30)).strftime("%Y-%m-%d")
    in_50_days = (clock.now() + timedelta(days=50)).strftime("%Y-%m-%d")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flash = page.get_by_test_id("flash")
    try:
        # Given the investigating analyst raises a CAPA from the deviation
        _log_in(page, base, "qc")
        page.click("nav.main-menu >> text=Deviations")
        page.click("text=DEV-2026-0001")
        page.click("text=Raise a CAPA from this deviation")
        form = page.get_by_test_id("raise-capa-form")
        form.locator("select[name=owner_id]").select_option(label="Sam Supervisor (supervisor)")
        form.locator("input[name=due_at]").fill(in_60_days)
        form.locator("button[type=submit]").click()
        expect(flash).to_have_text("CAPA-2026-0001 raised from the deviation.")
        capa_url = page.url
        expect(page.get_by_test_id("raised-from")).to_contain_text("DEV-2026-0001")
        page.goto(f"{base}/deviations/{did}")
        page.click("button[data-transition='submit']")
        expect(flash).to_contain_text("status now pending approval")
        _log_out(page, base)

        # And the owner plans an action and the effectiveness check, and submits the plan
        _log_in(page, base, "supervisor")
        page.goto(capa_url)
        add = page.get_by_test_id("add-action-form")
        add.locator("input[name=description]").fill("Count strokes per punch set")
        add.locator("input[name=due_at]").fill(in_30_days)
        add.locator("button[type=submit]").click()
        expect(flash).to_have_text("Corrective action added.")
        # the effectiveness plan stands open while nothing is decided
        plan = page.get_by_test_id("effectiveness-plan-form")
        plan.locator("input[name=criteria]").fill("No punch failure in 50 batches")
        plan.locator("input[name=due_at]").fill(in_50_days)
        plan.locator("button[type=submit]").click()
        expect(flash).to_have_text("Effectiveness plan saved.")
        page.click("button[data-transition='submit_plan']")
        expect(flash).to_contain_text("status now plan approval")
        _log_out(page, base)

        # When QA approves the plan with a signature
        _log_in(page, base, "qa")
        page.goto(capa_url)
        _sign(page, "approve_plan", "actions address the root cause")
        expect(flash).to_have_text(
            "CAPA-2026-0001: Approve plan done, signed “Approved”; status now implementation."
        )
        _log_out(page, base)

        # And the owner does the action and hands the CAPA to the effectiveness check
        _log_in(page, base, "supervisor")
        page.goto(capa_url)
        done = page.locator("[data-testid^='complete-action-']")
        done.locator("input[name=evidence]").fill("Counters active on both presses")
        done.locator("button[type=submit]").click()
        expect(flash).to_have_text("Action #1 done.")
        page.click("button[data-transition='start_effectiveness_check']")
        expect(flash).to_contain_text("status now effectiveness check")
        _log_out(page, base)

        # Then QA records the passed check (signed) and closes the CAPA (signed)
        _log_in(page, base, "qa")
        page.goto(capa_url)
        result = page.get_by_test_id("effectiveness-result-form")
        result.locator("textarea[name=evidence]").fill("50 batches without a punch failure")
        # the check is due in 50 days: judging it today needs the reason
        result.locator("input[name=early_reason]").fill("the 50 batches ran in the first week")
        result.locator("input[name=password]").fill(PASSWORD)
        result.locator("button[type=submit]").click()
        expect(flash).to_have_text("Effectiveness check passed (signed): the CAPA can be closed.")
        _sign(page, "close")
        expect(flash).to_have_text(
            "CAPA-2026-0001: Close done, signed “Closed”; status now closed."
        )
        signatures = page.get_by_test_id("signature")
        expect(signatures).to_have_count(3)
        expect(signatures.nth(0)).to_contain_text("Approved by Quentin Quality (qa)")
        expect(signatures.nth(1)).to_contain_text("Verified by Quentin Quality (qa)")
        expect(signatures.nth(2)).to_contain_text("Closed by Quentin Quality (qa)")
        _log_out(page, base)

        # And the deviation is approved by another QA person, its batch released, and closed
        _log_in(page, base, "qa2")
        page.goto(f"{base}/deviations/{did}")
        _sign(page, "approve")
        expect(flash).to_contain_text("status now approved")
        page.locator("form[action$='/disposition'] input[name=note]").fill("No impact shown")
        page.locator("form[action$='/disposition'] button[type=submit]").click()
        expect(flash).to_have_text("Disposition of batch PA-2603-117 recorded.")
        _sign(page, "close")
        expect(flash).to_contain_text("status now closed")
        expect(page.get_by_test_id("led-to")).to_contain_text("CAPA-2026-0001")
        expect(page.get_by_test_id("led-to")).to_contain_text("(closed)")
    finally:
        context.close()
