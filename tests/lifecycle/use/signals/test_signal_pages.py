"""The signal pages: the dashboard with the disproportionality table, the volcano plot (SVG,
thresholds drawn, the flagged pair linked to its signal) and the register; a signal's page
with its 2×2 table, evidence and the signed steps; the assessment and action forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.use.signals.signal_steps import add_qppv, take_in
from tests.support import PASSWORD, browser_login

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.signals import detection
from pharmaqms.lifecycle.use.signals.models import PVSignal


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


def browser(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    assert browser_login(client, username).status_code == 303
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_dashboard_shows_the_table_the_volcano_and_the_register(
    db: Any, people: Any, app: Any
) -> None:
    take_in(db, people)
    pv = browser(app, "pv")
    page = pv.get("/pv/signals")
    assert page.status_code == 200, page.text
    assert "No signals yet." in page.text
    assert page.text.count('data-testid="pair"') == 3
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="volcano"' in page.text
    assert page.text.count('class="threshold"') == 2

    run = pv.post(
        "/pv/signals/detection",
        data={"csrf_token": csrf(page.text), "methods": ["prr", "ror"], "min_count": "3"},
        follow_redirects=False,
    )
    assert run.status_code == 303, run.text
    with unit_of_work(db, write=False) as session:
        [signal] = session.scalars(select(PVSignal)).all()
        signal_id, number = signal.id, signal.number
    page = pv.get("/pv/signals?sort=PRR")
    assert f'data-testid="signal-{number}"' in page.text
    # The flagged pair is linked from the table and from its point in the plot.
    assert f'<a href="/pv/signals/{signal_id}" data-testid="pair-signal">{number}</a>' in page.text
    linked_point = f'<a href="/pv/signals/{signal_id}" data-testid="volcano-link">'
    assert linked_point + '<circle class="point flagged"' in page.text
    # Ordered by PRR, the flagged pair (PRR 8.8) comes first.
    first = page.text.index('data-testid="pair"')
    assert "Drug X" in page.text[first : first + 200]


def test_a_signal_page_explains_its_figures_and_takes_the_lifecycle(
    db: Any, people: Any, app: Any
) -> None:
    take_in(db, people)
    add_qppv(db)
    with unit_of_work(db) as session:
        [signal] = detection.run_detection(session, actor=people.pv).opened
        session.flush()
        signal_id = signal.id
    pv = browser(app, "pv")
    page = pv.get(f"/pv/signals/{signal_id}")
    assert page.status_code == 200, page.text
    assert "a = 4" in page.text and "d = 10" in page.text and "N = 16" in page.text
    assert page.text.count("/pv/cases/") >= 4
    assert 'id="dialog-validate"' in page.text  # the signature dialog
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version is not None
    signed = pv.post(
        f"/records/pv_signal/{signal_id}/transitions/validate",
        data={
            "csrf_token": csrf(page.text),
            "expected_version": version.group(1),
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    page = pv.get(f"/pv/signals/{signal_id}")
    assert 'data-testid="assessment-form"' in page.text
    assessed = pv.post(
        f"/pv/signals/{signal_id}/assessment",
        data={
            "csrf_token": csrf(page.text),
            "assessment": "Four cases with positive dechallenge.",
            "conclusion": "confirmed",
            "risk": "identified_risk",
        },
        follow_redirects=False,
    )
    assert assessed.status_code == 303, assessed.text
    page = pv.get(f"/pv/signals/{signal_id}")
    acted = pv.post(
        f"/pv/signals/{signal_id}/actions",
        data={
            "csrf_token": csrf(page.text),
            "kind": "change_control",
            "title": "Update the SmPC",
            "description": "Add hepatitis to section 4.8.",
        },
        follow_redirects=False,
    )
    assert acted.status_code == 303, acted.text
    page = pv.get(f"/pv/signals/{signal_id}")
    assert 'data-testid="action-record"' in page.text
    qppv = browser(app, "qppv")
    page = qppv.get(f"/pv/signals/{signal_id}")
    assert 'id="dialog-close"' in page.text
