"""A signal raised from a lot the lot-rate test flags: the rate test's figures frozen, the
cases citing the lot as evidence, one open signal per lot; an unflagged lot is refused and
nothing changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.lifecycle.use.lots.lot_steps import concentrated
from tests.lifecycle.use.signals.signal_steps import counts
from tests.support import browser_login

from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.signals import service


def test_a_flagged_lot_raises_one_signal_with_its_rate_figures(
    db: Any, people: Any, app: Any, frozen_clock: Any
) -> None:
    lots = concentrated(db, people)
    client = TestClient(app)
    assert browser_login(client, "pv").status_code == 303
    page = client.get(f"/pv/lots/{lots['L3']}")
    assert 'data-testid="lot-signal-form"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    raised = client.post(
        f"/pv/lots/{lots['L3']}/signal",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert raised.status_code == 303, raised.text
    with unit_of_work(db, write=False) as session:
        [row] = service.register_rows(session)[0]
        signal = row.signal
        assert (signal.source, signal.lot_number, signal.table_a, row.cases) == (
            "lot_rate",
            "L3",
            12,
            12,
        )
        assert signal.figures["rate_ratio"] > 2
        assert signal.figures["p_value"] < signal.figures["threshold"]
    assert "/pv/lots/" in client.get(raised.headers["location"]).text

    before = counts(db)
    for lot in ("L3", "L1"):  # an open signal exists already; L1 is not flagged
        with pytest.raises(Conflict), unit_of_work(db) as session:
            service.raise_from_lot(session, actor=people.pv, lot_id=lots[lot])
    assert counts(db) == before
