"""A refused CAPA form is shown again with the reason beside it and everything typed still in
it (the password excepted), and nothing is saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.quality.quality_steps import counts, user_id

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see tests/quality/test_deviations_api)."""


def _date(days: float) -> str:
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%d")


def test_a_refused_effectiveness_plan_keeps_what_was_typed(api: Any, ui: Any, db: Database) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa = qa.post(
        "/api/v1/capas",
        json={
            "title": "Track punch life",
            "problem_statement": "Punches used beyond their qualified life.",
            "owner_id": user_id(db, "supervisor"),
            "due_at": (clock.now() + timedelta(days=60)).isoformat(),
        },
    ).json()
    supervisor.post(
        f"/api/v1/capas/{capa['id']}/actions",
        json={
            "kind": "corrective",
            "description": "Replace worn punches",
            "owner_id": user_id(db, "supervisor"),
            "due_at": (clock.now() + timedelta(days=40)).isoformat(),
        },
    )
    client = ui("supervisor")
    client.get(f"/capas/{capa['id']}")
    before = counts(db)

    refused = client.post(
        f"/capas/{capa['id']}/effectiveness-plan",
        {
            "required": "yes",
            "criteria": "No punch failure in the next 50 batches",
            "due_at": _date(10),  # before the action it judges
            "justification": "",
        },
        referer=f"/capas/{capa['id']}",
    )

    assert refused.status_code == 422
    assert 'data-testid="form-error"' in refused.text
    assert "can&#39;t be due before the actions it judges" in refused.text
    assert 'value="No punch failure in the next 50 batches"' in refused.text
    assert f'value="{_date(10)}"' in refused.text
    assert counts(db) == before

    # Corrected, months after the CAPA's own due date: taken.
    taken = client.post(
        f"/capas/{capa['id']}/effectiveness-plan",
        {"required": "yes", "criteria": "No punch failure", "due_at": _date(180)},
        referer=f"/capas/{capa['id']}",
    )
    assert taken.status_code == 303
