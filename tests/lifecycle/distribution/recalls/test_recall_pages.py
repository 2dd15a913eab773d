"""The recall pages: the register, a recall opened by form with its notification list, a
refused approval (no password) that changes nothing, and the signed approval by form."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.distribution.recalls.chain import load
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.recalls.models import Recall


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def _recalls(db: Any) -> list[tuple[str, str, int]]:
    with unit_of_work(db, write=False) as s:
        return [(r.number, r.status, r.version) for r in s.scalars(select(Recall))]


def test_a_recall_is_opened_and_approved_on_its_pages(db, people, ui) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=1)
    answer = next(iter(chain.truth.values()))
    client = ui("qa")
    register = client.get("/distribution/recalls")
    assert register.status_code == 200 and "No recalls." in register.text
    opened = client.post(
        "/distribution/recalls",
        {
            "subjects": f"{answer.product}/{answer.lot_number}",
            "classification": "II",
            "depth": "pharmacy",
            "reason": "label mix-up",
            "target_pct": "95",
            "mock": "true",
        },
        referer="/distribution/recalls",
    )
    assert opened.status_code == 303, opened.text
    page = client.follow(opened)
    assert "(mock recall)" in page.text and 'id="recall-notifications"' in page.text
    assert page.text.count("data-place=") >= 2
    recall_id = int(opened.headers["location"].rsplit("/", 1)[-1])
    before = _recalls(db)
    refused = client.post(
        f"/distribution/recalls/{recall_id}/approve",
        {"password": ""},
        referer=f"/distribution/recalls/{recall_id}",
    )
    assert refused.status_code in (303, 422)
    assert _recalls(db) == before
    done = client.follow(
        client.post(
            f"/distribution/recalls/{recall_id}/approve",
            {"password": PASSWORD},
            referer=f"/distribution/recalls/{recall_id}",
        )
    )
    assert "approved and signed" in done.text
    assert [status for _, status, _ in _recalls(db)] == ["approved"]
    register = client.get("/distribution/recalls")
    assert 'data-status="approved"' in register.text and "style=" not in register.text
