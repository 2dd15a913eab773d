"""The batch record and release pages through a browser stand-in (session cookie, CSRF token,
forms): the shop-floor card of the current step with its limits, an entry refused in place
with the reason, an out-of-limit value flagged, QA's exception page, the release checklist red
and green, and every page read-only for an auditor."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.production.ebr_setup import (
    BALANCE,
    Plant,
    build_plant,
    make_batch,
    open_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.setup import MATERIAL, trail_counts
from tests.web.conftest import UiClient
from tests.web.support import flash_of

from pharmaqms.kernel.db import Database
from pharmaqms.lifecycle.production.batchrecords import release_trace


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def p(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Plant:
    return built[1].rebind(db, people, api)


def ui(app: Any, username: str) -> UiClient:
    client = UiClient(app)
    assert client.login(username).status_code == 303
    return client


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_operator_works_on_the_current_step_card(p: Plant, app: Any) -> None:
    record_id, _, steps = open_batch(p, "B6001")
    operator = ui(app, "operator")
    url = f"/production/batch-records/{record_id}"

    page = operator.get(url)

    assert page.status_code == 200
    shown = text(page.text)
    assert "Step 1 of 3 · Weigh the paracetamol" in shown
    assert "Weigh the API on the calibrated balance into a clean container." in shown
    assert "Quantity (kg) 50 kg ± 1 % (49.5 – 50.5) Dispense" in shown
    assert f'action="/production/batch-steps/{steps[0]}/materials"' in page.text

    # A wrong lot is refused in place, with the reason, and nothing is written
    before = trail_counts(p.db)
    refused = operator.post(
        f"/production/batch-steps/{steps[0]}/materials",
        {"material_code": MATERIAL, "lot_number": "NOPE-1", "quantity": "50", "unit": "kg"},
        referer=url,
    )
    assert flash_of(operator.follow(refused).text) == "no material lot NOPE-1 has been received"
    assert trail_counts(p.db) == before

    dispensed = operator.post(
        f"/production/batch-steps/{steps[0]}/materials",
        {"material_code": MATERIAL, "lot_number": p.material_lot, "quantity": "50,2", "unit": "kg"},
        referer=url,
    )
    assert dispensed.headers["location"] == f"/production/batch-records/{record_id}#step-1"
    after = operator.follow(dispensed)
    assert flash_of(after.text) == "M-PARA-API = 50.2 kg recorded."
    assert "✓ M-PARA-API dispensed" in after.text
    assert "Still to do before signing: record the balance used." in text(after.text)


def test_an_out_of_limit_value_is_flagged_in_red_for_the_operator_and_for_qa(
    p: Plant, app: Any, people: Any
) -> None:
    record_id, _, _ = make_batch(p, "B6002", impeller_speed=151)
    qa = ui(app, "qa")
    page = qa.get(f"/production/batch-records/{record_id}")
    assert "Exceptions (1 open)" in page.text
    assert 'class="step-done flagged" id="done-2"' in page.text

    review = qa.get(f"/production/batch-records/{record_id}/exceptions")
    shown = text(review.text)
    assert "BRX-2026-0001 · out of limit" in shown
    assert "impeller_speed = 151 rpm at step 2 is outside its limits 100 – 150 rpm" in shown
    assert 'data-open-dialog="dialog-accept-1"' in review.text
    assert "FAIL · Every exception reviewed by QA" in shown
    assert "PASS · Batch record complete and signed" in shown


def test_without_the_release_module_the_exceptions_page_sends_qa_to_the_checklist(
    p: Plant, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release module registers the rules' trace when imported (batchrecords/
    release_trace.py); a process that has not loaded it shows the exceptions, and says where
    the trace is instead of showing none or failing."""
    record_id, _, _ = make_batch(p, "B6005", impeller_speed=151)
    qa = ui(app, "qa")
    url = f"/production/batch-records/{record_id}/exceptions"
    # The registry is module-global: monkeypatch puts the release module's evaluation back
    # at undo (and at teardown), so no other test sees it missing.
    monkeypatch.setattr(release_trace, "_evaluation", [])

    review = qa.get(url)

    assert review.status_code == 200
    shown = text(review.text)
    assert "impeller_speed = 151 rpm at step 2 is outside its limits 100 – 150 rpm" in shown
    assert (
        "Trace of the release rules The release rules are not loaded in this process: their "
        "trace is on the lot's release checklist." in shown
    )
    assert "FAIL · " not in shown and "PASS · " not in shown
    monkeypatch.undo()
    assert "FAIL · Every exception reviewed by QA" in text(qa.get(url).text)


def test_the_release_checklist_is_red_until_every_rule_passes(p: Plant, app: Any) -> None:
    _, lot_id, _ = make_batch(p, "B6003")
    qp = ui(app, "qp")
    red = qp.get(f"/production/release/{lot_id}")
    assert red.status_code == 200
    assert (
        "1 of 11 rules fail: QC results in specification, no open OOS, certificate approved"
        in text(red.text)
    )
    assert 'data-testid="rule-qc_passed" data-passed="no"' in red.text
    assert '<button type="button" class="btn" disabled data-testid="release-button">' in red.text

    pass_qc(p, lot_id)
    green = qp.get(f"/production/release/{lot_id}")
    assert "All 11 rules pass" in text(green.text)
    assert 'data-open-dialog="dialog-release" data-testid="release-button"' in green.text
    queue = qp.get("/production/release")
    assert "all rules pass" in queue.text


def test_every_page_is_read_only_for_an_auditor(p: Plant, app: Any) -> None:
    record_id, lot_id, _ = open_batch(p, "B6004")
    auditor = ui(app, "auditor")
    for url in (
        "/production/batch-records",
        f"/production/batch-records/{record_id}",
        f"/production/batch-records/{record_id}/exceptions",
        f"/production/release/{lot_id}",
        "/production/release",
        "/production/masters",
        "/production/equipment",
    ):
        page = auditor.get(url)
        assert page.status_code == 200, url
        assert 'method="post" action="/production' not in page.text, url
        assert "data-open-dialog" not in page.text, url
    assert BALANCE in auditor.get("/production/equipment").text
