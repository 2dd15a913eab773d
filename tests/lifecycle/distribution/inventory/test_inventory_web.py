"""The inventory API and pages on stock delivered by the WMS connector: the stock register with
its derived statuses and filters, a FEFO proposal that never offers the held, quarantined or
short-dated lot, the expiry register's flags, the reorder page; refusals change nothing."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.platform.inventory_setup import GTIN, network
from tests.web.conftest import UiClient

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot

API = "/api/v1/distribution/inventory"
HEADER = (
    "movement_type,gtin,product_code,lot_number,quantity,unit,from_location,to_location,"
    "moved_at,reference,order\n"
)


def stocked(db: Any, people: Any) -> None:
    """L1 (exp. 2028-06-30) 100 at WH-A and 50 at WH-B; L2 (2027-01-31) 80 at WH-A, then put
    on hold; L3 in quarantine 60 at WH-B; L4 (2026-05-15, 74 days left) 40 at WH-A; 30 of L1
    shipped to PH-1 on 2026-02-20."""
    network(db, people)
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code="PARA",
            lot_number="L4",
            expires_on=date(2026, 5, 15),
            status="released",
        )
    rows = [
        ("receipt", "L1", 100, "", "WH-A", "R1"),
        ("receipt", "L1", 80, "", "WH-B", "R2"),
        ("receipt", "L2", 80, "", "WH-A", "R3"),
        ("receipt", "L3", 60, "", "WH-B", "R4"),
        ("receipt", "L4", 40, "", "WH-A", "R5"),
        ("shipment", "L1", 30, "WH-B", "PH-1", "S1"),
    ]
    content = HEADER + "".join(
        f"{kind},{GTIN},,{lot},{qty},ea,{src},{dst},2026-02-{10 + i * 2:02d}T08:00:00Z,{ref},\n"
        for i, (kind, lot, qty, src, dst, ref) in enumerate(rows)
    )
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="wms", content=content.encode())
        assert run.rows_accepted == 6, run.rows_quarantined
        lot2 = s.scalars(select(Lot).where(Lot.lot_number == "L2")).one()
        masterdata.set_lot_status(s, lot2, "on_hold", actor=people.qa, reason="excursion")


def _audit(db: Any) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_stock_and_fefo_through_the_api(db, people, api, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    stocked(db, people)
    client = api("logistics")
    stock = client.get(f"{API}/stock").json()
    assert {(x["lot_number"], x["location"], x["status"], x["quantity"]) for x in stock} == {
        ("L1", "WH-A", "released", 100.0),
        ("L1", "WH-B", "released", 50.0),
        ("L2", "WH-A", "on_hold", 80.0),
        ("L3", "WH-B", "quarantine", 60.0),
        ("L4", "WH-A", "released", 40.0),
    }
    held = client.get(f"{API}/stock", params={"status": "on_hold"}).json()
    assert [x["lot_number"] for x in held] == ["L2"]
    assert client.get(f"{API}/stock", params={"status": "lost"}).status_code == 422

    before = _audit(db)
    body: dict[str, Any] = {"product": "PARA", "quantity": 120, "min_days": 90}
    proposal = client.get(f"{API}/fefo-proposal", params=body).json()
    assert [(p["lot_number"], p["location"], p["quantity"]) for p in proposal["picks"]] == [
        ("L1", "WH-A", 100.0),
        ("L1", "WH-B", 20.0),
    ]
    why = {e["lot_number"]: [r["rule"] for r in e["reasons"]] for e in proposal["excluded"]}
    assert why == {"L4": ["customer_min_days"], "L2": ["released"], "L3": ["released"]}
    # Without a minimum, the short-dated L4 goes first (first expiry, first out).
    plain = client.get(f"{API}/fefo-proposal", params={"product": "PARA", "quantity": 120})
    assert plain.json()["picks"][0]["lot_number"] == "L4"
    refused = client.get(f"{API}/fefo-proposal", params={**body, "quantity": 0})
    assert refused.status_code == 422
    unknown = client.get(f"{API}/fefo-proposal", params={**body, "product": "NOPE"})
    assert unknown.status_code == 404
    assert _audit(db) == before  # a proposal is advice: nothing written


def test_expiry_and_reorder_through_the_api(db, people, api, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    stocked(db, people)
    client = api("logistics")
    flags = {
        (x["stock"]["lot_number"], x["stock"]["location"]): x["flag"]
        for x in client.get(f"{API}/expiry", params={"horizons": "180,90,30"}).json()
    }
    assert flags[("L4", "WH-A")] == "within 90 days"  # 74 days left on 2026-03-02
    assert flags[("L2", "WH-A")] == "later"
    assert client.get(f"{API}/expiry", params={"horizons": "soon"}).status_code == 422
    rows = client.get(f"{API}/reorder", params={"lead_days": 7, "history_days": 30}).json()
    (para,) = rows
    # 30 packs shipped on one of the last 30 days: μ_d = 1; σ_d² = (29² + 29·1²) / 29 = 30;
    # ROP = 1·7 + 1.644854·√30·√7.
    assert para["demand_mean_per_day"] == pytest.approx(1.0)
    assert para["demand_sd_per_day"] == pytest.approx(math.sqrt(30.0))
    assert para["reorder_point"] == pytest.approx(7 + 1.644854 * math.sqrt(30 * 7), abs=1e-4)
    assert para["on_hand_released"] == 190.0  # L1 150 + L4 40; held and quarantined not
    assert para["due"] is False


@pytest.fixture
def ui(app: Any) -> Any:
    def make(username: str) -> UiClient:
        client = UiClient(app)
        assert client.login(username).status_code == 303
        return client

    return make


def test_the_inventory_pages_render(db, people, ui, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    stocked(db, people)
    client = ui("logistics")
    register = client.get("/distribution/inventory", params={"sort": "quantity", "desc": "true"})
    assert register.status_code == 200
    assert 'data-lot="L2" data-location="WH-A" data-status="on_hold"' in register.text
    filtered = client.get("/distribution/inventory", params={"status": "quarantine"})
    assert 'data-lot="L3"' in filtered.text and 'data-lot="L1"' not in filtered.text
    form = client.get("/distribution/inventory/fefo")
    assert form.status_code == 200 and "fefo-result" not in form.text
    answer = client.get(
        "/distribution/inventory/fefo", params={"product": "PARA", "quantity": 10, "min_days": 90}
    )
    assert 'id="fefo-result"' in answer.text and 'data-rule="customer_min_days"' in answer.text
    # A browser sends the empty optional fields as empty strings.
    empty = client.get(
        "/distribution/inventory/fefo",
        params={"product": "PARA", "quantity": "5", "min_days": "", "min_share_pct": "",
                "delivery_on": ""},
    )  # fmt: skip
    assert empty.status_code == 200 and 'data-lot="L4"' in empty.text
    refused = client.get(
        "/distribution/inventory/fefo", params={"product": "PARA", "quantity": "0"}
    )
    assert refused.status_code == 200 and 'id="fefo-error"' in refused.text
    expiry = client.get("/distribution/inventory/expiry")
    assert expiry.status_code == 200 and 'data-flag="within 90 days"' in expiry.text
    reorder = client.get("/distribution/inventory/reorder")
    assert reorder.status_code == 200 and 'data-product="PARA"' in reorder.text
