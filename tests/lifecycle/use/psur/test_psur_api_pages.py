"""Periodic summaries over HTTP and the command line: the figures and the draft PDF for any
reader, signing for the QPPV alone (refusals as problem+json that change nothing), the
signed report's page and its PDF as signed; the page shows the tables and the chart."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from tests.kernel.cli import run_cli
from tests.lifecycle.use.psur.psur_steps import PRODUCT, add_person, hand_built_cases, psur_counts
from tests.lifecycle.use.psur.test_psur_signing import pdf_text
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock

QUERY = {"product": PRODUCT, "start": "2026-01-01", "end": "2026-01-31"}
BODY = {
    "product": PRODUCT,
    "period_start": "2026-01-01",
    "period_end": "2026-01-31",
    "password": PASSWORD,
}


@pytest.fixture
def made(db: Any, people: Any, frozen_clock: clock.FrozenClock) -> dict[str, str]:
    add_person(db, "qppv", ["qppv"])
    return hand_built_cases(db, people)


def test_the_api_gives_figures_a_draft_and_signs_for_the_qppv(api: Any, db: Any, made: Any) -> None:
    reader, qppv = api("auditor"), api("qppv")
    figures = reader.get("/api/v1/pv/psur", params=QUERY)
    assert figures.status_code == 200, figures.text
    assert figures.json()["figures"]["totals"]["interval"]["cases"] == 3
    draft = reader.get("/api/v1/pv/psur/draft.pdf", params=QUERY)
    assert draft.status_code == 200 and draft.headers["content-type"] == "application/pdf"
    assert "DRAFT - NOT SIGNED" in pdf_text(draft.content)

    signed = qppv.post("/api/v1/pv/psur/reports", json=BODY)
    assert signed.status_code == 201, signed.text
    report = signed.json()
    assert report["status"] == "signed"
    assert [s["meaning"] for s in report["signatures"]] == ["Approved"]
    assert report["figures"]["totals"] == figures.json()["figures"]["totals"]
    pdf = reader.get(report["pdf_url"])
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.content).hexdigest() == report["pdf_sha256"]
    listed = reader.get("/api/v1/pv/psur/reports").json()
    assert [r["number"] for r in listed] == [report["number"]]
    assert reader.get(f"/api/v1/pv/psur/reports/{report['id']}").json()["id"] == report["id"]


def test_signing_refusals_are_problems_that_change_nothing(api: Any, db: Any, made: Any) -> None:
    before = psur_counts(db)
    wrong = api("qppv").post("/api/v1/pv/psur/reports", json={**BODY, "password": "nope"})
    assert wrong.status_code in (401, 403, 422), wrong.text
    assert "password" in wrong.json()["detail"]
    pv = api("pv").post("/api/v1/pv/psur/reports", json=BODY)
    assert pv.status_code == 403, pv.text
    backwards = api("qppv").post(
        "/api/v1/pv/psur/reports", json={**BODY, "period_end": "2025-12-01"}
    )
    assert backwards.status_code == 422 and "ends before" in backwards.text
    unknown = api("qppv").post("/api/v1/pv/psur/reports", json={**BODY, "extra": 1})
    assert unknown.status_code == 422
    after = psur_counts(db)
    for model in ("PeriodicSafetyReport", "PeriodicReportFile", "ElectronicSignature"):
        assert after[model] == before[model]
    assert api("auditor").get("/api/v1/pv/psur/reports/99999").status_code == 404


def test_the_page_shows_the_tables_and_the_qppv_signs_there(app: Any, db: Any, made: Any) -> None:
    reader = UiClient(app)
    reader.login("qa")
    page = reader.get("/pv/psur", params=QUERY)
    assert page.status_code == 200, page.text
    assert 'data-testid="psur-totals"' in page.text and "<svg" in page.text
    assert 'data-term="hepatic failure" data-interval="2" data-cumulative="2"' in page.text
    assert made["C7"] in page.text
    assert 'data-testid="psur-sign-form"' not in page.text  # qa does not sign PSURs
    refused = reader.get("/pv/psur", params={**QUERY, "end": "2027-01-01"})
    assert "future" in refused.text

    qppv = UiClient(app)
    qppv.login("qppv")
    page = qppv.get("/pv/psur", params=QUERY)
    assert 'data-testid="psur-sign-form"' in page.text
    done = qppv.post(
        "/pv/psur/reports",
        {"product": PRODUCT, "start": "2026-01-01", "end": "2026-01-31", "password": PASSWORD},
        referer="/pv/psur",
    )
    report_page = qppv.follow(done)
    assert "signed and stored" in report_page.text
    assert "Approved by QPPV Person (qppv)" in report_page.text
    url = done.headers["location"]
    pdf = reader.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_command_writes_a_draft(db: Any, made: Any, tmp_path: Path) -> None:
    out = tmp_path / "psur.pdf"
    result = run_cli(
        db, "pv", "psur", PRODUCT, "--from", "2026-01-01", "--to", "2026-01-31", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "3 cases in the interval, 4 cumulative" in result.stdout
    assert "Draft: not signed" in pdf_text(out.read_bytes())
    again = run_cli(
        db, "pv", "psur", PRODUCT, "--from", "2026-01-01", "--to", "2026-01-31", "--out", str(out)
    )
    assert again.exit_code != 0 and "exists already" in again.output + again.stderr
